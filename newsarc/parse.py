"""Parse one post's text: front matter, dates, ids, and the body as blocks and plain text.

Real posts are messy (see the corpus README): front matter whose titles carry unescaped quotes,
dates PyYAML cannot read, HTML and Markdown bodies, trailing links and back-links that are
metadata rather than article text. Everything here is pure: text in, ``ParsedPost`` out.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from pathlib import PurePath
from typing import Any

import frontmatter
import yaml

from .dates import DEFAULT_TZ, date_from_name, parse_date
from .errors import NotAPost, PostError
from .models import Block, ParsedPost

#: front matter larger than this is refused: no real post needs it, and YAML parsing is slow
MAX_FRONT_MATTER = 256 * 1024

# -- front matter -----------------------------------------------------------------------------


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text (we parse them ourselves) and refuses aliases.

    PyYAML reads ``2022-04-09 14:22:44 +0800`` as a string but ``+08:00`` as a datetime; keeping
    all of them as text gives one code path. Aliases are refused so that a "billion laughs"
    front matter cannot blow up when the metadata is serialised.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not allowed in front matter")
        return super().compose_node(parent, index)


if hasattr(yaml, "CSafeLoader"):

    class _FastLoader(yaml.CSafeLoader):
        """The libyaml-backed loader, used when the front matter has no anchors or aliases."""

        yaml_implicit_resolvers = _FrontMatterLoader.yaml_implicit_resolvers

else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = _FrontMatterLoader  # type: ignore[misc,assignment]

_HANDLER = frontmatter.YAMLHandler()
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s\[\]{},]+", re.MULTILINE)
_DEEP_INDENT = re.compile(r"^[ \t]{48}", re.MULTILINE)
_LINE_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]*(.*?))?\s*$")
_LIST_ITEM = re.compile(r"^\s*-\s+(.*?)\s*$")
_FLOW_LIST = re.compile(r"^\[(.*)\]$")
_OPENER = re.compile(r"^-{3,}[ \t]*$")
_CLOSER = re.compile(r"^(?:-{3,}|\.{3})[ \t]*$", re.MULTILINE)
#: deeper front matter is read line by line: real posts nest two levels at most
_MAX_DEPTH = 32
#: characters YAML escapes (``\n``, ``\t``, ``\N``, ``\L``…) put in a title, which never has them
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def split_front_matter(text: str) -> tuple[str, str]:
    """Split normalised post text (``\\n`` line ends) into front matter and body.

    A post starts, after optional blank lines, with a ``---`` line; the front matter ends at the
    next ``---`` (or ``...``) line. Raises ``NotAPost`` when there is no front matter at all.
    """
    stripped = text.lstrip("\n \t")
    first_line, _, rest = stripped.partition("\n")
    if not _OPENER.match(first_line):
        raise NotAPost(
            "no front matter (a post starts with a '---' line)", reason="no front matter"
        )
    end = _CLOSER.search(rest)
    if end is None:
        raise PostError("front matter is not closed by a '---' line", reason="bad front matter")
    return rest[: end.start()], rest[end.end() :].lstrip("\n")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        return inner.replace('\\"', '"').replace("\\\\", "\\")
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _recover_value(value: str) -> str | list[str]:
    """One value as written: quotes removed; a flow list ``[a, "b"]`` becomes a list."""
    flow = _FLOW_LIST.match(value)
    if flow:
        return [_unquote(item.strip()) for item in flow.group(1).split(",") if item.strip()]
    return _unquote(value)


def recover_front_matter(fm: str) -> dict[str, Any]:
    """Read ``key: value`` lines one by one, for front matter that is not valid YAML.

    The commonest cause in the wild is a generator writing ``title: "<raw title>"`` without
    escaping, so ``title: "央行："降准"落地"`` breaks YAML. Here the outer quotes are removed and
    everything between them kept; ``- item`` lines under an empty key make a list.
    """
    data: dict[str, Any] = {}
    key = None
    for line in fm.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _LIST_ITEM.match(line)
        if item and key is not None and (data[key] is None or isinstance(data[key], list)):
            data[key] = (data[key] or []) + [_unquote(item.group(1))]
            continue
        m = _LINE_KEY.match(line)
        if m:
            key = m.group(1)
            value = m.group(2)
            data[key] = _recover_value(value) if value else None
        elif key is not None and isinstance(data[key], str):
            data[key] += " " + line.strip()  # a folded continuation line
    return data


def _may_nest_deeply(fm: str) -> bool:
    """True when the front matter could nest deeply (or uses anchors): libyaml's C composer
    recurses without a limit and crashes the process (SIGSEGV) on ~50,000 nested ``[``, so such
    text goes to the pure-Python loader, which raises ``RecursionError`` instead. Nesting needs
    brackets, block indicators or indentation; real front matter has few of each."""
    return bool(
        fm.count("[") + fm.count("{") > 64
        or fm.count("- ") + fm.count("? ") + fm.count(": ") > 256
        or _DEEP_INDENT.search(fm)
        or _ANCHOR.search(fm)
    )


class _TooDeep(ValueError):
    pass


def _jsonable(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        raise _TooDeep(f"front matter nests deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities are not JSON
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_FLAT_LINE = re.compile(r"([A-Za-z_][\w-]*):(?:[ \t]+(.*?))?[ \t]*")
_PLAIN_SAFE = re.compile(r"[^\s\[\]{}&*!|>'\"%@`#,?:-][^\t]*")
_QUOTED_SAFE = re.compile(r'"[^"\\]*"')


def _flat_front_matter(fm: str) -> dict[str, Any] | None:
    """The usual front matter (``key: value`` lines of plain or simply quoted text) read
    without YAML, giving exactly what YAML would; None for anything else (YAML decides then).

    This is the import's hot path: PyYAML costs about as much as parsing the whole body.
    """
    data: dict[str, Any] = {}
    resolvers = _FrontMatterLoader.yaml_implicit_resolvers
    for line in fm.split("\n"):
        if not line.strip():
            continue
        m = _FLAT_LINE.fullmatch(line)
        if m is None:
            return None
        value = m.group(2)
        if not value:
            data[m.group(1)] = None
        elif value[0] == '"':
            if not _QUOTED_SAFE.fullmatch(value):
                return None
            data[m.group(1)] = value[1:-1]
        elif (
            _PLAIN_SAFE.fullmatch(value)
            and ": " not in value
            and " #" not in value
            and not value.endswith(":")
        ):
            # a plain scalar stays text unless one of YAML's implicit types claims it
            for tag, pattern in resolvers.get(value[0], ()):
                if pattern.match(value) and tag != "tag:yaml.org,2002:str":
                    return None
            data[m.group(1)] = value
        else:
            return None
    return data


def load_front_matter(fm: str) -> tuple[dict[str, Any], list[str]]:
    """Front matter text → (JSON-able dict, warnings). Never raises for bad YAML: it recovers
    line by line. Raises ``PostError`` only for front matter too large to be real."""
    if len(fm) > MAX_FRONT_MATTER:
        raise PostError(
            f"front matter is {len(fm):,} characters (limit {MAX_FRONT_MATTER:,})",
            reason="bad front matter",
        )
    simple = _flat_front_matter(fm)
    if simple is not None:
        return simple, []
    loader = _FrontMatterLoader if _may_nest_deeply(fm) else _FastLoader
    try:
        data = _HANDLER.load(fm, Loader=loader)
        if isinstance(data, dict):
            data = _jsonable(data)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        problem = str(exc).split("\n", 1)[0]
        recovered = recover_front_matter(fm)
        return recovered, [f"front matter is not valid YAML ({problem}); read it line by line"]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return recover_front_matter(fm), ["front matter is not a mapping; read it line by line"]
    return data, []


def _title(fm: dict[str, Any], fm_text: str, warnings: list[str]) -> str | None:
    """The title as written. YAML changes titles that are not plain quoted text: ``1.10`` → 1.1,
    ``12:30`` → 750 (base 60), ``yes`` → True, ``第 #1 名`` → "第" (the rest is a comment),
    ``"C:\\new"`` → a line break. A title is never a number, a comment or an escape, so then the
    raw text of the ``title:`` line wins."""
    value = fm.get("title")
    if value is None:
        return None
    if isinstance(value, str) and not _CONTROL.search(value) and "#" not in fm_text:
        return value  # the common case, decided without a second look at the text
    raw = recover_front_matter(fm_text).get("title")
    if not isinstance(raw, str) or not raw or raw[0] in "|>":
        return value if isinstance(value, str) else str(value)
    if isinstance(value, str) and not _CONTROL.search(value):
        if not ("#" in raw and len(raw) > len(value)):
            return value
    if raw != str(value):
        warnings.append(f"YAML reads the title as {value!r}; kept the text as written")
    return raw


def _as_list(value: Any) -> list[str]:
    """Jekyll's rule for categories and tags: a list, or a string split on white space."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            out.extend(_as_list(item) if isinstance(item, list | tuple) else [str(item).strip()])
        return [item for item in out if item]
    return str(value).split()


# -- body ---------------------------------------------------------------------------------------

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
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
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
_WIDGET_END = re.compile(r"<!--\s*((?:\w+[_-])?)end\s*-->", re.IGNORECASE)


def _widget_ends(markup: str) -> set[str]:
    """The prefixes of the widget end markers in ``markup`` (``em_stockimg_``): a start marker
    without its end does not start a widget, or the rest of the article would be taken for one."""
    return {m.group(1).lower() for m in _WIDGET_END.finditer(markup)}


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
    widget_ends: set[str] | None = None  # found when the first start marker is seen
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
            if marker and marker.group(2).lower() == "start" and widget_ends is None:
                widget_ends = _widget_ends(markup)
            if marker and (
                marker.group(2).lower() == "end" or marker.group(1).lower() in (widget_ends or ())
            ):
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


# -- ids ----------------------------------------------------------------------------------------

_URL_ID_PARAM = re.compile(r"[?&](?:infocode|newsid|articleid|docid|id)=([A-Za-z0-9_-]{6,})", re.I)
_URL_ID_PATH = re.compile(r"(?:^|[/,_=-])([A-Za-z]{0,4}\d{8,})\.s?html?(?:[?#]|$)", re.I)
_NAME_ID = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{0,4}\d{10,})(?!\d)")


