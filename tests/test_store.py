"""The store: opening, writes, the posts row, checks, optimize, `newsarc maintenance`, and the
rule that SQL lives only in the store layer."""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Any

import pytest
from typer.testing import CliRunner

import newsarc
from newsarc.cli import app
from newsarc.dates import DEFAULT_TZ
from newsarc.ingest import Importer
from newsarc.parse import parse_post
from newsarc.queries import count_posts, file_state, posts_by_ids
from newsarc.read import read_file
from newsarc.search import count
from newsarc.store import Store, post_row

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "a.db")
    Importer(store, workers=0).run([EXAMPLES])
    return store


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
    assert store.rebuild_index() == count_posts(store)
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


def test_store_post_row_fills_every_column(tmp_path: Path):
    """The one function that builds a ``posts`` row gives every column but the id, from the
    parsed post and the file it came from, and nothing else (it is pure: same input, same row)."""
    path = EXAMPLES / "2021-12-08-202112082206672930.md"
    _, decoded = read_file(path)
    post = parse_post(decoded.text, PurePath(path.name), DEFAULT_TZ)
    info: dict[str, Any] = dict(
        raw=decoded.text,
        encoding=decoded.encoding,
        now=1767323045,
    )
    row = post_row(post, **info)
    assert row == post_row(post, **info)
    with Store.open(tmp_path / "a.db") as store:
        columns = [r[1] for r in store.conn.execute("PRAGMA table_info(posts)")]
        # every column but the id and the generated local date (post_row hashes the indexed
        # columns into index_hash before it packs the text)
        assert sorted(row) == sorted(c for c in columns if c not in ("id", "local_date"))
        with store.transaction():
            fts = Store.fts_values(post.title, post.text, post.categories, post.tags, post.source)
            post_id = store.write_post(row, fts, None)
        stored = posts_by_ids(store, [post_id], full=True, raw=True)[0]
    assert stored.title == "离岸人民币兑美元升至2018年以来最高水平"
    assert stored.date == "2021-12-08T10:46:18+08:00"
    assert row["date_utc"] == 1638931578
    assert stored.tags == ["东财滚动新闻"] and stored.category == "emnews"
    assert stored.raw == decoded.text and stored.text == post.text
    # the file, its mtime and sha256 are the files row's to hold, not the post's
    assert row["hash"] == b"" and row["source_path"] is None and row["source_mtime_ns"] is None
    assert row["imported_at"] == info["now"] and row["updated_at"] is None
    assert row["encoding"] is None  # UTF-8


def test_store_mark_duplicates_keeps_only_the_winning_file(store: Store):
    post_id = 1
    paths = posts_by_ids(store, [post_id])[0].paths
    for name in ("copy-a.md", "copy-b.md"):
        path = str(EXAMPLES / name)
        store.record_file(path, size=1, mtime_ns=1, hash="0" * 64, status="post", post_id=post_id)
    store.mark_duplicates(post_id, str(EXAMPLES / "copy-b.md"))
    states = {p: file_state(store, p) for p in [*paths, str(EXAMPLES / "copy-a.md")]}
    assert all(s is not None and s.status == "duplicate" for s in states.values())
    winner = file_state(store, str(EXAMPLES / "copy-b.md"))
    assert winner is not None and winner.status == "post"


