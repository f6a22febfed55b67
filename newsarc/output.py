"""Machine formats, defined once: json, jsonl, csv, tsv and ids for list, search and export.

These write straight to a text stream, never through Rich (Rich wraps long lines when piped).
"""

from __future__ import annotations

import csv
import enum
import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .models import Post


class Format(str, enum.Enum):
    """Output formats of list and search. ``table`` is for people (Rich on a terminal, plain
    tab-separated lines when piped); the others are for scripts."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    ids = "ids"


class StatsFormat(enum.StrEnum):
    """Formats of ``newsarc stats``: ``Format`` but ``ids`` (counts have no post ids)."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


class ExportFormat(enum.StrEnum):
    """Formats of ``newsarc export``."""

    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    jekyll = "jekyll"
    es_bulk = "es-bulk"


class ShowFormat(enum.StrEnum):
    """Formats of ``newsarc show`` besides the terminal view."""

    text = "text"
    json = "json"
    markdown = "markdown"
    raw = "raw"


class Sort(enum.StrEnum):
    """``--sort`` of list and export (``-`` reverses; undated posts come last either way)."""

    date = "date"
    newest = "-date"
    by_title = "title"  # not ``title``: that would hide str.title
    by_title_desc = "-title"
    id = "id"
    id_desc = "-id"


class SearchSort(enum.StrEnum):
    """``--sort`` of search: by relevance, or by date."""

    rank = "rank"
    newest = "-date"
    date = "date"


def post_line(post: Post, *more: str) -> str:
    """A post as the plain line that list and search print when piped without --format: id,
    date, source (else category), title, then ``more`` cells (search's snippet), separated by
    tabs. Tabs and line breaks inside a cell become spaces, so one post is always one line."""
    cells = [str(post.id), post.date or "", post.source or post.category or "", post.title, *more]
    return "\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells) + "\n"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _control_picture(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␍ for CR …
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def clean(text: str) -> str:
    """Text safe for a terminal: control characters (ESC, CR, C1, bidi overrides) become visible
    symbols, so post content can never move the cursor, recolour, retitle or link the terminal."""
    return _CONTROL.sub(_control_picture, text)


# JSON escapes C0 controls itself; these it would leave raw, and a terminal would obey them
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def to_json(value: Any, **kwargs: Any) -> str:
    """JSON with readable non-ASCII text but every control character escaped (``\\u009b``), so
    JSON printed on a terminal cannot carry a C1 control or a bidi override."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_line(record: dict[str, Any]) -> str:
    """One record as compact JSON (non-ASCII kept readable; control characters escaped)."""
    return to_json(record, separators=(",", ":"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return to_json(value)
    return str(value)


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def write_records(
    records: Iterable[dict[str, Any]], fmt: Format | str, out: TextIO, *, tty: bool = False
) -> int:
    """Write records in a machine format; returns how many were written. Streams: one record is
    held at a time, whatever the format. ``tty`` cleans control characters from text formats."""
    fmt = Format(fmt)
    n = 0
    fix = clean if tty else (lambda s: s)
    if fmt is Format.ids:
        for record in records:
            out.write(f"{record['id']}\n")
            n += 1
    elif fmt is Format.jsonl:
        for record in records:
            out.write(json_line(record) + "\n")
            n += 1
    elif fmt is Format.json:
        out.write("[")
        for record in records:
            out.write(("," if n else "") + "\n" + to_json(record))
            n += 1
        out.write("\n]\n" if n else "]\n")
    elif fmt in (Format.csv, Format.tsv):
        iterator: Iterator[dict[str, Any]] = iter(records)
        first = next(iterator, None)
        if first is None:
            return 0
        columns = list(first)
        if fmt is Format.csv:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for record in _chain(first, iterator):
                writer.writerow([fix(_cell(record.get(c))) for c in columns])
                n += 1
        else:
            out.write("\t".join(columns) + "\n")
            for record in _chain(first, iterator):
                cells = (fix(_cell(record.get(c)).translate(_TSV_ESCAPES)) for c in columns)
                out.write("\t".join(cells) + "\n")
                n += 1
    else:
        raise ValueError(f"{fmt.value} is not a machine format")
    return n


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest
