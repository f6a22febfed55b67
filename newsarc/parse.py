"""Parse one post's text: front matter, dates and ids; the body is read by ``body.py``.

Real posts are messy (see the corpus README): front matter whose titles carry unescaped quotes,
dates PyYAML cannot read, ids only in a trailing link or the file name. Everything here is
pure: text in, ``ParsedPost`` out.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import PurePath
from typing import Any

import frontmatter
import yaml

from .body import blocks_text, find_source, parse_body
from .dates import DEFAULT_TZ, date_from_name, parse_date
from .errors import NotAPost, PostError
from .models import ParsedPost

#: front matter larger than this is refused: no real post needs it, and YAML parsing is slow
MAX_FRONT_MATTER = 256 * 1024

# -- front matter -----------------------------------------------------------------------------


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text (we parse them ourselves).

    PyYAML reads ``2022-04-09 14:22:44 +0800`` as a string but ``+08:00`` as a datetime; keeping
    all of them as text gives one code path. Anchors and aliases are YAML (``tags: &t [x, y]``)
    and are read; a "billion laughs" of aliases is stopped when it is made JSON-able
    (``_MAX_VALUES``).
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


if hasattr(yaml, "CSafeLoader"):

    class _FastLoader(yaml.CSafeLoader):
        """The libyaml-backed loader, used when the front matter has no anchors or aliases."""

        yaml_implicit_resolvers = _FrontMatterLoader.yaml_implicit_resolvers

else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = _FrontMatterLoader  # type: ignore[misc,assignment]

_HANDLER = frontmatter.YAMLHandler()
_DEEP_INDENT = re.compile(r"^[ \t]{48}", re.MULTILINE)
_COMPACT_NEST = re.compile(r"(?:[-?:][ \t]+){8}")
_LINE_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]*(.*?))?\s*$")
_LIST_ITEM = re.compile(r"^\s*-\s+(.*?)\s*$")
_FLOW_LIST = re.compile(r"^\[(.*)\]$")
_LINE_ANCHOR = re.compile(r"^&([^\s\[\]{},]+)(?:\s+(.*))?$")
_LINE_ALIAS = re.compile(r"^\*([^\s\[\]{},]+)$")
_OPENER = re.compile(r"^-{3,}[ \t]*$")
_CLOSER = re.compile(r"^(?:-{3,}|\.{3})[ \t]*$", re.MULTILINE)
#: deeper front matter is read line by line: real posts nest two levels at most
_MAX_DEPTH = 32
#: front matter with more values than this, beyond one per character of its text (which no
#: front matter without aliases reaches), is read line by line: aliases expanded too far
_MAX_VALUES = 10_000
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
    everything between them kept; ``- item`` lines under an empty key make a list; an anchor
    (``&t [x, y]``) is taken off its value, and an alias (``*t``) on its own is that value.
    """
    data: dict[str, Any] = {}
    anchors: dict[str, Any] = {}
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
            anchor = _LINE_ANCHOR.match(value or "")
            if anchor:
                value = anchor.group(2)
            alias = _LINE_ALIAS.match(value or "")
            if alias and alias.group(1) in anchors:
                data[key] = anchors[alias.group(1)]
            else:
                data[key] = _recover_value(value) if value else None
            if anchor:
                anchors[anchor.group(1)] = data[key]
        elif key is not None and isinstance(data[key], str):
            data[key] += " " + line.strip()  # a folded continuation line
    return data


def _may_nest_deeply(fm: str) -> bool:
    """True when the front matter could nest deeply: libyaml's C composer recurses without a
    limit and crashes the process (SIGSEGV) on ~50,000 nested ``[``, so such text goes to the
    pure-Python loader (six times slower), which raises ``RecursionError`` instead. Nesting needs
    brackets, block indicators on one line (``- - - x``) or indentation; real front matter has
    few of each, while a long flat list or many keys (which cannot nest) stay on the C loader."""
    return bool(
        fm.count("[") + fm.count("{") > 64 or _COMPACT_NEST.search(fm) or _DEEP_INDENT.search(fm)
    )


class _TooDeep(ValueError):
    pass


class _TooMany(ValueError):
    pass


def _jsonable(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """``value`` as JSON types. Aliases make shared objects, cheap in memory but copied here:
    ``budget`` counts the values made, so that nine levels of nine aliases stop early."""
    if budget is None:
        budget = [_MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooMany("front matter has too many values once its aliases are expanded")
    if depth > _MAX_DEPTH:
        raise _TooDeep(f"front matter nests deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v, depth + 1, budget) for v in value]
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
            data = _jsonable(data, budget=[_MAX_VALUES + len(fm)])
    except _TooMany as exc:
        return recover_front_matter(fm), [f"{exc}; read it line by line"]
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
    ``"C:\\new"`` → a line break. A title is never a number, a comment or a control character,
    so then the raw text of the ``title:`` line wins. Escapes that make text (``"\\u4e2d文 #1"``)
    and a ``#`` inside the quotes are YAML's and stay as YAML reads them."""
    value = fm.get("title")
    if value is None:
        return None
    if isinstance(value, str) and not _CONTROL.search(value) and "#" not in fm_text:
        return value  # the common case, decided without a second look at the text
    raw = recover_front_matter(fm_text).get("title")
    if not isinstance(raw, str) or not raw or raw[0] in "|>":
        return value if isinstance(value, str) else str(value)
    if isinstance(value, str) and not _CONTROL.search(value):
        # YAML took no comment out of the title, or the comment follows a whole quoted title
        # (``"C#" # note``: a careful writer's comment, not an unescaped quote)
        if raw.count("#") <= value.count("#") or raw[0] in "\"'":
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
#: what is not text at all: NUL (an HTML parser stops at it), lone surrogates and non-characters.
#: Other control characters (ESC, BEL, backspace …) are what the source says and are kept; every
#: view makes them inert (``output.clean``) and search folding ignores them.
_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff\ufffe\uffff]")
_KNOWN_KEYS = {"title", "date", "categories", "category", "tags", "tag", "external_id"}


def normalise_newlines(text: str) -> str:
    """BOM removed, CRLF and CR turned into LF, NUL and lone surrogates removed: the form the
    parser works on (other control characters are kept, see ``_BAD_CHARS``)."""
    return _BAD_CHARS.sub("", text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))


def _jekyll_values(fm: dict[str, Any], singular: str, plural: str) -> list[str]:
    """Jekyll's ``Utils.pluralized_array_from_hash``: a singular key with a value (``tag:``) is
    one value, not split on white space, and hides the plural key; else the plural key's list
    or white-space-separated string."""
    value = fm.get(singular)
    if value is not None:
        return _as_list(value) if isinstance(value, list | tuple) else _as_list([value])
    return _as_list(fm.get(plural))


def _given_source(fm: dict[str, Any]) -> str | None:
    """A ``source:`` key names the outlet outright, so it wins over a ``（文章来源：X）`` line."""
    value = fm.get("source")
    if isinstance(value, list | dict) or value is None:
        return None
    return " ".join(str(value).split()) or None


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
    given_source = _given_source(fm)
    if given_source:
        del meta["source"]  # it is the post's source, not other metadata
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
        source=given_source or find_source(text_out),
        url=url,
        summary=summary,
        text=text_out,
        blocks=blocks,
        meta=meta,
        warnings=warnings,
    )
