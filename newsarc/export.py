"""Getting posts out: the export formats, and the plain-text and Markdown forms of one post.

Every format streams: posts are read ``queries.BATCH`` at a time (``Selection.posts``) and written
one by one, so memory stays flat whatever the archive size. The formats are

- ``jsonl``, ``json``, ``csv``: the one record shape (``Post.to_record``), by ``write_records``;
- ``es-bulk``: Elasticsearch/OpenSearch ``_bulk`` bodies (an action line, then the record);
- ``markdown``: one readable document; ``html``: one self-contained page, everything escaped;
- ``jekyll``: a folder of post files that ``newsarc import`` reads back to the same records. Each
  file is checked against the importer's own parser as it is written (``jekyll_post``).

Nothing here prints or imports Rich; the CLI decides where the text goes.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, TextIO

from . import queries
from .errors import UsageError
from .models import Block, Post
from .output import ExportFormat, Format, clean, json_line, write_records
from .queries import Filters, Selection
from .store import Store

# -- selection ------------------------------------------------------------------------------------


def select(
    filters: Filters | None = None,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    sort: str = "id",
) -> Selection:
    """A selection from list's filters and/or a search query (search semantics, without
    ranking), or from ids (kept in the order given)."""
    if ids is not None:
        return Selection(ids=list(ids))
    include = exclude = None
    if query is not None:
        from .search import compile_query

        compiled = compile_query(query)
        include, exclude = compiled.include, compiled.exclude
    try:
        return queries.select(filters, include=include, exclude=exclude, sort=sort)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# -- one post as text -----------------------------------------------------------------------------


def local_date(post: Post, fmt: str = "%Y-%m-%d %H:%M:%S %z") -> str | None:
    """The post's date in its own time zone, e.g. ``2022-04-09 14:22:44 +0800``."""
    if not post.date:
        return None
    return dt.datetime.fromisoformat(post.date).strftime(fmt)


def display_date(post: Post) -> str | None:
    """The post's date for people, with its offset: ``2022-04-09 14:22:44 +08:00``."""
    if not post.date:
        return None
    moment = dt.datetime.fromisoformat(post.date)
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + moment.isoformat()[19:]


def metadata(post: Post) -> list[tuple[str, str]]:
    """(label, value) pairs describing a post, in display order; empty values left out."""
    pairs = [
        ("id", f"{post.id} ({post.external_id})"),
        ("date", display_date(post) or ""),
        ("category", ", ".join(post.categories) or post.category or ""),
        ("tags", ", ".join(post.tags)),
        ("source", post.source or ""),
        ("url", post.url or ""),
    ]
    gone = set(post.missing_paths)
    pairs += [
        ("file", f"{path} (gone: not found by the last import)" if path in gone else path)
        for path in post.paths
    ]
    pairs.append(("length", f"{len(post.text or ''):,} characters"))
    return [(label, value) for label, value in pairs if value]


def body_blocks(post: Post) -> list[Block]:
    """The post's blocks, or paragraphs of its text when the blocks were not loaded."""
    if post.blocks is not None:
        return post.blocks
    return [Block(type="p", text=part) for part in (post.text or "").split("\n\n") if part]


#: what marks a sub-heading in plain text (``show --format text``, the ``--plain`` view)
HEADING_MARK = "## "


def post_text(post: Post) -> str:
    """A post as plain text: title, metadata lines, then the body (``show --format text``)."""
    lines = [post.title or "(no title)", ""]
    pairs = metadata(post)
    width = max(len(label) for label, _ in pairs)
    lines += [f"{label.ljust(width)}  {value}" for label, value in pairs]
    for block in body_blocks(post):
        lines.append("")
        if block.type == "quote":
            lines += ["> " + line for line in block.text.split("\n")]
        elif block.type == "img":
            lines.append(_image_label(block))
        elif block.type == "table":
            lines += [" | ".join(row) for row in block.rows or []]
        elif block.type == "h":
            lines.append(HEADING_MARK + block.text)
        else:
            lines.append(block.text)
    return "\n".join(lines) + "\n"


def _image_label(block: Block) -> str:
    return f"[image{': ' + block.alt if block.alt else ''}] {block.src or ''}".rstrip()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!&])")
#: at the start of a line: a list item, a setext underline, or an ordered-list number
_MD_LINE_START = re.compile(r"^(?:([+=-])|(\d+)([.)]))", re.MULTILINE)


