"""Reliability: nothing lost or damaged when an import is killed, when several processes use one
archive, when the database file is unusable (not a database, damaged, newer, read-only, locked,
on a full disk), or when a folder holds link loops and special files.

The SIGKILL test runs real ``newsarc import`` processes on thousands of generated posts and kills
them at random moments; its seed is in the failure message, so a failure can be replayed
(``NEWSARC_TEST_SEED=<seed> python3 -m pytest tests/test_reliability.py -k sigkill``).

Every test here is marked ``slow`` (``-m 'not slow'`` leaves them out of a quick run; CI runs them).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc.cli import app
from newsarc.fold import fold
from newsarc.ingest import Importer
from newsarc.migrations import MIGRATIONS
from newsarc.queries import count_posts, post_texts, raw_source
from newsarc.read import encode
from newsarc.search import search
from newsarc.store import Store

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NEWSARC = [sys.executable, "-m", "newsarc.cli"]

pytestmark = pytest.mark.slow


# -- helpers --------------------------------------------------------------------------------------


def newsarc(*args: str, db: Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run the real command line in a new process."""
    env = {**os.environ, "NEWSARC_DB": str(db), **kwargs.pop("env", {})}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [*NEWSARC, *args], capture_output=True, text=True, env=env, timeout=timeout, **kwargs
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(stderr: str, db: Path | str, phrase: str) -> None:
    """The contract for an unusable archive: one line, naming the file, saying what is wrong."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"newsarc: error: {db}: "), stderr
    assert phrase in lines[0], stderr


def snapshot(store: Store) -> dict[str, tuple]:
    """Everything a post is, by article id: what must survive any crash exactly."""
    rows = store.conn.execute(
        "SELECT external_id, title, date, category, tags, source, url, summary, text, body, "
        "meta, raw, hash FROM posts"
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def assert_consistent(db: Path, *, rng: random.Random | None = None, exact: bool = False) -> int:
    """Every check a crash could fail; returns the number of posts.

    SQLite's integrity check; FTS5's (which, for a contentless index, only checks the index
    against itself); and newsarc's own invariants: no half-written post (each has its file row,
    its tag rows and exactly one index entry) and no index entry without a post. With ``rng``,
    searches for random substrings of random posts must find exactly the posts whose text
    holds them; with ``exact``, the index must hold exactly the tokens of every post.
    """
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0:
            assert tables == set(), "the schema is created in one transaction: all or nothing"
            return 0
        assert version == len(MIGRATIONS)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)")
        posts = {r[0] for r in conn.execute("SELECT id FROM posts")}
        assert {r[0] for r in conn.execute("SELECT id FROM posts_fts_docsize")} == posts
        with_file = conn.execute(
            "SELECT DISTINCT post_id FROM files WHERE post_id IS NOT NULL"
        ).fetchall()
        assert {r[0] for r in with_file} == posts
        sourced = conn.execute(
            "SELECT count(DISTINCT p.id) FROM posts p JOIN files f ON f.post_id = p.id "
            "WHERE f.status = 'post' AND length(f.hash) = 32"
        ).fetchone()[0]
        assert sourced == len(posts), "each post's content comes from a recorded file"
        tags = {
            (t, i) for i, js in conn.execute("SELECT id, tags FROM posts") for t in json.loads(js)
        }
        assert {(r[0], r[1]) for r in conn.execute("SELECT tag, post_id FROM post_tags")} == tags
    finally:
        conn.close()
    with Store.open(db) as store:
        assert store.check() == []
        for post_id in posts:  # ... whose bytes its text gives back
            source = raw_source(store, post_id)
            assert source is not None and source.hash is not None
            data = encode(source.raw, source.encoding, source.hash)
            assert hashlib.sha256(data).hexdigest() == source.hash, post_id
        if rng is not None and posts:
            assert_search_agrees(store, rng)
        if exact:
            assert index_disagreements(store) == 0
    return len(posts)


def assert_search_agrees(store: Store, rng: random.Random, terms: int = 8) -> None:
    """Random substrings of random posts find exactly the posts that contain them."""
    docs = {i: (fold(title), fold(text)) for i, title, text in post_texts(store)}
    ids = sorted(docs)
    for _ in range(terms):
        title, text = docs[rng.choice(ids)]
        source = rng.choice([title, text]) or text or title
        if len(source) < 2:
            continue
        start = rng.randrange(len(source) - 1)
        term = source[start : start + rng.randint(2, 4)].strip()
        if not term:
            continue
        expected = {i for i, (t, x) in docs.items() if term in t or term in x}
        found = {h.post.id for h in search(store, phrase(term), limit=None, snippets=False).hits}
        assert found == expected, term


def index_disagreements(store: Store) -> int:
    """Tokens (term, post, column, position) in the index but not in the posts, and the reverse:
    the index is rebuilt from the posts in a temporary table and both are compared through
    fts5vocab. The strongest check a contentless index allows."""
    conn = store.conn
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'posts_fts'").fetchone()[0]
    conn.execute("DROP TABLE IF EXISTS temp.expected_fts")
    conn.execute(
        sql.replace("CREATE VIRTUAL TABLE posts_fts", "CREATE VIRTUAL TABLE temp.expected_fts")
    )
    with store.transaction():
        rows = [
            (i, title, store.text_of(i, text, packed), *rest)
            for i, title, text, packed, *rest in conn.execute(
                "SELECT id, title, text, packed, categories, tags, source FROM posts"
            ).fetchall()
        ]
        conn.executemany(
            "INSERT INTO temp.expected_fts(rowid, title, text, category, tags, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (r[0], *Store.fts_values(r[1], r[2], json.loads(r[3]), json.loads(r[4]), r[5]))
                for r in rows
            ],
        )
    indexes = (("actual", "main", "posts_fts"), ("expected", "temp", "expected_fts"))
    for name, schema, table in indexes:
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name}_terms "
            f"USING fts5vocab({schema}, {table}, instance)"
        )
    tokens = "SELECT term, doc, col, offset FROM temp.{}_terms"
    differ = 0
    for a, b in (("actual", "expected"), ("expected", "actual")):
        query = f"SELECT count(*) FROM ({tokens.format(a)} EXCEPT {tokens.format(b)})"
        differ += conn.execute(query).fetchone()[0]
    return differ


def test_index_disagreements_sees_what_fts5_integrity_check_does_not(tmp_path: Path):
    """Why the stronger check exists: a contentless index whose entry for a post holds other
    text still passes FTS5's integrity-check and every count."""
    with Store.open(tmp_path / "a.db") as store:
        Importer(store, workers=0).run([EXAMPLES])
        assert index_disagreements(store) == 0
        with store.transaction() as conn:
            store._fts_delete(2)
            conn.execute(
                "INSERT INTO posts_fts(rowid, title, text, category, tags, source) "
                "VALUES (2, 'zz', 'qq', '', '', '')"
            )
        conn.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)")
        assert store.check() == []
        assert index_disagreements(store) > 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 posts grown from the real corpus by bench/generate.py (deterministic)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    folder = tmp_path_factory.mktemp("generated") / "posts"
    generate(3000, folder, seed=6)
    return folder


