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

from .migrations import CATALOG_INDEX
from .models import Post, body_blocks
from .store import db_text

if TYPE_CHECKING:
    from .store import Store

#: posts read from the archive at a time when streaming (export, ``list --all``)
BATCH = 500
#: ids bound in one ``IN (…)``, well under SQLite's limit on parameters
_CHUNK = 500


# -- records ---------------------------------------------------------------------------------


class StoredPost(NamedTuple):
    """What an import needs to know of a post already stored under an article id."""

    id: int
    hash: str
    source_mtime_ns: int | None


class FileState(NamedTuple):
    """What was recorded for a file path at the last import."""

    size: int
    mtime_ns: int
    hash: str | None
    status: str  # post | duplicate | skipped | failed
    post_id: int | None


class RawSource(NamedTuple):
    """A post's original text, the encoding it was read in and the sha256 of the file's bytes:
    enough to give back the file byte for byte."""

    raw: str
    encoding: str | None
    hash: str


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


# -- filters and orders ------------------------------------------------------------------------


@dataclass
class Filters:
    """Selection shared by list, search and export: category, tag, source and a date range."""

    category: str | None = None
    tag: str | None = None
    source: str | None = None
    since: int | None = None  # epoch seconds, inclusive
    until: int | None = None  # epoch seconds, exclusive

    def sql(self, alias: str = "posts") -> tuple[list[str], list[Any]]:
        """SQL conditions and parameters for these filters."""
        where: list[str] = []
        params: list[Any] = []
        if self.category is not None:
            where.append(f"{alias}.category = ?")
            params.append(db_text(self.category))
        if self.source is not None:
            where.append(f"{alias}.source = ?")
            params.append(db_text(self.source))
        if self.tag is not None:
            where.append(f"{alias}.id IN (SELECT post_id FROM post_tags WHERE tag = ?)")
            params.append(db_text(self.tag))
        if self.since is not None:
            where.append(f"{alias}.date_utc >= ?")
            params.append(self.since)
        if self.until is not None:
            where.append(f"{alias}.date_utc < ?")
            params.append(self.until)
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

_RECORD_COLUMNS = "id, external_id, title, date, category, tags, source, url, summary"


def _paths(store: Store, ids: Sequence[int]) -> dict[int, list[str]]:
    """The files of each post: the one its content came from first, then duplicate copies."""
    out: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = store.conn.execute(
            f"SELECT post_id, path FROM files WHERE post_id IN ({', '.join('?' * len(chunk))}) "
            "ORDER BY post_id, status = 'duplicate', path",
            list(chunk),
        )
        for post_id, path in rows:
            out[post_id].append(path)
    return out


def _row_to_post(row: Sequence[Any]) -> Post:
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
        text=row[9],
        paths=[],
        blocks=body_blocks(json.loads(row[10]), row[9] or "") if row[10] else None,
        meta=json.loads(row[11]) if row[11] else {},
        raw=row[12],
    )