def md_escape(text: str) -> str:
    """Text that a Markdown renderer shows literally: no links, emphasis, HTML or headings."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(
        lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), text
    )


def _md_url(url: str) -> str:
    """A URL for ``<…>`` link destinations: characters that would end it are percent-encoded."""
    return re.sub(r"[\s<>\\]", lambda m: f"%{ord(m.group()):02X}", url)


def post_markdown(post: Post) -> str:
    """A post as a readable Markdown document (``show --format markdown``, ``export``)."""
    out = [f"# {md_escape(post.title or '(no title)')}", ""]
    for label, value in metadata(post):
        shown = f"<{_md_url(value)}>" if label == "url" else md_escape(value)
        out.append(f"- {label}: {shown}")
    for block in body_blocks(post):
        out.append("")
        if block.type == "h":
            out.append("## " + md_escape(block.text.replace("\n", " ")))
        elif block.type == "quote":
            out += ["> " + md_escape(line) for line in block.text.split("\n")]
        elif block.type == "img":
            out.append(f"![{md_escape(block.alt or 'image')}](<{_md_url(block.src or '')}>)")
        elif block.type == "table" and block.rows:
            width = max(len(row) for row in block.rows)
            rows = [row + [""] * (width - len(row)) for row in block.rows]
            out.append("| " + " | ".join(md_escape(c) for c in rows[0]) + " |")
            out.append("|" + " --- |" * width)
            out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows[1:]]
        else:
            # a line break inside a paragraph stays one (two trailing spaces)
            out.append("  \n".join(md_escape(line) for line in block.text.split("\n")))
    return "\n".join(out) + "\n"


# -- html ---------------------------------------------------------------------------------------

_STYLE = """
body{font:16px/1.75 -apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
max-width:46em;margin:2em auto;padding:0 1em;color:#222;background:#fff}
article{border-top:1px solid #ddd;padding-top:1em;margin-top:2em}
h1{font-size:1.5em;line-height:1.4}h2{font-size:1.15em}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:0 1em;color:#555;font-size:.9em}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0;overflow-wrap:anywhere}
blockquote{margin:1em 0;padding:.2em 1em;border-left:4px solid #ccc;color:#444;background:#f7f7f7}
p.img{color:#666;font-size:.9em;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:1em 0}td{border:1px solid #ccc;padding:.2em .5em}
nav li{margin:.2em 0}
"""
#: no scripts, no remote fetches: even markup that escaped escaping could not run or phone home
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _esc(text: str | None) -> str:
    # control characters are not allowed in HTML (a browser hides them): show them as ␛ …
    return html.escape(clean(text or ""), quote=True)


def _safe_href(url: str | None) -> str | None:
    """A URL fit for ``href``: http(s) only (never ``javascript:`` or ``data:``)."""
    if url and re.match(r"(?i)^(?:https?:)?//[^\s]+$", url):
        return url
    return None


def link_html(url: str | None) -> str:
    """A URL as an escaped link when it is http(s), else as escaped text."""
    href = _safe_href(url)
    if href is None:
        return _esc(url)
    return f'<a href="{_esc(href)}" rel="noopener noreferrer nofollow">{_esc(url)}</a>'


def _image_name(block: Block) -> str:
    return "image" + (": " + block.alt if block.alt else "")


def _img_tag(block: Block) -> str:
    alt = f' alt="{_esc(block.alt)}"' if block.alt else ""
    return f'<img src="{_esc(block.src)}"{alt}>'


def _block_html(block: Block, *, image: Callable[[Block], str]) -> str:
    """One body block as escaped HTML; ``image`` renders image blocks."""
    lines = "<br>".join(_esc(line) for line in block.text.split("\n"))
    if block.type == "h":
        return f"<h2>{lines}</h2>"
    if block.type == "quote":
        return f"<blockquote><p>{lines}</p></blockquote>"
    if block.type == "img":
        return image(block)
    if block.type == "table":
        rows = "".join(
            "<tr>" + "".join(f"<td>{_esc(cell)}</td>" for cell in row) + "</tr>"
            for row in block.rows or []
        )
        return f"<table>{rows}</table>"
    return f"<p>{lines}</p>"


def post_html(post: Post) -> str:
    """One post as an ``<article>``: every piece of content escaped, images as labelled links."""
    parts = [f'<article id="post-{post.id}">', f"<h1>{_esc(post.title or '(no title)')}</h1>"]
    parts.append('<dl class="meta">')
    for label, value in metadata(post):
        shown = link_html(value) if label == "url" else _esc(value)
        parts.append(f"<dt>{_esc(label)}</dt><dd>{shown}</dd>")
    parts.append("</dl>")
    parts.append(body_html(post))
    parts.append("</article>")
    return "\n".join(parts) + "\n"


def body_html(post: Post) -> str:
    """The post's body as escaped HTML blocks; images are labelled links, never loaded."""
    return "\n".join(
        _block_html(
            block, image=lambda b: f'<p class="img">[{_esc(_image_name(b))}] {link_html(b.src)}</p>'
        )
        for block in body_blocks(post)
    )


def write_html(
    store: Store,
    selection: Selection,
    out: TextIO,
    title: str = "newsarc export",
    fix: Any = None,
) -> int:
    """One self-contained page: a table of contents, then every post. Two streaming passes.
    ``fix`` (e.g. ``output.clean``) is applied to everything written."""
    if fix is not None:
        out = _Fixed(out, fix)  # type: ignore[assignment]
    out.write(
        '<!DOCTYPE html>\n<html lang="zh">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{_esc(title)}</h1>\n<nav><ol>\n"
    )
    for post in selection.posts(store, text=False):
        date = local_date(post, "%Y-%m-%d") or ""
        out.write(
            f'<li><a href="#post-{post.id}">{_esc(post.title or "(no title)")}</a> '
            f"<small>{_esc(date)}</small></li>\n"
        )
    out.write("</ol></nav>\n")
    n = 0
    for post in selection.posts(store, full=True):
        out.write(post_html(post))
        n += 1
    out.write("</body>\n</html>\n")
    return n


class _Fixed:
    """A text stream that passes everything written through a function."""

    def __init__(self, stream: TextIO, fix: Any):
        self.stream = stream
        self.fix = fix

    def write(self, text: str) -> int:
        return self.stream.write(self.fix(text))


# -- streams ------------------------------------------------------------------------------------


def es_bulk_lines(record: dict[str, Any], index: str) -> str:
    """One document of an ``_bulk`` body: the action line and the source line. The article id
    is the document id, so loading an export twice updates instead of duplicating."""
    action = {"index": {"_index": index, "_id": record["external_id"]}}
    return json_line(action) + "\n" + json_line(record) + "\n"


def write_export(
    store: Store,
    selection: Selection,
    fmt: ExportFormat,
    out: TextIO,
    *,
    tty: bool = False,
    index: str = "newsarc",
) -> int:
    """Write the selected posts to a text stream in any format but ``jekyll``; returns how many.
    ``tty``: the stream is a terminal, so control characters in text formats are made visible."""
    fix = clean if tty else (lambda s: s)
    if fmt in (ExportFormat.jsonl, ExportFormat.json, ExportFormat.csv):
        records = (post.to_record() for post in selection.posts(store))
        return write_records(records, Format(fmt.value), out, tty=tty)
    n = 0
    if fmt is ExportFormat.es_bulk:
        for post in selection.posts(store):
            out.write(es_bulk_lines(post.to_record(), index))
            n += 1
    elif fmt is ExportFormat.markdown:
        for post in selection.posts(store, full=True):
            out.write(("\n---\n\n" if n else "") + fix(post_markdown(post)))
            n += 1
    elif fmt is ExportFormat.html:
        n = write_html(store, selection, out, fix=fix if tty else None)
    else:
        raise UsageError(f"{fmt.value} export writes a folder: give --out DIR")
    return n


@contextmanager
def output_file(path: Path, *, force: bool = False) -> Iterator[TextIO]:
    """A file opened for writing that appears at ``path`` only when complete. Refuses an existing
    file unless ``force``."""
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; --out takes a file name for this format")
    if path.exists() and not force:
        raise UsageError(f"{path}: already exists; add --force to overwrite it")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is a file, not a folder; cannot write {path.name} there")
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    # not mkstemp: its files are private (0600); an export gets the usual umask permissions
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as stream:
            yield stream
        _place(tmp, path, force=force)
    except OSError as exc:
        raise _write_error(exc, path) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_error(exc: OSError, path: Path) -> UsageError:
    return UsageError(f"{path}: cannot write ({exc.strerror or exc}); check space and permissions")


def _place(src: Path, dst: Path, *, force: bool) -> None:
    """Move a finished file into place: replacing ``dst`` only with ``force``, else atomically
    refusing an existing one (a hard link fails when the name is taken)."""
    if force:
        os.replace(src, dst)
        return
    try:
        os.link(src, dst)
    except FileExistsError:
        raise UsageError(f"{dst}: already exists; add --force to overwrite it") from None
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(dst):
            raise UsageError(f"{dst}: already exists; add --force to overwrite it") from None
        os.rename(src, dst)
        return
    os.unlink(src)


# -- jekyll ---------------------------------------------------------------------------------------

#: characters the importer's Markdown reading would take for markup, written as entities (it
#: decodes entities last, so they always come back as the character)
_JK_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "&#91;", "]": "&#93;", "*": "&#42;",
               "_": "&#95;", "`": "&#96;", "|": "&#124;"}  # fmt: skip
_JK_ESCAPES = str.maketrans(_JK_SPECIAL)
#: a line starting with one of these could be a heading, list item, rule, fence or quote
_JK_LINE_START = "#>-+*=~:!"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")


_JK_HEADING_ESCAPES = str.maketrans({**_JK_SPECIAL, "#": "&#35;"})


def _jk_line(line: str, table: dict[int, str] = _JK_ESCAPES) -> str:
    escaped = line.translate(table)
    if escaped[:1] in _JK_LINE_START:
        escaped = f"&#{ord(escaped[0])};" + escaped[1:]
    return escaped


def _jk_summary(post: Post) -> tuple[list[str], list[Block]]:
    """The start of a Jekyll body: the summary as a ``> `` digest (the importer reads a leading
    digest back as the summary), and the body's blocks left to write after it."""
    blocks = body_blocks(post)
    if not post.summary:
        return [], blocks
    if blocks and blocks[0].type == "quote" and blocks[0].text == post.summary:
        blocks = blocks[1:]
    return ["\n".join("> " + _jk_line(line) for line in post.summary.split("\n"))], blocks


def _jekyll_markdown(post: Post) -> str:
    """The body as Markdown the importer reads back block for block."""
    out, blocks = _jk_summary(post)
    for block in blocks:
        if block.type == "h":
            out.append("## " + _jk_line(block.text, _JK_HEADING_ESCAPES))
        elif block.type == "quote":
            out.append("\n".join("> " + _jk_line(line) for line in block.text.split("\n")))
        elif block.type == "img":
            out.append(f"![{block.alt or ''}]({block.src or ''})")
        elif block.type == "table" and block.rows:
            lines = ["| " + " | ".join(_jk_line(c) for c in row) + " |" for row in block.rows]
            lines.insert(1, "|" + " --- |" * len(block.rows[0]))
            out.append("\n".join(lines))
        else:
            out.append("\n".join(_jk_line(line) for line in block.text.split("\n")))
    return "\n\n".join(out)


def _jekyll_html(post: Post) -> str:
    """The body as HTML, for the few posts Markdown cannot carry (a quote that is not the
    summary opening the body, image text with brackets). The summary stays a ``> `` digest."""
    out, blocks = _jk_summary(post)
    out.extend(_block_html(block, image=_img_tag) for block in blocks)
    return "\n\n".join(out)


def _front_matter(post: Post, *, with_id: bool) -> str:
    import yaml

    meta = dict(post.meta)
    data: dict[str, Any] = {}
    if "layout" in meta:
        data["layout"] = meta.pop("layout")
    data["title"] = post.title
    if post.date:
        data["date"] = local_date(post)
    categories = meta.pop("categories", None)
    if post.categories:
        data["categories"] = list(post.categories)
    elif isinstance(categories, list) and categories:
        data["categories"] = categories
    elif post.category:
        data["categories"] = [post.category]
    if post.tags:
        data["tags"] = list(post.tags)
    meta.pop("external_id", None)
    data.update(meta)
    if with_id:
        data["external_id"] = post.external_id
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1_000_000
    )


def _file_text(post: Post, body: str, *, with_id: bool) -> str:
    trailer = f"\n\n<{post.url}>" if post.url else ""
    return f"---\n{_front_matter(post, with_id=with_id)}---\n\n{body}{trailer}\n"


def jekyll_names(post: Post) -> list[str]:
    """Candidate file names, best first: made of the date and the article id (or the numeric
    id), never of the title, and only of ``[A-Za-z0-9_-]``, so they cannot leave the folder."""
    safe = _SAFE_NAME.sub("_", post.external_id)[:120].strip("_") or str(post.id)
    day = (post.date or "")[:10]
    names = []
    if day and not _DATE_PREFIX.match(safe):
        names.append(f"{day}-{safe}.md")
    names.append(f"{safe}.md")
    names.append(f"{day or 'undated'}-{safe}-{post.id}.md")
    return names


def _reads_back(text: str, name: str, post: Post) -> tuple[bool, bool]:
    """(record equal, blocks equal) after parsing ``text`` as the importer would."""
    from .dates import format_date
    from .errors import PostError
    from .parse import parse_post

    try:
        parsed = parse_post(text, PurePath(name))
    except PostError:
        return False, False
    same = (
        parsed.external_id == post.external_id
        and parsed.title == post.title
        and format_date(parsed.date) == post.date
        and parsed.category == post.category
        and parsed.categories == post.categories
        and parsed.tags == post.tags
        and parsed.source == post.source
        and parsed.url == post.url
        and parsed.summary == post.summary
        and parsed.text == (post.text or "")
    )
    blocks = post.blocks is None or [b.to_dict() for b in parsed.blocks] == [
        b.to_dict() for b in post.blocks
    ]
    return same, same and blocks


def jekyll_post(
    post: Post, taken: set[str] | frozenset[str] = frozenset()
) -> tuple[str, str, bool]:
    """(file name, file text, exact) for one post; names in ``taken`` are not used.

    Each candidate (Markdown body, else HTML; without, else with an ``external_id:`` key; each
    candidate name) is parsed with the importer's parser, and the first that reads back to the
    same record and blocks wins (else the first with the same record). ``exact`` is False when
    none does: the file then still holds everything, with ``external_id:`` in its front matter.
    """
    names = [n for n in jekyll_names(post) if n not in taken]
    if not names:
        raise UsageError(f"post {post.id}: no free file name (every candidate is taken)")
    fallback: tuple[str, str, bool] | None = None
    for with_id in (False, True):
        for make_body in (_jekyll_markdown, _jekyll_html):
            text = _file_text(post, make_body(post), with_id=with_id)
            for name in names:
                same, exact = _reads_back(text, name, post)
                if exact:
                    return name, text, True
                if same and fallback is None:
                    fallback = (name, text, True)
    if fallback:
        return fallback
    return names[-1], _file_text(post, _jekyll_markdown(post), with_id=True), False


@dataclass
class JekyllResult:
    written: int = 0
    #: (id, external id) of posts whose file would not read back to the same record
    inexact: list[tuple[int, str]] = field(default_factory=list)


def export_jekyll(
    store: Store, selection: Selection, folder: Path, *, force: bool = False
) -> JekyllResult:
    """Write one post file per post into ``folder``. Files are written into a hidden staging
    folder inside it and moved into place at the end, so a failed export leaves nothing behind;
    an existing file is only replaced with ``force``."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is a file; jekyll export needs a folder for --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{folder}: cannot create the folder ({exc.strerror})") from None
    result = JekyllResult()
    try:
        staging = Path(tempfile.mkdtemp(prefix=".newsarc-export-", dir=folder))
    except OSError as exc:
        raise _write_error(exc, folder) from None
    try:
        for post in selection.posts(store, full=True):
            name, text, exact = jekyll_post(post)
            if not force and os.path.lexists(folder / name):
                raise UsageError(
                    f"{folder / name}: already exists; add --force to overwrite, "
                    "or export into an empty folder"
                )
            taken: set[str] = set()
            while True:
                try:
                    target = open(staging / name, "x", encoding="utf-8", newline="\n")
                    break
                except FileExistsError:  # two ids with the same safe name, or only case differs
                    taken.add(name)
                    name, text, exact = jekyll_post(post, taken)
            with target:
                target.write(text)
            result.written += 1
            if not exact:
                result.inexact.append((post.id, post.external_id))
        for entry in sorted(os.scandir(staging), key=lambda e: e.name):
            _place(Path(entry.path), folder / entry.name, force=force)
    except OSError as exc:
        raise _write_error(exc, folder) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result
