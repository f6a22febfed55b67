"""The schema's migrations: named, ordered, recorded, and applied to old archives when they open."""

from __future__ import annotations

import hashlib
import json
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
    # numbers are reserved per branch, so one may land before a lower one: unique, increasing
    assert numbers == sorted(set(numbers)) and numbers[0] == 1, names


def test_migrations_apply_creates_the_schema_and_records_every_name():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.apply(conn, 0)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    applied = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert applied == [m.__name__ for m in MIGRATIONS]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"posts", "post_tag_ids", "labels", "files", "posts_fts", "settings"} <= tables
    views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert views == {"post_tags", "post_categories"}
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(posts)")}
    assert CATALOG_INDEX in indexes
    setting = "SELECT value FROM settings WHERE key = 'index_version'"
    assert conn.execute(setting).fetchone()[0] == INDEX_VERSION


def _apply_first(conn: sqlite3.Connection, n: int) -> None:
    """Give ``conn`` the schema an archive made when newsarc had only the first ``n``
    migrations has (``user_version`` n)."""
    current = migrations.MIGRATIONS
    migrations.MIGRATIONS = current[:n]
    try:
        migrations.apply(conn, 0)
    finally:
        migrations.MIGRATIONS = current


def test_migrations_apply_runs_only_the_missing_ones():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _apply_first(conn, 1)
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
    conn = sqlite3.connect(db, isolation_level=None)
    _apply_first(conn, 1)  # an archive made before m002
    conn.close()
    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        indexes = {r[1] for r in store.conn.execute("PRAGMA index_list(posts)")}
        assert "idx_posts_catalog" in indexes
        hashsize = "SELECT v FROM posts_fts_config WHERE k = 'hashsize'"
        assert store.conn.execute(hashsize).fetchone()[0] == FTS_HASHSIZE


def test_migrations_m004_backfills_every_category(tmp_path: Path):
    """An archive made before m004 kept a post's categories after the first only in ``meta``:
    the upgrade makes every one of them select the post, and indexes them."""
    from newsarc.queries import Filters, archive_stats, count_posts, where_clause
    from newsarc.search import count

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    _apply_first(conn, 3)
    conn.execute("UPDATE settings SET value = '1' WHERE key = 'index_version'")
    rows = [
        (1, "a1", "两类", "emnews", json.dumps({"categories": ["emnews", "markets"]})),
        (2, "a2", "一类", "emnews", "{}"),
        (3, "a3", "无类", None, "{}"),
    ]
    for post_id, external_id, title, category, meta in rows:
        conn.execute(
            "INSERT INTO posts (id, external_id, title, category, tags, text, body, meta, raw, "
            "hash) VALUES (?, ?, ?, ?, '[]', '正文', '[]', ?, '', '')",
            (post_id, external_id, title, category, meta),
        )
        conn.execute(
            "INSERT INTO files (path, post_id, status) VALUES (?, ?, 'post')",
            (f"/p/{external_id}.md", post_id),
        )
    conn.close()
    with Store.open(db) as store:
        assert store.check() == []
        markets = Filters(category="markets")
        assert count_posts(store, *where_clause(markets)) == 1
        assert count_posts(store, *where_clause(Filters(category="emnews"))) == 2
        assert count(store, "category:markets") == 1
        stats = archive_stats(store)
        assert {c.value: c.posts for c in stats.categories} == {"emnews": 2, "markets": 1, None: 1}


