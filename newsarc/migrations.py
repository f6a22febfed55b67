"""The archive's schema, as named, ordered migrations (as llm does).

A new archive runs them all; an older one runs those it lacks when it opens. Each applied
migration's name is recorded in ``_migrations`` and their count in ``PRAGMA user_version``:
never change a published migration, add the next one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

#: bump when ``fold`` changes how text is indexed; the store rebuilds the index when it differs
INDEX_VERSION = "2"  # 2: every category in the category column; index_hash
#: the full-text index's columns, in order: ``text`` first, because FTS5 writes a two-byte
#: column marker before the positions of every term in any other column, and most terms are
#: in the text (see ``m007_compact_archive``); bm25 weights follow this order
FTS_COLUMNS = ("text", "title", "category", "tags", "source")
_FTS_OPTIONS = "content='', tokenize='unicode61 remove_diacritics 0'"

#: named in search queries (INDEXED BY), so it must exist in every archive
CATALOG_INDEX = "idx_posts_catalog"
#: the posts that are not the first of their story (``m008_story_copies``)
COPIES_INDEX = "idx_posts_copies"

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


def m004_fidelity(conn: sqlite3.Connection) -> None:
    """What the archive needs to hold exactly what the files say, and to know what changed:

    - ``posts.categories`` (JSON array, all of them; ``category`` stays the first) and
      ``post_categories`` (one row per category, as ``post_tags``), back-filled from the
      stored column and the ``categories`` list that front matter with several kept in ``meta``;
    - ``posts.index_hash``: sha256 of the columns the post's index entry was made from, so a
      row edited behind newsarc's back is found by ``maintenance --check`` (filled by the index
      rebuild that ``INDEX_VERSION`` 2 triggers);
    - ``files.warnings`` (JSON array) and ``files.message`` (why it was skipped or failed),
      so that every import and ``maintenance --check`` can list them again;
    - ``files.options``: the parse options (time zone) the file was read with;
    - ``files.gone``: 1 when the last import of its folder no longer found the file.
    """
    conn.execute("ALTER TABLE posts ADD COLUMN categories TEXT NOT NULL DEFAULT '[]'")
    conn.execute("ALTER TABLE posts ADD COLUMN index_hash TEXT")
    for column in (
        "warnings TEXT",
        "message TEXT",
        "options TEXT",
        "gone INTEGER NOT NULL DEFAULT 0",
    ):
        conn.execute(f"ALTER TABLE files ADD COLUMN {column}")
    conn.execute(
        "CREATE TABLE post_categories (category TEXT NOT NULL, post_id INTEGER NOT NULL "
        "REFERENCES posts(id), PRIMARY KEY (category, post_id))"
    )
    conn.execute("CREATE INDEX idx_post_categories_post_id ON post_categories (post_id)")
    rows = conn.execute("SELECT id, category, meta FROM posts").fetchall()
    for post_id, category, meta in rows:
        listed = json.loads(meta or "{}").get("categories")
        if isinstance(listed, list) and listed:
            categories = [str(c) for c in listed]
        else:
            categories = [category] if category else []
        conn.execute(
            "UPDATE posts SET categories = ? WHERE id = ?",
            (json.dumps(categories, ensure_ascii=False), post_id),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO post_categories (category, post_id) VALUES (?, ?)",
            [(c, post_id) for c in categories],
        )


#: a post's local date and time, ``YYYY-MM-DD HH:MM:SS``, as written in its own offset: the
#: ``date`` column (ISO 8601 with offset) without the offset. What show/list display, what
#: --since/--until compare with, what trends and stats count by.
LOCAL_DATE_SQL = "substr(date, 1, 10) || ' ' || substr(date, 12, 8)"


def m005_local_date(conn: sqlite3.Connection) -> None:
    """``posts.local_date``, and the catalog index rebuilt to carry it: date filters and per-day
    trend counts then read the narrow index, never the wide rows. A virtual generated column:
    derived from ``date`` by SQLite itself, so no writer can let the two disagree and old
    archives need no back-fill."""
    columns = {r[1] for r in conn.execute("PRAGMA table_xinfo(posts)")}
    if "local_date" not in columns:
        conn.execute(
            f"ALTER TABLE posts ADD COLUMN local_date TEXT GENERATED ALWAYS AS ({LOCAL_DATE_SQL}) "
            "VIRTUAL"
        )
    conn.execute("CREATE INDEX IF NOT EXISTS idx_posts_local_date ON posts (local_date)")
    extend_catalog(conn, "local_date")


def extend_catalog(conn: sqlite3.Connection, column: str) -> None:
    """Rebuild the catalog index with ``column`` added to the columns it has now, so that
    migrations which each add a column to it (local_date, story…) can run in any order."""
    held = [r[2] for r in conn.execute(f"PRAGMA index_info({CATALOG_INDEX})")]
    held = held or ["id", "date_utc", "category", "source"]
    if column in held:
        return
    conn.execute(f"DROP INDEX IF EXISTS {CATALOG_INDEX}")
    conn.execute(f"CREATE INDEX {CATALOG_INDEX} ON posts ({', '.join([*held, column])})")


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
    extend_catalog(conn, "story")
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
    - ``files``, ``post_tags`` and ``post_categories`` become WITHOUT ROWID tables: their
      primary key is the table, instead of a table plus an index holding every path (or tag)
      a second time.
    """
    _packed_posts(conn)
    _fts_text_first(conn)
    _without_rowid(conn, "files", "path", "post_id")
    _without_rowid(conn, "post_tags", "tag, post_id", "post_id")
    _without_rowid(conn, "post_categories", "category, post_id", "post_id")


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
    from .packing import Unpacker

    def dictionary(dict_id: int) -> bytes | None:
        row = conn.execute("SELECT data FROM dictionaries WHERE id = ?", (dict_id,)).fetchone()
        return bytes(row[0]) if row else None

    unpacker = Unpacker(dictionary)
    # an archive from before this migration has no packed posts: its text is in ``text``
    # (packed ones only when the migration is replayed on a current schema)
    rows = conn.execute("SELECT id, title, text, categories, tags, source, packed FROM posts")
    for post_id, title, text, categories, tags, source, packed in rows.fetchall():
        if packed is not None:
            text = unpacker.unpack(packed).text
        values = Store.fts_values(title, text, json.loads(categories), json.loads(tags), source)
        conn.execute(
            "INSERT INTO posts_fts(rowid, title, text, category, tags, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (post_id, *values),
        )


