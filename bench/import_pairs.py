"""The import slowdown of stories (issue 11), as interleaved pairs on a noisy machine.

    python bench/import_pairs.py bench/out/posts-words-100000 --pairs 6

makes a copy of this checkout's ``newsarc`` package with the stories cut out of the import
(no signature in the workers, no placement in the writer: ``write_post`` alone), then imports
FOLDER into a new archive with each, back to back, ``--pairs`` times, the order alternating,
and prints each pair's wall time and user CPU (the whole process tree, from ``os.wait4``), the
slowdown by pair and its median. Both run as whole processes from a neutral folder with
PYTHONPATH set, the default workers. The cut is made by replacing exact lines of
``newsarc/ingest.py``: if they have changed, this stops with a message instead of timing the
wrong thing. Work files go to bench/out/pairs/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "pairs"

#: (what ingest.py says, what the copy without stories says instead)
CUTS = [
    (
        "    prepared.folded = folded\n    if sign:\n        _sign([prepared])\n    return prepared\n",
        "    return prepared\n",
    ),
    (
        "        store = self.store\n        assert p.row is not None\n"
        "        if post_id is not None:\n            store.detach_story(post_id)\n",
        "        return self.store.write_post(p.row, p.fts, post_id)\n",
    ),
]


def without_stories(target: Path) -> Path:
    """A copy of ``newsarc/`` under ``target`` whose import neither signs nor places posts."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "newsarc", target / "newsarc")
    ingest = target / "newsarc" / "ingest.py"
    code = ingest.read_text(encoding="utf-8")
    for old, new in CUTS:
        if code.count(old) != 1:
            sys.exit(f"import_pairs: newsarc/ingest.py changed; update CUTS ({old.strip()[:60]}…)")
        code = code.replace(old, new)
    ingest.write_text(code, encoding="utf-8")
    return target


def run(folder: Path, code: Path, db: Path) -> tuple[float, float]:
    """Wall time and user CPU (with the workers) of one import."""
    for old in db.parent.glob(db.name + "*"):
        old.unlink()
    env = {**os.environ, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarc.cli", "import", "-q", str(folder), "--db", str(db)],
        cwd=OUT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 4):  # 4: some files failed (odd cases)
        sys.exit(f"import_pairs: the import with {code} failed")
    return wall, usage.ru_utime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="posts to import (bench/generate.py makes them)")
    parser.add_argument("--pairs", type=int, default=6)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    folder = args.folder.resolve()
    cut = without_stories(OUT / "without-stories")
    ratios = []
    print("pair  without (s)  with (s)  slowdown  user CPU added (s)")
    for pair in range(args.pairs):
        order = [("without", cut), ("with", ROOT)]
        if pair % 2:
            order.reverse()
        got = {name: run(folder, code, OUT / f"{name}.db") for name, code in order}
        (w0, u0), (w1, u1) = got["without"], got["with"]
        ratios.append(w1 / w0 - 1)
        print(f"{pair + 1:4}  {w0:11.1f}  {w1:8.1f}  {ratios[-1]:+8.0%}  {u1 - u0:+18.1f}")
    print(f"median slowdown {statistics.median(ratios):+.1%} over {len(ratios)} pairs")


if __name__ == "__main__":
    main()