def test_m005_gives_an_older_archive_local_dates(tmp_path: Path, monkeypatch):
    db = tmp_path / "old.db"
    before = [m for m in MIGRATIONS if m.__name__ < "m005"]
    monkeypatch.setattr(migrations, "MIGRATIONS", before)
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.apply(conn, 0)
    conn.execute(
        "INSERT INTO posts (external_id, title, date, date_utc, tags, text, body, meta, raw, hash)"
        " VALUES ('a', 't', '2022-03-18T23:30:00+05:30', 1647626400, '[]', '', '[]', '{}', '',"
        " 'h'), ('b', 'u', NULL, NULL, '[]', '', '[]', '{}', '', 'h')"
    )
    conn.close()
    monkeypatch.undo()
    with Store.open(db) as store:
        rows = store.conn.execute(
            "SELECT external_id, local_date FROM posts ORDER BY id"
        ).fetchall()
        assert rows == [("a", "2022-03-18 23:30:00"), ("b", None)]
        catalog = [r[2] for r in store.conn.execute(f"PRAGMA index_info({CATALOG_INDEX})")]
        assert "local_date" in catalog
        # a new post gets its local date from SQLite itself
        store.conn.execute(
            "INSERT INTO posts (external_id, title, date, tags, text, body, meta, raw, hash)"
            " VALUES ('c', 'v', '2022-04-30T23:00:00-05:00', '[]', '', '[]', '{}', '', 'h')"
        )
        new = "SELECT local_date FROM posts WHERE external_id = 'c'"
        assert store.conn.execute(new).fetchone()[0] == "2022-04-30 23:00:00"


def test_migrations_apply_skips_recorded_names_whatever_their_order(tmp_path: Path):
    # a migration numbered lower that lands after a higher one has run: only it runs
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.apply(conn, 0)
    first = MIGRATIONS[1].__name__
    conn.execute("DELETE FROM _migrations WHERE name = ?", (first,))
    conn.execute(f"DROP INDEX {CATALOG_INDEX}")
    migrations.apply(conn, len(MIGRATIONS) - 1)
    applied = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
    assert applied == {m.__name__ for m in MIGRATIONS}
    assert CATALOG_INDEX in {r[1] for r in conn.execute("PRAGMA index_list(posts)")}


def test_extend_catalog_keeps_what_the_index_holds():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.apply(conn, 0)
    held = [r[2] for r in conn.execute(f"PRAGMA index_info({CATALOG_INDEX})")]
    assert held == ["id", "date_utc", "category", "source", "local_date", "story"]
    conn.execute("ALTER TABLE posts ADD COLUMN later INTEGER")
    migrations.extend_catalog(conn, "later")
    migrations.extend_catalog(conn, "later")  # twice: no change
    columns = [r[2] for r in conn.execute(f"PRAGMA index_info({CATALOG_INDEX})")]
    assert columns == [*held, "later"]


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
        values = Store.fts_values(
            row[1], row[2], [row[3]] if row[3] else [], json.loads(row[4]), row[5]
        )
        old.execute(
            "INSERT INTO posts_fts(rowid, title, text, category, tags, source) VALUES (?, ?, ?, ?, ?, ?)",
            (row[0], *values),
        )
    old.execute("DETACH fresh")
    # as newsarc left it then: index version 1 (m001 writes today's)
    old.execute("UPDATE settings SET value = '1' WHERE key = 'index_version'")
    assert "text, category" in _table_sql(old, "posts_fts")  # title first, as before
    old.close()

    with Store.open(old_db) as store, Store.open(fresh_db) as fresh:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert "posts_fts USING fts5(text, title" in _table_sql(store.conn, "posts_fts")
        for table in ("post_tag_ids", "post_category_ids"):  # m011
            assert "WITHOUT ROWID" in _table_sql(store.conn, table)
        assert "id INTEGER PRIMARY KEY, path" in _table_sql(store.conn, "files")  # m010
        for query in ("央企", "港股", "钛", "创新联合体", "涨", "title:港股"):
            got = search(store, query, limit=50)
            want = search(fresh, query, limit=50)
            assert got.total is not None and want.total is not None
            assert got.total == want.total > 0 or query == "title:港股"
            assert [(h.post.id, h.score) for h in got.hits] == [
                (h.post.id, h.score) for h in want.hits
            ]
        paths = [r[0] for r in fresh.conn.execute("SELECT path FROM files")]
        assert paths and all(file_state(store, p)[:5] == file_state(fresh, p)[:5] for p in paths)  # type: ignore[index]
        assert store.check() == []


