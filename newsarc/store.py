"""The archive: one SQLite file, its schema and migrations, and the queries on it.

Tables (see README "Schema"): ``posts`` (one row per article), ``post_tags``, ``files`` (every
file path seen, with size, mtime and hash for incremental imports), ``posts_fts`` (a contentless
FTS5 index of n-gram tokens, see ``fold``), ``settings`` and ``_migrations``.

Writes happen in short ``BEGIN IMMEDIATE`` transactions; readers never block thanks to WAL.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StoreError
from .models import Post, body_blocks, count_of

#: bump when ``fold`` changes how text is indexed; the store rebuilds the index when it differs
INDEX_VERSION = "1"
FTS_COLUMNS = ("title", "text", "category", "tags", "source")


#: lone surrogates: Python's stand-ins for the bytes of a file name that are not UTF-8 (PEP 383)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def db_text(value: str) -> str:
    """A path or article id as SQLite can store it (valid UTF-8). A file name's bytes that are
    not UTF-8 (a GBK name unpacked from a zip) become ``\\xNN``: the same file gets the same
    text each time, both when stored and when looked up."""
    if _SURROGATE.search(value) is None:
        return value
    return _SURROGATE.sub(_escape_surrogate, value)


def default_db_path() -> Path:
    """``$NEWSARC_DB``, else ``$XDG_DATA_HOME/newsarc/archive.db`` (``~/.local/share`` if unset)."""
    env = os.environ.get("NEWSARC_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "newsarc" / "archive.db"


# -- migrations ------------------------------------------------------------------------------


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


#: named in search queries (INDEXED BY), so it must exist in every archive
CATALOG_INDEX = "idx_posts_catalog"

#: bytes of new index entries FTS5 gathers in memory before it writes a segment (default 1 MB)
FTS_HASHSIZE = 8 << 20


def m003_fts_hashsize(conn: sqlite3.Connection) -> None:
    """Let the full-text index gather a whole import chunk in memory before writing it: fewer,
    larger segments to merge later. Every post adds two terms a character (unigram and bigram),
    so the default 1 MB filled several times a chunk; measured: FTS inserts 25 % faster."""
    conn.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('hashsize', ?)", (FTS_HASHSIZE,))


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    m001_initial,
    m002_catalog_index,
    m003_fts_hashsize,
]


class _NeedsUpgrade(Exception):
    """A read-only open found an archive of an older schema version."""


# -- connection ------------------------------------------------------------------------------


#: seconds a command waits for another process's write to finish before giving up
DEFAULT_BUSY_TIMEOUT = 10.0


def busy_timeout() -> float:
    """``$NEWSARC_BUSY_TIMEOUT`` (seconds), else ``DEFAULT_BUSY_TIMEOUT``."""
    value = os.environ.get("NEWSARC_BUSY_TIMEOUT")
    if not value:
        return DEFAULT_BUSY_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 1e6:
        raise StoreError(f"NEWSARC_BUSY_TIMEOUT must be a number of seconds, not {value!r}")
    return seconds


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        uri = path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")
    return conn


def describe_error(exc: sqlite3.Error, path: Path | str) -> str:
    """A one-line message for an SQLite error on the archive at ``path``, saying what to do."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    text = str(exc)
    if name == "SQLITE_NOTADB" or "not a database" in text:
        return f"{path}: not a SQLite database (is --db pointing at the right file?)"
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return (
            f"{path}: the archive file is damaged ({text}); restore it from a backup, "
            "or import the posts again into a new archive"
        )
    if name == "SQLITE_READONLY_DIRECTORY":
        return (
            f"{path}: its folder is read-only, and SQLite needs to create files beside the "
            "archive (-wal, -shm); make the folder writable or copy the archive elsewhere"
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return f"{path}: the archive is read-only; check the file's permissions"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return (
            f"{path}: the archive is locked by another process (waited {busy_timeout():g} s); "
            "try again when it is done"
        )
    if name == "SQLITE_FULL" or ("disk" in text and "full" in text):
        return (
            f"{path}: the disk is full; free some space and run the command again "
            "(what was written before is complete)"
        )
    if name.startswith("SQLITE_IOERR"):
        return f"{path}: {text} ({name}): is the disk full or failing, or a file size limit set?"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return f"{path}: cannot open the archive ({text}); check the folder exists and is writable"
    return f"{path}: {text}"


class Store:
    """An open archive. Use ``Store.open(path)``; close with ``close()`` or a ``with`` block."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path | None = None, *, create: bool = True, readonly: bool = False
    ) -> Store:
        """Open (and create or migrate) the archive at ``path`` (default: ``default_db_path()``).

        ``create=False`` refuses to create a missing archive (read commands use that, so a typo
        in --db gives a clear error instead of an empty archive).
        """
        path = Path(path) if path is not None else default_db_path()
        if path.is_dir():
            raise StoreError(f"{path}: is a folder; --db takes the archive file's path")
        exists = path.exists()
        if exists and not path.is_file():
            # opening a pipe (--db <(…)) would wait for a writer forever
            raise StoreError(
                f"{path}: not a regular file (a pipe or a device?); --db takes the archive "
                "file's path"
            )
        if not exists and not create:
            raise StoreError(
                f"{path}: no archive here yet; run 'newsarc import DIR' first (or pass --db)"
            )
        if not exists:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{path}: cannot create the archive's folder ({exc.strerror})"
                ) from None
        try:
            conn = _connect(path, readonly=readonly and exists)
        except sqlite3.Error as exc:
            raise StoreError(describe_error(exc, path)) from None
        store = cls(conn, path)
        try:
            store._prepare(writable=not readonly)
        except _NeedsUpgrade:
            # an archive made by an older newsarc: reading it starts with the upgrade
            conn.close()
            return cls._upgrade(path)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(describe_error(exc, path)) from None
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def _upgrade(cls, path: Path) -> Store:
        try:
            return cls.open(path, create=False)
        except StoreError as exc:
            why = str(exc).removeprefix(f"{path}: ")
            raise StoreError(
                f"{path}: the archive was made by an older newsarc and needs an upgrade, "
                f"which needs write access ({why})"
            ) from None

    def _prepare(self, writable: bool) -> None:
        conn = self.conn
        version = self._check_schema()
        if version < len(MIGRATIONS):
            if not writable:
                if version == 0:  # an empty file, or an archive being created right now
                    raise StoreError(
                        f"{self.path}: no archive here yet; run 'newsarc import DIR' first"
                    )
                raise _NeedsUpgrade
            if version == 0:
                # 16 KiB pages keep a typical post (1–4 KB of raw text plus its plain text) and
                # FTS5's 4 KB leaf blobs in the page instead of in mostly empty overflow pages:
                # about a third less disk than SQLite's default 4 KiB
                conn.execute("PRAGMA page_size = 16384")
            self._use_wal()
            self._migrate()
        # Foreign keys are declared (for sqlite-utils, Datasette) but not enforced: the importer
        # keeps them true itself, and enforcement made each files insert ~20x slower.
        if writable:
            conn.execute("PRAGMA synchronous = NORMAL")
            self._check_index_version()

    def _use_wal(self) -> None:
        """Switch the archive to WAL. The switch needs the file to itself, and SQLite does not
        wait for that (no busy timeout): when another process is creating the same archive at
        this moment, it fails at once. So wait here, as long as the busy timeout."""
        deadline = time.monotonic() + busy_timeout()
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _check_schema(self) -> int:
        """The schema version, or ``StoreError`` when this is not an archive newsarc can use."""
        conn = self.conn
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "_migrations" not in tables:
            raise StoreError(
                f"{self.path}: not a newsarc archive (it has other tables); choose another --db"
            )
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: archive schema {version} is newer than this newsarc understands "
                f"({len(MIGRATIONS)}); upgrade newsarc"
            )
        return version

    def _migrate(self) -> None:
        with self.transaction() as conn:
            # read again under the write lock: another process may have migrated meanwhile
            # (two imports creating the same archive at once)
            version = self._check_schema()
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
            )
            for migration in MIGRATIONS[version:]:
                migration(conn)
                conn.execute(
                    "INSERT INTO _migrations VALUES (?, datetime('now'))", (migration.__name__,)
                )
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    def _check_index_version(self) -> None:
        row = self.conn.execute("SELECT value FROM settings WHERE key='index_version'").fetchone()
        if row is None or row[0] != INDEX_VERSION:
            self.rebuild_index()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: everything in it is committed together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.rollback()
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: queries in it see one state of the archive, and share one lock
        (cheaper than one per query). Never blocks writers (WAL)."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.rollback()

    def rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already done so itself (it does
        after some errors, such as a full disk, and a second ROLLBACK would hide that error)."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # -- the full-text index -------------------------------------------------------------------

    @staticmethod
    def fts_values(
        title: str, text: str, category: str | None, tags: Sequence[str], source: str | None
    ) -> tuple[str, ...]:
        """The token strings stored for one post (deterministic: also used to delete it)."""
        from .fold import index_form

        return (
            index_form(title),
            index_form(text),
            index_form(category or ""),
            " ".join(index_form(tag) for tag in tags),
            index_form(source or ""),
        )

    def _fts_delete(self, post_id: int) -> None:
        row = self.conn.execute(
            "SELECT title, text, category, tags, source FROM posts WHERE id = ?", (post_id,)
        ).fetchone()
        if row is None:
            return
        values = self.fts_values(row[0], row[1], row[2], json.loads(row[3]), row[4])
        self.conn.execute(
            "INSERT INTO posts_fts(posts_fts, rowid, title, text, category, tags, source) "
            "VALUES ('delete', ?, ?, ?, ?, ?, ?)",
            (post_id, *values),
        )

    def check(self) -> list[str]:
        """Problems found by SQLite's and FTS5's integrity checks and by newsarc's own
        invariants (every post has its index entry and a file); empty when all is well."""
        conn = self.conn
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        try:
            conn.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.OperationalError:
            raise  # locked or read-only: the check could not run, which is not a finding
        except sqlite3.DatabaseError as exc:
            problems.append(f"full-text index: {exc}")
        # FTS5 checks a contentless index only against itself: whether it has an entry for
        # exactly the stored posts is newsarc's to check
        invariants = (
            ("SELECT count(*) FROM posts WHERE id NOT IN (SELECT id FROM posts_fts_docsize)",
             "post is not in the full-text index", "posts are not in the full-text index"),
            ("SELECT count(*) FROM posts_fts_docsize WHERE id NOT IN (SELECT id FROM posts)",
             "entry in the full-text index is for no post",
             "entries in the full-text index are for no post"),
            ("SELECT count(*) FROM posts WHERE id NOT IN "
             "(SELECT post_id FROM files WHERE post_id IS NOT NULL)",
             "post without a recorded file", "posts without a recorded file"),
        )  # fmt: skip
        for sql, one, many in invariants:
            n = conn.execute(sql).fetchone()[0]
            if n:
                problems.append(count_of(n, one, many))
        return problems

    def optimize(self, *, vacuum: bool = False) -> None:
        """Merge the full-text index into one segment, refresh the query planner's statistics,
        and with ``vacuum`` rewrite the file without free pages."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO posts_fts(posts_fts) VALUES ('optimize')")
        self.conn.execute("PRAGMA optimize")
        if vacuum:
            self.conn.execute("VACUUM")

    def rebuild_index(self) -> int:
        """Rebuild the full-text index from the posts table. Returns the number of posts."""
        n = 0
        with self.transaction() as conn:
            conn.execute("INSERT INTO posts_fts(posts_fts) VALUES ('delete-all')")
            rows = conn.execute("SELECT id, title, text, category, tags, source FROM posts")
            for row in rows:
                values = self.fts_values(row[1], row[2], row[3], json.loads(row[4]), row[5])
                conn.execute(
                    "INSERT INTO posts_fts(rowid, title, text, category, tags, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (row[0], *values),
                )
                n += 1
            conn.execute(
                "INSERT OR REPLACE INTO settings VALUES ('index_version', ?)", (INDEX_VERSION,)
            )
        return n

    # -- writing posts ---------------------------------------------------------------------------

    def find_post_by_external_id(self, external_id: str) -> tuple[int, str, int | None] | None:
        """(id, hash, source_mtime_ns) of the post with this article id, if any."""
        row = self.conn.execute(
            "SELECT id, hash, source_mtime_ns FROM posts WHERE external_id = ?",
            (db_text(external_id),),
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def write_post(self, row: dict[str, Any], fts: tuple[str, ...], post_id: int | None) -> int:
        """Insert a new post (``post_id`` None) or replace an existing one, in a transaction."""
        conn = self.conn
        row = {**row, "external_id": db_text(row["external_id"])}
        if row.get("source_path") is not None:
            row["source_path"] = db_text(row["source_path"])
        columns = list(row)
        if post_id is None:
            cur = conn.execute(
                f"INSERT INTO posts ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                [row[c] for c in columns],
            )
            post_id = int(cur.lastrowid or 0)
        else:
            self._fts_delete(post_id)
            conn.execute("DELETE FROM post_tags WHERE post_id = ?", (post_id,))
            columns = [c for c in columns if c != "imported_at"]
            conn.execute(
                f"UPDATE posts SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                [row[c] for c in columns] + [post_id],
            )
        conn.executemany(
            "INSERT OR IGNORE INTO post_tags (tag, post_id) VALUES (?, ?)",
            [(tag, post_id) for tag in json.loads(row["tags"])],
        )
        conn.execute(
            "INSERT INTO posts_fts(rowid, title, text, category, tags, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (post_id, *fts),
        )
        return post_id

    def file_state(self, path: str) -> tuple[int, int, str, str, int | None] | None:
        """(size, mtime_ns, hash, status, post_id) recorded for a file path, if seen before."""
        row = self.conn.execute(
            "SELECT size, mtime_ns, hash, status, post_id FROM files WHERE path = ?",
            (db_text(path),),
        ).fetchone()
        return tuple(row) if row else None  # type: ignore[return-value]

    def record_file(
        self,
        path: str,
        *,
        size: int,
        mtime_ns: int,
        hash: str | None,
        status: str,
        post_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO files (path, post_id, size, mtime_ns, hash, status, reason, "
            "seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, datetime('now'))",
            (db_text(path), post_id, size, mtime_ns, hash, status, reason),
        )

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None:
        """Same content, new mtime (a ``touch`` or a copy): remember the new stat."""
        self.conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
            (size, mtime_ns, db_text(path)),
        )

    # -- reading posts ---------------------------------------------------------------------------

    _RECORD_COLUMNS = "id, external_id, title, date, category, tags, source, url, summary"

    def _paths(self, ids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {i: [] for i in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            rows = self.conn.execute(
                f"SELECT post_id, path FROM files WHERE post_id IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY post_id, status = 'duplicate', path",
                list(chunk),
            )
            for post_id, path in rows:
                out[post_id].append(path)
        return out

    def posts_by_ids(
        self, ids: Sequence[int], *, text: bool = True, full: bool = False
    ) -> list[Post]:
        """Posts in the order of ``ids`` (missing ids are left out). ``full`` adds body/meta/raw."""
        if not ids:
            return []
        extra = ", text" if text or full else ", NULL"
        extra += ", body, meta, raw" if full else ", NULL, NULL, NULL"
        found: dict[int, Post] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.conn.execute(
                f"SELECT {self._RECORD_COLUMNS}{extra} FROM posts "
                f"WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row[0]] = _row_to_post(row)
        paths = self._paths(list(found))
        out = []
        for i in ids:
            if i in found:
                found[i].paths = paths[i]
                out.append(found[i])
        return out

    def iter_posts(
        self, where: str = "", params: Sequence[Any] = (), order: str = "id", *,
        text: bool = True, full: bool = False, batch: int = 500, offset: int = 0,
    ) -> Iterator[Post]:  # fmt: skip
        """Stream posts matching an SQL condition in ``order`` (skipping the first ``offset``),
        ``batch`` at a time: memory holds their ids and one batch, whatever the archive size."""
        ids = [
            r[0]
            for r in self.conn.execute(
                f"SELECT id FROM posts {where} ORDER BY {order} LIMIT -1 OFFSET ?",
                [*params, offset],
            )
        ]
        for start in range(0, len(ids), batch):
            yield from self.posts_by_ids(ids[start : start + batch], text=text, full=full)

    def resolve(self, ref: str) -> int | None:
        """A post id from an integer id, an external id, or an imported file's path."""
        ref = ref.strip()
        if ref.isdigit():
            row = self.conn.execute("SELECT id FROM posts WHERE id = ?", (int(ref),)).fetchone()
            if row:
                return int(row[0])
        row = self.conn.execute(
            "SELECT id FROM posts WHERE external_id = ?", (db_text(ref),)
        ).fetchone()
        if row:
            return int(row[0])
        candidates = [ref]
        try:
            candidates.append(str(Path(ref).expanduser().resolve()))
        except (OSError, RuntimeError):
            pass
        for candidate in candidates:
            row = self.conn.execute(
                "SELECT post_id FROM files WHERE path = ? AND post_id IS NOT NULL",
                (db_text(candidate),),
            ).fetchone()
            if row:
                return int(row[0])
        return None

    def count(self, where: str = "", params: Iterable[Any] = ()) -> int:
        return int(
            self.conn.execute(f"SELECT count(*) FROM posts {where}", list(params)).fetchone()[0]
        )


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


# -- read-side queries: list, export selection, statistics ------------------------------------

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


def iter_list(
    store: Store, filters: Filters | None = None, *, sort: str = "-date", offset: int = 0,
    text: bool = False,
) -> tuple[Iterator[Post], int]:  # fmt: skip
    """Every selected post from ``offset`` on in ``sort`` order, streamed (``list --all``), and
    how many posts the filters select in all."""
    where, params = where_clause(filters)
    total = store.count(where, params)
    return store.iter_posts(where, params, order_clause(sort), text=text, offset=offset), total


def list_posts(
    store: Store, filters: Filters | None = None, *, sort: str = "-date",
    limit: int | None = 50, offset: int = 0, text: bool = False,
) -> tuple[list[Post], int]:  # fmt: skip
    """One page of posts in ``sort`` order, and how many posts the filters select in all."""
    where, params = where_clause(filters)
    rows = store.conn.execute(
        f"SELECT id FROM posts {where} ORDER BY {order_clause(sort)} LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    ).fetchall()
    posts = store.posts_by_ids([r[0] for r in rows], text=text)
    if offset or (limit is not None and len(posts) == limit):
        return posts, store.count(where, params)
    return posts, len(posts)


@dataclass
class ArchiveStats:
    """What ``newsarc stats`` reports. Counts are (name, posts) pairs, most posts first; months
    are ``YYYY-MM`` in each post's own time zone, oldest first."""

    posts: int
    first_date: str | None
    last_date: str | None
    undated: int
    files: int
    archive_bytes: int
    categories: list[tuple[str | None, int]]
    sources: list[tuple[str | None, int]]
    tags: list[tuple[str, int]]
    months: list[tuple[str, int]]
    #: how many distinct categories, sources and tags there are (the lists may be cut to ``top``)
    distinct: dict[str, int]


def archive_stats(
    store: Store, filters: Filters | None = None, *, top: int | None = 10
) -> ArchiveStats:
    """Posts per category, source, tag and month, the date range and the archive's size."""
    where, params = where_clause(filters)
    conn = store.conn
    limit = -1 if top is None else top

    def counts(column: str) -> tuple[list[tuple[Any, int]], int]:
        rows = conn.execute(
            f"SELECT {column}, count(*) AS n FROM posts {where} GROUP BY {column} "
            f"ORDER BY n DESC, {column} LIMIT ?",
            [*params, limit],
        ).fetchall()
        distinct = conn.execute(
            f"SELECT count(DISTINCT {column}) FROM posts {where}", params
        ).fetchone()[0]
        return [(r[0], r[1]) for r in rows], distinct

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
    total = store.count(where, params)
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
        tags=[(r[0], r[1]) for r in tags],
        months=[(r[0], r[1]) for r in months],
        distinct={"categories": n_categories, "sources": n_sources, "tags": n_tags},
    )


def raw_source(store: Store, post_id: int) -> tuple[str, str | None, str] | None:
    """(raw text, encoding, sha256 of the original bytes) of a post, for byte-exact output."""
    row = store.conn.execute(
        "SELECT raw, encoding, hash FROM posts WHERE id = ?", (post_id,)
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None
