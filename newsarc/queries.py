"""Every read query on the archive, and the full-text SQL: posts by id, list pages, reference
resolution, statistics, export selections, file state for incremental imports, and the FTS5
MATCH and bm25 ranking that search compiles its queries to (``search`` owns the language).

Functions take an open ``Store`` and return records, never rows. Writes live in ``store``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .dates import local_as_utc
from .migrations import BAND_TABLES, CATALOG_INDEX, COPIES_INDEX, LABEL_TABLES
from .models import Post, body_blocks
from .store import db_text, file_where, read_digest

if TYPE_CHECKING:
    from .store import Store

#: posts read from the archive at a time when streaming (export, ``list --all``)
BATCH = 500
#: ids bound in one ``IN (…)``, well under SQLite's limit on parameters
_CHUNK = 500
#: seconds in a day: more than any UTC offset, so a local date-time bound read as UTC is
#: within a day of every post's instant at that local time (``Filters.sql``)
_DAY = 86400


# -- records ---------------------------------------------------------------------------------


class StoredPost(NamedTuple):
    """What an import needs to know of a post already stored under an article id."""

    id: int
    hash: str | None  # of its source file (None: no longer recorded)
    source_mtime_ns: int | None
    source_path: str | None


class FileState(NamedTuple):
    """What was recorded for a file path at the last import."""

    size: int
    mtime_ns: int
    hash: str | None
    status: str  # post | duplicate | skipped | failed
    post_id: int | None
    #: the parse options the file was read with (``ingest.parse_options``); None before m004
    options: str | None = None
    #: why it was skipped or failed: the reason counted in summaries, and the full message
    reason: str | None = None
    message: str | None = None
    warnings: tuple[str, ...] = ()


class FileNote(NamedTuple):
    """A stored finding about one file: ``kind`` is skipped, failed, warning or gone."""

    path: str
    kind: str
    message: str


class RawSource(NamedTuple):
    """A post's original text, the encoding it was read in and the sha256 of the file's bytes
    (None when its source file is no longer recorded): enough to give back the file byte for
    byte."""

    raw: str
    encoding: str | None
    hash: str | None


class Dictionary(NamedTuple):
    """A compression dictionary stored in the archive (see ``packing``)."""

    id: int
    data: bytes


class Page(NamedTuple):
    """One page of posts, and how many posts the selection has in all."""

    posts: list[Post]
    total: int


class PostStream(NamedTuple):
    """Posts read a batch at a time, and how many posts the selection has in all."""

    posts: Iterator[Post]
    total: int


class Count(NamedTuple):
    """How many posts have one value (a category, a source, a tag, a month)."""

    value: str | None
    posts: int


class Match(NamedTuple):
    """A post matching a search, with its bm25 score (lower is better; None unless ranked)."""

    id: int
    score: float | None


class MatchPage(NamedTuple):
    """One page of matches in order, and how many posts match in all."""

    matches: list[Match]
    total: int


class MatchStream(NamedTuple):
    """Matches in order, read from SQLite as they are consumed, and how many posts match in all."""

    matches: Iterator[Match]
    total: int


# -- filters and orders ------------------------------------------------------------------------


@dataclass
class Filters:
    """Selection shared by list, search, export, stats and trend: category, tag, source and a
    date range. A bound is a local date-time ``YYYY-MM-DD HH:MM:SS`` compared with each post's
    ``local_date`` (its date as written, in its own offset), or epoch seconds (an instant, from
    a bound given with an offset) compared with ``date_utc``; see ``dates.period_bound``."""

    category: str | None = None
    tag: str | None = None
    source: str | None = None
    since: str | int | None = None  # inclusive
    until: str | int | None = None  # exclusive

    def sql(self, alias: str = "posts") -> tuple[list[str], list[Any]]:
        """SQL conditions and parameters for these filters."""
        where: list[str] = []
        params: list[Any] = []
        if self.category is not None:
            where.append(f"{alias}.id IN (SELECT post_id FROM post_categories WHERE category = ?)")
            params.append(db_text(self.category))
        if self.source is not None:
            where.append(f"{alias}.source = ?")
            params.append(db_text(self.source))
        if self.tag is not None:
            where.append(f"{alias}.id IN (SELECT post_id FROM post_tags WHERE tag = ?)")
            params.append(db_text(self.tag))
        for bound, op, slack in ((self.since, ">=", -_DAY), (self.until, "<", _DAY)):
            if isinstance(bound, int):
                where.append(f"{alias}.date_utc {op} ?")
                params.append(bound)
            elif bound is not None:
                # a post's offset is less than a day, so its instant is within a day of its
                # local time read as UTC: that bound on date_utc lets its index find the range
                # (the archive keeps no index of local dates), the local bound decides
                near = local_as_utc(bound)
                if near is not None:
                    where.append(f"{alias}.date_utc {op} ?")
                    params.append(near + slack)
                where.append(f"{alias}.local_date {op} ?")
                params.append(bound)
        return where, params


#: ``--sort`` values of list and export → ORDER BY (undated posts last either way)
SORTS = {
    "date": "date_utc ASC NULLS LAST, id",
    "-date": "date_utc DESC NULLS LAST, id DESC",
    "title": "title, id",
    "-title": "title DESC, id DESC",
    "id": "id",
    "-id": "id DESC",
}


def where_clause(
    filters: Filters | None, extra: Sequence[str] = (), params: Sequence[Any] = ()
) -> tuple[str, list[Any]]:
    """``WHERE …`` (or ``""``) and its parameters for filters plus extra conditions on ``posts``."""
    conditions, values = (filters or Filters()).sql("posts")
    conditions += list(extra)
    values += list(params)
    return ("WHERE " + " AND ".join(conditions) if conditions else "", values)


def order_clause(sort: str) -> str:
    """The ORDER BY of a ``--sort`` value; ``ValueError`` names the valid ones."""
    try:
        return SORTS[sort]
    except KeyError:
        raise ValueError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}") from None


def _fts_condition(column: str, *, negate: bool = False) -> str:
    """``column`` is (or is not) the rowid of a post matching an FTS5 expression (one ``?``)."""
    return (
        f"{column} {'NOT IN' if negate else 'IN'} "
        "(SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)"
    )


# -- posts ---------------------------------------------------------------------------------------

_RECORD_COLUMNS = (
    "id, external_id, title, date, category, tags, source, url, summary, categories, "
    "coalesce(story, id)"
)


def _paths(store: Store, ids: Sequence[int]) -> dict[int, tuple[list[str], list[str]]]:
    """The files of each post (the one its content came from first, then duplicate copies),
    and those of them that the last import no longer found."""
    out: dict[int, tuple[list[str], list[str]]] = {i: ([], []) for i in ids}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = store.conn.execute(
            "SELECT post_id, path, gone FROM files "
            f"WHERE post_id IN ({', '.join('?' * len(chunk))}) "
            "ORDER BY post_id, status = 'duplicate', path",
            list(chunk),
        )
        for post_id, path, gone in rows:
            out[post_id][0].append(path)
            if gone:
                out[post_id][1].append(path)
    return out


def _row_to_post(store: Store, row: Sequence[Any]) -> Post:
    # the record columns (``_RECORD_COLUMNS``, 11), then text, body, meta, raw, packed
    text, body, raw, packed = row[11], row[12], row[14], row[15]
    if packed is not None:
        if body is not None or raw is not None:
            # packed: raw, text and body are in one frame (asked for with ``full`` or ``raw``)
            content = store.unpack(row[0], packed, raw=raw is not None)
            text = content.text
            body = content.body if body is not None else None
            raw = content.raw if raw is not None else None
        else:  # the text alone: the rest is not decoded
            text = store.text_of(row[0], None, packed)
    return Post(
        id=row[0],
        external_id=row[1],
        title=row[2],
        date=row[3],
        category=row[4],
        tags=json.loads(row[5]),
        source=row[6],
        url=row[7],
        summary=row[8],
        categories=json.loads(row[9]),
        story=row[10],
        text=text,
        paths=[],
        blocks=body_blocks(json.loads(body), text or "") if body else None,
        meta=json.loads(row[13]) if row[13] else {},
        raw=raw,
    )


def posts_by_ids(
    store: Store, ids: Sequence[int], *, text: bool = True, full: bool = False, raw: bool = False
) -> list[Post]:
    """Posts in the order of ``ids`` (missing ids are left out). ``full`` adds the body and
    meta, ``raw`` the original file's text (``Post.raw``; views read it with ``raw_source``)."""
    if not ids:
        return []
    extra = ", text" if text or full or raw else ", NULL"
    extra += ", body, meta" if full else ", NULL, NULL"
    extra += ", raw" if raw else ", NULL"
    extra += ", packed" if text or full or raw else ", NULL"
    found: dict[int, Post] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows = store.conn.execute(
            f"SELECT {_RECORD_COLUMNS}{extra} FROM posts "
            f"WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        for row in rows:
            found[row[0]] = _row_to_post(store, row)
    paths = _paths(store, list(found))
    out = []
    for i in ids:
        if i in found:
            found[i].paths, found[i].missing_paths = paths[i]
            out.append(found[i])
    return out


def iter_posts(
    store: Store, where: str = "", params: Sequence[Any] = (), order: str = "id", *,
    text: bool = True, full: bool = False, raw: bool = False, batch: int = BATCH,
    offset: int = 0, limit: int | None = None,
) -> Iterator[Post]:  # fmt: skip
    """Stream posts matching an SQL condition in ``order`` (skipping the first ``offset``, at
    most ``limit``), ``batch`` at a time: memory holds their ids and one batch, whatever the
    archive size."""
    ids = [
        r[0]
        for r in store.conn.execute(
            f"SELECT id FROM posts {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )
    ]
    for start in range(0, len(ids), batch):
        yield from posts_by_ids(store, ids[start : start + batch], text=text, full=full, raw=raw)


def count_posts(store: Store, where: str = "", params: Iterable[Any] = ()) -> int:
    """How many posts match an SQL condition (``where_clause``); all of them by default."""
    return int(
        store.conn.execute(f"SELECT count(*) FROM posts {where}", list(params)).fetchone()[0]
    )


def resolve(store: Store, ref: str) -> int | None:
    """A post id from an integer id, an external id, or an imported file's path."""
    ref = ref.strip()
    conn = store.conn
    # a number past SQLite's integers is no post id; it may be an article id (a 23-digit file name)
    if ref.isdecimal() and int(ref) < 2**63:
        row = conn.execute("SELECT id FROM posts WHERE id = ?", (int(ref),)).fetchone()
        if row:
            return int(row[0])
    row = conn.execute("SELECT id FROM posts WHERE external_id = ?", (db_text(ref),)).fetchone()
    if row:
        return int(row[0])
    candidates = [ref]
    try:
        candidates.append(str(Path(ref).expanduser().resolve()))
    except (OSError, RuntimeError):
        pass
    for candidate in candidates:
        where, params = file_where(candidate)
        row = conn.execute(
            f"SELECT post_id FROM files WHERE {where} AND post_id IS NOT NULL", params
        ).fetchone()
        if row:
            return int(row[0])
    return None


def raw_source(store: Store, post_id: int) -> RawSource | None:
    """A post's original text, encoding and file hash, for byte-exact output."""
    # the hash is its source file's (the files row with status 'post'): none when that file
    # has since failed or been forgotten, and then the text is encoded as it was decoded
    row = store.conn.execute(
        "SELECT p.raw, p.encoding, f.hash, p.packed FROM posts p "
        "LEFT JOIN files f ON f.post_id = p.id AND f.status = 'post' "
        "WHERE p.id = ? ORDER BY f.path LIMIT 1",
        (post_id,),
    ).fetchone()
    if row is None:
        return None
    raw = row[0] if row[3] is None else store.unpack(post_id, row[3]).raw
    return RawSource(raw, row[1], read_digest(row[2]))


def post_texts(store: Store) -> Iterator[tuple[int, str, str]]:
    """(id, title, plain text) of every post, for checking the index against the posts."""
    for post_id, title, text, packed in store.conn.execute(
        "SELECT id, title, text, packed FROM posts"
    ):
        yield post_id, title, store.text_of(post_id, text, packed)


# -- compression dictionaries ----------------------------------------------------------------


def dictionary(store: Store, dict_id: int) -> bytes | None:
    """The compression dictionary with this id, if the archive has it."""
    row = store.conn.execute("SELECT data FROM dictionaries WHERE id = ?", (dict_id,)).fetchone()
    return bytes(row[0]) if row else None


def latest_dictionary(store: Store) -> Dictionary | None:
    """The newest compression dictionary, which new posts are packed with."""
    row = store.conn.execute(
        "SELECT id, data FROM dictionaries ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return Dictionary(row[0], bytes(row[1])) if row else None


# -- what an import looks up ---------------------------------------------------------------------


def find_post_by_external_id(store: Store, external_id: str) -> StoredPost | None:
    """The stored post with this article id, if any."""
    # the file its content came from is its files row with status 'post' (``m009_lean_rows``);
    # none when that file has since failed or been forgotten
    row = store.conn.execute(
        "SELECT p.id, f.hash, f.mtime_ns, f.path FROM posts p "
        "LEFT JOIN files f ON f.post_id = p.id AND f.status = 'post' "
        "WHERE p.external_id = ? ORDER BY f.path LIMIT 1",
        (db_text(external_id),),
    ).fetchone()
    if row is None:
        return None
    return StoredPost(row[0], read_digest(row[1]), row[2], row[3])


def file_state(store: Store, path: str) -> FileState | None:
    """What was recorded for a file path, if it was seen before."""
    where, params = file_where(path)
    row = store.conn.execute(
        "SELECT size, mtime_ns, hash, status, post_id, options, reason, message, warnings "
        f"FROM files WHERE {where}",
        params,
    ).fetchone()
    if row is None:
        return None
    size, mtime_ns, hash_, status, post_id, options, reason, message, warnings = row
    return FileState(
        size, mtime_ns, read_digest(hash_), status, post_id, options, reason, message,
        tuple(json.loads(warnings or "[]")),
    )  # fmt: skip


def recorded_paths(store: Store, root: str) -> Iterator[tuple[str, bool]]:
    """The recorded file paths that are ``root`` or under the folder ``root``, and whether each
    is marked gone, for finding deleted files. A scan of the table (its rows are found by a
    hash of the path, ``store.file_key``: no index of paths is kept), in no particular order."""
    folder = db_text(root).rstrip(os.sep) + os.sep
    yield from store.conn.execute(
        "SELECT path, gone FROM files WHERE path = ? OR (path >= ? AND path < ?)",
        (db_text(root), folder, folder[:-1] + chr(ord(os.sep) + 1)),
    )


def file_notes(store: Store) -> list[FileNote]:
    """What the imports found about the files: skip reasons, failures, warnings and files
    that are gone, by path (``maintenance --check`` lists them)."""
    notes = []
    rows = store.conn.execute(
        "SELECT path, status, reason, message, warnings, gone FROM files "
        "WHERE status IN ('skipped', 'failed') OR warnings IS NOT NULL OR gone ORDER BY path"
    )
    for path, status, reason, message, warnings, gone in rows:
        if gone:
            notes.append(FileNote(path, "gone", "recorded, but no longer found"))
        if status in ("skipped", "failed"):
            notes.append(FileNote(path, status, message or reason or status))
        for warning in json.loads(warnings or "[]"):
            notes.append(FileNote(path, "warning", warning))
    return notes


# -- list ----------------------------------------------------------------------------------------


def iter_list(
    store: Store, filters: Filters | None = None, *, sort: str = "-date", offset: int = 0,
    limit: int | None = None, text: bool = False,
) -> PostStream:  # fmt: skip
    """The selected posts from ``offset`` on in ``sort`` order (at most ``limit``), streamed
    (``list`` piped), and how many posts the filters select in all."""
    where, params = where_clause(filters)
    total = count_posts(store, where, params)
    posts = iter_posts(
        store, where, params, order_clause(sort), text=text, offset=offset, limit=limit
    )
    return PostStream(posts, total)


def list_posts(
    store: Store, filters: Filters | None = None, *, sort: str = "-date",
    limit: int | None = 50, offset: int = 0, text: bool = False,
) -> Page:  # fmt: skip
    """One page of posts in ``sort`` order, and how many posts the filters select in all."""
    where, params = where_clause(filters)
    rows = store.conn.execute(
        f"SELECT id FROM posts {where} ORDER BY {order_clause(sort)} LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    ).fetchall()
    posts = posts_by_ids(store, [r[0] for r in rows], text=text)
    if offset or (limit is not None and len(posts) == limit):
        return Page(posts, count_posts(store, where, params))
    return Page(posts, len(posts))


# -- export selection ----------------------------------------------------------------------------


@dataclass
class Selection:
    """The posts to export: an SQL condition on ``posts`` in an order, or explicit ids in order."""

    where: str = ""
    params: list[Any] = field(default_factory=list)
    order: str = "id"
    ids: list[int] | None = None

    def posts(self, store: Store, *, text: bool = True, full: bool = False) -> Iterator[Post]:
        """The selected posts, read ``BATCH`` at a time."""
        if self.ids is None:
            yield from iter_posts(
                store, self.where, self.params, self.order, text=text, full=full, batch=BATCH
            )
            return
        for start in range(0, len(self.ids), BATCH):
            yield from posts_by_ids(store, self.ids[start : start + BATCH], text=text, full=full)

    def count(self, store: Store) -> int:
        return (
            len(self.ids) if self.ids is not None else count_posts(store, self.where, self.params)
        )


def select(
    filters: Filters | None = None,
    *,
    include: str | None = None,
    exclude: str | None = None,
    sort: str = "id",
) -> Selection:
    """The posts the filters select that match the FTS5 expression ``include`` (if given) and
    not ``exclude``, in ``sort`` order (``ValueError`` for an unknown one)."""
    where, values = selection_where(filters, include, exclude)
    return Selection(where=where, params=values, order=order_clause(sort))


def selection_where(
    filters: Filters | None, include: str | None = None, exclude: str | None = None,
    conditions: Sequence[str] = (),
) -> tuple[str, list[Any]]:  # fmt: skip
    """``WHERE …`` on ``posts`` for the posts the filters select that match ``include`` (all
    when None) and not ``exclude`` (and the parameterless ``conditions``): the selection of
    export and ``stats QUERY``."""
    extra: list[str] = list(conditions)
    params: list[Any] = []
    if include is not None:
        extra.append(_fts_condition("posts.id"))
        params.append(include)
    if exclude is not None:
        extra.append(_fts_condition("posts.id", negate=True))
        params.append(exclude)
    return where_clause(filters, extra, params)


# -- search ----------------------------------------------------------------------------------------

#: bm25 weights in FTS column order (``migrations.FTS_COLUMNS``: text, title, category, tags,
#: source): a title match counts 10×
WEIGHTS = "1.0, 10.0, 0.0, 0.0, 0.0"


def _matches_sql(
    include: str | None, exclude: str | None, filters: Filters, columns: str, *,
    uses_posts: bool = False, stories: bool = False,
) -> tuple[str, list[object]]:  # fmt: skip
    """SELECT ``columns`` of the posts matching ``include`` (all when None) and not ``exclude``
    (alias ``p`` for posts, ``posts_fts`` for the index). Posts are joined only when ``columns``
    or a filter needs them, and then through the narrow catalog index rather than the wide rows.
    With ``stories``, ``{story}`` in ``columns`` is each match's story id, looked up in the
    small index of copies (``migrations.m008_story_copies``) rather than in the catalog."""
    conditions, params = filters.sql("p")
    if exclude is not None:
        conditions.append(_fts_condition("p.id", negate=True))
        params.append(exclude)
    where = " AND ".join(conditions)
    posts = f"posts p INDEXED BY {CATALOG_INDEX}"
    if include is None:
        copies = _copies_join("p.id") if stories else ""
        columns = columns.replace("{story}", "coalesce(c.story, p.id)")
        sql = f"SELECT {columns} FROM {posts}{copies}"
        return sql + (f" WHERE {where}" if where else ""), params
    copies = _copies_join("posts_fts.rowid") if stories else ""
    columns = columns.replace("{story}", "coalesce(c.story, posts_fts.rowid)")
    if not where and not uses_posts:
        return f"SELECT {columns} FROM posts_fts{copies} WHERE posts_fts MATCH ?", [include]
    sql = (
        f"SELECT {columns} FROM posts_fts JOIN {posts} ON p.id = posts_fts.rowid{copies} "
        "WHERE posts_fts MATCH ?"
    )
    return sql + (f" AND {where}" if where else ""), [include, *params]


def count_matches(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None
) -> int:
    """How many posts match ``include`` (all when None) and not ``exclude``."""
    sql, params = _matches_sql(include, exclude, filters or Filters(), "count(*)")
    return int(store.conn.execute(sql, params).fetchone()[0])


def matching_ids(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None
) -> set[int]:
    """The ids of every matching post, unordered (for checking the index against an oracle)."""
    sql, params = _matches_sql(include, exclude, filters or Filters(), "p.id", uses_posts=True)
    return {row[0] for row in store.conn.execute(sql, params)}


def iter_matches(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None, *,
    sort: str = "rank", limit: int | None = None, offset: int = 0,
    title_terms: Sequence[str] = (),
) -> MatchStream:  # fmt: skip
    """The posts matching ``include`` (all when None) and not ``exclude`` from ``offset`` on (at
    most ``limit``): ranked by relevance (``sort="rank"``, when there is something to rank on),
    else by date (``"date"``: oldest first, otherwise newest first). The rows come from
    SQLite's cursor as they are consumed, so every match of a common term streams in flat
    memory.

    Relevance: first how many of ``title_terms`` (FTS5 expressions, one per query term, each
    restricted to the title) match the post's title, then bm25 with a title match weighing 10×
    a body match. bm25 alone lets a rare term's body matches outrank a common term's title
    matches in an OR query (the terms' IDFs differ by orders of magnitude)."""
    filters = filters or Filters()
    # count(*) OVER () gives the total with the page, in the one pass the ranking needs anyway;
    # ranking by relevance alone needs nothing from posts (ties: the newest import first)
    if sort == "rank" and include is not None:
        inner, params, order = _ranked_sql(include, exclude, filters, title_terms)
        if title_terms and limit is not None:
            candidates = _title_candidates(include, exclude, filters, title_terms, inner, params)
            fast = _title_page(store, inner, params, order, limit, offset, candidates)
            if fast is not None:
                page, total = fast
                return MatchStream(iter(page), total)
    else:
        inner, params = _matches_sql(
            include, exclude, filters, "p.id AS id, NULL AS score, p.date_utc AS date_utc",
            uses_posts=True,
        )  # fmt: skip
        order = SORTS["date"] if sort == "date" else SORTS["-date"]
    sql = f"SELECT id, score, count(*) OVER () FROM ({inner}) ORDER BY {order} LIMIT ? OFFSET ?"
    cursor = store.conn.execute(sql, [*params, -1 if limit is None else limit, offset])
    first = cursor.fetchone()
    if first is None:  # past the last page, the window has no row to carry the total
        total = count_matches(store, include, exclude, filters) if offset else 0
        return MatchStream(iter(()), total)

    def matches() -> Iterator[Match]:
        yield Match(first[0], first[1])
        for row in cursor:
            yield Match(row[0], row[1])

    return MatchStream(matches(), first[2])


#: matches from which a ranked page is looked for among the title matches first
FAST_RANK_MIN = 10_000


def _ranked_sql(
    include: str, exclude: str | None, filters: Filters, title_terms: Sequence[str]
) -> tuple[str, list[Any], str]:
    """The matches with their rank keys (``id``, ``score``: bm25, ``in_title``: how many of
    ``title_terms`` their title holds), the parameters, and the ORDER BY of relevance."""
    in_title = " + ".join(
        "(posts_fts.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?))"
        for _ in title_terms
    )
    inner, params = _matches_sql(
        include, exclude, filters,
        f"posts_fts.rowid AS id, bm25(posts_fts, {WEIGHTS}) AS score, "
        f"{in_title or '0'} AS in_title",
    )  # fmt: skip
    return inner, [*title_terms, *params], "in_title DESC, score, id DESC"


def _with_a_title_term(
    inner: str, params: list[Any], title_terms: Sequence[str]
) -> tuple[str, list[Any]]:
    """``inner`` (a match query) kept to the posts with one of ``title_terms`` in their title."""
    any_title = " OR ".join(f"({term})" for term in title_terms)
    return (
        f"{inner} AND +posts_fts.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)",
        [*params, any_title],
    )


def _title_candidates(
    include: str, exclude: str | None, filters: Filters, title_terms: Sequence[str],
    inner: str, params: list[Any],
) -> tuple[str, list[Any]]:  # fmt: skip
    """The ranked matches (``inner``, from ``_ranked_sql``) kept to those with a query term in
    their title. With one title term each of them has it, so their ``in_title`` is 1 for all
    and is not computed: the same order, without building the title matches' set a second time
    and testing every candidate against it (48 ms for 的 at 1,000,000 posts)."""
    if len(title_terms) == 1:
        inner, params, _ = _ranked_sql(include, exclude, filters, ())
    return _with_a_title_term(inner, params, title_terms)


def _title_page(
    store: Store, inner: str, params: list[Any], order: str, limit: int, offset: int,
    candidates: tuple[str, list[Any]],
) -> tuple[list[Match], int] | None:  # fmt: skip
    """A ranked page of a common query, computing bm25 only for the posts with a query term in
    their title; None when that cannot give the page exactly (the caller ranks every match).

    Exact by the ranking's first key: every post with a term in its title (``in_title`` >= 1)
    comes before every post without one, so when at least ``offset + limit`` matches have one,
    the page is theirs, in their own order. The total is counted apart (a count reads the
    index's doclists but computes no bm25, which is what costs with 300,000 matches)."""
    conn = store.conn
    count_sql = f"SELECT count(*) FROM ({inner})"
    total = int(conn.execute(count_sql, params).fetchone()[0])
    if total < FAST_RANK_MIN:
        return None
    # a full page means at least offset + limit candidates (no window count: it keeps every
    # candidate for a sort, 36 ms for 的 at 1,000,000 posts, where the top-N sort keeps a page)
    sql = f"SELECT id, score FROM ({candidates[0]}) ORDER BY {order} LIMIT ? OFFSET ?"
    rows = conn.execute(sql, [*candidates[1], limit, offset]).fetchall()
    if limit <= 0 or len(rows) < limit:
        return None
    return [Match(r[0], r[1]) for r in rows], total


def match_page(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None, *,
    sort: str = "rank", limit: int | None = 20, offset: int = 0,
    title_terms: Sequence[str] = (),
) -> MatchPage:  # fmt: skip
    """One page of ``iter_matches``, as a list."""
    found = iter_matches(
        store, include, exclude, filters, sort=sort, limit=limit, offset=offset,
        title_terms=title_terms,
    )  # fmt: skip
    return MatchPage(list(found.matches), found.total)


# -- statistics ------------------------------------------------------------------------------------


def _category_counts(
    store: Store, filters: Filters | None, limit: int, include: str | None, exclude: str | None
) -> tuple[list[Count], int]:
    """Posts per category, each of a post's categories counted (posts without one: None), of
    the selection ``selection_where`` makes."""
    where, params = selection_where(
        filters, include, exclude, ["posts.id = post_categories.post_id"]
    )
    rows = store.conn.execute(
        "SELECT category, count(*) AS n FROM post_categories "
        f"WHERE EXISTS (SELECT 1 FROM posts {where}) GROUP BY category",
        params,
    ).fetchall()
    distinct = len(rows)
    uncategorised_sql = f"posts.id NOT IN (SELECT post_id FROM {_label_table('category')})"
    none_where, none_params = selection_where(filters, include, exclude, [uncategorised_sql])
    uncategorised = count_posts(store, none_where, none_params)
    counts = [Count(*r) for r in rows]
    if uncategorised:
        counts.append(Count(None, uncategorised))
    counts.sort(key=lambda c: (-c.posts, c.value is not None, c.value or ""))  # as SQL: NULL first
    return counts[: None if limit < 0 else limit], distinct


@dataclass
class ArchiveStats:
    """What ``newsarc stats`` reports. Counts are most posts first; months are ``YYYY-MM`` in
    each post's own time zone, oldest first."""

    posts: int
    first_date: str | None
    last_date: str | None
    undated: int
    files: int
    archive_bytes: int
    categories: list[Count]
    sources: list[Count]
    tags: list[Count]
    months: list[Count]
    #: how many distinct categories, sources and tags there are (the lists may be cut to ``top``)
    distinct: dict[str, int]


def archive_stats(
    store: Store, filters: Filters | None = None, *, top: int | None = 10,
    include: str | None = None, exclude: str | None = None,
) -> ArchiveStats:  # fmt: skip
    """Posts per category, source, tag and month, the date range and the archive's size; of
    the posts matching ``include`` and not ``exclude`` when given (``stats QUERY``)."""
    where, params = selection_where(filters, include, exclude)
    conn = store.conn
    limit = -1 if top is None else top

    def counts(column: str) -> tuple[list[Count], int]:
        rows = conn.execute(
            f"SELECT {column}, count(*) AS n FROM posts {where} GROUP BY {column} "
            f"ORDER BY n DESC, {column} LIMIT ?",
            [*params, limit],
        ).fetchall()
        distinct = conn.execute(
            f"SELECT count(DISTINCT {column}) FROM posts {where}", params
        ).fetchone()[0]
        return [Count(*r) for r in rows], distinct

    categories, n_categories = _category_counts(store, filters, limit, include, exclude)
    sources, n_sources = counts("source")
    tag_where, tag_params = selection_where(
        filters, include, exclude, ["posts.id = post_tags.post_id"]
    )
    tag_from = f"FROM post_tags WHERE EXISTS (SELECT 1 FROM posts {tag_where})"
    tags = conn.execute(
        f"SELECT tag, count(*) AS n {tag_from} GROUP BY tag ORDER BY n DESC, tag LIMIT ?",
        [*tag_params, limit],
    ).fetchall()
    n_tags = conn.execute(f"SELECT count(DISTINCT tag) {tag_from}", tag_params).fetchone()[0]
    dated = f"{where} {'AND' if where else 'WHERE'} date_utc IS NOT NULL"
    months = conn.execute(
        f"SELECT substr(date, 1, 7) AS month, count(*) FROM posts {dated} "
        "GROUP BY month ORDER BY month",
        params,
    ).fetchall()
    ends = f"SELECT date FROM posts {dated} ORDER BY date_utc"
    first = conn.execute(f"{ends} LIMIT 1", params).fetchone()
    last = conn.execute(f"{ends} DESC LIMIT 1", params).fetchone()
    total = count_posts(store, where, params)
    undated = total - sum(n for _, n in months)
    files = conn.execute(
        f"SELECT count(*) FROM files WHERE post_id IN (SELECT id FROM posts {where})", params
    ).fetchone()[0]
    size = sum(
        os.path.getsize(p) for p in (store.path, Path(f"{store.path}-wal")) if os.path.exists(p)
    )
    return ArchiveStats(
        posts=total,
        first_date=first[0] if first else None,
        last_date=last[0] if last else None,
        undated=undated,
        files=files,
        archive_bytes=size,
        categories=categories,
        sources=sources,
        tags=[Count(*r) for r in tags],
        months=[Count(*r) for r in months],
        distinct={"categories": n_categories, "sources": n_sources, "tags": n_tags},
    )


# -- trends ------------------------------------------------------------------------------------


class DayCount(NamedTuple):
    """How many selected posts one local day (and group) has. ``day`` is ``YYYY-MM-DD`` in each
    post's own offset, None for undated posts; ``group`` is None unless the count is split (and
    for posts without a value: no source, no tag)."""

    day: str | None
    group: str | None
    posts: int


def _label_table(label: str) -> str:
    """The table of ids of a post's ``tag`` or ``category`` labels (``m011_label_ids``)."""
    return next(table for _, _, table, column in LABEL_TABLES if column == label)


def _label_join(alias: str, label: str) -> tuple[str, str]:
    """Each post of ``alias`` with its categories or tags: the name's column, and the LEFT JOINs
    that give it, from the tables of ids (the views ``post_categories`` and ``post_tags`` are
    joins, which SQLite does not flatten as the right side of a LEFT JOIN)."""
    short = label[0]
    return f"{short}l.name", (
        f"LEFT JOIN {_label_table(label)} {short} ON {short}.post_id = {alias}.id "
        f"LEFT JOIN labels {short}l ON {short}l.id = {short}.{label}"
    )


#: what a trend can split by → (the group's column in the match set ``m``, a join on ``m``)
TREND_SPLITS: dict[str | None, tuple[str, str]] = {
    None: ("NULL", ""),
    "source": ("m.source", ""),
    "category": _label_join("m", "category"),
    "tag": _label_join("m", "tag"),
}


def _day_match_sql(
    include: str | None, exclude: str | None, filters: Filters | None, split: str | None
) -> tuple[str, list[Any], str, str]:
    """The match set of a trend (``m``: id, day, source, category, story, all from the catalog
    index), the group column and the join a split needs."""
    group, join = TREND_SPLITS[split]
    inner, params = _matches_sql(
        include, exclude, filters or Filters(),
        "p.id AS id, substr(p.local_date, 1, 10) AS day, p.source AS source, "
        f"p.category AS category, {STORY_SQL} AS story",
        uses_posts=True,
    )  # fmt: skip
    return inner, params, group, join


def day_counts(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None, *,
    split: str | None = None,
) -> list[DayCount]:  # fmt: skip
    """Posts matching ``include`` (all when None) and not ``exclude`` per local day (and group),
    from exactly the match set search counts: each day's count is what ``search`` finds with
    the same query and filters restricted to that day. Days in order, undated posts first."""
    inner, params, group, join = _day_match_sql(include, exclude, filters, split)
    sql = (
        f"SELECT m.day, {group} AS grp, count(*) FROM ({inner}) m {join} "
        "GROUP BY m.day, grp ORDER BY m.day, grp"
    )
    return [DayCount(*row) for row in store.conn.execute(sql, params)]


class DayStory(NamedTuple):
    """A story with a matching post on a local day (and in a group): ``trend --stories``."""

    day: str | None
    group: str | None
    story: int


def day_stories(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None, *,
    split: str | None = None,
) -> Iterator[DayStory]:  # fmt: skip
    """Each (day, group, story) that has a matching post, once: the same match set as
    ``day_counts``, so a period counts the distinct stories of its days."""
    inner, params, group, join = _day_match_sql(include, exclude, filters, split)
    sql = f"SELECT DISTINCT m.day, {group} AS grp, m.story FROM ({inner}) m {join}"
    for row in store.conn.execute(sql, params):
        yield DayStory(*row)


# -- SQL for Datasette (newsarc.web): run by Datasette on its own connections -------------------


def table_names(conn: Any) -> set[str]:
    """The names of a database's tables (and views, indexes): enough to tell an archive."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


async def month_facet_rows(
    datasette: Any, database: str, selection_sql: str, params: Any, column: str, limit: int
) -> list[Any]:
    """Posts per month (``YYYY-MM`` of ``column`` as written), newest first, at most ``limit``
    rows, over the rows of ``selection_sql`` (Datasette's table query, with its ``params``), run
    by Datasette within its facet time limit; ``column`` must already be quoted."""
    sql = (
        f"SELECT substr({column}, 1, 7) AS value, count(*) AS count FROM ({selection_sql}) "
        f"WHERE {column} IS NOT NULL GROUP BY value ORDER BY value DESC LIMIT {int(limit)}"
    )
    results = await datasette.execute(
        database, sql, params, truncate=False,
        custom_time_limit=datasette.setting("facet_time_limit_ms"),
    )  # fmt: skip
    return list(results.rows)


# -- stories -----------------------------------------------------------------------------------
#
# ``posts.story`` is the id of the earliest post of a post's story, NULL for a post that is its
# own story (most posts: no write needed) or was not grouped yet, so every query reads a post's
# story as ``coalesce(story, id)``. Search, list, stats, trends and the web view all count and
# collapse stories through the functions below, over the same selection search uses (an FTS5
# match set and ``Filters``, ``_matches_sql``).


#: a post's story id (alias ``p``)
STORY_SQL = "coalesce(p.story, p.id)"


def _copies_join(post_id: str) -> str:
    """A LEFT JOIN to the index of copies: ``c.story`` is the story of a post that is not its
    story's first, NULL for the others."""
    return (
        f" LEFT JOIN posts c INDEXED BY {COPIES_INDEX} ON c.id = {post_id} AND c.story IS NOT NULL"
    )


class StoryRow(NamedTuple):
    """One story of a selection, collapsed to one post: ``id`` the post shown for it (the
    best-ranked of its posts in the selection, or the first in the sort order), its ``score``
    (bm25, when ranked), ``story`` the story id, ``posts`` how many of the story's posts are in
    the selection, ``sources`` their outlets (distinct, sorted)."""

    id: int
    score: float | None
    story: int
    posts: int
    sources: list[str]


class StoryPage(NamedTuple):
    """One page of collapsed results in order, how many stories the selection has (None when
    not counted: a ranked page of more than ``STORY_COUNT_MAX`` matches), and how many posts
    (None when not counted: a page past the end)."""

    rows: list[StoryRow]
    total: int | None
    posts: int | None = None


class StoryCount(NamedTuple):
    """Posts and stories with one value (a category, a source, a month, a day)."""

    value: str | None
    posts: int
    stories: int


class LargestStory(NamedTuple):
    """A story with many copies: its id (= its earliest post), that post's title and date, how
    many posts it has and their outlets."""

    story: int
    title: str
    date: str | None
    posts: int
    sources: list[str]


@dataclass
class StoryStats:
    """What ``newsarc stats`` reports of stories: posts and stories in all and per category,
    source and month (months oldest first, the others most posts first), and the largest
    stories."""

    posts: int
    stories: int
    categories: list[StoryCount]
    sources: list[StoryCount]
    months: list[StoryCount]
    largest: list[LargestStory]


class SimilarPost(NamedTuple):
    """A post like another: ``same_story`` when it is in its story, else one of the nearest
    below the threshold; ``score`` = ``text`` × ``numbers`` (see ``stories.Similarity``)."""

    id: int
    same_story: bool
    score: float
    text: float
    numbers: float


#: aggregate picking each story's shown post, and the order of the stories, per sort; SQLite
#: takes the bare columns (id, score) from the row the one min()/max() picked
_COLLAPSE_SORTS = {
    "rank": ("", ""),  # by relevance: ``_ranked_story_page``
    "date": ("min(date_utc)", "key ASC NULLS LAST, id"),
    "-date": ("max(date_utc)", "key DESC NULLS LAST, id DESC"),
    "title": ("min(title)", "key, id"),
    "-title": ("max(title)", "key DESC, id DESC"),
    "id": ("min(id)", "key"),
    "-id": ("max(id)", "key DESC"),
}


def _sources(value: str | None) -> list[str]:
    return sorted(s for s in json.loads(value or "[]") if s)


def count_stories(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None
) -> int:
    """How many stories have a post matching ``include`` (all when None) and not ``exclude``
    (``search --count --collapse``)."""
    sql, params = _matches_sql(
        include, exclude, filters or Filters(), "count(DISTINCT {story})", stories=True
    )
    return int(store.conn.execute(sql, params).fetchone()[0])


def story_page(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None, *,
    sort: str = "rank", limit: int | None = 20, offset: int = 0,
    title_terms: Sequence[str] = (),
) -> StoryPage:  # fmt: skip
    """One page of the matching posts (as ``match_page``) with each story once: its best post
    in the selection, how many of its posts match and their outlets. ``sort`` is ``rank``
    (bm25; by date, newest first, when there is nothing to rank on) or a ``SORTS`` key."""
    if sort == "rank" and include is None:
        sort = "-date"
    if sort not in _COLLAPSE_SORTS:
        raise ValueError(f"unknown sort {sort!r}: use one of {', '.join(_COLLAPSE_SORTS)}")
    if sort == "rank":  # by relevance: read off the ranked matches, as search ranks them
        assert include is not None
        return _ranked_story_page(
            store, include, exclude, filters or Filters(), limit, offset, title_terms
        )
    pick, order = _COLLAPSE_SORTS[sort]
    title = ", p.title AS title" if "title" in sort else ""
    inner, params = _matches_sql(
        include, exclude, filters or Filters(),
        f"p.id AS id, NULL AS score, p.date_utc AS date_utc, p.source AS source, "
        f"{STORY_SQL} AS story{title}",
        uses_posts=True,
    )  # fmt: skip
    sql = (
        f"WITH m AS MATERIALIZED ({inner}) "
        "SELECT id, score, story, n, sources, count(*) OVER (), sum(n) OVER () FROM ("
        f"SELECT story, {pick} AS key, id, score, count(*) AS n, "
        "json_group_array(DISTINCT source) AS sources FROM m GROUP BY story"
        f") ORDER BY {order} LIMIT ? OFFSET ?"
    )
    rows = store.conn.execute(sql, [*params, -1 if limit is None else limit, offset]).fetchall()
    if rows:
        total, posts = rows[0][5], rows[0][6]
    else:
        total = count_stories(store, include, exclude, filters) if offset else 0
        posts = None if total else 0
    return StoryPage([StoryRow(r[0], r[1], r[2], r[3], _sources(r[4])) for r in rows], total, posts)


#: a collapsed page counts its stories when the matches are at most this many; above it the
#: count would cost a third to a half of the page again (a lookup per match: measured at 1,590
#: matches, 100,000 posts), so only posts are counted and ``search --count --collapse`` counts
#: the stories on request
STORY_COUNT_MAX = 1_000
#: a collapsed page walks on over all the ranked matches when they are at most this many: it
#: then knows every story without counting them apart
WALK_ALL = 1_000


def _ranked_story_page(
    store: Store, include: str, exclude: str | None, filters: Filters, limit: int | None,
    offset: int, title_terms: Sequence[str],
) -> StoryPage:  # fmt: skip
    """A collapsed page by relevance, read off the ranked matches: a story's best post is its
    first in rank order, so the matches are walked in that order (their stories looked up a
    batch at a time) until ``offset + limit`` stories have appeared (all of them when ``limit``
    is None). As for an uncollapsed page (``_title_page``), a common query (``FAST_RANK_MIN``
    matches or more) is walked over the posts with a query term in their title first, alone
    (bm25 for them only): they come first in rank order; the walk goes on over every match only
    when they hold too few stories.

    Then the counts: the stories are counted when the walk has seen every match or there are at
    most ``STORY_COUNT_MAX`` matches (``total`` None otherwise: not counted); the posts always.
    Each shown story's matching posts and outlets come from its posts in the story index, kept
    to those that match.

    The query decides the order of the work. Without a prefix term (``_has_prefix``), counting
    the matches and asking whether one post matches are cheap index lookups: the matches are
    counted first (few of them are then walked once, all together) and the shown stories' other
    posts are asked about by id. A prefix term (a one-character query, ``"的" *``) is expanded
    over every token it starts each time it is asked anything, so such a query is walked title
    first without counting, and then counted in one pass that also finds which of the shown
    stories' posts match."""
    conn = store.conn
    need = offset + limit if limit is not None else float("inf")
    inner, params, order = _ranked_sql(include, exclude, filters, title_terms)
    cheap = not _has_prefix(include)
    posts: int | None = None
    walks = [(inner, params)]
    if title_terms and limit is not None:
        if cheap:
            posts = int(conn.execute(f"SELECT count(*) FROM ({inner})", params).fetchone()[0])
        if posts is None or posts >= FAST_RANK_MIN:
            walks.insert(
                0, _title_candidates(include, exclude, filters, title_terms, inner, params)
            )
    first: dict[int, tuple[int, float | None]] = {}
    walked: set[int] = set()
    seen_all = False
    for n, (sql, args) in enumerate(walks):
        last = n == len(walks) - 1
        every = last and (limit is None or (posts is not None and posts <= WALK_ALL))
        # a page's first rows under a LIMIT (SQLite keeps only the best), all rows if short;
        # not knowing how many match, the last walk reads on to WALK_ALL rows: when that is
        # all of them, nothing is left to count
        read_on = last and posts is None
        first_bound = WALK_ALL if read_on else 4 * int(need) + 20
        bounds: list[int | None] = [None] if every else [first_bound, None]
        for bound in bounds:
            wanted = float("inf") if every or (read_on and bound is not None) else need
            first, walked, complete = _walk_stories(store, sql, args, order, wanted, bound)
            if len(first) >= need or complete:
                break
        seen_all = last and complete
        if len(first) >= need:
            break
    page = list(first.items())[offset : None if limit is None else offset + limit]
    shown = {story for story, _ in page}
    members = _story_members(store, shown)
    if seen_all:  # every match walked: nothing left to count
        total, posts, matched = len(first), len(walked), walked
    else:
        total = None
        matched = {post_id for post_id, _ in first.values()}
        others = [m for m in members if m not in matched]
        ids = ",".join(str(int(m)) for m in others) or "NULL"
        if cheap and posts is not None:  # ask about the shown stories' other posts
            if others:
                sql, args = _matches_sql(include, exclude, filters, "posts_fts.rowid")
                found_ids = conn.execute(f"{sql} AND posts_fts.rowid IN ({ids})", args)
                matched.update(r[0] for r in found_ids)
        else:  # one pass over the matches counts them and finds which of those match
            sql, args = _matches_sql(
                include, exclude, filters,
                f"count(*), group_concat(CASE WHEN +posts_fts.rowid IN ({ids}) "
                "THEN posts_fts.rowid END)",
            )  # fmt: skip
            n_posts, found = conn.execute(sql, args).fetchone()
            posts = int(n_posts)
            matched.update(int(m) for m in (found or "").split(",") if m)
        if posts <= STORY_COUNT_MAX:  # a lookup per match, in the copies index
            sql, args = _matches_sql(
                include, exclude, filters, "count(DISTINCT {story})", stories=True
            )  # fmt: skip
            total = int(conn.execute(sql, args).fetchone()[0])
    counts: dict[int, int] = {}
    outlets: dict[int, set[str]] = {}
    for post_id, (story, source) in members.items():
        if post_id in matched:
            counts[story] = counts.get(story, 0) + 1
            if source:
                outlets.setdefault(story, set()).add(source)
    found = {story: (counts[story], sorted(outlets.get(story, ()))) for story in counts}
    return StoryPage(
        [StoryRow(pid, score, story, *found.get(story, (1, []))) for story, (pid, score) in page],
        total,
        posts,
    )


def _walk_stories(
    store: Store, sql: str, args: list[Any], order: str, need: float, bound: int | None
) -> tuple[dict[int, tuple[int, float | None]], set[int], bool]:
    """Walk the ranked matches of ``sql`` (at most ``bound``; every one when ``need`` is
    infinite) until ``need`` stories have appeared: each story's first post and score, the posts
    walked, and whether every match was seen."""
    first: dict[int, tuple[int, float | None]] = {}
    walked: set[int] = set()
    limit = "" if bound is None else f" LIMIT {int(bound)}"
    cursor = store.conn.execute(f"SELECT id, score FROM ({sql}) ORDER BY {order}{limit}", args)
    complete = False
    while True:
        rows = cursor.fetchmany(_CHUNK)
        if not rows:
            complete = bound is None or len(walked) < bound
            break
        stories = _stories_of(store, [r[0] for r in rows])
        for post_id, score in rows:
            first.setdefault(stories[post_id], (post_id, score))
        walked.update(r[0] for r in rows)
        if len(first) >= need:
            break
    cursor.close()
    return first, walked, complete


def _has_prefix(expression: str) -> bool:
    """Whether an FTS5 expression has a prefix query (a ``*`` outside its quoted strings, where
    a quote is written doubled, so counting quotes tells inside from outside)."""
    quoted = False
    for char in expression:
        if char == '"':
            quoted = not quoted
        elif char == "*" and not quoted:
            return True
    return False


def _stories_of(store: Store, ids: Sequence[int]) -> dict[int, int]:
    """The story of each of ``ids`` (at most ``_CHUNK``): its own id, unless the index of
    copies has it."""
    marks = ", ".join("?" * len(ids))
    copies = store.conn.execute(
        f"SELECT id, story FROM posts INDEXED BY {COPIES_INDEX} "
        f"WHERE story IS NOT NULL AND id IN ({marks})",
        ids,
    )
    return {post_id: post_id for post_id in ids} | dict(copies)


def _story_members(store: Store, stories: set[int]) -> dict[int, tuple[int, str | None]]:
    """Every post of ``stories`` (ids of their first posts): post id → (story, source). The
    copies come from the story index, the outlets from the catalog (both narrow indexes)."""
    ids = sorted(stories)
    members: dict[int, tuple[int, str | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        posts = [
            *chunk,
            *(
                r[0]
                for r in store.conn.execute(
                    f"SELECT id FROM posts INDEXED BY idx_posts_story WHERE story IN ({marks})",
                    chunk,
                )
            ),
        ]
        for at in range(0, len(posts), _CHUNK):
            part = posts[at : at + _CHUNK]
            for post_id, story, source in store.conn.execute(
                f"SELECT id, {STORY_SQL}, source FROM posts p INDEXED BY {CATALOG_INDEX} "
                f"WHERE id IN ({', '.join('?' * len(part))})",
                part,
            ):
                if story in stories:
                    members[post_id] = (story, source)
    return members


def _group_column(by: str) -> str:
    if by == "month":
        return "substr(p.date, 1, 7)"
    if not by.isidentifier() or by.startswith("_"):
        raise ValueError(f"cannot count stories by {by!r}")
    return f"p.{by}"


def story_counts(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None, *,
    by: str = "month",
) -> list[StoryCount]:  # fmt: skip
    """Posts and stories of the matching posts per value of ``by`` (``month``, or a ``posts``
    column such as ``category``, ``source`` or a day column), in value order: a story is counted
    once per value it has posts in. For trends: copies do not make a topic look bigger."""
    column = _group_column(by)
    sql, params = _matches_sql(
        include, exclude, filters or Filters(),
        f"{column} AS value, count(*), count(DISTINCT {STORY_SQL})",
        uses_posts=True,
    )  # fmt: skip
    rows = store.conn.execute(f"{sql} GROUP BY value ORDER BY value", params).fetchall()
    return [StoryCount(*r) for r in rows]


def story_of(store: Store, post_id: int) -> int | None:
    """The story id of a post (None when there is no such post)."""
    row = store.conn.execute(
        f"SELECT {STORY_SQL} FROM posts p WHERE p.id = ?", (post_id,)
    ).fetchone()
    return int(row[0]) if row else None


def story_copies(store: Store, story: int) -> list[int]:
    """The ids of the posts of ``story`` other than its first (those whose ``story`` is set)."""
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT id FROM posts INDEXED BY idx_posts_story WHERE story = ?", (story,)
        )
    ]


def story_members(store: Store, post_id: int, *, text: bool = False) -> list[Post]:
    """Every post of ``post_id``'s story, itself included, oldest first (the first is the
    story's id): what the web view shows as a post's copies. Empty for an unknown id."""
    story = story_of(store, post_id)
    if story is None:
        return []
    ids = [
        r[0]
        for r in store.conn.execute(
            "SELECT id FROM posts WHERE story = ? OR id = ? ORDER BY date_utc ASC NULLS LAST, id",
            (story, story),
        )
    ]
    return posts_by_ids(store, ids, text=text)


def learnt_paragraphs(store: Store, keys: Sequence[int]) -> set[int]:
    """The paragraph fingerprints among ``keys`` the archive has learnt as boilerplate (seen
    beside ``stories.BOILERPLATE_CONTEXTS`` different contents)."""
    from .stories import BOILERPLATE_CONTEXTS

    if not keys:
        return set()
    rows = store.conn.execute(
        f"SELECT key FROM story_paragraph WHERE key IN ({', '.join('?' * len(keys))}) "
        "GROUP BY key HAVING count(*) >= ?",
        [*keys, BOILERPLATE_CONTEXTS],
    )
    return {r[0] for r in rows}


#: candidate posts scored for a post at most (posts sharing one of its band keys)
MAX_CANDIDATES = 500


def story_candidates(
    store: Store, keys: Sequence[int], exclude: int | None = None
) -> list[tuple[int, bytes]]:
    """(post id, stored signature) of up to ``MAX_CANDIDATES`` posts sharing a band key. Most
    posts share none: the band index alone answers them, the signatures are read only when
    there are candidates."""
    if not keys:
        return []
    marks = ", ".join("?" * len(keys))
    bands = " UNION ALL ".join(
        f"SELECT post FROM {table} WHERE key IN ({marks})" for table in BAND_TABLES
    )
    return store.conn.execute(
        f"SELECT post, sig FROM story_sig WHERE post IN (SELECT DISTINCT post FROM ({bands}) "
        f"WHERE post != ? LIMIT {MAX_CANDIDATES})",
        [*keys, *keys, -1 if exclude is None else exclude],
    ).fetchall()


def stored_band_keys(store: Store) -> Iterator[int]:
    """Every stored band key (an import's ``stories.KeyFilter`` starts from them)."""
    sql = " UNION ALL ".join(f"SELECT key FROM {table}" for table in BAND_TABLES)
    return (r[0] for r in store.conn.execute(sql))


def last_signed_post(store: Store) -> int:
    """The highest id of a post with a story signature (0: none): an import keeping band keys
    in memory sees by it whether another process has added posts since."""
    return store.conn.execute("SELECT coalesce(max(post), 0) FROM story_sig").fetchone()[0]


def similar_posts(store: Store, post_id: int, *, nearest: int = 10) -> list[SimilarPost]:
    """The other posts of ``post_id``'s story, most similar first, then up to ``nearest`` posts
    of other stories scoring at least half the threshold (rewrites of one event, updates with
    other figures), most similar first. An index lookup: the post's band keys, then a score
    per candidate."""
    from . import stories

    row = store.conn.execute(
        f"SELECT p.text, {STORY_SQL}, s.sig, p.packed FROM posts p "
        "LEFT JOIN story_sig s ON s.post = p.id WHERE p.id = ?",
        (post_id,),
    ).fetchone()
    if row is None:
        return []
    text, story, blob = store.text_of(post_id, row[0], row[3]), row[1], row[2]
    members = {
        r[0]
        for r in store.conn.execute(
            "SELECT id FROM posts WHERE (story = ? OR id = ?) AND id != ?", (story, story, post_id)
        )
    }
    if blob is None:  # no text: its own story, like nothing
        return [SimilarPost(m, True, 0.0, 0.0, 0.0) for m in sorted(members)]
    sig = stories.Signature.from_bytes(blob)
    # the band keys are not stored with the signature: make them again from the text, leaving
    # out the boilerplate learnt so far (as the import did)
    fresh = stories.signature(text or "")
    learnt = learnt_paragraphs(store, [k for k, _ in fresh.contexts])
    if learnt:
        fresh = stories.signature(text or "", skip=learnt)
    scored: dict[int, stories.Similarity] = {}
    for other, other_blob in story_candidates(store, fresh.band_keys(), post_id):
        scored[other] = stories.similarity(sig, stories.Signature.from_bytes(other_blob))
    missing = [m for m in members if m not in scored]
    for start in range(0, len(missing), _CHUNK):
        chunk = missing[start : start + _CHUNK]
        for other, other_blob in store.conn.execute(
            f"SELECT post, sig FROM story_sig WHERE post IN ({', '.join('?' * len(chunk))})",
            chunk,
        ):
            scored[other] = stories.similarity(sig, stories.Signature.from_bytes(other_blob))
    threshold = store.story_threshold()
    same = [
        SimilarPost(m, True, *_scores(scored.get(m, stories.Similarity(0.0, 0.0)))) for m in members
    ]
    near = [
        SimilarPost(p, False, *_scores(sim))
        for p, sim in scored.items()
        if p not in members and sim.score >= threshold / 2
    ]
    order = lambda s: (-s.score, s.id)  # noqa: E731
    return sorted(same, key=order) + sorted(near, key=order)[:nearest]


def _scores(sim: Any) -> tuple[float, float, float]:
    return (round(sim.score, 3), round(sim.text, 3), round(sim.numbers, 3))


def story_stats(
    store: Store, filters: Filters | None = None, *, top: int | None = 10,
    include: str | None = None, exclude: str | None = None,
) -> StoryStats:  # fmt: skip
    """Posts and stories in all, per category (each of a post's categories), source and month,
    and the ``top`` largest stories (most posts; stories of one post are not listed); of the
    posts matching ``include`` and not ``exclude`` when given (``stats QUERY``)."""
    where, params = selection_where(filters, include, exclude)
    story = "coalesce(posts.story, posts.id)"
    conn = store.conn
    limit = -1 if top is None else top

    def counts(column: str, join: str = "") -> list[StoryCount]:
        rows = conn.execute(
            f"SELECT {column} AS value, count(*) AS n, count(DISTINCT {story}) "
            f"FROM posts {join} {where} GROUP BY value ORDER BY n DESC, value LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [StoryCount(*r) for r in rows]

    posts, n_stories = conn.execute(
        f"SELECT count(*), count(DISTINCT {story}) FROM posts {where}", params
    ).fetchone()
    largest = conn.execute(
        f"SELECT {story} AS s, count(*) AS n, json_group_array(DISTINCT posts.source) "
        f"FROM posts {where} GROUP BY s HAVING n > 1 ORDER BY n DESC, s LIMIT ?",
        [*params, limit],
    ).fetchall()
    heads = {p.id: p for p in posts_by_ids(store, [r[0] for r in largest], text=False)}
    return StoryStats(
        posts=posts,
        stories=n_stories,
        categories=counts(*_label_join("posts", "category")),
        sources=counts("posts.source"),
        months=[
            StoryCount(*r)
            for r in conn.execute(
                f"SELECT substr(posts.date, 1, 7) AS value, count(*), count(DISTINCT {story}) "
                f"FROM posts {where} {'AND' if where else 'WHERE'} posts.date_utc IS NOT NULL "
                "GROUP BY value ORDER BY value",
                params,
            ).fetchall()
        ],
        largest=[
            LargestStory(s, heads[s].title, heads[s].date, n, _sources(src))
            for s, n, src in largest
            if s in heads
        ],
    )