def test_migrations_m009_converts_an_archives_rows_in_place(tmp_path: Path):
    """An archive as m008 left it (hex digests, the source file in the posts row, ISO times,
    the default options spelled out, index hashes as whole hex digests) gets the lean rows, and imports go on as before: the
    same files are unchanged, a newer copy of a post still wins over its source file."""
    import os
    import shutil

    from newsarc.ingest import Importer
    from newsarc.queries import file_state, find_post_by_external_id

    examples = Path(__file__).resolve().parents[1] / "examples"
    folder = tmp_path / "posts"
    shutil.copytree(examples, folder)
    db = tmp_path / "a.db"
    with Store.open(db) as store:
        Importer(store, workers=0).run([folder])
        conn = store.conn
        posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        # back to the rows of an archive made before m009
        conn.execute("BEGIN")
        conn.execute(
            "UPDATE posts SET hash = lower(hex((SELECT hash FROM files WHERE post_id = posts.id "
            "AND status = 'post'))), imported_at = '2026-01-02T03:04:05+00:00', "
            "updated_at = '2026-01-02T03:04:05+00:00', "
            "source_path = (SELECT path FROM files WHERE post_id = posts.id AND status = 'post'), "
            "source_mtime_ns = (SELECT mtime_ns FROM files WHERE post_id = posts.id "
            "AND status = 'post')"
        )
        conn.execute(
            "UPDATE files SET hash = lower(hex(hash)), seen_at = '2026-01-02 03:04:05', "
            "options = 'tz=UTC+08:00'"
        )
        # index hashes as whole hex digests, as archives kept them before 2026-12
        rows = conn.execute("SELECT id, title, text, categories, tags, source, packed FROM posts")
        for post_id, title, text, categories, tags, source, packed in rows.fetchall():
            data = "\x1f".join(
                (title, store.text_of(post_id, text, packed), categories, tags, source or "")
            )
            digest = hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()
            conn.execute("UPDATE posts SET index_hash = ? WHERE id = ?", (digest, post_id))
        conn.execute("DELETE FROM _migrations WHERE name = 'm009_lean_rows'")
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
        conn.execute("COMMIT")
        assert len(conn.execute("SELECT hash FROM posts").fetchone()[0]) == 64
    with Store.open(db) as store:
        conn = store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        row = conn.execute(
            "SELECT count(*), sum(length(hash) = 32 AND typeof(hash) = 'blob'), "
            "sum(source_path IS NULL AND source_mtime_ns IS NULL), "
            "sum(imported_at = 1767323045 AND updated_at = 1767323045), "
            "sum(typeof(index_hash) = 'blob' AND length(index_hash) = 8) FROM posts"
        ).fetchone()
        assert row == (posts, posts, posts, posts, posts)
        files = conn.execute(
            "SELECT count(*), sum(typeof(hash) = 'blob'), sum(seen_at = 1767323045), "
            "count(options) FROM files"
        ).fetchone()
        assert files[:3] == (files[0], files[0], files[0]) and files[3] == 0
        path = next(folder.glob("*.md"))
        state = file_state(store, str(path))
        assert state is not None and state.hash == hashlib.sha256(path.read_bytes()).hexdigest()
        assert store.check() == []  # the converted index hashes are those of the rows
        again = Importer(store, workers=0).run([folder])
        assert again.unchanged == again.files and again.imported == again.updated == 0
        # a newer copy elsewhere wins over the file the post came from (found via its files row)
        external_id = path.stem.rsplit("-", 1)[-1]
        stored = find_post_by_external_id(store, external_id)
        assert stored is not None and stored.source_path == str(path)
        newer = tmp_path / "newer" / path.name
        newer.parent.mkdir()
        newer.write_text(path.read_text(encoding="utf-8") + "\n更新\n", encoding="utf-8")
        os.utime(newer, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
        Importer(store, workers=0).run([newer])
        assert find_post_by_external_id(store, external_id).source_path == str(newer)  # type: ignore[union-attr]
        # a row edited behind newsarc's back is still found
        conn.execute("UPDATE posts SET title = title || '!' WHERE id = 1")
        assert any("changed since it was indexed" in p for p in store.check())


def test_migrations_m010_finds_files_by_a_hash_of_their_path(tmp_path: Path):
    """An archive as m009 left it (files keyed by path, an index of local dates, 'utf-8'
    spelled out) gets files found by a hash of their path, and reads and imports as before:
    the same file states, the same posts in a local date range, nothing re-imported."""
    import shutil

    from newsarc.ingest import Importer
    from newsarc.queries import Filters, file_state, list_posts, resolve
    from newsarc.store import file_key

    examples = Path(__file__).resolve().parents[1] / "examples"
    folder = tmp_path / "posts"
    shutil.copytree(examples, folder)
    db = tmp_path / "a.db"
    since = Filters(since="2021-12-08 00:00:00", until="2021-12-09 00:00:00")
    with Store.open(db) as store:
        Importer(store, workers=0).run([folder])
        paths = [r[0] for r in store.conn.execute("SELECT path FROM files")]
        assert len(paths) > 12
        states = {p: file_state(store, p) for p in paths}
        in_range = [p.id for p in list_posts(store, since, limit=100).posts]
        conn = store.conn
        conn.execute("BEGIN")
        conn.execute(
            "CREATE TABLE files_old (path TEXT, post_id INTEGER REFERENCES posts(id), "
            "size INTEGER, mtime_ns INTEGER, hash TEXT, status TEXT, reason TEXT, seen_at TEXT, "
            "warnings TEXT, message TEXT, options TEXT, gone INTEGER NOT NULL DEFAULT 0, "
            "PRIMARY KEY (path)) WITHOUT ROWID"
        )
        conn.execute(
            "INSERT INTO files_old SELECT path, post_id, size, mtime_ns, hash, status, reason, "
            "seen_at, warnings, message, options, gone FROM files"
        )
        conn.execute("DROP TABLE files")
        conn.execute("ALTER TABLE files_old RENAME TO files")
        conn.execute("CREATE INDEX idx_files_post_id ON files (post_id)")
        conn.execute("CREATE INDEX idx_posts_local_date ON posts (local_date)")
        conn.execute(
            "UPDATE posts SET encoding = 'utf-8', updated_at = imported_at, "
            "hash = (SELECT hash FROM files WHERE post_id = posts.id AND status = 'post')"
        )
        conn.execute("DELETE FROM _migrations WHERE name = 'm010_files_by_hash'")
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
        conn.execute("COMMIT")
    with Store.open(db) as store:
        conn = store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        ids = dict(conn.execute("SELECT path, id FROM files"))
        assert sorted(ids) == sorted(paths) and all(ids[p] == file_key(p) for p in paths)
        assert {p: file_state(store, p) for p in paths} == states
        posted = next(p for p in paths if states[p].post_id)  # type: ignore[union-attr]
        assert resolve(store, posted) == states[posted].post_id  # type: ignore[union-attr]
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(posts)")}
        assert "idx_posts_local_date" not in indexes
        # UTF-8 and never rewritten: NULL; the file hash is the files row's
        row = conn.execute(
            "SELECT count(*), count(encoding), count(updated_at), sum(hash = x'') FROM posts"
        ).fetchone()
        assert row == (row[0], 0, 0, row[0])
        assert in_range and [p.id for p in list_posts(store, since, limit=100).posts] == in_range
        assert store.check() == []
        again = Importer(store, workers=0).run([folder])
        assert again.unchanged == again.files and again.imported == again.updated == 0
