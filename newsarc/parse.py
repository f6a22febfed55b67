"""Parse one post's text: front matter, dates, ids, and the body as blocks and plain text.

Real posts are messy (see the corpus README): front matter whose titles carry unescaped quotes,
dates PyYAML cannot read, HTML and Markdown bodies, trailing links and back-links that are
metadata rather than article text. Everything here is pure: text in, ``ParsedPost`` out.
"""

from __future__ import annotations

import datetime as dt
import html
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
_LINE_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:\s+(.*?))?\s*$")
_LIST_ITEM = re.compile(r"^\s*-\s+(.*?)\s*$")
_OPENER = re.compile(r"^-{3,}[ \t]*$")
_CLOSER = re.compile(r"^(?:-{3,}|\.{3})[ \t]*$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str, str]:
    """Split normalised post text (``\\n`` line ends) into front matter and body.

    A post starts, after optional blank lines, with a ``---`` line; the front matter ends at the
    next ``---`` (or ``...``) line. Raises ``NotAPost`` when there is no front matter at all.
    """
    stripped = text.lstrip("\n \t")
    first_line, _, rest = stripped.partition("\n")
    if not _OPENER.match(first_line):
        raise NotAPost("no front matter (a post starts with a '---' line)", reason="no front matter")
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
            data[key] = _unquote(value) if value else None
        elif key is not None and isinstance(data[key], str):
            data[key] += " " + line.strip()  # a folded continuation line
    return data


def load_front_matter(fm: str) -> tuple[dict[str, Any], list[str]]:
    """Front matter text → (dict, warnings). Never raises for bad YAML: it recovers line by line."""
    if len(fm) > MAX_FRONT_MATTER:
        raise PostError(
            f"front matter is {len(fm):,} characters (limit {MAX_FRONT_MATTER:,})",
            reason="bad front matter",
        )
    loader = _FrontMatterLoader if _ANCHOR.search(fm) else _FastLoader
    try:
        data = _HANDLER.load(fm, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        problem = str(exc).split("\n", 1)[0]
        recovered = recover_front_matter(fm)
        return recovered, [f"front matter is not valid YAML ({problem}); read it line by line"]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return recover_front_matter(fm), ["front matter is not a mapping; read it line by line"]
    return data, []


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


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- body ---------------------------------------------------------------------------------------

_AUTOLINK = re.compile(r"^<(\s*|[a-z][a-z0-9+.-]*:[^<>\s]*)>$", re.IGNORECASE)
_MD_LINK = r"\[[^\]\n]*\]\([^)\n]*\)"
_BACKLINKS = re.compile(
    rf"^(?:\s*{_MD_LINK}\s*[｜|/·]?)+\s*$"
)  # a line made only of links, e.g. "[返回东财滚动新闻](../emnews/)｜[返回首页](../)"
_BACK_TEXT = re.compile(r"\[\s*(返回|back to|home)", re.IGNORECASE)
_HTML_HINT = re.compile(
    r"<(?:p|div|br|center|table|img|h[1-6]|span|strong|b|em|section|article|ul|ol|li|blockquote"
    r"|figure|font|a|section|hr|pre)\b[^>]*>",
    re.IGNORECASE,
)
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SOURCE_LINE = re.compile(r"[（(]\s*(?:文章)?来源\s*[：:]\s*([^（）()\n]{1,40}?)\s*[）)]")
_TRAILING_SOURCE = re.compile(r"[（(]([^（）()\n]{2,16})[）)]\s*$")
_NOT_SOURCE = re.compile(r"[\d，。、：:；;,.!?！？%]")
_CJK = re.compile(r"[\u3400-\u9fff]")


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
        if _BACKLINKS.match(last) and _BACK_TEXT.search(last):
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
        quoted.append(lines[i].lstrip()[1:].strip())
        i += 1
    if not quoted:
        return None, body
    summary = "\n".join(q for q in quoted if q).strip()
    return summary or None, "\n".join(lines[i:])


class _BlockWriter:
    """Collects inline text into paragraphs; block boundaries flush the current paragraph."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.kind: str = "p"

    def text(self, value: str) -> None:
        # a blank line in loose text (Markdown between HTML) separates paragraphs
        pieces = re.split(r"\n[ \t]*\n", value)
        for n, piece in enumerate(pieces):
            if n:
                self.flush()
            self.parts.append(re.sub(r"\s*\n\s*", " ", piece))

    def newline(self) -> None:
        self.parts.append("\n")

    def flush(self, next_kind: str = "p") -> None:
        joined = "".join(self.parts)
        lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in joined.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(Block(type=self.kind, text=text))  # type: ignore[arg-type]
        self.parts = []
        self.kind = next_kind

    def add(self, block: Block) -> None:
        kind = self.kind
        self.flush(kind)
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


def _inline_text(el: Any) -> str:
    """Text of an element with inline children glued (no separator) and ``<br>`` as a space."""
    out = []
    for node in el.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP_TAGS or not isinstance(node.tag, str):
            pass
        elif tag == "br":
            out.append(" ")
        elif node.text:
            out.append(node.text)
        if node is not el and node.tail:
            out.append(node.tail)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _table_rows(table: Any) -> list[list[str]]:
    rows = []
    for tr in table.iter("tr"):
        cells = [_inline_text(cell) for cell in tr if cell.tag in ("td", "th")]
        if any(cells):
            rows.append(cells)
    return rows


def _is_bold_heading(el: Any) -> bool:
    """``<p><strong>划定重点领域</strong></p>``: a paragraph that is only bold text is a sub-heading."""
    children = [c for c in el if isinstance(c.tag, str)]
    return (
        len(children) == 1
        and children[0].tag in _BOLD
        and not (el.text or "").strip()
        and not (children[0].tail or "").strip()
        and bool(_inline_text(children[0]))
        and len(_inline_text(children[0])) <= 60
    )


def _html_blocks(markup: str, out: _BlockWriter) -> None:
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except Exception:  # lxml raises several types (ParserError, ValueError) for hopeless markup
        out.text(re.sub(r"<[^>]*>", "", markup))
        return
    in_widget = False
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if closing:
            if tag in _BLOCK_TAGS:
                out.flush()
        elif tag is None:
            # comments and processing instructions are not text; "<!-- X_Start -->" …
            # "<!-- X_End -->" pairs mark injected widgets (stock charts) whose images we drop
            marker = str(el.text or "").strip().lower()
            if marker.endswith("start"):
                in_widget = True
            elif marker.endswith("end"):
                in_widget = False
        elif tag in _SKIP_TAGS or _HIDDEN.search(el.get("style") or "") or el.get("hidden") is not None:
            pass
        elif tag == "br":
            out.newline()
        elif tag == "img":
            src = el.get("src") or el.get("data-src")
            if src and not in_widget:
                out.add(Block(type="img", src=src, alt=(el.get("alt") or "").strip() or None))
        elif tag == "table":
            rows = _table_rows(el)
            if rows:
                out.add(Block(type="table", rows=rows))
        else:
            if tag in _BLOCK_TAGS:
                kind = "p"
                if tag in _HEADINGS or (tag == "p" and _is_bold_heading(el)):
                    kind = "h"
                elif tag == "blockquote":
                    kind = "quote"
                out.flush(kind)
            if el.text:
                out.text(el.text)
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
            continue
        if el.tail and el is not root:
            out.text(el.tail)
        continue
    out.flush()


_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_MD_INLINE_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\([^)\n]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _md_inline(text: str) -> str:
    text = _MD_INLINE_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    text = _MD_CODE.sub(r"\1", text)
    return html.unescape(text)


def _markdown_blocks(body: str, out: _BlockWriter) -> None:
    for chunk in re.split(r"\n[ \t]*\n", body):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        first = lines[0].strip()
        heading = _MD_HEADING.match(first)
        if heading and len(lines) == 1:
            out.flush("h")
            out.text(_md_inline(heading.group(2)))
            out.flush()
        elif all(line.lstrip().startswith(">") for line in lines):
            out.flush("quote")
            for line in lines:
                out.text(_md_inline(line.lstrip()[1:].strip()))
                out.newline()
            out.flush()
        elif len(lines) >= 2 and all("|" in line for line in lines) and _MD_TABLE_RULE.match(lines[1]):
            rows = [
                [_md_inline(cell.strip()) for cell in line.strip().strip("|").split("|")]
                for n, line in enumerate(lines)
                if n != 1
            ]
            out.add(Block(type="table", rows=rows))
        else:
            out.flush()
            for line in lines:
                rest = line
                for m in _MD_IMAGE.finditer(line):
                    out.add(Block(type="img", src=m.group(2), alt=m.group(1).strip() or None))
                rest = _MD_IMAGE.sub("", rest)
                if rest.strip():
                    out.text(_md_inline(rest.strip()))
                    out.newline()
            out.flush()


def parse_body(body: str) -> tuple[list[Block], str | None, str | None]:
    """Body text → (blocks, summary, original url). Trailing link lines are metadata, not text."""
    body = _BAD_CHARS.sub("", body)
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
    """The media outlet: ``（文章来源：中国经营网）``, else a short ``（上海证券报）`` ending the text."""
    m = _SOURCE_LINE.search(text)
    if m:
        return m.group(1).strip() or None
    for paragraph in reversed(text.split("\n\n")[-2:]):
        m = _TRAILING_SOURCE.search(paragraph)
        if m and _CJK.search(m.group(1)) and not _NOT_SOURCE.search(m.group(1)):
            return m.group(1).strip()
    return None


# -- ids ----------------------------------------------------------------------------------------

_URL_ID_PARAM = re.compile(r"[?&](?:infocode|newsid|articleid|docid|id)=([A-Za-z0-9_-]{6,})", re.I)
_URL_ID_PATH = re.compile(r"(?:^|[/,_=-])([A-Za-z]{0,4}\d{8,})\.s?html?(?:[?#]|$)", re.I)
_NAME_ID = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{0,4}\d{10,})(?!\d)")


def external_id_for(url: str | None, path: PurePath | None) -> str | None:
    """The article's own id: from the original URL (``infoCode=NW2022…``, ``…,2021120822….html``),
    else a long number in the file name, else the file name without its extension."""
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
_KNOWN_KEYS = {"title", "date", "categories", "category", "tags", "tag"}


def normalise_newlines(text: str) -> str:
    """BOM removed, CRLF and CR turned into LF: the form the parser works on."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_post(text: str, path: PurePath | None = None, tz: dt.tzinfo = DEFAULT_TZ) -> ParsedPost:
    """Parse one post. ``path`` supplies a fallback id and date. Raises ``NotAPost``/``PostError``."""
    fm_text, body = split_front_matter(normalise_newlines(text))
    fm, warnings = load_front_matter(fm_text)

    title_value = fm.get("title")
    title = "" if title_value is None else re.sub(r"\s+", " ", str(title_value)).strip()

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

    categories = _as_list(fm.get("categories", fm.get("category")))
    tags = _as_list(fm.get("tags", fm.get("tag")))
    blocks, summary, url = parse_body(body)
    text_out = blocks_text(blocks)
    external_id = external_id_for(url, path)
    if external_id is None:
        raise PostError("no article id: no original URL and no file name", reason="no id")
    meta = {str(k): _jsonable(v) for k, v in fm.items() if str(k) not in _KNOWN_KEYS}
    if len(categories) > 1:
        meta["categories"] = categories
    if title_value is not None and not title:
        warnings.append("empty title")
    return ParsedPost(
        external_id=external_id,
        title=title,
        date=date,
        category=categories[0] if categories else None,
        tags=tags,
        source=find_source(text_out),
        url=url,
        summary=summary,
        text=text_out,
        blocks=blocks,
        meta=meta,
        warnings=warnings,
    )