def external_id_for(url: str | None, path: PurePath | None) -> str | None:
    """The article's own id: from the original URL (``infoCode=NW2022…``, ``…,2021120822….html``),
    else a long number in the file name, else the file name without its extension. (An
    ``external_id`` front-matter key, where present, wins over all of these.)"""
    if url:
        for pattern in (_URL_ID_PARAM, _URL_ID_PATH):
            m = pattern.search(url)
            if m:
                return m.group(1)
    if path is None:
        return None
    stem = path.stem
    m = _NAME_ID.search(_NAME_DATE.sub("", stem))
    if m:
        return m.group(1)
    return stem


# -- the post -----------------------------------------------------------------------------------

_NAME_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")
_KNOWN_KEYS = {"title", "date", "categories", "category", "tags", "tag", "external_id"}


def normalise_newlines(text: str) -> str:
    """BOM removed, CRLF and CR turned into LF, control characters (NUL…) and lone surrogates
    removed: the form the parser works on."""
    return _BAD_CHARS.sub("", text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))


def _jekyll_values(fm: dict[str, Any], singular: str, plural: str) -> list[str]:
    """Jekyll's ``Utils.pluralized_array_from_hash``: a singular key with a value (``tag:``) is
    one value, not split on white space, and hides the plural key; else the plural key's list
    or white-space-separated string."""
    value = fm.get(singular)
    if value is not None:
        return _as_list(value) if isinstance(value, list | tuple) else _as_list([value])
    return _as_list(fm.get(plural))


