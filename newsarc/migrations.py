"""The archive's schema, as named, ordered migrations (as llm does).

A new archive runs them all; an older one runs those it lacks when it opens. Each applied
migration's name is recorded in ``_migrations`` and their count in ``PRAGMA user_version``:
never change a published migration, add the next one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

#: bump when ``fold`` changes how text is indexed; the store rebuilds the index when it differs
INDEX_VERSION = "1"
#: the full-text index's columns, in order: ``text`` first, because FTS5 writes a two-byte
#: column marker before the positions of every term in any other column, and most terms are
#: in the text (see ``m007_compact_archive``); bm25 weights follow this order
FTS_COLUMNS = ("text", "title", "category", "tags", "source")
_FTS_OPTIONS = "content='', tokenize='unicode61 remove_diacritics 0'"

#: named in search queries (INDEXED BY), so it must exist in every archive
CATALOG_INDEX = "idx_posts_catalog"

#: bytes of new index entries FTS5 gathers in memory before it writes a segment (default 1 MB)
FTS_HASHSIZE = 8 << 20


def m001_initial(conn: sqlite3.Connection) -> None:
    import sqlite_utils  # only needed when a schema is created or changed

    db = sqlite_utils.Database(conn)
    db["posts"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "external_id": str,
            "title": str,
            "date": str,  # ISO 8601 with offset, as written (time zone kept)
            "date_utc": int,  # seconds since the epoch, for sorting and date filters
            "category": str,
            "tags": str,  # JSON array
            "source": str,
            "url": str,
            "summary": str,
            "text": str,  # plain text, paragraphs separated by blank lines
            "body": str,  # JSON array of blocks (p, h, quote, img, table); see models.body_skeleton
            "meta": str,  # JSON object: every other front-matter key
            "raw": str,  # the original file text, exactly as decoded
            "encoding": str,
            "hash": str,  # sha256 of the file bytes the content came from
            "source_path": str,  # that file
            "source_mtime_ns": int,
            "imported_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"external_id", "title", "tags", "text", "body", "meta", "raw", "hash"},
    )
    db["posts"].create_index(["external_id"], unique=True)  # type: ignore[union-attr]
    db["posts"].create_index(["date_utc"])  # type: ignore[union-attr]
    db["posts"].create_index(["category", "date_utc"])  # type: ignore[union-attr]
    db["posts"].create_index(["source", "date_utc"])  # type: ignore[union-attr]
    db["post_tags"].create(  # type: ignore[union-attr]
        {"tag": str, "post_id": int},
        pk=("tag", "post_id"),
        foreign_keys=[("post_id", "posts", "id")],
        not_null={"tag", "post_id"},
    )
    db["post_tags"].create_index(["post_id"])  # type: ignore[union-attr]
    db["files"].create(  # type: ignore[union-attr]
        {
            "path": str,
            "post_id": int,
            "size": int,
            "mtime_ns": int,
            "hash": str,
            "status": str,  # post | duplicate | skipped | failed
            "reason": str,
            "seen_at": str,
        },
        pk="path",
        foreign_keys=[("post_id", "posts", "id")],
    )
    db["files"].create_index(["post_id"])  # type: ignore[union-attr]
    conn.execute(
        "CREATE VIRTUAL TABLE posts_fts USING fts5("
        "title, text, category, tags, source, content='', tokenize='unicode61 remove_diacritics 0')"
    )
    db["settings"].create({"key": str, "value": str}, pk="key")  # type: ignore[union-attr]
    conn.execute("INSERT INTO settings VALUES ('index_version', ?)", (INDEX_VERSION,))


def m002_catalog_index(conn: sqlite3.Connection) -> None:
    """A covering index of the columns search filters and sorts on: looking them up for
    thousands of matches then reads this narrow index, not the wide posts rows (3× faster)."""
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {CATALOG_INDEX} ON posts (id, date_utc, category, source)"
    )


def m003_fts_hashsize(conn: sqlite3.Connection) -> None:
    """Let the full-text index gather a whole import chunk in memory before writing it: fewer,
    larger segments to merge later. Every post adds two terms a character (unigram and bigram),
    so the default 1 MB filled several times a chunk; measured: FTS inserts 25 % faster."""
    conn.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('hashsize', ?)", (FTS_HASHSIZE,))


#: the partial index of posts not packed yet (see ``m007_compact_archive``)
UNPACKED_INDEX = "idx_posts_unpacked"


def m007_compact_archive(conn: sqlite3.Connection) -> None:
    """A smaller archive (issue 14): at 100,000 posts whose text never recurs, 3.7× the posts'
    bytes before this, see bench/RESULTS.md.

    - Posts' ``raw``, ``text`` and ``body`` are packed into one zstd frame (``packing``) in the
      new ``packed`` column, with the dictionaries it is compressed with; a packed row keeps ''
      in the three columns. Existing rows are packed later, a committed batch at a time, by
      imports and ``maintenance`` (``Store.pack_posts``): a conversion stopped halfway leaves
      rows of both kinds, which every reader accepts, and the next run resumes. The partial
      index finds the rows left to pack without a scan, and is empty once all are packed.
    - The full-text index is rebuilt with ``text`` as its first column (``FTS_COLUMNS``):
      16 % smaller. Done here, in the migration's transaction, so that an interruption leaves
      the old index whole.
    - ``files`` and ``post_tags`` become WITHOUT ROWID tables: their primary key is the table,
      instead of a table plus an index holding every path (or tag) a second time.
    """
    _packed_posts(conn)
    _fts_text_first(conn)
    _without_rowid(
        conn, "files",
        "path TEXT PRIMARY KEY, post_id INTEGER REFERENCES posts(id), size INTEGER, "
        "mtime_ns INTEGER, hash TEXT, status TEXT, reason TEXT, seen_at TEXT",
        "path, post_id, size, mtime_ns, hash, status, reason, seen_at", "post_id",
    )  # fmt: skip
    _without_rowid(
        conn, "post_tags",
        "tag TEXT NOT NULL, post_id INTEGER NOT NULL REFERENCES posts(id), "
        "PRIMARY KEY (tag, post_id)",
        "tag, post_id", "post_id",
    )  # fmt: skip


def _packed_posts(conn: sqlite3.Connection) -> None:
    columns = {r[1] for r in conn.execute("PRAGMA table_info(posts)")}
    if "packed" not in columns:
        conn.execute("ALTER TABLE posts ADD COLUMN packed BLOB")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS dictionaries (id INTEGER PRIMARY KEY, data BLOB NOT NULL, "
        "posts INTEGER NOT NULL, created_at TEXT NOT NULL)"
    )
    conn.execute(f"CREATE INDEX IF NOT EXISTS {UNPACKED_INDEX} ON posts (id) WHERE packed IS NULL")


def _fts_text_first(conn: sqlite3.Connection) -> None:
    import json

    from .store import Store

    conn.execute("DROP TABLE posts_fts")
    conn.execute(
        f"CREATE VIRTUAL TABLE posts_fts USING fts5({', '.join(FTS_COLUMNS)}, {_FTS_OPTIONS})"
    )
    conn.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('hashsize', ?)", (FTS_HASHSIZE,))
    # an archive from before this migration has no packed posts: its text is in ``text``
    rows = conn.execute("SELECT id, title, text, category, tags, source FROM posts")
    for post_id, title, text, category, tags, source in rows:
        values = Store.fts_values(title, text, category, json.loads(tags), source)
        conn.execute(
            "INSERT INTO posts_fts(rowid, title, text, category, tags, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (post_id, *values),
        )


def _without_rowid(
    conn: sqlite3.Connection, table: str, columns: str, names: str, indexed: str
) -> None:
    """Rebuild ``table`` as a WITHOUT ROWID table (same columns and rows) with an index on
    ``indexed``."""
    conn.execute(f"CREATE TABLE {table}_new ({columns}) WITHOUT ROWID")
    conn.execute(f"INSERT INTO {table}_new ({names}) SELECT {names} FROM {table}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    conn.execute(f"CREATE INDEX idx_{table}_{indexed} ON {table} ({indexed})")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    m001_initial,
    m002_catalog_index,
    m003_fts_hashsize,
    m007_compact_archive,
]


def apply(conn: sqlite3.Connection, version: int) -> None:
    """Run the migrations after the first ``version`` (those already applied), recording each
    one's name, and set ``user_version``. The caller holds the write transaction."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for migration in MIGRATIONS[version:]:
        migration(conn)
        conn.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", (migration.__name__,))
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
