"""What packing costs the commands that read posts (issue 14: `show`/`export` not slower by
more than 15 %), as interleaved rounds on a noisy machine.

    python bench/packed_reads.py bench/out/posts-words-100000 --rounds 5

imports FOLDER twice with this checkout: once as usual (posts packed with the archive's zstd
dictionary) and once with packing turned off (``packing.TRAIN_MIN_POSTS`` raised, so no
dictionary is ever trained and every post keeps its plain columns). Then, ``--rounds`` times,
the two archives alternating, it times whole processes (``export --format jsonl``, ``export
--format markdown``, ``show`` of three posts) and the in-process ``write_export`` of every post
as JSON lines to a stream that drops what it is given, and prints each command's median and
its ratio. The two exports must be byte for byte the same, or it stops. Work files go to
bench/out/packed/.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "packed"


def build(folder: Path, db: Path, *, packed: bool) -> None:
    """Import ``folder`` into a new archive ``db``, packed or not, in a child process (so that
    the monkeypatched constant stays there)."""
    for old in db.parent.glob(db.name + "*"):
        old.unlink()
    code = (
        "import sys; from pathlib import Path; import newsarc.packing as p\n"
        f"p.TRAIN_MIN_POSTS = {'p.TRAIN_MIN_POSTS' if packed else 10**12}\n"
        "from newsarc.store import Store; from newsarc.ingest import Importer\n"
        "with Store.open(Path(sys.argv[1])) as s: Importer(s).run([Path(sys.argv[2])])\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db), str(folder)], check=True, cwd=ROOT)


def timed(args: list[str], db: Path) -> tuple[float, bytes]:
    """Wall time and the sha256 of stdout of one whole ``newsarc`` process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "newsarc.cli", "--db", str(db), *args],
        capture_output=True, check=True, cwd=OUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    return time.perf_counter() - started, hashlib.sha256(done.stdout).digest()


def in_process(db: Path) -> float:
    """Seconds of ``write_export`` of every post as JSON lines, in this process."""
    from newsarc import export
    from newsarc.store import Store

    class Dropped(io.TextIOBase):
        def write(self, s: str) -> int:
            return len(s)

    with Store.open(db, readonly=True) as store:
        started = time.perf_counter()
        export.write_export(store, export.select(), export.ExportFormat.jsonl, Dropped())
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the archives of a last run")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    OUT.mkdir(parents=True, exist_ok=True)
    dbs = {"plain": OUT / "plain.db", "packed": OUT / "packed.db"}
    for name, db in dbs.items():
        if not (args.reuse and db.exists()):
            print(f"importing {args.folder} ({name})…", file=sys.stderr)
            build(args.folder.resolve(), db, packed=name == "packed")
    sizes = {name: db.stat().st_size / 1e6 for name, db in dbs.items()}
    commands = {
        "export --format jsonl": ["export", "--format", "jsonl"],
        "export --format markdown": ["export", "--format", "markdown"],
        "show (3 posts)": ["show", "1", "5000", "50000"],
    }
    times: dict[tuple[str, str], list[float]] = {}
    for i in range(args.rounds):
        order = list(dbs) if i % 2 == 0 else list(dbs)[::-1]
        for label, command in commands.items():
            outputs = set()
            for name in order:
                seconds, digest = timed(command, dbs[name])
                times.setdefault((label, name), []).append(seconds)
                outputs.add(digest)
            if len(outputs) != 1:
                sys.exit(f"packed_reads: `{label}` wrote different output from the two archives")
        for name in order:
            times.setdefault(("write_export jsonl, in-process", name), []).append(
                in_process(dbs[name])
            )
    print(f"archives: plain {sizes['plain']:.0f} MB, packed {sizes['packed']:.0f} MB\n")
    print("| command | plain s (median) | packed s (median) | packed ÷ plain | by round |")
    print("|---|---|---|---|---|")
    for label in [*commands, "write_export jsonl, in-process"]:
        plain, packed = times[(label, "plain")], times[(label, "packed")]
        rounds = ", ".join(f"{p / q - 1:+.0%}" for p, q in zip(packed, plain, strict=True))
        ratio = statistics.median(packed) / statistics.median(plain)
        print(
            f"| `{label}` | {statistics.median(plain):.2f} | {statistics.median(packed):.2f} "
            f"| {ratio:.2f} ({ratio - 1:+.0%}) | {rounds} |"
        )


if __name__ == "__main__":
    main()