def parse_post(
    text: str, path: PurePath | str | None = None, tz: dt.tzinfo = DEFAULT_TZ
) -> ParsedPost:
    """Parse one post (``path`` gives a fallback id and date). Raises ``NotAPost``/``PostError``."""
    if isinstance(path, str):
        path = PurePath(path)
    fm_text, body = split_front_matter(normalise_newlines(text))
    fm, warnings = load_front_matter(fm_text)

    title_value = _title(fm, fm_text, warnings)
    title = "" if title_value is None else re.sub(r"\s+", " ", title_value).strip()

    date = None
    raw_date = fm.get("date")
    try:
        date = parse_date(raw_date, tz)
    except ValueError:
        warnings.append(f"unrecognised date {str(raw_date)!r}")
    if date is None:
        date = date_from_name(path.name, tz) if path is not None else None
        if date is not None:
            warnings.append(f"no date in front matter; took {date.date()} from the file name")
        else:
            warnings.append("no date in front matter or file name; date left empty")

    # Jekyll (Document#populate_categories): the ``categories`` list, then the singular
    # ``category`` as one category, or else ``categories`` again; each category once
    categories = list(
        dict.fromkeys(_as_list(fm.get("categories")) + _jekyll_values(fm, "category", "categories"))
    )
    tags = _jekyll_values(fm, "tag", "tags")
    blocks, summary, url = parse_body(body)
    text_out = blocks_text(blocks)
    # an explicit ``external_id:`` (newsarc's own Jekyll export writes one) wins over guessing
    given_id = fm.get("external_id")
    external_id = str(given_id).strip() if given_id not in (None, "") else None
    external_id = external_id or external_id_for(url, path)
    if external_id is None:
        raise PostError("no article id: no original URL and no file name", reason="no id")
    meta = {k: v for k, v in fm.items() if k not in _KNOWN_KEYS}
    if len(categories) > 1:
        meta["categories"] = categories
    if not title:
        warnings.append("empty title" if "title" in fm else "no title in front matter")
    return ParsedPost(
        external_id=external_id,
        title=title,
        date=date,
        category=categories[0] if categories else None,
        categories=categories,
        tags=tags,
        source=find_source(text_out),
        url=url,
        summary=summary,
        text=text_out,
        blocks=blocks,
        meta=meta,
        warnings=warnings,
    )
