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
FTS_COLUMNS = ("title", "text", "category", "tags", "source")

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
        + ", ".join(FTS_COLUMNS)
        + ", content='', tokenize='unicode61 remove_diacritics 0')"
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


def m006_stories(conn: sqlite3.Connection) -> None:
    """Stories (near-copies grouped, see ``stories``): each post's story id, and what finding a
    new post's copies needs, kept small (the archive's size is budgeted):

    - ``posts.story``: the id of the story's representative, its earliest post (NULL until
      grouped: readers take a post without one as its own story);
    - ``story_sig``: each post's signature (``stories.Signature.to_bytes``; none without text);
    - ``story_band``: its LSH band keys (32-bit), so candidates are an index lookup;
    - ``story_paragraph``: up to ``stories.BOILERPLATE_CONTEXTS`` contexts per paragraph
      fingerprint, to learn boilerplate.

    The catalog index gains ``story``, so collapsing and counting stories of a search reads
    the narrow index, not the wide rows. Grouping the posts already stored is left to the store
    (``Store.rebuild_stories``): ``settings.story_version`` is not set here."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(posts)")}
    if "story" not in columns:  # idempotent: tests replay migrations on a current schema
        conn.execute("ALTER TABLE posts ADD COLUMN story INTEGER")
    conn.execute("CREATE INDEX IF NOT EXISTS idx_posts_story ON posts (story)")
    conn.execute(f"DROP INDEX IF EXISTS {CATALOG_INDEX}")
    conn.execute(f"CREATE INDEX {CATALOG_INDEX} ON posts (id, date_utc, category, source, story)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS story_sig (post INTEGER PRIMARY KEY, sig BLOB NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS story_band (key INTEGER NOT NULL, post INTEGER NOT NULL, "
        "PRIMARY KEY (key, post)) WITHOUT ROWID"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS story_paragraph "
        "(key INTEGER NOT NULL, context INTEGER NOT NULL, "
        "PRIMARY KEY (key, context)) WITHOUT ROWID"
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    m001_initial,
    m002_catalog_index,
    m003_fts_hashsize,
    m006_stories,
]


def apply(conn: sqlite3.Connection, version: int) -> None:
    """Run the migrations after the first ``version`` (those already applied), recording each
    one's name, and set ``user_version``. The caller holds the write transaction."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for migration in MIGRATIONS[version:]:
        migration(conn)
        conn.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", (migration.__name__,))
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
