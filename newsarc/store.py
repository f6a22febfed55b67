"""The archive: one SQLite file. Opening (and creating or upgrading) it, every write, and
maintenance. The schema is made by ``migrations``; every read query is in ``queries``.

Tables (see README "Schema"): ``posts`` (one row per article, built by ``post_row``),
``post_tags``, ``files`` (every file path seen, with size, mtime and hash for incremental
imports), ``posts_fts`` (a contentless FTS5 index of n-gram tokens, see ``fold``), ``settings``
and ``_migrations``.

Writes happen in short ``BEGIN IMMEDIATE`` transactions; readers never block thanks to WAL.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import migrations
from .dates import format_date
from .errors import StoreError
from .migrations import INDEX_VERSION, MIGRATIONS
from .models import body_skeleton, count_of

if TYPE_CHECKING:
    from .models import ParsedPost

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
    """A connection to the archive; ``readonly``: one that cannot change it.

    A reader of a WAL archive needs the ``-wal`` and ``-shm`` files, and SQLite creates them
    when they are missing. Only a read-write connection removes them again when it closes as
    the last one (after checkpointing an empty log, which leaves the archive file as it was):
    a ``mode=ro`` connection cannot, so every read command would leave them behind. So where we
    may write the archive and its folder, a reader is a read-write connection with
    ``PRAGMA query_only`` (SQLite refuses every change through it); elsewhere it is ``mode=ro``,
    which works when the side files exist or can be created, and may leave them behind.
    (``immutable=1`` would need no side files, but is wrong whenever someone else may be
    writing, which a reader cannot rule out.)"""
    if readonly and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        uri = path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if readonly:
            conn.execute("PRAGMA query_only = 1")
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
            migrations.apply(conn, self._check_schema())

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

    def write_post(self, row: dict[str, Any], fts: tuple[str, ...], post_id: int | None) -> int:
        """Insert a new post (``post_id`` None) or replace an existing one, in a transaction.
        ``row`` holds the ``posts`` columns (see ``post_row``), ``fts`` its ``fts_values``."""
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

    def mark_duplicates(self, post_id: int, source_path: str) -> None:
        """Every other file of a post becomes a duplicate copy: ``source_path``'s content won."""
        self.conn.execute(
            "UPDATE files SET status = 'duplicate' WHERE post_id = ? AND path != ?",
            (post_id, db_text(source_path)),
        )

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
        """Remember a file seen by an import: its stat and hash, and what became of it."""
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


# -- the posts row ------------------------------------------------------------------------------


def post_row(
    post: ParsedPost, *, raw: str, encoding: str, hash: str, path: str, mtime_ns: int, now: str
) -> dict[str, Any]:
    """The ``posts`` row (every column but ``id``, see ``migrations.m001_initial``) of a parsed
    post read from the file at ``path``: its text as decoded, the encoding, the sha256 of its
    bytes and its mtime. ``now`` is the import time (ISO 8601, UTC). Pure: import workers
    call it in their own processes."""
    return {
        "external_id": post.external_id,
        "title": post.title,
        "date": format_date(post.date),
        "date_utc": int(post.date.timestamp()) if post.date else None,
        "category": post.category,
        "tags": json.dumps(post.tags, ensure_ascii=False),
        "source": post.source,
        "url": post.url,
        "summary": post.summary,
        "text": post.text,
        "body": json.dumps(
            body_skeleton(post.blocks, post.text), ensure_ascii=False, separators=(",", ":")
        ),
        "meta": json.dumps(post.meta, ensure_ascii=False, separators=(",", ":")),
        "raw": raw,
        "encoding": encoding,
        "hash": hash,
        "source_path": path,
        "source_mtime_ns": mtime_ns,
        "imported_at": now,
        "updated_at": now,
    }
