"""bench/import_pairs.py: its copy without stories must stay a copy of the current import with
only the stories cut out (else the import slowdown it reports compares the wrong things)."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_import_pairs():
    spec = importlib.util.spec_from_file_location(
        "import_pairs", ROOT / "bench" / "import_pairs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_import_pairs_cuts_only_the_stories(tmp_path: Path):
    copy = load_import_pairs().without_stories(tmp_path / "cut")
    posts = ROOT / "tests" / "stories" / "real"
    counts = {}
    for name, code in (("cut", copy), ("real", ROOT)):
        db = tmp_path / f"{name}.db"
        subprocess.run(
            [sys.executable, "-m", "newsarc.cli", "import", "-q", str(posts), "--db", str(db)],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(code)}, check=True,
        )  # fmt: skip
        with sqlite3.connect(db) as conn:
            counts[name] = [
                conn.execute(sql).fetchone()[0]
                for sql in (
                    "SELECT count(*) FROM posts",
                    "SELECT count(*) FROM story_sig",
                    "SELECT count(*) FROM posts WHERE story IS NOT NULL",
                )
            ]
    assert counts["cut"][0] == counts["real"][0] > 10  # the same posts imported
    assert counts["cut"][1:] == [0, 0]  # no signature, no grouping
    assert counts["real"][1] > 10 and counts["real"][2] > 0  # the real import has both
