"""The schema's migrations: named, ordered, recorded, and applied to old archives when they open."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from newsarc import migrations
from newsarc.migrations import CATALOG_INDEX, FTS_HASHSIZE, INDEX_VERSION, MIGRATIONS
from newsarc.store import Store


def test_migrations_are_numbered_in_order():
    names = [m.__name__ for m in MIGRATIONS]
    assert all(re.fullmatch(r"m\d{3}_\w+", name) for name in names), names
    numbers = [int(name[1:4]) for name in names]
    # strictly increasing from m001; numbers reserved by work on other branches may be
    # missing until it is merged
    assert numbers[0] == 1 and all(a < b for a, b in zip(numbers, numbers[1:], strict=False))


def test_migrations_apply_creates_the_schema_and_records_every_name():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.apply(conn, 0)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    applied = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert applied == [m.__name__ for m in MIGRATIONS]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"posts", "post_tags", "files", "posts_fts", "settings", "_migrations"} <= tables
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(posts)")}
    assert CATALOG_INDEX in indexes
    setting = "SELECT value FROM settings WHERE key = 'index_version'"
    assert conn.execute(setting).fetchone()[0] == INDEX_VERSION


def test_migrations_apply_runs_only_the_missing_ones():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.apply(conn, 0)
    conn.execute("DROP INDEX " + CATALOG_INDEX)
    conn.execute("DELETE FROM _migrations WHERE name != 'm001_initial'")
    # m001 would fail if it ran again (its tables exist): only m002 onwards may run
    migrations.apply(conn, 1)
    applied = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert applied == [m.__name__ for m in MIGRATIONS]
    assert CATALOG_INDEX in {r[1] for r in conn.execute("PRAGMA index_list(posts)")}


def test_migrations_new_archive_is_current(tmp_path: Path):
    with Store.open(tmp_path / "new.db") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        applied = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert applied == [m.__name__ for m in MIGRATIONS]
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA page_size").fetchone()[0] == 16384


def test_migrations_run_when_an_older_archive_opens(tmp_path: Path):
    db = tmp_path / "old.db"
    with Store.open(db) as store:
        # pretend the archive predates m002: drop what it made and the record of it
        store.conn.execute("DROP INDEX idx_posts_catalog")
        store.conn.execute("DELETE FROM posts_fts_config WHERE k = 'hashsize'")
        store.conn.execute("DELETE FROM _migrations WHERE name != 'm001_initial'")
        store.conn.execute("PRAGMA user_version = 1")
    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        indexes = {r[1] for r in store.conn.execute("PRAGMA index_list(posts)")}
        assert "idx_posts_catalog" in indexes
        hashsize = "SELECT v FROM posts_fts_config WHERE k = 'hashsize'"
        assert store.conn.execute(hashsize).fetchone()[0] == FTS_HASHSIZE


def _table_sql(conn: sqlite3.Connection, name: str) -> str:
    return conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]


def test_migrations_m007_converts_an_older_archive(tmp_path: Path, monkeypatch):
    import json

    from newsarc.ingest import Importer
    from newsarc.queries import file_state
    from newsarc.search import search

    examples = Path(__file__).resolve().parents[1] / "examples"
    fresh_db, old_db = tmp_path / "fresh.db", tmp_path / "old.db"
    with Store.open(fresh_db) as fresh:
        Importer(fresh, workers=0).run([examples])
    # an archive as newsarc left it before m007, holding the same posts
    old = sqlite3.connect(old_db, isolation_level=None)
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:3])
    migrations.apply(old, 0)
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    old.execute("ATTACH ? AS fresh", (str(fresh_db),))
    columns = [r[1] for r in old.execute("PRAGMA table_info(posts)")]
    names = ", ".join(columns)
    old.execute(f"INSERT INTO posts ({names}) SELECT {names} FROM fresh.posts")
    old.execute(
        "INSERT INTO files SELECT path, post_id, size, mtime_ns, hash, status, reason, seen_at FROM fresh.files"
    )
    old.execute("INSERT INTO post_tags SELECT tag, post_id FROM fresh.post_tags")
    for row in old.execute("SELECT id, title, text, category, tags, source FROM posts").fetchall():
        values = Store.fts_values(row[1], row[2], row[3], json.loads(row[4]), row[5])
        old.execute(
            "INSERT INTO posts_fts(rowid, title, text, category, tags, source) VALUES (?, ?, ?, ?, ?, ?)",
            (row[0], *values),
        )
    old.execute("DETACH fresh")
    assert "text, category" in _table_sql(old, "posts_fts")  # title first, as before
    old.close()

    with Store.open(old_db) as store, Store.open(fresh_db) as fresh:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert "posts_fts USING fts5(text, title" in _table_sql(store.conn, "posts_fts")
        for table in ("files", "post_tags"):
            assert "WITHOUT ROWID" in _table_sql(store.conn, table)
        for query in ("央企", "港股", "钛", "创新联合体", "涨", "title:港股"):
            got = search(store, query, limit=50)
            want = search(fresh, query, limit=50)
            assert got.total == want.total > 0 or query == "title:港股"
            assert [(h.post.id, h.score) for h in got.hits] == [
                (h.post.id, h.score) for h in want.hits
            ]
        paths = [r[0] for r in fresh.conn.execute("SELECT path FROM files")]
        assert paths and all(file_state(store, p) == file_state(fresh, p) for p in paths)
        assert store.check() == []
