"""Read a post's body, HTML or Markdown, as blocks (paragraphs, headings, quotes, tables,
images) and plain text.

Real bodies are messy: HTML from a CMS with injected widgets and hidden blocks, Markdown with
Chinese paragraphs separated by single line breaks, trailing original links and back-links that
are metadata rather than article text. Everything here is pure: text in, blocks out.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .models import Block

_AUTOLINK = re.compile(r"^<(\s*|[a-z][a-z0-9+.-]*://[^<>\s]*)>$", re.IGNORECASE)
# Markdown patterns stop scanning at the next opener ("[", "(", "*"): ``[^\]]*`` would scan
# to the end of the line from every unclosed "[" and make a long line quadratic (a 160 kB line
# of "**甲 " took a minute). One level of parentheses is allowed in a link's URL.
_MD_TARGET = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_MD_LINK = re.compile(rf"\[[^\[\]\n]*\]{_MD_TARGET}")
_LINK_SEPARATORS = " \t｜|/·"
_BACK_TEXT = re.compile(r"\[\s*(返回|back to|home)", re.IGNORECASE)
#: an HTML tag (any element name HTML defines, opening or closing): the body is HTML. A raw
#: ``<`` in text (``精度满足<1%``, ``<蒙特利尔议定书>``) is not one.
_HTML_HINT = re.compile(
    r"</?(?:a|abbr|address|article|aside|audio|b|big|blockquote|body|br|button|canvas|caption"
    r"|center|cite|code|col|colgroup|dd|del|details|dfn|div|dl|dt|em|embed|fieldset|figcaption"
    r"|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|li"
    r"|main|mark|meta|nav|noscript|object|ol|p|picture|pre|q|s|samp|script|section|select|small"
    r"|source|span|strike|strong|style|sub|summary|sup|svg|table|tbody|td|template|textarea"
    r"|tfoot|th|thead|time|title|tr|tt|u|ul|var|video|wbr)(?=[\s/>])[^<>]*>",
    re.IGNORECASE,
)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_SOURCE_LINE = re.compile(r"[（(]\s*(文章)?来源\s*[：:]\s*([^（）()\n]{1,40}?)\s*[）)]")
_TRAILING_SOURCE = re.compile(r"[（(]([^（）()\n]{2,16})[）)]\s*$")
_NOT_SOURCE = re.compile(r"[\d，。、：:；;,.!?！？%]|记者|编辑|作者|责编")
_CJK = re.compile(r"[\u3400-\u9fff]")
#: characters written without spaces between them: a line break between two of them is no space
_WIDE = (
    "\u2e80-\u2fdf\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
)
_WIDE_BREAK = re.compile(rf"(?<=[{_WIDE}])[^\S\n]*\n\s*(?=[{_WIDE}])")
_SPACE_RUN = re.compile(r"[^\S\n]+")
_LINE_BREAK = re.compile(r"[^\S\n]*\n\s*")


def _is_back_links(line: str) -> bool:
    """A line made only of Markdown links, at least one of them back to the site, e.g.
    ``[返回东财滚动新闻](../emnews/)｜[返回首页](../)``."""
    if "](" not in line or not _BACK_TEXT.search(line):
        return False
    return not _MD_LINK.sub("", line).strip(_LINK_SEPARATORS)


def _split_trailer(body: str) -> tuple[str, str | None]:
    """Remove the trailing ``<http…>`` original link and back-link lines; return (body, url)."""
    lines = body.split("\n")
    url = None
    while lines:
        last = lines[-1].strip()
        if not last:
            lines.pop()
            continue
        auto = _AUTOLINK.match(last)
        if auto:
            if url is None and auto.group(1).strip():
                url = auto.group(1).strip()
            lines.pop()
            continue
        if _is_back_links(last):
            lines.pop()
            continue
        break
    return "\n".join(lines), url


def _split_summary(body: str) -> tuple[str | None, str]:
    """A leading ``> `` digest becomes the summary (it stays in the body as a quote block)."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    quoted = []
    while i < len(lines) and lines[i].lstrip().startswith(">"):
        quoted.append(_md_cell(lines[i].lstrip()[1:]))
        i += 1
    if not quoted:
        return None, body
    summary = "\n".join(q for q in quoted if q).strip()
    return summary or None, "\n".join(lines[i:])


