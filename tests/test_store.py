"""The store: schema and migrations, checks, optimize, and `newsarc maintenance`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc.cli import app
from newsarc.ingest import Importer
from newsarc.search import count
from newsarc.store import FTS_HASHSIZE, MIGRATIONS, Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "a.db")
    Importer(store, workers=0).run([EXAMPLES])
    return store


def test_store_new_archive_is_current(tmp_path: Path):
    with Store.open(tmp_path / "new.db") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        applied = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert applied == [m.__name__ for m in MIGRATIONS]
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA page_size").fetchone()[0] == 16384


def test_store_migrates_an_older_archive(tmp_path: Path):
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


def test_store_missing_archive_is_not_created_for_reading(tmp_path: Path):
    from newsarc.errors import StoreError

    with pytest.raises(StoreError, match="no archive here yet"):
        Store.open(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_store_check_finds_nothing_on_a_healthy_archive(store: Store):
    assert store.check() == []


def test_store_check_finds_a_post_missing_from_the_index(store: Store):
    store.conn.execute(
        "INSERT INTO posts (external_id, title, tags, text, body, meta, raw, hash) "
        "VALUES ('x1', 't', '[]', 'text', '[]', '{}', 'raw', 'h')"
    )
    problems = store.check()
    assert any("in the full-text index" in p for p in problems)
    assert any("without a recorded file" in p for p in problems)


def test_store_optimize_keeps_results(store: Store):
    before = {q: count(store, q) for q in ("央企", "港股", "钛", "创新联合体")}
    store.optimize(vacuum=True)
    assert {q: count(store, q) for q in before} == before
    assert store.check() == []


def test_store_rebuild_index_keeps_results(store: Store):
    before = {q: count(store, q) for q in ("央企", "港股", "钛", "國資委")}
    assert store.rebuild_index() == store.count()
    assert {q: count(store, q) for q in before} == before
    assert store.check() == []


def test_cli_maintenance(tmp_path: Path):
    runner = CliRunner()
    db = str(tmp_path / "a.db")
    assert runner.invoke(app, ["--db", db, "import", "-q", str(EXAMPLES)]).exit_code == 0
    checked = runner.invoke(app, ["--db", db, "maintenance", "--check"])
    assert checked.exit_code == 0 and "archive ok" in checked.stderr and checked.stdout == ""
    optimized = runner.invoke(app, ["--db", db, "maintenance", "--vacuum", "--rebuild-index"])
    assert optimized.exit_code == 0
    assert optimized.stderr == (
        "archive ok, index rebuilt from 12 posts, index optimized, "
        "file rewritten without free pages\n"
    )
    with Store.open(Path(db)) as store:
        store.conn.execute("DELETE FROM files")
    broken = runner.invoke(app, ["--db", db, "maintenance", "--check"])
    assert broken.exit_code == 4 and "without a recorded file" in broken.stderr
    missing = runner.invoke(app, ["--db", str(tmp_path / "none.db"), "maintenance"])
    assert missing.exit_code == 2