def _without_rowid(conn: sqlite3.Connection, table: str, key: str, indexed: str) -> None:
    """Rebuild ``table`` as a WITHOUT ROWID table with primary key ``key`` (same columns, types,
    defaults and rows, whatever earlier migrations added) and an index on ``indexed``."""
    columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
    if not columns:
        return
    definitions = []
    for _, name, type_, notnull, default, _ in columns:
        definition = f"{name} {type_}".strip()
        if notnull:
            definition += " NOT NULL"
        if default is not None:
            definition += f" DEFAULT {default}"
        if name == "post_id":
            definition += " REFERENCES posts(id)"
        definitions.append(definition)
    names = ", ".join(c[1] for c in columns)
    conn.execute(
        f"CREATE TABLE {table}_new ({', '.join(definitions)}, PRIMARY KEY ({key})) WITHOUT ROWID"
    )
    conn.execute(f"INSERT INTO {table}_new ({names}) SELECT {names} FROM {table}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    conn.execute(f"CREATE INDEX idx_{table}_{indexed} ON {table} ({indexed})")


def m008_story_copies(conn: sqlite3.Connection) -> None:
    """The copies (posts that are not the first of their story, ``story`` set) in an index of
    their own: about an eighth of the posts, a few bytes each, so counting the stories of a
    search looks a post's story up in a small index that stays in the cache instead of the wide
    catalog (at 1,000,000 posts, 4 µs a lookup in the catalog: more than ranking the matches)."""
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {COPIES_INDEX} ON posts (id, story) WHERE story IS NOT NULL"
    )


def _unhex(value: str | bytes | None, keep: int = 32) -> str | bytes | None:
    """A 64-character hex digest as its first ``keep`` bytes; anything else (NULL, bytes, text
    that is not a digest) as it is."""
    if isinstance(value, str) and len(value) == 64:
        try:
            return bytes.fromhex(value)[:keep]
        except ValueError:
            return value
    return value


#: a timestamp kept as text (ISO 8601 UTC, or SQLite's ``datetime('now')``) as seconds since
#: the epoch; an integer stays as it is
_EPOCH = "CASE WHEN typeof({0}) = 'text' THEN CAST(strftime('%s', {0}) AS INTEGER) ELSE {0} END"