class _BlockWriter:
    """Collects inline text into paragraphs; block boundaries flush the current paragraph.

    Line breaks in text are white space, except between two Chinese characters, where they are
    nothing (as CSS Text 3 renders them): ``中国\\n经营网`` is one word. A ``<br>`` is a line
    break; two or more in a row (``<br><br>``) end a paragraph.
    """

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.kind: str = "p"
        self.quiet = False  # inside an injected widget: its text is not article text

    def text(self, value: str) -> None:
        if self.quiet:
            return
        if "\n" not in value:
            self.parts.append(value)
            return
        # a blank line in loose text (Markdown between HTML) separates paragraphs
        pieces = re.split(r"\n[^\S\n]*\n", value)
        for n, piece in enumerate(pieces):
            if n:
                self.flush(self.kind)
            self.parts.append(_LINE_BREAK.sub(" ", _WIDE_BREAK.sub("", piece)))

    def newline(self) -> None:
        self.parts.append("\n")

    def flush(self, next_kind: str = "p") -> None:
        if self.parts:
            joined = "".join(self.parts)
            self.parts = []
            paragraph: list[str] = []
            for line in joined.split("\n"):
                line = _SPACE_RUN.sub(" ", line).strip()
                if line:
                    paragraph.append(line)
                elif paragraph:  # an empty line: two <br> in a row end the paragraph
                    self._emit(paragraph)
                    paragraph = []
            self._emit(paragraph)
        self.kind = next_kind

    def _emit(self, lines: list[str]) -> None:
        if lines:
            self.blocks.append(Block(type=self.kind, text="\n".join(lines)))  # type: ignore[arg-type]

    def add(self, block: Block) -> None:
        self.flush(self.kind)
        self.blocks.append(block)


_BLOCK_TAGS = {
    "p", "div", "center", "section", "article", "main", "header", "footer", "aside", "nav",
    "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
    "figure", "figcaption", "pre", "hr", "address", "tr", "form", "fieldset", "details", "summary",
}  # fmt: skip
_SKIP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "button", "input", "select", "textarea", "head", "title", "meta", "link", "video", "audio",
}  # fmt: skip
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BOLD = {"strong", "b"}
#: ``<!-- EM_StockImg_Start -->`` … ``<!-- EM_StockImg_End -->``: an injected stock-chart widget
_WIDGET_MARK = re.compile(r"^\s*((?:\w+[_-])?)(start|end)\s*$", re.IGNORECASE)


def _widget_starts(root: Any) -> set[Any]:
    """The start markers in the tree that open a widget: those with an end marker of the same
    prefix after them. A start without its end (or with its end before it) does not start a
    widget, or the rest of the article would be taken for one."""
    from lxml.etree import Comment

    starts: set[Any] = set()
    ends_after: set[str] = set()
    for comment in reversed(list(root.iter(Comment))):
        marker = _WIDGET_MARK.match(comment.text or "")
        if marker is None:
            continue
        prefix = marker.group(1).lower()
        if marker.group(2).lower() == "end":
            ends_after.add(prefix)
        elif prefix in ends_after:
            starts.add(comment)  # the set keeps the proxy alive, so the walk meets this object
    return starts


def _is_hidden(el: Any) -> bool:
    """Not shown to a reader: scripts, styles, forms…, ``display:none``, ``hidden``."""
    return (
        el.tag.lower() in _SKIP_TAGS
        or _HIDDEN.search(el.get("style") or "") is not None
        or el.get("hidden") is not None
    )


#: elements whose edges separate words even inside one line (a table cell)
_SEPARATING = _BLOCK_TAGS | {"br", "td", "th", "table", "img"}


def _inline_text(el: Any) -> str:
    """Text of an element on one line: inline children glued (no separator), block edges and
    ``<br>`` a space, hidden children left out."""
    out = []
    stack: list[tuple[Any, bool]] = [(el, False)]
    while stack:
        node, closing = stack.pop()
        if not closing:
            if not isinstance(node.tag, str) or _is_hidden(node):
                if node is not el and node.tail:
                    out.append(node.tail)
                continue
            if node.tag.lower() in _SEPARATING:
                out.append(" ")
            if node.text:
                out.append(node.text)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node))
            continue
        if node.tag.lower() in _SEPARATING:
            out.append(" ")
        if node is not el and node.tail:
            out.append(node.tail)
    return _SPACE_RUN.sub(" ", _LINE_BREAK.sub(" ", _WIDE_BREAK.sub("", "".join(out)))).strip()


def _table_rows(table: Any) -> list[list[str]]:
    """The table's own rows (a nested table is text of its cell, not rows of this one)."""
    rows = []
    for child in table:
        if child.tag in ("thead", "tbody", "tfoot"):
            trs = [tr for tr in child if tr.tag == "tr"]
        else:
            trs = [child] if child.tag == "tr" else []
        for tr in trs:
            cells = [_inline_text(cell) for cell in tr if cell.tag in ("td", "th")]
            if any(cells):
                rows.append(cells)
    return rows


