"""Read a post's body, HTML or Markdown, as blocks (paragraphs, headings, quotes, tables,
images) and plain text.

Real bodies are messy: HTML from a CMS with injected widgets and hidden blocks, Markdown with
Chinese paragraphs separated by single line breaks, trailing original links and back-links that
are metadata rather than article text. Everything here is pure: text in, blocks out.
"""

from __future__ import annotations

import bisect
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
    """Remove the trailing ``<http…>`` original link and back-link lines; return (body, url).

    Only the last link is the original: an earlier ``<http…>`` line stays in the body, where it
    reads as its URL (an autolink), as on the site."""
    lines = body.split("\n")
    url = None
    while lines:
        last = lines[-1].strip()
        if not last:
            lines.pop()
            continue
        auto = _AUTOLINK.match(last)
        if auto:
            if auto.group(1).strip():
                if url is not None:
                    break
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
        self.mark = ""  # a list item's "• " or "1. ", put before the item's first text

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

    def preformatted(self, value: str) -> None:
        """Text of a ``<pre>``: its line breaks are line breaks."""
        if not self.quiet:
            self.parts.append(value)

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
            if self.mark:
                lines[0] = self.mark + lines[0]
                self.mark = ""
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


def _list_start(el: Any) -> int:
    """The number of an ``<ol>``'s first item (``start="3"``), 1 when absent or not a number."""
    try:
        return int((el.get("start") or "1").strip())
    except ValueError:
        return 1


def _html_blocks(markup: str, out: _BlockWriter, *, quote: bool = False) -> None:
    """HTML → blocks (``quote``: everything in it is a quote, as in a Markdown ``>`` block).
    List items keep their marks in the text (``• `` in ``<ul>``, ``1. `` in ``<ol>``) and
    ``<pre>`` keeps its line breaks, as a reader sees them."""
    from lxml.etree import Comment

    root = _parse_html(markup)
    if root is None:
        root = _parse_html(_flatten(markup))
    if root is None:
        _plain_blocks(markup, out)
        return
    quote_depth = 1 if quote else 0
    pre_depth = 0
    lists: list[int | None] = []  # the next number of each open <ol>, None for a <ul>
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
            elif tag == "pre":
                pre_depth -= 1
            elif tag in ("ol", "ul") and lists:
                lists.pop()
            elif tag == "li":
                out.mark = ""  # an item without text
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
            if tag == "pre":
                pre_depth += 1
            elif tag == "ol":
                lists.append(_list_start(el))
            elif tag == "ul":
                lists.append(None)
            elif tag == "li":
                number = lists[-1] if lists else None
                out.mark = "• " if number is None else f"{number}. "
                if number is not None:
                    lists[-1] = number + 1
            if el.text:
                (out.preformatted if pre_depth else out.text)(el.text)
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
            continue
        if el.tail and el is not root:
            (out.preformatted if pre_depth else out.text)(el.tail)
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


_MD_AUTOLINK = re.compile(
    r"<((?:https?|ftp)://[^\s<>]+|mailto:[^\s<>]+|[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>",
    re.IGNORECASE,
)
#: an inline HTML tag or comment in Markdown; a code span first, so that a tag in it stays text
_MD_RAW_HTML = re.compile(rf"`[^`\n]+`|<!--.*?(?:-->|$)|{_HTML_HINT.pattern}", re.IGNORECASE)
_MD_LINE_BREAK_TAG = re.compile(r"<br\s*/?>\s*$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_FRAGMENT_TAG = re.compile(r"<[^<>]*>")
#: inline tags that only wrap text (no hiding style, no image, no script): text without a tree
_PLAIN_INLINE = re.compile(
    r"</?(?:a|abbr|b|big|br|cite|code|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike"
    r"|strong|sub|sup|time|tt|u|var|wbr)(?:\s(?![^<>]*(?:style|hidden))[^<>]*)?/?>",
    re.IGNORECASE,
)


def _md_inline(text: str) -> str:
    """Markdown inline markup → plain text: links keep their text, autolinks their URL,
    emphasis and code marks go, entities with their ``;`` are decoded (CommonMark: ``AT&T`` and
    ``&para`` stay as written)."""
    if "[" in text:
        text = _MD_INLINE_LINK.sub(r"\1", text)
    if "*" in text or "__" in text:
        text = _MD_STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    if "`" in text:
        text = _MD_CODE.sub(r"\1", text)
    if "<" in text:
        text = _MD_AUTOLINK.sub(r"\1", text)
    if "&" in text:
        text = _MD_ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return text


def _md_html(line: str) -> str:
    """One line of Markdown with inline HTML → HTML, as kramdown renders it: the Markdown is
    read (images become ``<img>``, links their text, emphasis goes) and its text escaped, the
    HTML tags stay as written. A ``<br>`` ending the line is the line break itself."""
    kept: list[str] = []

    def keep(markup: str) -> str:
        kept.append(markup)
        return f"\x00{len(kept) - 1}\x00"

    def raw(m: re.Match[str]) -> str:
        return m.group(0) if m.group(0).startswith("`") else keep(m.group(0))

    line = _MD_LINE_BREAK_TAG.sub("", line.replace("\x00", ""))
    if "![" in line:
        line = _MD_IMAGE.sub(
            lambda m: keep(
                f'<img src="{html.escape(m.group(2))}" alt="{html.escape(m.group(1).strip())}">'
            ),
            line,
        )
    line = _MD_RAW_HTML.sub(raw, line)
    text = html.escape(_md_inline(line), quote=False)
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], text)