def m009_lean_rows(conn: sqlite3.Connection) -> None:
    """Leaner posts and files rows (issue 14: at 100,000 posts about 220 bytes a post, 8 % of
    the archive), the same facts:

    - ``posts.hash`` and ``files.hash``: the sha256 as its 32 bytes, not 64 hex characters
      (``store.stored_digest``; readers get the hex digest back, ``store.read_digest``);
      ``posts.index_hash`` written as a hex digest: its first 8 bytes, as ``Store.index_hash``
      makes it now;
    - ``posts.source_path`` and ``source_mtime_ns`` are left NULL: the file a post's content
      came from is its ``files`` row with status 'post', which holds the same path and mtime
      (a third copy of every path, with the files table and its post_id index);
    - ``posts.imported_at``, ``updated_at`` and ``files.seen_at``: seconds since the epoch,
      as ``date_utc``, not ISO text;
    - ``files.options``: NULL for the default parse options, which the importer reads so.

    The columns stay (dropping one rewrites the table and breaks SQL that names it). One
    transaction: an interrupted migration leaves the archive as it was. The rows shrink in
    place; ``maintenance --vacuum`` (or the next large import) returns the freed pages."""
    from .ingest import DEFAULT_OPTIONS

    conn.create_function("newsarc_unhex", 1, _unhex, deterministic=True)
    conn.create_function("newsarc_unhex", 2, _unhex, deterministic=True)
    conn.execute(
        "UPDATE posts SET hash = newsarc_unhex(hash), index_hash = newsarc_unhex(index_hash, 8), "
        "source_path = NULL, "
        f"source_mtime_ns = NULL, imported_at = {_EPOCH.format('imported_at')}, "
        f"updated_at = {_EPOCH.format('updated_at')}"
    )
    conn.execute(
        f"UPDATE files SET hash = newsarc_unhex(hash), seen_at = {_EPOCH.format('seen_at')}, "
        "options = CASE WHEN options = ? THEN NULL ELSE options END",
        (DEFAULT_OPTIONS,),
    )


def m010_files_by_hash(conn: sqlite3.Connection) -> None:
    """Each path and file hash stored once, an index fewer (issue 14: ~150 bytes a post):

    - ``files`` becomes a rowid table whose ``id`` is a hash of the path (``store.file_key``;
      the next free id of ``store.FILE_SLOTS`` when another path holds it): a path's row is
      found by a range of ids, and there is no index of paths, which held a second copy of
      every path (and ``idx_files_post_id`` a third). ``hash`` and ``seen_at`` are declared
      BLOB and INTEGER, as they are stored;
    - ``idx_posts_local_date`` goes: a bound on the local date is also a bound on the instant
      (a post's offset is less than a day), so ``Filters`` ranges over ``idx_posts_date_utc``;
    - ``posts.encoding`` is NULL for UTF-8, which readers take as the default;
    - ``posts.hash`` is empty: the sha256 of a post's source file is in that file's row (status
      'post'), as its path and mtime are since ``m009_lean_rows``;
    - ``posts.updated_at`` is NULL until the post is rewritten (it was ``imported_at``).

    One transaction, as every migration: interrupted, the archive stays as it was."""
    from .store import file_key, free_file_id

    names = [c[1] for c in conn.execute("PRAGMA table_info(files)")]
    if "id" not in names:
        columns = (
            "path", "post_id", "size", "mtime_ns", "hash", "status", "reason", "seen_at",
            "warnings", "message", "options", "gone",
        )  # fmt: skip
        conn.execute(
            "CREATE TABLE files_new (id INTEGER PRIMARY KEY, path TEXT NOT NULL, "
            "post_id INTEGER REFERENCES posts(id), size INTEGER, mtime_ns INTEGER, hash BLOB, "
            "status TEXT, reason TEXT, seen_at INTEGER, warnings TEXT, message TEXT, "
            "options TEXT, gone INTEGER NOT NULL DEFAULT 0)"
        )
        present = [c for c in columns if c in names]
        taken: set[int] = set()
        insert = (
            f"INSERT INTO files_new (id, {', '.join(present)}) "
            f"VALUES (?, {', '.join('?' * len(present))})"
        )
        rows = conn.execute(f"SELECT {', '.join(present)} FROM files ORDER BY path")
        for row in rows:
            slot = free_file_id(file_key(row[0]), taken)
            if slot is None:
                raise sqlite3.DatabaseError(f"{row[0]}: no free files row for this path")
            taken.add(slot)
            conn.execute(insert, (slot, *row))
        conn.execute("DROP TABLE files")
        conn.execute("ALTER TABLE files_new RENAME TO files")
        conn.execute("CREATE INDEX idx_files_post_id ON files (post_id)")
    conn.execute("DROP INDEX IF EXISTS idx_posts_local_date")
    conn.execute(
        "UPDATE posts SET encoding = CASE WHEN encoding = 'utf-8' THEN NULL ELSE encoding END, "
        "hash = x'', updated_at = CASE WHEN updated_at = imported_at THEN NULL ELSE updated_at END"
    )


#: a post's tags and categories: (its row's JSON column, the view of names, the table of
#: ids, the name or id column), see ``m011_label_ids``
LABEL_TABLES = (
    ("tags", "post_tags", "post_tag_ids", "tag"),
    ("categories", "post_categories", "post_category_ids", "category"),
)


def m011_label_ids(conn: sqlite3.Connection) -> None:
    """Tags and categories by number (issue 14: about 45 bytes a post): each name once in
    ``labels`` (shared by tags and categories), and ``post_tag_ids (tag, post_id)``,
    ``post_category_ids (category, post_id)`` holding its id, WITHOUT ROWID with an index on
    ``post_id`` as before. The names were in both the table and its post_id index, for every
    post. ``post_tags (tag, post_id)`` and ``post_categories (category, post_id)`` stay, as
    views: every query that reads them (and SQL users, Datasette) reads what it read."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS labels (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
    )
    for _, view, table, column in LABEL_TABLES:
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (view,)).fetchone()
        if kind and kind[0] == "view":
            continue
        conn.execute(
            f"CREATE TABLE {table} ({column} INTEGER NOT NULL REFERENCES labels(id), "
            f"post_id INTEGER NOT NULL REFERENCES posts(id), PRIMARY KEY ({column}, post_id)) "
            "WITHOUT ROWID"
        )
        if kind:
            conn.execute(
                f"INSERT OR IGNORE INTO labels (name) SELECT DISTINCT {column} FROM {view}"
            )
            conn.execute(
                f"INSERT INTO {table} ({column}, post_id) SELECT l.id, v.post_id FROM {view} v "
                f"JOIN labels l ON l.name = v.{column}"
            )
            conn.execute(f"DROP TABLE {view}")
        conn.execute(f"CREATE INDEX idx_{table}_post_id ON {table} (post_id)")
        conn.execute(
            f"CREATE VIEW {view} AS SELECT l.name AS {column}, t.post_id AS post_id "
            f"FROM {table} t JOIN labels l ON l.id = t.{column}"
        )


#: the band keys of stories: the large sorted table, and the recent rows not merged into it yet
#: (``m012_recent_bands``)
BAND_TABLES = ("story_band", "story_band_recent")


def m012_recent_bands(conn: sqlite3.Connection) -> None:
    """New band keys go to a small table, ``story_band_recent``, merged into ``story_band``
    in one sorted statement once it holds a sixteenth as many rows (``Store.store_bands``);
    candidates are looked up in both. Band keys are random, so an import chunk's 16,000 rows
    written straight into ``story_band`` touched nearly all of its pages, and the whole table
    went through the write-ahead log once a chunk: at 1,000,000 posts 105 MB and 0.42 s of CPU
    a chunk, against 1 MB and 0.02 s for the small table (and a merge of 0.5 s and 122 MB for
    eight chunks' rows)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS story_band_recent (key INTEGER NOT NULL, "
        "post INTEGER NOT NULL, PRIMARY KEY (key, post)) WITHOUT ROWID"
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    m001_initial,
    m002_catalog_index,
    m003_fts_hashsize,
    m004_fidelity,
    m005_local_date,
    m006_stories,
    m007_compact_archive,
    m008_story_copies,
    m009_lean_rows,
    m010_files_by_hash,
    m011_label_ids,
    m012_recent_bands,
]


def apply(conn: sqlite3.Connection, version: int) -> None:
    """Run the migrations not yet applied (those after the first ``version`` in an archive that
    recorded no names), recording each one's name, and set ``user_version``. The caller holds
    the write transaction."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    # by recorded name, not only by count: migrations numbered on parallel branches may land
    # out of order, and an archive that ran a later one must not run it again
    done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
    for migration in MIGRATIONS[version:] if not done else MIGRATIONS:
        if migration.__name__ in done:
            continue
        migration(conn)
        conn.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", (migration.__name__,))
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
