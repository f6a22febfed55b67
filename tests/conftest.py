"""Shared fixtures: an isolated archive per test, and the real corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