def _is_bold_heading(el: Any) -> bool:
    """``<p><strong>划定重点领域</strong></p>``: a paragraph that is only bold text is a sub-heading
    (a trailing ``<br>`` does not count)."""
    children = [
        c
        for c in el
        if isinstance(c.tag, str) and not (c.tag == "br" and not (c.tail or "").strip())
    ]
    return (
        len(children) == 1
        and children[0].tag in _BOLD
        and not (el.text or "").strip()
        and not (children[0].tail or "").strip()
        and 0 < len(_inline_text(children[0])) <= 60
    )


_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*>")
#: tags that cannot nest deeply (a <p> closes the one before) or that carry structure we keep
_FLAT_TAGS = {"p", "br", "img", "table", "tr", "td", "th", *_HEADINGS}
_DROP_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|noscript|template)\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)


def _flatten(markup: str) -> str:
    """Markup without the tags that nest: container and inline tags are dropped, a container
    boundary becomes a paragraph boundary. For documents too deep for libxml2."""

    def replace(m: re.Match[str]) -> str:
        name = m.group(2).lower()
        if name in _FLAT_TAGS:
            return m.group(0)
        return "<p>" if name in _BLOCK_TAGS else ""

    return _TAG.sub(replace, markup)


def _plain_blocks(markup: str, out: _BlockWriter) -> None:
    """Last resort for markup libxml2 cannot take: tags removed, blocks and ``<br>`` kept as
    line breaks, entities decoded."""

    def replace(m: re.Match[str]) -> str:
        name = m.group(2).lower()
        if name == "br":
            return "\n"
        return "\n\n" if name in _BLOCK_TAGS or name in ("table", "tr", "td", "th") else ""

    out.text(html.unescape(_TAG.sub(replace, _DROP_MARKUP.sub("", markup))))
    out.flush()


def _parse_html(markup: str) -> Any:
    """lxml tree of an HTML fragment, or None when libxml2 cannot take it whole (it silently
    drops everything nested deeper than its limit, 256 levels, or 2,048 with ``huge_tree``)."""
    import lxml.html

    # a parser per call (4 µs): lxml parsers are not thread-safe, and error_log is per parser
    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div", parser=parser)
    except Exception:  # lxml raises several types (ParserError, ValueError) for hopeless markup
        return None
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        return None
    return root


def _html_blocks(markup: str, out: _BlockWriter) -> None:
    from lxml.etree import Comment

    root = _parse_html(markup)
    if root is None:
        root = _parse_html(_flatten(markup))
    if root is None:
        _plain_blocks(markup, out)
        return
    quote_depth = 0
    widget_starts: set[Any] | None = None  # found when the first start marker is seen
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if closing:
            if tag in _BLOCK_TAGS:
                out.flush("quote" if quote_depth and tag != "blockquote" else "p")
            if tag == "blockquote":
                quote_depth -= 1
                out.kind = "quote" if quote_depth else "p"
        elif tag is None:
            # comments and processing instructions are not text; "<!-- X_Start -->" …
            # "<!-- X_End -->" pairs mark injected widgets (stock charts): no text, no images
            marker = _WIDGET_MARK.match(el.text or "") if el.tag is Comment else None
            if marker and marker.group(2).lower() == "start" and widget_starts is None:
                widget_starts = _widget_starts(root)
            if marker and (marker.group(2).lower() == "end" or el in (widget_starts or ())):
                out.flush(out.kind)
                out.quiet = marker.group(2).lower() == "start"
        elif _is_hidden(el):
            pass
        elif tag == "br":
            out.newline()
        elif tag == "img":
            src = el.get("src") or el.get("data-src")
            if src and not out.quiet:
                out.add(Block(type="img", src=src, alt=(el.get("alt") or "").strip() or None))
        elif tag == "table":
            rows = _table_rows(el)
            if rows and not out.quiet:
                out.add(Block(type="table", rows=rows))
        else:
            if tag in _BLOCK_TAGS:
                if tag == "blockquote":
                    quote_depth += 1
                kind = "quote" if quote_depth else "p"
                if tag in _HEADINGS or (tag == "p" and _is_bold_heading(el)):
                    kind = "h"
                out.flush(kind)
            if el.text:
                out.text(el.text)
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
            continue
        if el.tail and el is not root:
            out.text(el.tail)
    out.quiet = False
    out.flush()