@pytest.fixture(scope="module")
def reference(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """What one clean, uninterrupted import of the generated posts stores."""
    with Store.open(tmp_path_factory.mktemp("reference") / "ref.db") as store:
        result = Importer(store, workers=2).run([generated])
        assert not result.failed and result.imported > 2900
        return snapshot(store)


def stored(db: Path) -> dict[str, tuple]:
    with Store.open(db) as store:
        return snapshot(store)


# -- SIGKILL --------------------------------------------------------------------------------------

#: an import with small chunks (one transaction each), so that kills land before, inside and
#: between many write transactions; the rest is the real command line
KILLABLE_IMPORT = [
    sys.executable, "-c",
    "import sys, newsarc.ingest as ingest; ingest.CHUNK = 200; "
    "from newsarc.cli import main; main()",
]  # fmt: skip


def _posts_now(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _session_alive(session: int) -> list[int]:
    """Processes (not zombies) of a session: the importer and its parser workers."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == session and fields[0] != "Z":
            alive.append(int(entry))
    return alive


def test_sigkill_at_random_moments_loses_nothing(generated: Path, reference, tmp_path: Path):
    seed = int(os.environ.get("NEWSARC_TEST_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    db = tmp_path / "archive.db"
    kills: list[tuple[int, str, int]] = []  # (round, moment, posts stored at the kill)
    for round_ in range(7):
        before = _posts_now(db)
        proc = subprocess.Popen(
            [*KILLABLE_IMPORT, "--db", str(db), "import", "-q", str(generated)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        try:
            if round_ in (0, 6):
                # the very start (schema creation, the walk) on a new archive; later, the scan
                # of files already imported
                moment = "start"
                time.sleep(rng.uniform(0.05, 0.6))
            else:
                moment = "mid-import"
                target = before + rng.randint(1, 350)
                while proc.poll() is None and _posts_now(db) < target:
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, 0.05))
            if proc.poll() is None:
                if round_ == 2 and Path("/proc").is_dir():
                    # the importer alone, as the OOM killer would: its workers must not linger
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
                    deadline = time.monotonic() + 10
                    while _session_alive(proc.pid) and time.monotonic() < deadline:
                        time.sleep(0.1)
                    assert not _session_alive(proc.pid), "parser workers outlived the importer"
                else:
                    os.killpg(proc.pid, signal.SIGKILL)
                kills.append((round_, moment, _posts_now(db)))
            proc.wait(timeout=60)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the session this test started
            except ProcessLookupError:
                pass
            proc.wait()
            assert proc.stderr is not None
            proc.stderr.close()
        where = f"seed {seed}, round {round_}, kills {kills}"
        try:
            posts = assert_consistent(db, rng=rng)
        except AssertionError as error:  # the checks do not know the seed: a failure must say it
            raise AssertionError(f"{where}: {error}") from error
        assert before <= posts <= len(reference), f"{where}: {before} posts before, {posts} after"
    assert len([k for k in kills if k[1] == "mid-import"]) >= 3, (seed, kills)
    assert any(0 < k[2] < len(reference) for k in kills), (seed, kills)
    finished = newsarc("import", "-q", str(generated), db=db)
    assert finished.returncode == 0, finished.stderr
    assert assert_consistent(db, rng=rng, exact=True) == len(reference)
    assert stored(db) == reference, f"seed {seed}: kills {kills}"


def test_ctrl_c_during_import_stops_cleanly(generated: Path, reference, tmp_path: Path):
    """Ctrl-C (SIGINT to the whole foreground group, as a terminal sends it) mid-import: the
    chunk being written is rolled back, the summary says so, exit 130, no traceback."""
    # a loaded machine can starve the poller, or delay the signal, until the import is over:
    # then try again (the point is an interrupt mid-import, which a finished import cannot
    # show; an import that ignored Ctrl-C would end every attempt and fail the test)
    for attempt in range(3):
        db = tmp_path / f"archive-{attempt}.db"
        proc = subprocess.Popen(
            [*KILLABLE_IMPORT, "--db", str(db), "import", str(generated)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            while proc.poll() is None and _posts_now(db) < 400:
                time.sleep(0.01)
            if proc.poll() is not None:
                assert proc.returncode == 0, proc.returncode
                continue
            seen = _posts_now(db)
            os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(timeout=60)
            if code == 0 and _posts_now(db) == len(reference):
                continue  # the import ended before the signal landed
            assert code == 130, (seen, code, proc.stderr.read() if proc.stderr else "")
            break
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    else:
        pytest.fail("every import ended before it could be interrupted")
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    assert "Traceback" not in stderr and "Interrupted" in stderr, stderr
    assert 0 < assert_consistent(db) < len(reference)
    assert newsarc("import", "-q", str(generated), db=db).returncode == 0
    assert stored(db) == reference


# -- concurrent use -------------------------------------------------------------------------------


def test_reads_and_checks_succeed_while_an_import_writes(generated: Path, tmp_path: Path):
    db = tmp_path / "archive.db"
    first = sorted(p for p in generated.iterdir() if p.is_dir())[0]
    assert newsarc("import", "-q", str(first), db=db).returncode == 0
    importing = subprocess.Popen(
        [*NEWSARC, "--db", str(db), "import", "-q", str(generated)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    commands = [
        ["search", "公司", "-f", "ids", "-n", "5"], ["list", "-n", "5"],
        ["show", "1", "-f", "json"], ["stats", "-f", "json"], ["search", "-c", "央企"],
        ["export", "--tag", "东财滚动新闻"], ["maintenance", "--check"],
    ]  # fmt: skip
    runs: list[tuple[list[str], subprocess.CompletedProcess, bool]] = []

    def reader(offset: int) -> None:
        n = offset
        while importing.poll() is None:
            args = commands[n % len(commands)]
            result = newsarc(*args, db=db, env={"NEWSARC_BUSY_TIMEOUT": "5"})
            runs.append((args, result, importing.poll() is None))
            n += 1

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert importing.wait() == 0
    assert importing.stderr is not None and importing.stderr.read() == ""
    during = [r for r in runs if r[2]]
    assert len(during) >= 4, "the readers should have run while the import was writing"
    for args, result, _ in runs:
        assert result.returncode in (0, 1), (args, result.stderr)
        assert "error" not in result.stderr and "locked" not in result.stderr, (args, result.stderr)
    assert_consistent(db)


def test_two_imports_at_once_both_finish(generated: Path, reference, tmp_path: Path):
    """Two imports creating the same archive at the same moment: they take turns per chunk."""
    db = tmp_path / "archive.db"
    procs = [
        subprocess.Popen(
            [*NEWSARC, "--db", str(db), "import", "-q", str(generated)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
        assert proc.stderr is not None and proc.stderr.read() == ""
    assert assert_consistent(db) == len(reference)
    assert stored(db) == reference


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def archive(tmp_path: Path, runner: CliRunner) -> Path:
    """The examples imported, the WAL checkpointed: everything is in the one file."""
    db = tmp_path / "archive" / "archive.db"
    result = runner.invoke(app, ["--db", str(db), "import", "-q", str(EXAMPLES)])
    assert result.exit_code == 0, result.stderr
    assert not Path(f"{db}-wal").exists()
    return db


@pytest.fixture
def new_post(tmp_path: Path) -> Path:
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "2022-05-01-202205011234567890.md").write_text(
        "---\ntitle: 新文章\ndate: 2022-05-01\n---\n\n正文。\n", encoding="utf-8"
    )
    return folder


READS = [["list"], ["search", "央企"], ["show", "2", "-f", "json"], ["stats"], ["export"]]


def test_writer_holding_the_lock_makes_a_writer_give_up_clearly(
    runner: CliRunner, archive: Path, new_post: Path, monkeypatch: pytest.MonkeyPatch
):
    """Another process in a long write transaction: reads go on (WAL); a write gives up after
    NEWSARC_BUSY_TIMEOUT with a message saying what to do; nothing is written."""
    monkeypatch.setenv("NEWSARC_BUSY_TIMEOUT", "0.3")
    holder = sqlite3.connect(archive, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE settings SET value = value")
    try:
        for args in READS:
            assert runner.invoke(app, ["--db", str(archive), *args]).exit_code == 0, args
        for args in (["import", str(new_post)], ["maintenance"], ["maintenance", "--check"]):
            started = time.monotonic()
            result = runner.invoke(app, ["--db", str(archive), *args])
            assert result.exit_code == 2, (args, result.stderr)
            one_error_line(result.stderr, archive, "locked by another process (waited 0.3 s)")
            assert "try again" in result.stderr
            assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Store.open(archive) as store:
        assert count_posts(store) == 12 and store.check() == []
    assert runner.invoke(app, ["--db", str(archive), "import", "-q", str(new_post)]).exit_code == 0


def test_exclusive_lock_makes_every_command_give_up_clearly(
    runner: CliRunner, archive: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NEWSARC_BUSY_TIMEOUT", "0.2")
    holder = sqlite3.connect(archive, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for args in [*READS, ["import", str(EXAMPLES)]]:
            result = runner.invoke(app, ["--db", str(archive), *args])
            assert result.exit_code == 2, (args, result.stderr)
            one_error_line(result.stderr, archive, "locked by another process")
    finally:
        holder.close()


def test_busy_timeout_must_be_a_number(runner: CliRunner, archive: Path, monkeypatch):
    monkeypatch.setenv("NEWSARC_BUSY_TIMEOUT", "soon")
    result = runner.invoke(app, ["--db", str(archive), "list"])
    assert result.exit_code == 2
    assert (
        result.stderr
        == "newsarc: error: NEWSARC_BUSY_TIMEOUT must be a number of seconds, not 'soon'\n"
    )


# -- unusable database files ----------------------------------------------------------------------


def _random_bytes(path: Path) -> str:
    path.write_bytes(random.Random(1).randbytes(50_000))
    return "not a SQLite database"


def _text_file(path: Path) -> str:
    path.write_text("id,title\n1,hello\n", encoding="utf-8")
    return "not a SQLite database"


def _other_database(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    return "not a newsarc archive"


def _newer_schema(path: Path) -> str:
    with Store.open(path) as store:
        Importer(store, workers=0).run([EXAMPLES])
        store.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    return "newer than this newsarc understands"


def _damaged(path: Path) -> str:
    with Store.open(path) as store:
        Importer(store, workers=0).run([EXAMPLES])
    path.write_bytes(path.read_bytes()[: 2 * 16384])  # cut after two pages
    return "damaged"


COMMANDS = [
    ["import", str(EXAMPLES)], ["search", "央企"], ["list"], ["show", "1"], ["stats"],
    ["export"], ["maintenance", "--check"], ["maintenance"],
]  # fmt: skip


@pytest.mark.parametrize(
    "make", [_random_bytes, _text_file, _other_database, _newer_schema, _damaged]
)
@pytest.mark.parametrize(
    "args", COMMANDS, ids=lambda a: " ".join(a[:2]).replace(str(EXAMPLES), "DIR")
)
def test_unusable_database_file_is_one_clear_error_and_left_alone(
    runner: CliRunner, tmp_path: Path, make: Callable[[Path], str], args: list[str]
):
    db = tmp_path / "archive.db"
    phrase = make(db)
    before = sha256(db)
    result = runner.invoke(app, ["--db", str(db), *args])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit)
    one_error_line(result.stderr, db, phrase)
    assert result.stdout == ""
    assert sha256(db) == before
    # a read-only connection to a WAL archive may leave SQLite's (empty) side files behind
    assert {p.name for p in tmp_path.iterdir()} <= {
        "archive.db",
        "archive.db-wal",
        "archive.db-shm",
    }
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_unusable_database_through_the_installed_command(tmp_path: Path):
    db = tmp_path / "archive.db"
    _random_bytes(db)
    result = newsarc("search", "央企", db=db)
    assert result.returncode == 2
    one_error_line(result.stderr, db, "not a SQLite database")


@pytest.mark.parametrize("args", COMMANDS[1:6], ids=lambda a: a[0])
def test_empty_file_is_no_archive_yet_for_reading(runner: CliRunner, tmp_path: Path, args):
    """An empty file is what `touch` or `mktemp` leave: reading says there is no archive yet
    (and leaves the file empty); importing makes it the archive."""
    db = tmp_path / "archive.db"
    db.touch()
    result = runner.invoke(app, ["--db", str(db), *args])
    assert result.exit_code == 2
    one_error_line(result.stderr, db, "no archive here yet; run 'newsarc import DIR' first")
    assert db.stat().st_size == 0


def test_empty_file_becomes_the_archive_on_import(runner: CliRunner, tmp_path: Path):
    db = tmp_path / "archive.db"
    db.touch()
    assert runner.invoke(app, ["--db", str(db), "import", "-q", str(EXAMPLES)]).exit_code == 0
    assert assert_consistent(db) == 12


def test_folder_as_database(runner: CliRunner, tmp_path: Path):
    result = runner.invoke(app, ["--db", str(tmp_path), "list"])
    assert result.exit_code == 2
    one_error_line(result.stderr, tmp_path, "is a folder")


@pytest.mark.parametrize("args", [["list"], ["import", str(EXAMPLES)]], ids=["list", "import"])
def test_pipe_or_device_as_database(tmp_path: Path, args):
    """``--db <(…)`` is a pipe: opening it used to wait for a writer forever."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for db in (fifo, Path(os.devnull)):
        result = newsarc(*args, db=db, timeout=30)
        assert result.returncode == 2
        one_error_line(result.stderr, db, "not a regular file (a pipe or a device?)")


# -- permissions ----------------------------------------------------------------------------------

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE = 24, 1


def _drop_root_override() -> None:
    """In the child before exec: root without CAP_DAC_OVERRIDE obeys permission bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
        os._exit(97)


@pytest.fixture
def unprivileged(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Run newsarc so that file permissions apply to it. Tests run as root in CI, where
    chmod 0444 stops nothing: the child then gives up the capability that overrides them."""
    preexec = _drop_root_override if os.geteuid() == 0 else None
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0o444)
    check = subprocess.run(
        [sys.executable, "-c", f"open({str(probe)!r}, 'a')"],
        preexec_fn=preexec,
        capture_output=True,
    )
    probe.unlink()
    if check.returncode == 0:
        pytest.skip("permission bits cannot be made to apply to this user here")

    def run(*args: str, db: Path) -> subprocess.CompletedProcess:
        return newsarc(*args, db=db, preexec_fn=preexec)

    return run


def test_read_only_archive_file(archive: Path, new_post: Path, unprivileged):
    archive.chmod(0o444)
    before = sha256(archive)
    for args in READS:
        result = unprivileged(*args, db=archive)
        assert result.returncode == 0, (args, result.stderr)
    # nothing new to write: nothing is written, and nothing fails
    assert unprivileged("import", "-q", str(EXAMPLES), db=archive).returncode == 0
    for args in (["import", str(new_post)], ["maintenance"], ["maintenance", "--check"]):
        result = unprivileged(*args, db=archive)
        assert result.returncode == 2, (args, result.stderr)
        one_error_line(
            result.stderr, archive, "the archive is read-only; check the file's permissions"
        )
    assert sha256(archive) == before


def test_read_only_folder(archive: Path, new_post: Path, unprivileged):
    before = sha256(archive)
    archive.parent.chmod(0o555)
    try:
        for args in [*READS, ["import", str(new_post)], ["maintenance"]]:
            result = unprivileged(*args, db=archive)
            assert result.returncode == 2, (args, result.stderr)
            one_error_line(result.stderr, archive, "its folder is read-only")
    finally:
        archive.parent.chmod(0o755)
    assert sha256(archive) == before
    assert sorted(p.name for p in archive.parent.iterdir()) == ["archive.db"]


def test_archive_in_a_folder_that_cannot_be_created(runner: CliRunner, tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    db = blocker / "sub" / "archive.db"
    result = runner.invoke(app, ["--db", str(db), "import", str(EXAMPLES)])
    assert result.exit_code == 2
    one_error_line(result.stderr, db, "cannot create the archive's folder")


# -- full disk ------------------------------------------------------------------------------------


def test_full_disk_during_import(
    runner: CliRunner, generated: Path, reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """SQLITE_FULL part-way (the archive may only grow by 120 pages): one clear line, every post
    written before it complete, and the next import finishes the job. (SQLite rolls back by
    itself on SQLITE_FULL; a second ROLLBACK used to replace this message with its own.)"""
    import newsarc.ingest as ingest
    import newsarc.store as store_module

    monkeypatch.setattr(ingest, "CHUNK", 200)
    db = tmp_path / "archive.db"
    Store.open(db).close()
    connect = store_module._connect

    def small_disk(path: Path, readonly: bool) -> sqlite3.Connection:
        conn = connect(path, readonly)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 120}")
        return conn

    monkeypatch.setattr(store_module, "_connect", small_disk)
    result = runner.invoke(app, ["--db", str(db), "import", "-q", str(generated)])
    assert result.exit_code == 2, result.stderr
    assert isinstance(result.exception, SystemExit)
    one_error_line(result.stderr, db, "the disk is full; free some space and run the command again")
    partial = assert_consistent(db)
    assert 0 < partial < len(reference)
    monkeypatch.setattr(store_module, "_connect", connect)
    assert runner.invoke(app, ["--db", str(db), "import", "-q", str(generated)]).exit_code == 0
    assert stored(db) == reference


def test_file_size_limit_during_import(generated: Path, tmp_path: Path):
    """A write refused by the system part-way (RLIMIT_FSIZE: EFBIG, which SQLite reports as an
    I/O error) in a real process: one clear line, a consistent archive."""
    db = tmp_path / "archive.db"
    first = sorted(p for p in generated.iterdir() if p.is_dir())[0]
    assert newsarc("import", "-q", str(first), db=db).returncode == 0
    limit = db.stat().st_size + 1_500_000

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = newsarc("import", "-q", str(generated), db=db, preexec_fn=small_files)
    assert result.returncode == 2, result.stderr
    one_error_line(result.stderr, db, "disk I/O error")
    assert "is the disk full or failing" in result.stderr
    assert assert_consistent(db) > 0


# -- links and special files ----------------------------------------------------------------------


def test_import_survives_link_loops_and_special_files(tmp_path: Path):
    """Links to folders are not followed (a loop cannot hang the walk); links to files are read;
    a link loop, a dangling link, a FIFO and a device are each reported, and nothing waits."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    post = folder / "sub" / "2022-04-09-202204091234567890.md"
    post.write_text("---\ntitle: 标题\ndate: 2022-04-09\n---\n\n正文。\n", encoding="utf-8")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "sub" / "up").symlink_to("..", target_is_directory=True)
    (folder / "link.md").symlink_to(post)
    (folder / "self.md").symlink_to("self.md")
    (folder / "ping.md").symlink_to("pong.md")
    (folder / "pong.md").symlink_to("ping.md")
    (folder / "dangling.md").symlink_to("nowhere.md")
    (folder / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.md")
    db = tmp_path / "archive.db"
    result = newsarc("import", "-v", str(folder), db=db, timeout=60)
    assert result.returncode == 4, result.stderr  # some files failed
    summary = result.stderr.splitlines()[0]
    assert summary.startswith(
        "1 imported, 0 updated, 0 unchanged, 1 duplicate, 0 skipped, 6 failed"
    )
    failed = {
        line.split(":")[0].strip() for line in result.stderr.splitlines() if line.startswith("  ")
    }
    names = {"self.md", "ping.md", "pong.md", "dangling.md", "zero.md", "fifo.md"}
    assert {Path(p).name for p in failed} == names
    assert assert_consistent(db) == 1


def _make_older(db: Path) -> None:
    """Turn ``db`` into an archive of schema version 2 (before m003), as an older newsarc left it."""
    conn = sqlite3.connect(db)
    # undo m011_label_ids for categories, and m004_fidelity
    conn.execute("DROP VIEW post_categories")
    conn.execute("DROP TABLE post_category_ids")
    conn.execute("DELETE FROM _migrations WHERE name = 'm011_label_ids'")
    for table, column in [("posts", "categories"), ("posts", "index_hash"), ("files", "warnings"),
                          ("files", "message"), ("files", "options"), ("files", "gone")]:  # fmt: skip
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("DELETE FROM _migrations WHERE name = 'm004_fidelity'")
    # undo m003_fts_hashsize
    conn.execute("DELETE FROM posts_fts_config WHERE k = 'hashsize'")
    conn.execute("DELETE FROM _migrations WHERE name = 'm003_fts_hashsize'")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


def test_reading_an_older_archive_upgrades_it(archive: Path):
    _make_older(archive)
    result = newsarc("search", "央企", "--count", db=archive)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 0
    conn = sqlite3.connect(archive)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def test_reading_an_older_read_only_archive_says_it_needs_writing(archive: Path, unprivileged):
    _make_older(archive)
    archive.chmod(0o444)
    before = sha256(archive)
    result = unprivileged("search", "央企", db=archive)
    assert result.returncode == 2
    one_error_line(result.stderr, archive, "made by an older newsarc and needs an upgrade")
    assert sha256(archive) == before
