"""Shared fixtures and helpers: an isolated archive per test, the real corpus, and ``add_post``.

Test modules import helpers from here (``from conftest import add_post``), never from each other.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc.cli import app
from newsarc.models import Block, body_skeleton
from newsarc.store import Store

REPO = Path(__file__).resolve().parents[1]
#: real posts vendored from a public site (tests/corpus/README.md)
CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def isolated_archive(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own NEWSARC_DB and XDG_DATA_HOME, so nothing touches a real archive."""
    home = tmp_path_factory.mktemp("home")
    db = home / "archive.db"
    monkeypatch.setenv("NEWSARC_DB", str(db))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return db


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The vendored real corpus (posts/, versions/); read-only: copy it (``posts_dir``) to change it."""
    return CORPUS


@pytest.fixture
def posts_dir(tmp_path: Path, corpus: Path) -> Path:
    """A writable copy of the corpus's posts."""
    target = tmp_path / "posts"
    shutil.copytree(corpus / "posts", target)
    return target


def add_post(store: Store, **fields) -> int:
    """Store a post as given, bypassing the parser (for content no importer would produce)."""
    text = fields.get("text", "body")
    blocks = fields.pop("blocks", None) or [Block("p", part) for part in text.split("\n\n")]
    tags = fields.get("tags", [])
    row = {
        "external_id": fields.get("external_id", "x1"),
        "title": fields.get("title", "title"),
        "date": fields.get("date", "2022-04-09T14:22:44+08:00"),
        "date_utc": fields.get("date_utc", 1649485364),
        "category": fields.get("category", "emnews"),
        "categories": json.dumps(
            fields.get("categories", [fields.get("category", "emnews")]), ensure_ascii=False
        ),
        "tags": json.dumps(tags, ensure_ascii=False),
        "source": fields.get("source"),
        "url": fields.get("url"),
        "summary": fields.get("summary"),
        "text": text,
        "body": json.dumps(body_skeleton(blocks, text), ensure_ascii=False),
        "meta": json.dumps(fields.get("meta", {}), ensure_ascii=False),
        "raw": fields.get("raw", "---\ntitle: x\n---\nbody\n"),
        "hash": "0" * 64,
    }
    fts = Store.fts_values(row["title"], text, json.loads(row["categories"]), tags, row["source"])
    with store.transaction():
        return store.write_post(row, fts, None)


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(
    runner: CliRunner, *args: str, input: str | None = None, code: int | None = 0,
    env: dict[str, str] | None = None,
):  # fmt: skip
    """``newsarc ARGS`` in-process; its exit code must be ``code`` (None: any)."""
    result = runner.invoke(app, list(args), input=input, env=env)
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


@pytest.fixture
def imported(runner: CliRunner, isolated_archive: Path) -> Path:
    """The examples imported into the test's archive (NEWSARC_DB)."""
    run(runner, "import", "-q", str(EXAMPLES))
    return isolated_archive