_MD_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_MD_INLINE_LINK = re.compile(rf"(?<!!)\[([^\[\]\n]*)\]{_MD_TARGET}")
_MD_STRONG = re.compile(
    r"(?<!\*)\*\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*\*(?!\*)"
    r"|(?<!\w)__(?=[^\s_])([^_\n]+?)(?<=[^\s_])__(?!\w)"
)
_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_MD_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_MD_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_BULLET = re.compile(r"^\s*[-*+][ \t]+")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def _md_inline(text: str) -> str:
    """Markdown inline markup → plain text: links keep their text, emphasis and code marks go,
    entities with their ``;`` are decoded (CommonMark: ``AT&T`` and ``&para`` stay as written)."""
    if "[" in text:
        text = _MD_INLINE_LINK.sub(r"\1", text)
    if "*" in text or "__" in text:
        text = _MD_STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    if "`" in text:
        text = _MD_CODE.sub(r"\1", text)
    if "&" in text:
        text = _MD_ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return text


def _md_cell(text: str) -> str:
    """Inline Markdown on one line of its own (a table cell, a digest line): ``&#10;`` or a tab
    must not make a line break or a column in the plain text."""
    return " ".join(_md_inline(text).split())


def _md_line(line: str, out: _BlockWriter) -> None:
    """One line of a Markdown paragraph: images become blocks, the rest is a line of text."""
    if "![" in line:
        for m in _MD_IMAGE.finditer(line):
            out.add(Block(type="img", src=m.group(2), alt=m.group(1).strip() or None))
        line = _MD_IMAGE.sub("", line)
    line = _MD_BULLET.sub("", line)
    if line.strip():
        out.text(_md_inline(line.strip()))
        out.newline()


def _markdown_blocks(body: str, out: _BlockWriter) -> None:
    """Markdown → blocks. Every source line stays a line: Chinese posts often break paragraphs
    with a single line break, and joining those lines would glue paragraphs together. HTML
    comments (Jekyll's ``<!--more-->`` excerpt mark) are not text."""
    if "<!--" in body:
        body = _HTML_COMMENT.sub("", body)
    for chunk in re.split(r"\n[ \t]*\n", body):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.lstrip().startswith(">") for line in lines):
            out.flush("quote")
            for line in lines:
                _md_line(line.lstrip()[1:], out)
            out.flush()
            continue
        if len(lines) >= 2 and "|" in lines[0] and _MD_TABLE_RULE.match(lines[1]):
            rows = [
                [_md_cell(cell) for cell in line.strip().strip("|").split("|")]
                for n, line in enumerate(lines)
                if n != 1
            ]
            out.add(Block(type="table", rows=rows))
            continue
        out.flush()
        for n, line in enumerate(lines):
            heading = _MD_HEADING.match(line)
            setext = n + 1 < len(lines) and _MD_SETEXT.match(lines[n + 1])
            if heading or (setext and not _MD_RULE.match(line)):
                out.flush("h")
                out.text(_md_inline((heading.group(2) or "") if heading else line.strip()))
                out.flush()
            elif _MD_RULE.match(line) or _MD_FENCE.match(line) or (n and _MD_SETEXT.match(line)):
                continue
            else:
                _md_line(line, out)
        out.flush()


def parse_body(body: str) -> tuple[list[Block], str | None, str | None]:
    """Body text → (blocks, summary, original url). Trailing link lines are metadata, not text."""
    body, url = _split_trailer(body)
    summary, rest = _split_summary(body)
    out = _BlockWriter()
    if summary:
        out.blocks.append(Block(type="quote", text=summary))
    if _HTML_HINT.search(rest):
        _html_blocks(rest, out)
    else:
        _markdown_blocks(rest, out)
    return out.blocks, summary, url


def blocks_text(blocks: list[Block]) -> str:
    """Plain text of a body: one paragraph per block, separated by blank lines."""
    parts = []
    for block in blocks:
        if block.type == "table" and block.rows:
            parts.append("\n".join("\t".join(row) for row in block.rows))
        elif block.type != "img" and block.text:
            parts.append(block.text)
    return "\n\n".join(parts)


def find_source(text: str) -> str | None:
    """The media outlet: the last ``（文章来源：中国经营网）``, else a ``（来源：…）`` that ends a
    paragraph (one crediting a figure mid-sentence is no source), else a short ``（上海证券报）``
    ending the text."""
    found: re.Match[str] | None = None
    for m in _SOURCE_LINE.finditer(text):
        ends_paragraph = not text[m.end() : m.end() + 4].split("\n", 1)[0].strip(" 。.")
        if m.group(1) or (ends_paragraph and (found is None or not found.group(1))):
            found = m
    if found:
        return found.group(2).strip() or None
    for paragraph in reversed(text.split("\n\n")[-2:]):
        last = _TRAILING_SOURCE.search(paragraph)
        if last and _CJK.search(last.group(1)) and not _NOT_SOURCE.search(last.group(1)):
            return last.group(1).strip()
    return None