def test_store_files_with_colliding_path_hashes_keep_their_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A files row is found by a hash of its path; paths whose hashes collide take the next
    free ids and are still told apart, updated and marked gone one by one; past
    ``FILE_SLOTS`` colliding paths, recording one more is a one-line error, not a wrong row."""
    import newsarc.store as store_module
    from newsarc.errors import StoreError

    monkeypatch.setattr(store_module, "file_key", lambda path: 1000)
    with Store.open(tmp_path / "a.db") as store:
        paths = [f"/posts/{n}.md" for n in range(store_module.FILE_SLOTS)]
        with store.transaction():
            for n, path in enumerate(paths):
                store.record_file(path, size=n, mtime_ns=n, hash=None, status="skipped")
            store.record_file(paths[3], size=33, mtime_ns=33, hash=None, status="skipped")
            store.touch_file(paths[5], 55, 55)
            store.mark_gone([paths[6]], True)
        ids = dict(store.conn.execute("SELECT path, id FROM files"))
        assert sorted(ids.values()) == list(range(1000, 1000 + store_module.FILE_SLOTS))
        sizes = {p: file_state(store, p).size for p in paths}  # type: ignore[union-attr]
        assert sizes == {p: {3: 33, 5: 55}.get(n, n) for n, p in enumerate(paths)}
        gone = store.conn.execute("SELECT path FROM files WHERE gone").fetchall()
        assert gone == [(paths[6],)] and file_state(store, "/posts/other.md") is None
        with pytest.raises(StoreError, match="other.md: no free files row"):
            store.record_file("/posts/other.md", size=1, mtime_ns=1, hash=None, status="skipped")


def test_store_check_finds_file_rows_written_behind_its_back(store: Store):
    """A files row put at another id than its path's (by SQL, not by newsarc) would not be
    found by a lookup, and the next import would record its file again: ``check`` names both."""
    assert store.check() == []
    path = store.conn.execute("SELECT path FROM files LIMIT 1").fetchone()[0]
    store.conn.execute("UPDATE files SET id = 12345 WHERE path = ?", (path,))
    assert store.check() == ["1 file row is not at its path's id"]
    assert file_state(store, path) is None  # what a lookup then finds
    Importer(store, workers=0).run([EXAMPLES])  # ... so an import records the file again
    assert store.check() == ["1 file row is not at its path's id", "1 file path is recorded twice"]


#: an SQL statement in a string (keywords as SQLite's documentation writes them), or a call that
#: runs one
SQL = re.compile(
    r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX|VIRTUAL)|PRAGMA)\b"
    r"|\.execute(many|script)?\("
)
STORE_LAYER = {"store.py", "queries.py", "migrations.py"}


def test_store_layer_alone_holds_sql():
    """All SQL lives in store (writes), queries (reads) and migrations (schema): search, export,
    ingest and the CLI call them, so a column or an index is changed in one place."""
    package = Path(newsarc.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert {m.name for m in modules} >= STORE_LAYER | {"search.py", "export.py", "ingest.py"}
    found = [
        f"{module.relative_to(package)}:{n}: {line.strip()}"
        for module in modules
        if not (module.parent == package and module.name in STORE_LAYER)
        for n, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1)
        if SQL.search(line)
    ]
    assert found == []
    assert all(SQL.search((package / name).read_text(encoding="utf-8")) for name in STORE_LAYER)


# -- the index hash: rows edited behind newsarc's back ----------------------------------------------


def _imported_store(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for n, (title, body) in enumerate([("国资委新闻", "央企改革。"), ("白酒", "茅台涨价。")], 1):
        (folder / f"2022-01-0{n}-20220101000000000{n}.md").write_text(
            f"---\ntitle: {title}\ncategories: [emnews, markets]\n---\n\n{body}\n",
            encoding="utf-8",
        )
    db = tmp_path / "a.db"
    with Store.open(db) as store:
        Importer(store, workers=1).run([folder])
        assert store.check() == []
    return db


@pytest.mark.parametrize("column, value", [("text", "篡改"), ("title", "篡改"), ("tags", '["新"]'),
                                           ("categories", '["other"]'), ("source", "某报")])  # fmt: skip
def test_store_check_finds_rows_edited_with_sqlite_utils(tmp_path: Path, column, value):
    import sqlite_utils

    db = _imported_store(tmp_path)
    sqlite_utils.Database(db).execute(f"update posts set {column} = ? where id = 2", [value])
    with Store.open(db) as store:
        [problem] = store.check()
        assert "1 post changed since it was indexed (id 2)" in problem
        assert "--rebuild-index" in problem
        store.rebuild_index()
        assert store.check() == []
        if column == "text":
            assert count(store, "篡改") == 1 and count(store, "茅台") == 0


def test_store_maintenance_check_reports_edited_rows(tmp_path: Path):
    import sqlite_utils

    db = _imported_store(tmp_path)
    sqlite_utils.Database(db).execute("update posts set text = '篡改' where id = 1")
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(db), "maintenance", "--check"])
    assert result.exit_code == 4  # ExitStatus.PARTIAL: problems found
    assert "newsarc: problem: 1 post changed since it was indexed (id 1)" in result.stderr
    result = runner.invoke(app, ["--db", str(db), "maintenance", "--rebuild-index"])
    assert result.exit_code == 0 and "archive ok" in result.stderr


def test_store_optimize_empties_the_write_ahead_log(tmp_path: Path):
    """``maintenance`` leaves the archive file whole on its own (issue 13: before copying it
    or ``datasette publish``), even while another connection holds it open."""
    from newsarc.ingest import Importer

    db = tmp_path / "a.db"
    with Store.open(db) as store, Store.open(db, readonly=True) as reader:
        Importer(store, workers=1, compact=False).run([EXAMPLES])
        wal = Path(f"{db}-wal")
        assert wal.exists() and wal.stat().st_size > 0
        assert reader.conn.execute("SELECT count(*) FROM posts").fetchone()[0] > 0
        store.optimize()
        assert wal.stat().st_size == 0


def test_read_commands_leave_no_side_files_and_do_not_change_the_archive(tmp_path: Path):
    import hashlib

    db = tmp_path / "archive.db"
    examples = Path(__file__).resolve().parents[1] / "examples"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db), "import", "-q", str(examples)]).exit_code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["archive.db"]
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for args in (["search", "央企"], ["list"], ["show", "1"], ["stats"], ["export"],
                 ["search", "--count", "的"], ["list", "--all", "-f", "json"]):  # fmt: skip
        result = runner.invoke(app, ["--db", str(db), *args])
        assert result.exit_code == 0, (args, result.stderr)
        assert [p.name for p in tmp_path.iterdir()] == ["archive.db"], args
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_read_only_store_refuses_writes(tmp_path: Path):
    import sqlite3

    Store.open(tmp_path / "a.db").close()
    with Store.open(tmp_path / "a.db", readonly=True) as store:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.conn.execute("INSERT INTO settings VALUES ('x', 'y')")
