"""The benchmark scripts measure what they say: bench/import_pairs.py's copy without stories
stays a copy of the current import with only the stories cut out (else the import slowdown it
reports compares the wrong things), and bench/run.py's folder size counts only the posts."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_bench(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_import_pairs_cuts_only_the_stories(tmp_path: Path):
    copy = load_bench("import_pairs").without_stories(tmp_path / "cut")
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


def test_bench_folder_size_counts_the_posts_not_the_story_labels(tmp_path: Path, monkeypatch):
    """The archive's size is compared with the posts' bytes: the generator's labels file in the
    same folder (8 % of its bytes) must not enlarge the folder and flatter the ratio."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # run.py adds bench/ to it: undone after
    run = load_bench("run")
    from generate import LABELS

    (tmp_path / "2021-06").mkdir()
    (tmp_path / "2021-06" / "a.md").write_bytes(b"x" * 700)
    (tmp_path / "b.md").write_bytes(b"y" * 300)
    (tmp_path / LABELS).write_bytes(b"z" * 5000)
    apparent, on_disk = run.folder_size(tmp_path)
    assert apparent == 1000
    posts = [tmp_path / "2021-06" / "a.md", tmp_path / "b.md"]
    assert on_disk == sum(p.stat().st_blocks * 512 for p in posts)