def _md_cell(text: str) -> str:
    """Inline Markdown on one line of its own (a table cell, a digest line, a heading):
    ``&#10;``, ``<br>`` or a tab must not make a line break or a column in the plain text."""
    if _HTML_HINT.search(text):
        root = _parse_html(_md_html(text))
        if root is not None:
            return _inline_text(root)
    return " ".join(_md_inline(text).split())


def _md_line(line: str, out: _BlockWriter) -> None:
    """One line of a Markdown paragraph: images become blocks, the rest is a line of text."""
    if "![" in line:
        for m in _MD_IMAGE.finditer(line):
            out.add(Block(type="img", src=m.group(2), alt=m.group(1).strip() or None))
        line = _MD_IMAGE.sub("", line)
    line = _MD_BULLET.sub("• ", line)
    if line.strip():
        out.text(_md_inline(line.strip()))
        out.newline()


def _md_lines(lines: list[str], out: _BlockWriter, *, quote: bool = False) -> None:
    """Lines of one Markdown paragraph (or ``>`` block). With inline HTML in them, the lines
    become one HTML fragment, so that an element may span lines (a hidden ``<span>``)."""
    if not any(_HTML_HINT.search(line) for line in lines):
        for line in lines:
            _md_line(line, out)
        return
    fragment = "<br>".join(_md_html(_MD_BULLET.sub("• ", line).strip()) for line in lines)
    tags = _FRAGMENT_TAG.findall(fragment)  # the text is escaped: every "<" starts a tag
    if all(_PLAIN_INLINE.fullmatch(tag) for tag in tags):
        # the common case (<span>, <a>, <br>…), read without building a tree
        for line in _FRAGMENT_TAG.sub(_plain_inline, fragment).split("\n"):
            out.text(html.unescape(line))
            out.newline()  # an empty line (<br><br>) ends the paragraph, as in HTML
        return
    _html_blocks(fragment, out, quote=quote)


def _plain_inline(m: re.Match[str]) -> str:
    return "\n" if m.group(0)[1:3].lower() == "br" else ""


def _markdown_blocks(body: str, out: _BlockWriter) -> None:
    """Markdown → blocks. Every source line stays a line: Chinese posts often break paragraphs
    with a single line break, and joining those lines would glue paragraphs together. HTML
    comments (Jekyll's ``<!--more-->`` excerpt mark) are not text; other inline HTML is read
    inside the Markdown (``_md_lines``); code in fences is text as written."""
    if "<!--" in body:
        body = _HTML_COMMENT.sub("", body)
    fence = ""
    for chunk in re.split(r"\n[ \t]*\n", body):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if not fence and all(line.lstrip().startswith(">") for line in lines):
            out.flush("quote")
            _md_lines([line.lstrip()[1:] for line in lines], out, quote=True)
            out.flush()
            continue
        if not fence and len(lines) >= 2 and "|" in lines[0] and _MD_TABLE_RULE.match(lines[1]):
            rows = [
                [_md_cell(cell) for cell in line.strip().strip("|").split("|")]
                for n, line in enumerate(lines)
                if n != 1
            ]
            out.add(Block(type="table", rows=rows))
            continue
        out.flush()
        paragraph: list[str] = []
        for n, line in enumerate(lines):
            opener = _MD_FENCE.match(line)
            if fence or opener:
                _md_lines(paragraph, out)
                paragraph = []
                if opener and (not fence or opener.group(1) == fence):
                    fence = "" if fence else opener.group(1)
                elif line.strip():
                    out.text(line.strip())  # code: the line as written
                    out.newline()
                continue
            heading = _MD_HEADING.match(line)
            setext = n + 1 < len(lines) and _MD_SETEXT.match(lines[n + 1])
            if heading or (setext and not _MD_RULE.match(line)):
                _md_lines(paragraph, out)
                paragraph = []
                out.flush("h")
                out.text(_md_cell((heading.group(2) or "") if heading else line.strip()))
                out.flush()
            elif not (_MD_RULE.match(line) or (n and _MD_SETEXT.match(line))):
                paragraph.append(line)
        _md_lines(paragraph, out)
        out.flush()


