"""The archive: one SQLite file. Opening (and creating or upgrading) it, every write, and
maintenance. The schema is made by ``migrations``; every read query is in ``queries``.

Tables (see README "Schema"): ``posts`` (one row per article, built by ``post_row``),
``post_tag_ids``, ``post_category_ids`` and ``labels`` (tags and categories by id; the views
``post_tags``, ``post_categories`` name them), ``files`` (every file path seen, with size,
mtime and hash for incremental imports), ``posts_fts`` (a contentless FTS5 index of n-gram
tokens, see ``fold``), ``settings`` and ``_migrations``.

Writes happen in short ``BEGIN IMMEDIATE`` transactions; readers never block thanks to WAL.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Container, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import migrations
from .dates import format_date
from .errors import DamagedPostError, StoreError
from .migrations import BAND_TABLES, INDEX_VERSION, LABEL_TABLES, MIGRATIONS, UNPACKED_INDEX
from .models import body_skeleton, count_of
from .packing import DamagedValue  # packing loads zstandard only when it first unpacks

if TYPE_CHECKING:
    from .models import ParsedPost
    from .packing import Content, Packer, Unpacker
    from .stories import KeyFilter, Signature

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


#: a ``files`` row's id is a hash of its path (``file_key``), so the path is stored once, with
#: no index of paths beside it; a path whose id another path holds (a hash collision)
#: takes the next free one of this many
FILE_SLOTS = 8


@functools.lru_cache(maxsize=8192)
def file_key(path: str) -> int:
    """The first id a path's ``files`` row may have: 20 bits of a hash of its folder, then 42
    of a hash of its name (BLAKE2b of the stored form, ``db_text``): 62 bits, so the
    ``FILE_SLOTS`` ids from it are positive 64-bit integers. The files of one folder, which an
    import records together, are neighbours in the table, so a transaction writes few of its
    pages. Cached: an import looks a path up before it parses the file and again when it
    records it (two chunks of files are in flight at a time)."""
    folder, _, name = db_text(path).rpartition(os.sep)
    high = hashlib.blake2b(folder.encode("utf-8"), digest_size=8).digest()
    low = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(high, "big") >> 44) << 42 | int.from_bytes(low, "big") >> 22


def free_file_id(key: int, held: Container[int]) -> int | None:
    """The first of the ``FILE_SLOTS`` ids from ``key`` (``file_key``) not in ``held``; None
    when all are held."""
    return next((i for i in range(key, key + FILE_SLOTS) if i not in held), None)


def file_where(path: str) -> tuple[str, list[Any]]:
    """The condition (on ``files``, unaliased) that finds a path's row, and its parameters: a
    range of at most ``FILE_SLOTS`` ids, then the path itself."""
    key = file_key(path)
    return "id >= ? AND id < ? AND path = ?", [key, key + FILE_SLOTS, db_text(path)]


def stored_digest(digest: str | bytes | None) -> bytes | None:
    """A sha256 as the archive keeps it: its 32 bytes (a hex digest, as archives before
    ``m009_lean_rows`` kept it, is converted)."""
    if isinstance(digest, str):
        return bytes.fromhex(digest)
    return digest


def read_digest(value: str | bytes | None) -> str | None:
    """A stored sha256 as the hex digest the rest of newsarc compares and shows."""
    if isinstance(value, bytes):
        return value.hex()
    return value


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


def set_busy_timeout(conn: sqlite3.Connection) -> None:
    """Let ``conn`` wait ``busy_timeout()`` for a lock (another process's import), then fail."""
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")


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
        self._unpacker: Unpacker | None = None
        self._packer: Packer | None = None
        #: placed posts' signatures and band keys not written yet (``buffer_stories``)
        self._stories: _StoryBuffer | None = None
        #: rows of the two band tables as this connection last knew them (None: not counted)
        self._band_rows: tuple[int, int] | None = None

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
            self._check_story_version()

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

    def use_cache(self, megabytes: int) -> None:
        """Give this connection a page cache of ``megabytes`` (SQLite's default is 2 MB)."""
        self.conn.execute(f"PRAGMA cache_size = {-1024 * int(megabytes)}")

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
        title: str, text: str, categories: Sequence[str], tags: Sequence[str], source: str | None,
        *, folded_text: str | None = None,
    ) -> tuple[str, ...]:  # fmt: skip
        """The token strings stored for one post (deterministic: also used to delete it).
        ``folded_text``: ``fold.fold(text)`` when the caller has it already (import folds the
        text once for the index and the story signature)."""
        from .fold import grams, index_form

        return (
            index_form(title),
            index_form(text) if folded_text is None else " ".join(grams(folded_text)),
            " ".join(index_form(category) for category in categories),
            " ".join(index_form(tag) for tag in tags),
            index_form(source or ""),
        )

    @staticmethod
    def index_hash(title: str, text: str, categories: str, tags: str, source: str | None) -> bytes:
        """A hash of the columns a post's index entry is made from (``categories`` and ``tags``
        as stored, JSON): stored with the post, so that ``check`` finds a row edited since it
        was indexed. The columns rather than their folded form: the index entry is a function
        of them (``INDEX_VERSION`` covers changes to that function), and hashing them is ~100×
        faster than folding, so checking a large archive takes seconds, not minutes.

        The first 8 bytes of their sha256, a BLOB (the column's TEXT affinity would turn an
        integer into 20 characters); ``m009_lean_rows`` converts the whole hex digests that
        archives written before kept."""
        import hashlib

        data = "\x1f".join((title, text, categories, tags, source or ""))
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).digest()[:8]

    def _stored_fts(self, post_id: int) -> tuple[str, ...] | None:
        """The ``fts_values`` of a stored post's columns, or None when there is no such post."""
        row = self.conn.execute(
            "SELECT title, text, categories, tags, source, packed FROM posts WHERE id = ?",
            (post_id,),
        ).fetchone()
        if row is None:
            return None
        text = self.text_of(post_id, row[1], row[5])
        return self.fts_values(row[0], text, json.loads(row[2]), json.loads(row[3]), row[4])

    def _fts_delete(self, post_id: int) -> None:
        values = self._stored_fts(post_id)
        if values is None:
            return
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
        problems += self._check_index_hashes()
        problems += self._check_file_ids()
        return problems + self._check_packed()

    def _check_file_ids(self) -> list[str]:
        """Every files row is where a lookup of its path looks (``file_key``), once: a row
        written behind newsarc's back with another id would be missed, and its file recorded
        a second time by the next import."""
        misplaced = sum(
            1
            for file_id, path in self.conn.execute("SELECT id, path FROM files")
            if not 0 <= file_id - file_key(path) < FILE_SLOTS
        )
        twice = self.conn.execute(
            "SELECT count(*) FROM (SELECT path FROM files GROUP BY path HAVING count(*) > 1)"
        ).fetchone()[0]
        found = (
            (misplaced, "file row is not at its path's id", "file rows are not at their ids"),
            (twice, "file path is recorded twice", "file paths are recorded twice"),
        )
        return [count_of(n, one, many) for n, one, many in found if n]

    #: damaged posts named one by one by ``check``; beyond this they are only counted
    MAX_DAMAGED_LISTED = 20

    def _check_packed(self) -> list[str]:
        """Every packed post unpacks exactly (its frame's checksum holds)."""
        damaged: list[str] = []
        n = 0
        for post_id, packed in self.conn.execute(
            "SELECT id, packed FROM posts WHERE packed IS NOT NULL"
        ):
            try:
                self.unpack(post_id, packed)
            except DamagedPostError as exc:
                n += 1
                if len(damaged) < self.MAX_DAMAGED_LISTED:
                    damaged.append(str(exc).removeprefix(f"{self.path}: "))
        if n > len(damaged):
            damaged.append(f"{count_of(n, 'post')} in all with damaged stored content")
        return damaged

    # -- packed posts (``packing``) ---------------------------------------------------------

    def unpack(self, post_id: int, packed: bytes, *, raw: bool = True) -> Content:
        """The raw, text and body a post's packed value holds (without ``raw``, the raw file is
        not decoded: ``Content.raw`` is ''); ``DamagedPostError`` (naming the post) when it
        cannot be read back exactly."""
        try:
            return (self._unpacker or self._get_unpacker()).unpack(packed, raw=raw)
        except DamagedValue as exc:
            raise self._damaged(post_id, exc) from None

    def text_of(self, post_id: int, text: str | None, packed: bytes | None) -> str:
        """A post's plain text from its ``text`` and ``packed`` columns (one of them holds it);
        of a packed value only the text is decoded. (Called for every post an export or a
        search page reads: no more than a method call and a ``try`` around the unpacking.)"""
        if packed is None:
            return text or ""
        try:
            return (self._unpacker or self._get_unpacker()).unpack_text(packed)
        except DamagedValue as exc:
            raise self._damaged(post_id, exc) from None

    def _damaged(self, post_id: int, exc: DamagedValue) -> DamagedPostError:
        """The error for a post whose packed value cannot be read back exactly, naming it."""
        row = self.conn.execute("SELECT external_id FROM posts WHERE id = ?", (post_id,)).fetchone()
        name = f"post {post_id}" + (f" ({row[0]})" if row else "")
        return DamagedPostError(
            f"{self.path}: {name}: its stored content is damaged ({exc}); import its file "
            "again into a new archive, or restore the archive from a backup"
        )

    def _get_unpacker(self) -> Unpacker:
        if self._unpacker is None:
            from .packing import Unpacker
            from .queries import dictionary

            self._unpacker = Unpacker(lambda dict_id: dictionary(self, dict_id))
        return self._unpacker

    def packer(self) -> Packer | None:
        """A packer with the archive's newest dictionary; None while it has none."""
        from .queries import latest_dictionary

        latest = latest_dictionary(self)
        if latest is None:
            return None
        if self._packer is None or self._packer.dict_id != latest.id:
            from .packing import Packer

            self._packer = Packer(latest.id, latest.data)
        return self._packer

    def train_dictionary(self) -> int | None:
        """Train a new dictionary on a sample of the archive's posts, spread evenly over it,
        and store it under a new id (older ones stay: the posts packed with them name them).
        Returns its id; None when the archive has too few posts to learn from."""
        from . import packing

        conn = self.conn
        total = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        if total < packing.TRAIN_MIN_POSTS:
            return None
        step = max(1, total // packing.TRAIN_SAMPLE)
        samples = []
        rows = conn.execute(
            "SELECT id, raw, text, body, packed FROM posts WHERE id % ? = 0 LIMIT ?",
            (step, packing.TRAIN_SAMPLE),
        )
        for post_id, raw, text, body, packed in rows:
            content = (raw, text, body) if packed is None else self.unpack(post_id, packed)
            samples.append(packing.content_bytes(*content))
        with self.transaction() as conn:
            dict_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM dictionaries").fetchone()[
                0
            ]
            data = packing.train(samples, dict_id)
            if data is None:
                return None
            conn.execute(
                "INSERT INTO dictionaries (id, data, posts, created_at) "
                "VALUES (?, ?, ?, datetime('now'))",
                (dict_id, data, len(samples)),
            )
        return int(dict_id)

    #: posts packed per transaction by ``pack_posts``
    PACK_BATCH = 1000

    def pack_posts(self) -> int:
        """Pack every post not packed yet (those stored before the archive had a dictionary,
        or by an older newsarc), training the first dictionary if there is none; one committed
        batch at a time, so an interruption keeps what was done and the next call resumes.
        Returns how many posts were packed."""
        packer = self.packer()
        if packer is None and self.train_dictionary() is not None:
            packer = self.packer()
        if packer is None:
            return 0
        done = 0
        while True:
            with self.transaction() as conn:
                rows = conn.execute(
                    f"SELECT id, raw, text, body FROM posts INDEXED BY {UNPACKED_INDEX} "
                    "WHERE packed IS NULL LIMIT ?",
                    (self.PACK_BATCH,),
                ).fetchall()
                conn.executemany(
                    "UPDATE posts SET packed = ?, raw = '', text = '', body = '' WHERE id = ?",
                    [(packer.pack(raw, text, body), post_id) for post_id, raw, text, body in rows],
                )
            if not rows:
                return done
            done += len(rows)

    def _check_index_hashes(self) -> list[str]:
        """Posts whose title, text, categories, tags or source are not what the index was given
        (a row edited with sqlite-utils or SQL): search would still find the old text."""
        stale = []
        rows = self.conn.execute(
            "SELECT id, index_hash, title, text, categories, tags, source, packed, "
            "raw != '' OR text != '' OR body != '' FROM posts"
        )
        for post_id, stored, title, text, categories, tags, source, packed, edited in rows:
            if packed is not None and edited:
                stale.append(post_id)  # a packed post's raw, text or body columns written to
                continue
            try:
                text = self.text_of(post_id, text, packed)
            except DamagedPostError:
                continue  # named by _check_packed
            if stored != self.index_hash(title, text, categories, tags, source):
                stale.append(post_id)
        if not stale:
            return []
        ids = ", ".join(str(i) for i in stale[:10]) + (", …" if len(stale) > 10 else "")
        return [
            f"{count_of(len(stale), 'post')} changed since it was indexed (id {ids}): "
            "search finds the old text; run 'newsarc maintenance --rebuild-index'"
        ]

    def _unpack_edited(self) -> int:
        """Packed posts whose ``raw``, ``text`` or ``body`` columns were written to by another
        tool (they hold '' once packed): the written columns win over the packed ones, and the
        post is stored unpacked (the next ``pack_posts`` packs it again). Returns how many."""
        conn = self.conn
        rows = conn.execute(
            "SELECT id, raw, text, body, packed FROM posts "
            "WHERE packed IS NOT NULL AND (raw != '' OR text != '' OR body != '')"
        ).fetchall()
        for post_id, raw, text, body, packed in rows:
            content = self.unpack(post_id, packed)
            conn.execute(
                "UPDATE posts SET raw = ?, text = ?, body = ?, packed = NULL WHERE id = ?",
                (raw or content.raw, text or content.text, body or content.body, post_id),
            )
        return len(rows)

    def merge_index_while_writing(self, on: bool) -> None:
        """FTS5's automatic merging of the index's segments as posts are written: off while an
        import writes (its segments merge 16 at a time when a level fills, and a large import
        ends by merging all into one, ``compact``), on again after it (FTS5's default, 4).
        Merging as it goes rewrote each posting at every level: an import of 100,000 posts
        spent 13 % more CPU in the writer. Left off by a crash, it is on after the next import.
        In the caller's transaction."""
        self.conn.execute(
            "INSERT INTO posts_fts(posts_fts, rank) VALUES ('automerge', ?)", (4 if on else 0,)
        )

    def optimize(self, *, vacuum: bool = False) -> None:
        """Pack the posts not packed yet, merge the full-text index into one segment, refresh
        the query planner's statistics, and with ``vacuum`` rewrite the file without free
        pages."""
        self.pack_posts()
        with self.transaction() as conn:
            self.merge_bands()
            conn.execute("INSERT INTO posts_fts(posts_fts) VALUES ('optimize')")
        self.conn.execute("PRAGMA optimize")
        if vacuum:
            # with a large page cache (an import's), VACUUM in WAL mode held the whole rewritten
            # file in memory: 335 MB for a 280 MB archive, against 25 MB with the default cache
            cache = self.conn.execute("PRAGMA cache_size").fetchone()[0]
            self.conn.execute("PRAGMA cache_size = -2000")
            try:
                self.conn.execute("VACUUM")
            finally:
                self.conn.execute(f"PRAGMA cache_size = {int(cache)}")
        self.checkpoint()

    def compact(self) -> bool:
        """``optimize(vacuum=True)`` when there is room for it: VACUUM builds a copy of the
        archive in a temporary file and, in WAL mode, writes all of it through the log. False
        when the disks lack the room or another connection holds the archive (it stays as it
        was, only bigger; ``maintenance --vacuum`` compacts it later)."""
        import shutil
        import tempfile

        size = self.path.stat().st_size + (64 << 20)
        folder, temp = self.path.parent, Path(tempfile.gettempdir())
        try:
            if os.stat(folder).st_dev == os.stat(temp).st_dev:
                room = shutil.disk_usage(folder).free >= 2 * size
            else:
                room = min(shutil.disk_usage(folder).free, shutil.disk_usage(temp).free) >= size
        except OSError:
            return False
        if not room:
            return False
        try:
            self.optimize(vacuum=True)
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                return False
            raise
        return True

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the archive file and empty it (``wal_checkpoint
        (TRUNCATE)``), so that the file alone holds everything: before copying it or publishing
        it with Datasette. False when a reader (a Datasette beside it) kept it from finishing."""
        busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    def rebuild_index(self) -> int:
        """Rebuild the full-text index from the posts table. Returns the number of posts."""
        n = 0
        with self.transaction() as conn:
            conn.execute("INSERT INTO posts_fts(posts_fts) VALUES ('delete-all')")
            self._unpack_edited()
            rows = conn.execute(
                "SELECT id, title, text, categories, tags, source, packed FROM posts"
            ).fetchall()
            for row in rows:
                text = self.text_of(row[0], row[2], row[6])
                values = self.fts_values(
                    row[1], text, json.loads(row[3]), json.loads(row[4]), row[5]
                )
                conn.execute(
                    "INSERT INTO posts_fts(rowid, title, text, category, tags, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (row[0], *values),
                )
                conn.execute(
                    "UPDATE posts SET index_hash = ? WHERE id = ?",
                    (self.index_hash(row[1], text, row[3], row[4], row[5]), row[0]),
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
        row = {
            **row,
            "external_id": db_text(row["external_id"]),
            # post_row hashes the text before packing it; a row made otherwise is hashed here
            "index_hash": row.get("index_hash")
            or self.index_hash(
                row["title"], row["text"], row["categories"], row["tags"], row["source"]
            ),
        }
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
            self._delete_labels(post_id)
            # rewritten: updated now (the row's import time), first imported as before
            row["updated_at"] = row["imported_at"]
            columns = [c for c in columns if c != "imported_at"]
            conn.execute(
                f"UPDATE posts SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                [row[c] for c in columns] + [post_id],
            )
        for key, _, table, column in LABEL_TABLES:
            names = [(name,) for name in json.loads(row[key])]
            if names:
                conn.executemany("INSERT OR IGNORE INTO labels (name) VALUES (?)", names)
                conn.executemany(
                    f"INSERT OR IGNORE INTO {table} ({column}, post_id) "
                    "SELECT id, ? FROM labels WHERE name = ?",
                    [(post_id, name) for (name,) in names],
                )
        conn.execute(
            "INSERT INTO posts_fts(rowid, title, text, category, tags, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (post_id, *fts),
        )
        return post_id

    def _delete_labels(self, post_id: int) -> None:
        for _, _, table, _ in LABEL_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE post_id = ?", (post_id,))

    def mark_duplicates(self, post_id: int, source_path: str) -> None:
        """Every other file of a post becomes a duplicate copy: ``source_path``'s content won."""
        # row by row, by id: an UPDATE that could change several rows would make FTS5 write
        # its pending index data to disk (see ``record_file``)
        others = self.conn.execute(
            "SELECT id FROM files WHERE post_id = ? AND path != ?", (post_id, db_text(source_path))
        ).fetchall()
        self.conn.executemany("UPDATE files SET status = 'duplicate' WHERE id = ?", others)

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
        message: str | None = None,
        warnings: Sequence[str] = (),
        options: str | None = None,
    ) -> None:
        """Remember a file seen by an import: its stat and hash, what became of it (and why),
        its warnings and the parse ``options`` it was read with."""
        # one row, by its id: a statement that could change several rows (an UPDATE by path,
        # or a REPLACE, which may delete one) opens a statement savepoint, and FTS5 writes its
        # pending index data to disk at each savepoint: after every post's index insert, the
        # import spent ~190 µs a file there and left the index in a segment per post
        values = (
            db_text(path), post_id, size, mtime_ns, stored_digest(hash), status, reason, message,
            json.dumps(list(warnings), ensure_ascii=False) if warnings else None, options,
        )  # fmt: skip
        columns = "path, post_id, size, mtime_ns, hash, status, reason, message, warnings, options"
        now = "CAST(strftime('%s', 'now') AS INTEGER)"
        file_id, free = self._file_slot(path)
        if file_id is None:
            if free is None:
                raise StoreError(
                    f"{path}: no free files row for this path ({FILE_SLOTS} hash collisions)"
                )
            self.conn.execute(
                f"INSERT INTO files (id, {columns}, gone, seen_at) "
                f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, {now})",
                (free, *values),
            )
        else:
            self.conn.execute(
                f"UPDATE files SET ({columns}, gone, seen_at) = "
                f"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, {now}) WHERE id = ?",
                (*values, file_id),
            )

    def _file_id(self, path: str) -> int | None:
        """The id of ``path``'s files row, if it has one."""
        return self._file_slot(path)[0]

    def _file_slot(self, path: str) -> tuple[int | None, int | None]:
        """The id of ``path``'s files row (None if it has none), and the first of its ids
        (``file_key``) that no row holds (None if all are held): one range of ids read."""
        key = file_key(path)
        stored = db_text(path)
        held = dict(
            self.conn.execute(
                "SELECT id, path FROM files WHERE id >= ? AND id < ?", (key, key + FILE_SLOTS)
            ).fetchall()
        )
        found = next((i for i, p in held.items() if p == stored), None)
        return found, free_file_id(key, held)

    def mark_gone(self, paths: Sequence[str], gone: bool) -> None:
        """Mark recorded files as no longer found (``gone``) or found again."""
        for path in paths:
            self.conn.execute(
                "UPDATE files SET gone = ? WHERE id = ?", (int(gone), self._file_id(path))
            )

    def prune(self) -> tuple[int, int]:
        """Forget the files marked gone, and delete the posts left with no file. Returns how
        many files and posts."""
        conn = self.conn
        files = conn.execute("DELETE FROM files WHERE gone").rowcount
        orphans = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM posts WHERE id NOT IN "
                "(SELECT post_id FROM files WHERE post_id IS NOT NULL)"
            ).fetchall()
        ]
        for post_id in orphans:
            self.detach_story(post_id)  # a story it heads passes to its next post
            self._fts_delete(post_id)
            self._delete_labels(post_id)
            conn.execute("DELETE FROM posts WHERE id = ?", (post_id,))
        return files, len(orphans)

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None:
        """Same content, new mtime (a ``touch`` or a copy): remember the new stat."""
        self.conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
            (size, mtime_ns, self._file_id(path)),
        )

    # -- stories (see ``stories``; the tables are described in ``migrations.m006_stories``) ----

    def story_threshold(self) -> float:
        """The threshold the archive's stories were grouped with (``maintenance`` sets it)."""
        from .stories import DEFAULT_THRESHOLD

        row = self.conn.execute(
            "SELECT value FROM settings WHERE key = 'story_threshold'"
        ).fetchone()
        return float(row[0]) if row else DEFAULT_THRESHOLD

    def _check_story_version(self) -> None:
        """Group the stories again when they were made by other signature code or another
        hash function (``stories.VERSION``, ``stories.HASH_CHECK``), or never (an archive from
        before stories): once, in one transaction, so an interrupted run is simply redone."""
        row = self.conn.execute("SELECT value FROM settings WHERE key = 'story_version'").fetchone()
        if row is None or row[0] != _story_version():
            self.rebuild_stories(self.story_threshold())

    def plan_story(
        self, sig: Signature, text: str, date_utc: int | None, post_id: int | None = None,
        *, threshold: float | None = None, learn: bool = True, known: KeyFilter | None = None,
    ) -> StoryPlan:  # fmt: skip
        """Where a post goes (inside the write transaction, before its row is written): the
        story of its best-scoring candidate at or above the threshold, else its own. ``sig``
        comes from the import worker; when some of its paragraphs are known boilerplate it is
        made again from ``text`` without them. ``post_id`` is None for a post not stored yet
        (it will get the highest id). ``learn`` records its paragraphs' contexts. ``known``:
        every band key stored (or more), so that a post with none of them is not looked up."""
        conn = self.conn
        threshold = self.story_threshold() if threshold is None else threshold
        if sig.contexts:
            from .queries import learnt_paragraphs

            learnt = learnt_paragraphs(self, [k for k, _ in sig.contexts])
            if learnt:
                from .stories import signature

                sig = signature(text, skip=learnt)
            if learn:
                self._learn_paragraphs(sig)
        if sig.empty:
            return StoryPlan(sig, None, None)
        keys = sig.band_keys()
        if known is not None and not known.may_have(keys):
            return StoryPlan(sig, None, None)  # most posts: nothing more to import or ask
        from . import stories
        from .queries import story_candidates

        rows = story_candidates(self, keys, post_id)
        if self._stories is not None:
            rows = self._stories.candidates(keys, post_id, rows)
        match = stories.best_match(stories.plausible(rows, sig, threshold), sig, threshold)
        if match is None:
            return StoryPlan(sig, None, None)
        rep, rep_date = conn.execute(
            "SELECT r.id, r.date_utc FROM posts p JOIN posts r ON r.id = coalesce(p.story, p.id) "
            "WHERE p.id = ?",
            (match.post,),
        ).fetchone()
        if _earlier((date_utc, post_id), (rep_date, rep)):
            return StoryPlan(sig, None, rep)  # this post is the story's earliest now
        return StoryPlan(sig, rep, None)

    def _learn_paragraphs(self, sig: Signature) -> None:
        from .stories import BOILERPLATE_CONTEXTS

        # no more contexts per paragraph than the rule needs; the context's top 32 bits are
        # enough to tell different rests apart
        self.conn.executemany(
            "INSERT OR IGNORE INTO story_paragraph (key, context) SELECT ?1, ?2 "
            "WHERE (SELECT count(*) FROM story_paragraph WHERE key = ?1) < ?3",
            [(key, rest >> 32, BOILERPLATE_CONTEXTS) for key, rest in sig.contexts],
        )

    def record_story(self, post_id: int, plan: StoryPlan) -> None:
        """Keep a placed post's signature and band keys (after its row is written with
        ``story = plan.story``), and move the story it became the earliest post of to its id."""
        conn = self.conn
        if plan.renames is not None:
            conn.execute("UPDATE posts SET story = ? WHERE id = ?", (post_id, plan.renames))
            self._move_copies(plan.renames, post_id)
        if plan.sig.empty:
            return
        if self._stories is not None:
            self._stories.add(post_id, plan.sig.to_bytes(), plan.sig.band_keys())
            return
        conn.execute(
            "INSERT OR REPLACE INTO story_sig VALUES (?, ?)", (post_id, plan.sig.to_bytes())
        )
        self.store_bands([(key, post_id) for key in plan.sig.band_keys()])

    def store_bands(self, rows: list[tuple[int, int]]) -> None:
        """Add (band key, post) rows: to ``story_band_recent``, which is merged into
        ``story_band`` (``merge_bands``) once it holds a sixteenth as many rows, and at least
        ``RECENT_BANDS_MIN`` (see ``migrations.m012_recent_bands``: why two tables)."""
        if not rows:
            return
        insert = f"INSERT OR IGNORE INTO {BAND_TABLES[1]} VALUES"
        if len(rows) <= 16:  # a post's: one statement, a third quicker than executemany
            marks = ", ".join(["(?, ?)"] * len(rows))
            self.conn.execute(f"{insert} {marks}", [value for row in rows for value in row])
        else:
            self.conn.executemany(f"{insert} (?, ?)", rows)
        if self._band_rows is None:  # counted once; then kept up to date (a guide, not a fact)
            merged, recent = (
                self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in BAND_TABLES
            )
        else:
            merged, recent = self._band_rows[0], self._band_rows[1] + len(rows)
        self._band_rows = (merged, recent)
        if recent >= max(RECENT_BANDS_MIN, merged // 16):
            self.merge_bands()

    def merge_bands(self) -> None:
        """Move the recent band rows into ``story_band``, in key order (each of its pages is
        written once), inside the caller's transaction."""
        main, recent = BAND_TABLES
        moved = self.conn.execute(
            f"INSERT OR IGNORE INTO {main} SELECT key, post FROM {recent} ORDER BY key, post"
        ).rowcount
        self.conn.execute(f"DELETE FROM {recent}")
        if self._band_rows is not None:
            self._band_rows = (self._band_rows[0] + max(moved, 0), 0)

    @contextmanager
    def buffer_stories(self) -> Iterator[None]:
        """Inside a write transaction (an import chunk's): the placed posts' signatures and
        band keys are kept in memory and written at the end, the keys sorted, two statements
        for the chunk instead of two per post; placing a post finds the chunk's earlier posts
        in memory. Nothing is written if the block fails (its transaction is rolled back)."""
        self._stories = _StoryBuffer()
        try:
            yield
            self._flush_stories()
        finally:
            self._stories = None

    def _flush_stories(self) -> None:
        """Write the buffered signatures and band keys (the keys in order: fewer pages touched
        at a time) and start an empty buffer."""
        buffer = self._stories
        if buffer is None or not buffer.sigs:
            return
        self.conn.executemany("INSERT OR REPLACE INTO story_sig VALUES (?, ?)", buffer.sigs.items())
        buffer.rows.sort()
        self.store_bands(buffer.rows)
        self._stories = _StoryBuffer()

    def detach_story(self, post_id: int) -> None:
        """Take a stored post out of its story before its content changes or it is deleted:
        its signature and band keys go, and a story it was the earliest post of passes to the
        next earliest. (Band keys are found again from the stored text; any left behind only
        add a candidate that the signature no longer backs.)"""
        from .stories import signature

        self._flush_stories()  # (a post placed earlier in this chunk: its rows are written)
        conn = self.conn
        row = conn.execute(
            "SELECT text, coalesce(story, id), packed FROM posts WHERE id = ?", (post_id,)
        ).fetchone()
        if row is None:
            return
        text, story = self.text_of(post_id, row[0], row[2]), row[1]
        conn.execute("DELETE FROM story_sig WHERE post = ?", (post_id,))
        keys = signature(text or "").band_keys()
        for table in BAND_TABLES:
            conn.executemany(
                f"DELETE FROM {table} WHERE key = ? AND post = ?", [(key, post_id) for key in keys]
            )
        if story != post_id:
            return
        heir = conn.execute(
            "SELECT id FROM posts WHERE story = ? AND id != ? "
            "ORDER BY date_utc ASC NULLS LAST, id LIMIT 1",
            (post_id, post_id),
        ).fetchone()
        if heir is not None:
            self._move_copies(post_id, heir[0])

    def _move_copies(self, story: int, to: int) -> None:
        """The copies of ``story`` (posts whose ``story`` is it) pass to the story whose first
        post is ``to`` (and ``to``, if it is one of them, becomes that first post). Row by row:
        one ``UPDATE … WHERE story = ?``, which may change several rows and so needs a statement
        journal, took 4-270 ms inside a large import transaction; these take well under one."""
        from .queries import story_copies

        self.conn.executemany(
            "UPDATE posts SET story = ? WHERE id = ?",
            [(None if copy == to else to, copy) for copy in story_copies(self, story)],
        )

    def rebuild_stories(
        self, threshold: float | None = None, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Group every post again (``maintenance --rebuild-stories``, or a new signature
        version) with ``threshold`` (stored as the archive's), as ``stories.StoryIndex.rebuild``
        does: every paragraph's contexts are counted first, then the posts are placed oldest
        first, so the first posts under a disclaimer are judged knowing it. One transaction:
        interrupted, nothing changes. Returns the number of posts."""
        from . import stories

        threshold = stories.validate_threshold(
            self.story_threshold() if threshold is None else threshold
        )
        with self.transaction() as conn:
            for table in ("story_sig", *BAND_TABLES, "story_paragraph"):
                conn.execute(f"DELETE FROM {table}")
            self._band_rows = None
            conn.execute("UPDATE posts SET story = NULL WHERE story IS NOT NULL")
            order = [
                (r[0], r[1])
                for r in conn.execute(
                    "SELECT id, date_utc FROM posts ORDER BY date_utc ASC NULLS LAST, id"
                )
            ]
            total = len(order)
            for pass_ in (1, 2):
                for start in range(0, total, _STORY_BATCH):
                    chunk = order[start : start + _STORY_BATCH]
                    marks = ", ".join("?" * len(chunk))
                    texts = {
                        i: self.text_of(i, text, packed)
                        for i, text, packed in conn.execute(
                            f"SELECT id, text, packed FROM posts WHERE id IN ({marks})",
                            [i for i, _ in chunk],
                        ).fetchall()
                    }
                    for post_id, date_utc in chunk:
                        text = texts[post_id] or ""
                        sig = stories.signature(text)
                        if pass_ == 1:
                            self._learn_paragraphs(sig)
                            continue
                        plan = self.plan_story(
                            sig, text, date_utc, post_id, threshold=threshold, learn=False
                        )
                        if plan.story is not None:
                            conn.execute(
                                "UPDATE posts SET story = ? WHERE id = ?", (plan.story, post_id)
                            )
                        self.record_story(post_id, plan)
                    if progress is not None:
                        progress(start + len(chunk) + (total if pass_ == 2 else 0), 2 * total)
            conn.executemany(
                "INSERT OR REPLACE INTO settings VALUES (?, ?)",
                [("story_threshold", repr(threshold)), ("story_version", _story_version())],
            )
        return total


# -- stories ------------------------------------------------------------------------------------

#: recent band rows are merged into the main table once there are this many, or a sixteenth
#: of the main table's: importing 100,000 posts, every fourth chunk; at 1,000,000, every 30th
RECENT_BANDS_MIN = 1 << 16
#: posts whose text a story rebuild reads at a time
_STORY_BATCH = 1000


class _StoryBuffer:
    """Signatures (post → bytes) and band keys (key → posts) of posts placed but not written
    yet (``Store.buffer_stories``)."""

    def __init__(self) -> None:
        self.sigs: dict[int, bytes] = {}
        self.bands: dict[int, list[int]] = {}
        #: (key, post) of every buffered band key, the rows written at the end
        self.rows: list[tuple[int, int]] = []

    def add(self, post: int, sig: bytes, keys: Sequence[int]) -> None:
        self.sigs[post] = sig
        bands = self.bands
        for key in keys:
            if key in bands:
                bands[key].append(post)
            else:
                bands[key] = [post]
        self.rows.extend(zip(keys, itertools.repeat(post)))

    def candidates(
        self, keys: Sequence[int], exclude: int | None, stored: list[tuple[int, bytes]]
    ) -> list[tuple[int, bytes]]:
        """``stored`` (the archive's candidates) and the buffered posts sharing a key, at
        most ``queries.MAX_CANDIDATES`` in all."""
        from .queries import MAX_CANDIDATES

        found = {post for key in keys for post in self.bands.get(key, ())}
        found.discard(exclude)  # type: ignore[arg-type]
        if not found:
            return stored
        return [*stored, *((post, self.sigs[post]) for post in sorted(found))][:MAX_CANDIDATES]


class StoryPlan(NamedTuple):
    """Where a post goes: ``sig`` its final signature (learnt boilerplate left out); ``story``
    the id stored in ``posts.story`` (None: its own story); ``renames``: the story whose
    earliest post it becomes, whose members then take its id."""

    sig: Signature
    story: int | None
    renames: int | None


def _story_version() -> str:
    """Stories made under another value are grouped again when the archive opens."""
    from .stories import HASH_CHECK, VERSION

    return f"{VERSION}:{HASH_CHECK}"


def _earlier(a: tuple[int | None, int | None], b: tuple[int | None, int | None]) -> bool:
    """Whether post ``a`` (date_utc, id) comes before ``b`` in story order: by date, undated
    last, then by id (None: a post not stored yet, after every stored one)."""

    def key(p: tuple[int | None, int | None]) -> tuple[bool, int, float]:
        date, post = p
        return (date is None, date or 0, float("inf") if post is None else post)

    return key(a) < key(b)


# -- the posts row ------------------------------------------------------------------------------


def post_row(
    post: ParsedPost, *, raw: str, encoding: str, now: int, packer: Packer | None = None
) -> dict[str, Any]:
    """The ``posts`` row (every column but ``id``, see ``migrations``) of a parsed post: its
    file's text as decoded and the encoding it was read in. ``now`` is the import time
    (seconds since the epoch). The file it came from, and the sha256 of that file's bytes, are
    not in the row: they are the post's ``files`` row with status 'post' (``m009_lean_rows``,
    ``m010_files_by_hash``). With a ``packer``, raw, text and body are packed into ``packed``
    (and left ''). Pure: import workers call it in their own processes."""
    row: dict[str, Any] = {
        "external_id": post.external_id,
        "title": post.title,
        "date": format_date(post.date),
        "date_utc": int(post.date.timestamp()) if post.date else None,
        "category": post.category,
        "categories": json.dumps(post.categories, ensure_ascii=False),
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
        "encoding": None if encoding == "utf-8" else encoding,  # NULL: UTF-8 (m010)
        "hash": b"",  # empty since m010, and source_path, source_mtime_ns NULL since m009:
        "source_path": None,  # the post's files row with status 'post' holds them
        "source_mtime_ns": None,
        "imported_at": now,
        "updated_at": None,  # NULL until the post is rewritten (``write_post``)
        "story": None,  # its own story until the importer places it (``Store.plan_story``)
        "packed": None,
    }
    row["index_hash"] = Store.index_hash(
        row["title"], row["text"], row["categories"], row["tags"], row["source"]
    )
    if packer is not None:
        row["packed"] = packer.pack(row["raw"], row["text"], row["body"])
        row.update(raw="", text="", body="")
    return row