def posts_by_ids(
    store: Store, ids: Sequence[int], *, text: bool = True, full: bool = False
) -> list[Post]:
    """Posts in the order of ``ids`` (missing ids are left out). ``full`` adds body/meta/raw."""
    if not ids:
        return []
    extra = ", text" if text or full else ", NULL"
    extra += ", body, meta, raw" if full else ", NULL, NULL, NULL"
    found: dict[int, Post] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows = store.conn.execute(
            f"SELECT {_RECORD_COLUMNS}{extra} FROM posts "
            f"WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        for row in rows:
            found[row[0]] = _row_to_post(row)
    paths = _paths(store, list(found))
    out = []
    for i in ids:
        if i in found:
            found[i].paths = paths[i]
            out.append(found[i])
    return out


def iter_posts(
    store: Store, where: str = "", params: Sequence[Any] = (), order: str = "id", *,
    text: bool = True, full: bool = False, batch: int = BATCH, offset: int = 0,
) -> Iterator[Post]:  # fmt: skip
    """Stream posts matching an SQL condition in ``order`` (skipping the first ``offset``),
    ``batch`` at a time: memory holds their ids and one batch, whatever the archive size."""
    ids = [
        r[0]
        for r in store.conn.execute(
            f"SELECT id FROM posts {where} ORDER BY {order} LIMIT -1 OFFSET ?",
            [*params, offset],
        )
    ]
    for start in range(0, len(ids), batch):
        yield from posts_by_ids(store, ids[start : start + batch], text=text, full=full)


def count_posts(store: Store, where: str = "", params: Iterable[Any] = ()) -> int:
    """How many posts match an SQL condition (``where_clause``); all of them by default."""
    return int(
        store.conn.execute(f"SELECT count(*) FROM posts {where}", list(params)).fetchone()[0]
    )


def resolve(store: Store, ref: str) -> int | None:
    """A post id from an integer id, an external id, or an imported file's path."""
    ref = ref.strip()
    conn = store.conn
    if ref.isdigit():
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
        row = conn.execute(
            "SELECT post_id FROM files WHERE path = ? AND post_id IS NOT NULL",
            (db_text(candidate),),
        ).fetchone()
        if row:
            return int(row[0])
    return None


def raw_source(store: Store, post_id: int) -> RawSource | None:
    """A post's original text, encoding and file hash, for byte-exact output."""
    row = store.conn.execute(
        "SELECT raw, encoding, hash FROM posts WHERE id = ?", (post_id,)
    ).fetchone()
    return RawSource(*row) if row else None


# -- what an import looks up ---------------------------------------------------------------------


def find_post_by_external_id(store: Store, external_id: str) -> StoredPost | None:
    """The stored post with this article id, if any."""
    row = store.conn.execute(
        "SELECT id, hash, source_mtime_ns FROM posts WHERE external_id = ?",
        (db_text(external_id),),
    ).fetchone()
    return StoredPost(*row) if row else None


def file_state(store: Store, path: str) -> FileState | None:
    """What was recorded for a file path, if it was seen before."""
    row = store.conn.execute(
        "SELECT size, mtime_ns, hash, status, post_id FROM files WHERE path = ?",
        (db_text(path),),
    ).fetchone()
    return FileState(*row) if row else None


# -- list ----------------------------------------------------------------------------------------


def iter_list(
    store: Store, filters: Filters | None = None, *, sort: str = "-date", offset: int = 0,
    text: bool = False,
) -> PostStream:  # fmt: skip
    """Every selected post from ``offset`` on in ``sort`` order, streamed (``list --all``), and
    how many posts the filters select in all."""
    where, params = where_clause(filters)
    total = count_posts(store, where, params)
    posts = iter_posts(store, where, params, order_clause(sort), text=text, offset=offset)
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
    extra: list[str] = []
    params: list[Any] = []
    if include is not None:
        extra.append(_fts_condition("posts.id"))
        params.append(include)
    if exclude is not None:
        extra.append(_fts_condition("posts.id", negate=True))
        params.append(exclude)
    where, values = where_clause(filters, extra, params)
    return Selection(where=where, params=values, order=order_clause(sort))


# -- search ----------------------------------------------------------------------------------------

#: bm25 weights in FTS column order (title, text, category, tags, source): a title match counts 10×
WEIGHTS = "10.0, 1.0, 0.0, 0.0, 0.0"


def _matches_sql(
    include: str | None, exclude: str | None, filters: Filters, columns: str, *,
    uses_posts: bool = False,
) -> tuple[str, list[object]]:  # fmt: skip
    """SELECT ``columns`` of the posts matching ``include`` (all when None) and not ``exclude``
    (alias ``p`` for posts, ``posts_fts`` for the index). Posts are joined only when ``columns``
    or a filter needs them, and then through the narrow catalog index rather than the wide rows."""
    conditions, params = filters.sql("p")
    if exclude is not None:
        conditions.append(_fts_condition("p.id", negate=True))
        params.append(exclude)
    where = " AND ".join(conditions)
    posts = f"posts p INDEXED BY {CATALOG_INDEX}"
    if include is None:
        return f"SELECT {columns} FROM {posts}" + (f" WHERE {where}" if where else ""), params
    if not where and not uses_posts:
        return f"SELECT {columns} FROM posts_fts WHERE posts_fts MATCH ?", [include]
    sql = (
        f"SELECT {columns} FROM posts_fts JOIN {posts} ON p.id = posts_fts.rowid "
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


def match_page(
    store: Store, include: str | None, exclude: str | None, filters: Filters | None = None, *,
    sort: str = "rank", limit: int | None = 20, offset: int = 0,
    title_terms: Sequence[str] = (),
) -> MatchPage:  # fmt: skip
    """One page of the posts matching ``include`` (all when None) and not ``exclude``: ranked by
    relevance (``sort="rank"``, when there is something to rank on), else by date (``"date"``:
    oldest first, otherwise newest first).

    Relevance: first how many of ``title_terms`` (FTS5 expressions, one per query term, each
    restricted to the title) match the post's title, then bm25 with a title match weighing 10×
    a body match. bm25 alone lets a rare term's body matches outrank a common term's title
    matches in an OR query (the terms' IDFs differ by orders of magnitude)."""
    filters = filters or Filters()
    # count(*) OVER () gives the total with the page, in the one pass the ranking needs anyway;
    # ranking by relevance alone needs nothing from posts (ties: the newest import first)
    if sort == "rank" and include is not None:
        in_title = " + ".join(
            "(posts_fts.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?))"
            for _ in title_terms
        )
        inner, params = _matches_sql(
            include, exclude, filters,
            f"posts_fts.rowid AS id, bm25(posts_fts, {WEIGHTS}) AS score, "
            f"{in_title or '0'} AS in_title",
        )  # fmt: skip
        params = [*title_terms, *params]
        order = "in_title DESC, score, id DESC"
    else:
        inner, params = _matches_sql(
            include, exclude, filters, "p.id AS id, NULL AS score, p.date_utc AS date_utc",
            uses_posts=True,
        )  # fmt: skip
        order = SORTS["date"] if sort == "date" else SORTS["-date"]
    sql = f"SELECT id, score, count(*) OVER () FROM ({inner}) ORDER BY {order} LIMIT ? OFFSET ?"
    rows = store.conn.execute(sql, [*params, -1 if limit is None else limit, offset]).fetchall()
    if rows:
        total = rows[0][2]
    else:  # past the last page, the window has no row to carry the total
        total = count_matches(store, include, exclude, filters) if offset else 0
    return MatchPage([Match(r[0], r[1]) for r in rows], total)


# -- statistics ------------------------------------------------------------------------------------


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
    store: Store, filters: Filters | None = None, *, top: int | None = 10
) -> ArchiveStats:
    """Posts per category, source, tag and month, the date range and the archive's size."""
    where, params = where_clause(filters)
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

    categories, n_categories = counts("category")
    sources, n_sources = counts("source")
    tag_where, tag_params = where_clause(filters, ["posts.id = post_tags.post_id"])
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