#: a line that starts an HTML block (kramdown, CommonMark): a block-level tag, a comment, a
#: declaration or processing instruction. Inline tags (``<span>``, ``<a>``, ``<br>``) do not.
_HTML_BLOCK_NAMES = _BLOCK_TAGS | _SKIP_TAGS | {
    "html", "body", "table", "thead", "tbody", "tfoot", "caption", "colgroup", "col", "td", "th",
    "legend", "menu", "dialog", "hgroup", "option", "optgroup", "frameset", "frame", "base",
    "param", "source", "track", "picture",
}  # fmt: skip
_VOID = {"hr", "col", "embed", "link", "meta", "source", "track", "param", "base", "frame", "input"}
_HTML_BLOCK_START = re.compile(
    r"[ \t]*(<)(?:(/?)([A-Za-z][A-Za-z0-9]*)(?=[\s/>]|$)|!--|\?|![A-Za-z\[])"
)
#: a line that starts with a tag of any name (``<o:p>``), not with an autolink
_TAG_LINE = re.compile(r"[ \t]*<(?:/?[A-Za-z][\w-]*(?::[\w-]+)?(?=[\s/>])|!|\?)")
_ANY_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?=[\s/>])[^<>]*>")


def _matching_ends(body: str) -> dict[int, int]:
    """Offset of each block-level start tag → offset just after its end tag, in one pass."""
    open_tags: dict[str, list[int]] = {}
    ends: dict[int, int] = {}
    for m in _ANY_TAG.finditer(body):
        name = m.group(2).lower()
        if name not in _HTML_BLOCK_NAMES or name in _VOID or m.group(0).endswith("/>"):
            continue
        stack = open_tags.setdefault(name, [])
        if not m.group(1):
            stack.append(m.start())
        elif stack:
            ends[stack.pop()] = m.end()
    return ends


def _html_runs(body: str) -> list[tuple[bool, str]]:
    """Split a body into runs of Markdown and HTML, as kramdown reads it: an HTML block starts
    at a line that begins with a block-level tag (or a comment) and ends with the line of its
    end tag; without an end tag, at the next blank line (CommonMark's rule: kramdown would take
    the rest of the post); lines right after it that start with a tag go with it. HTML blocks
    with only blank lines between are one run, so that a
    post written in HTML is read as one document (widget markers pair up across paragraphs)."""
    lines = body.split("\n")
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    ends: dict[int, int] | None = None
    opens: list[int] = []
    comment_end = -2
    runs: list[tuple[bool, list[str]]] = []
    fence = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        opener = _MD_FENCE.match(line)
        m = None if fence or opener else _HTML_BLOCK_START.match(line)
        if m and m.group(3) and m.group(3).lower() not in _HTML_BLOCK_NAMES:
            m = None  # an inline tag: Markdown with HTML in it
        if opener and (not fence or opener.group(1) == fence):
            fence = "" if fence else opener.group(1)
        if m is None:
            if runs and not runs[-1][0]:
                runs[-1][1].append(line)
            else:
                runs.append((False, [line]))
            i += 1
            continue
        if ends is None:
            ends = _matching_ends(body)
            opens = sorted(ends)
        last = None  # the block's last line, when it has an end
        at = starts[i] + m.start(1)
        if m.group(3) is None and line.startswith("<!--", m.start(1)):
            if comment_end != -1 and comment_end < at + 4:
                comment_end = body.find("-->", at + 4)  # -1: none after any later start either
            last = bisect.bisect_right(starts, comment_end) - 1 if comment_end >= 0 else None
        elif m.group(3) is None or m.group(2) or m.group(3).lower() in _VOID:
            last = i
        else:
            end_tag = ends.get(at)
            last = bisect.bisect_right(starts, end_tag - 1) - 1 if end_tag is not None else None
        if last is None:
            last = i
            while last + 1 < len(lines) and lines[last + 1].strip():
                last += 1
        # an element opened inside the block ends inside it (``<p>x</p><pre>a\nb</pre>``), and
        # lines of markup right after it belong to it too (``<o:p>``, a closing ``</div>``)
        k = bisect.bisect_left(opens, at)
        while True:
            while k < len(opens) and opens[k] < starts[last] + len(lines[last]):
                last = max(last, bisect.bisect_right(starts, ends[opens[k]] - 1) - 1)
                k += 1
            if last + 1 < len(lines) and _TAG_LINE.match(lines[last + 1]):
                last += 1
            else:
                break
        block = lines[i : last + 1]
        if runs and not runs[-1][0] and not "".join(runs[-1][1]).strip() and len(runs) > 1:
            blank = runs.pop()[1]  # only blank lines since the last HTML block
            runs[-1][1].extend(blank)
        if runs and runs[-1][0]:
            runs[-1][1].extend(block)
        else:
            runs.append((True, block))
        i = last + 1
    return [(is_html, "\n".join(run)) for is_html, run in runs]


def parse_body(body: str) -> tuple[list[Block], str | None, str | None]:
    """Body text → (blocks, summary, original url). Trailing link lines are metadata, not text.

    A body is Markdown with HTML in it, as Jekyll (kramdown) reads it: HTML blocks (lines that
    start with a block-level tag: a post written in HTML is one) are read as HTML, the rest as
    Markdown with its inline HTML (``<span>``, ``<br>``) read inside it."""
    body, url = _split_trailer(body)
    summary, rest = _split_summary(body)
    out = _BlockWriter()
    if summary:
        out.blocks.append(Block(type="quote", text=summary))
    if _HTML_HINT.search(rest) or "<!--" in rest:
        for is_html, run in _html_runs(rest):
            (_html_blocks if is_html else _markdown_blocks)(run, out)
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
