"""newsarc benchmark harness: import, re-import, size, search vs rg/grep, list, show, export,
trend.

For each N it grows N posts from the real corpus (bench/generate.py, deterministic by seed),
then measures whole processes side by side in one run, so ratios hold on a noisy machine:

    python bench/run.py 10000 100000            # sizes to run
    python bench/run.py 100000 --runs 7 --md bench/out/results.md
    python bench/run.py 100000 --text words     # one corpus only

Each size runs on two corpora (``--text``): ``words``, whose Chinese text never recurs (every
size and import figure is taken from it; needs the bench extra, jieba), and ``paragraphs``, real
paragraphs recombined (they recur, which flatters compression), reported beside it. Start-up
is measured against ``python3 -c 'import sqlite3'`` in the same run.

    python bench/run.py 100000 --baseline ../main-before-stories   # import slowdown of stories

Stories are measured at every size: the grouping found against the generator's true stories
(``OUTDIR/.stories.tsv``), their bytes per post, ``similar`` in-process, and what collapsing
adds to a search. ``--baseline DIR`` imports the same posts with the newsarc of another checkout
(one without stories) in the same run, for the import slowdown. Every command runs from a
neutral folder with PYTHONPATH set, so that each checkout measures its own code.

    python bench/run.py --collapse bench/out/archive-words-1000000.db --runs 7

times only the collapsed against the plain search page, in-process, on an archive a full run
kept (``--keep``): the same loop as a full run, for a change to collapsing alone.

Needs ripgrep (`rg`) and GNU grep on PATH for the peer columns. Work files go to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

#: (label, term): 1, 2, 3 and 5 characters, common and rare in the generated corpus
TERMS = [
    ("1 char, common", "涨"),
    ("1 char, rare", "钛"),
    # common in the words corpus (the recurring one's terms are rarer there)
    ("1 char, most common", "的"),
    ("2 chars, common word", "中国"),
    ("2 chars, common", "港股"),
    ("2 chars, rare", "央企"),
    ("2 chars, Latin", "5G"),
    ("3 chars", "联合体"),
    ("3 chars, traditional", "國資委"),
    ("5 chars", "创新联合体"),
    ("5 chars, none", "量子纠缠态"),
]

#: a common two-character term for trend (targets at 1M posts: by month < 1 s, split < 1.5 s)
TREND_TERM = "港股"


#: every command runs from here: ``python -m newsarc.cli`` puts its working directory first on
#: ``sys.path``, so run from a checkout it would import that checkout's newsarc whatever
#: PYTHONPATH says (a baseline run from the repository measured the repository's code)
NEUTRAL = Path(tempfile.gettempdir())


def timed_peak(
    cmd: list[str], env: dict[str, str]
) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run a command; (seconds, its peak RSS in MB via GNU time, or -1 without it, result)."""
    timer = ["/usr/bin/time", "-f", "PEAKKB %M"] if Path("/usr/bin/time").exists() else []
    started = time.perf_counter()
    proc = subprocess.run([*timer, *cmd], capture_output=True, env=env, cwd=NEUTRAL)
    elapsed = time.perf_counter() - started
    lines = proc.stderr.decode(errors="replace").splitlines()
    peak = next((int(x.split()[1]) // 1024 for x in reversed(lines) if x.startswith("PEAKKB")), -1)
    return elapsed, peak, proc


def median_time(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=NEUTRAL
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def folder_size(path: Path) -> tuple[int, int]:
    """(apparent bytes, bytes on disk) of the post files under ``path``: what `du -sb` and
    `du -s` say of them. Not the generator's story labels (``LABELS``, 8 % of the folder's
    bytes), which runs before commit 86f496b counted, flattering every size ratio by 8 %."""
    from generate import LABELS

    stats = [f.stat() for f in path.rglob("*") if f.is_file() and f.name != LABELS]
    return sum(s.st_size for s in stats), sum(s.st_blocks * 512 for s in stats)


def oracle_check(db: Path, terms: list[str]) -> dict[str, str]:
    """Compare every match the index gives for each term with plain substring search over the
    folded title and text of every post (the definition of a match): "yes", or what differs."""
    from newsarc.fold import fold
    from newsarc.queries import matching_ids, post_texts
    from newsarc.search import compile_query
    from newsarc.store import Store

    store = Store.open(db, create=False, readonly=True)
    folded = {term: fold(term) for term in terms}
    expected: dict[str, set[int]] = {term: set() for term in terms}
    for post_id, title, text in post_texts(store):
        title, text = fold(title), fold(text)
        for term, f in folded.items():
            if f in title or f in text:
                expected[term].add(post_id)
    verdict = {}
    for term in terms:
        compiled = compile_query(term)
        got = matching_ids(store, compiled.include, compiled.exclude)
        missing, extra = len(expected[term] - got), len(got - expected[term])
        verdict[term] = "yes" if not (missing or extra) else f"NO: {missing} missed, {extra} extra"
    store.close()
    return verdict


#: parts of the archive, as ``dbstat`` names their tables and indexes (first match wins)
PARTS = (
    ("posts", ("posts",)),
    ("fts", ("posts_fts%",)),
    ("files", ("files", "sqlite_autoindex_files%", "idx_files%")),
    # tags and categories: the tables of ids, their indexes and the names (m011), or the
    # tables of names of archives before it
    ("tags", ("post_tag%", "idx_post_tag%", "post_categor%", "idx_post_categor%", "labels",
              "sqlite_autoindex_labels%", "sqlite_autoindex_post_tags%")),
    ("stories", ("story_%",)),
    ("post indexes", ("idx_posts%",)),
    ("dictionaries", ("dictionaries",)),
)


def size_parts(db: Path) -> dict[str, float]:
    """MB of pages in use per part of the archive (``dbstat``), free pages, and the file."""
    conn = sqlite3.connect(db)
    out = {name: 0.0 for name, _ in PARTS}
    out["other"] = 0.0
    for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
        part = next(
            (
                label
                for label, patterns in PARTS
                for pattern in patterns
                if conn.execute("SELECT ? LIKE ?", (name, pattern)).fetchone()[0]
            ),
            "other",
        )
        out[part] += size / 1e6
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    out["free"] = conn.execute("PRAGMA freelist_count").fetchone()[0] * page / 1e6
    conn.close()
    out["file"] = db.stat().st_size / 1e6
    return out


def startup(env: dict[str, str], db: Path, posts: Path, runs: int) -> dict[str, float]:
    """Whole-process start-up against ``python3 -c 'import sqlite3'``: ``--version``, one
    command's ``--help``, and a search piped to another process, beside ``rg``."""
    newsarc = [sys.executable, "-m", "newsarc.cli"]
    base = median_time([sys.executable, "-c", "import sqlite3"], runs * 2)
    out = {
        "python_s": base,
        "version_s": median_time([*newsarc, "--version"], runs * 2, env),
        "search_help_s": median_time([*newsarc, "search", "--help"], runs * 2, env),
        "search_pipe_s": median_time([*newsarc, "search", "港股"], runs * 2, env),
    }
    if shutil.which("rg"):
        out["rg_s"] = median_time(["rg", "-l", "-F", "港股", str(posts)], runs * 2)
    return out


def in_process_search(db: Path, term: str, runs: int) -> float:
    from newsarc.search import search
    from newsarc.store import Store

    store = Store.open(db, create=False, readonly=True)
    search(store, term)  # warm the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        search(store, term, limit=20)
        times.append(time.perf_counter() - started)
    store.close()
    return statistics.median(times)


def collapse_timings(store, runs: int) -> list[tuple[str, float, float]]:
    """(term, plain s, collapsed s) of a 20-post search page in-process, mean of ``runs``
    (each run times the plain page, then the collapsed one)."""
    from newsarc.search import search

    collapse = []
    for _, term in TERMS:
        plain = collapsed = 0.0
        for _ in range(runs):
            started = time.perf_counter()
            search(store, term, limit=20)
            plain += time.perf_counter() - started
            started = time.perf_counter()
            search(store, term, limit=20, collapse=True)
            collapsed += time.perf_counter() - started
        collapse.append((term, plain / runs, collapsed / runs))
    return collapse


def story_report(db: Path, posts: Path, runs: int) -> dict:
    """Stories at this size: the grouping against the generator's labels (pairwise precision
    and recall), bytes of story data per post, ``similar`` and collapse timings in-process."""
    import random

    from newsarc import stories
    from newsarc.queries import similar_posts
    from newsarc.store import Store

    store = Store.open(db, create=False, readonly=True)
    conn = store.conn
    labels = {}
    for line in (posts / ".stories.tsv").read_text(encoding="utf-8").splitlines():
        name, label = line.split("\t")
        labels[str(posts / name)] = label
    found = {
        path: story
        for path, story in conn.execute(
            "SELECT f.path, coalesce(p.story, p.id) FROM posts p JOIN files f ON f.post_id = p.id"
        )
        if path in labels
    }
    quality = stories.pair_quality(found, {p: labels[p] for p in found})
    n = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    story_bytes = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN "
        "('story_sig', 'story_band', 'story_band_recent', 'story_paragraph', 'idx_posts_story')"
    ).fetchone()[0]
    ids = [r[0] for r in conn.execute("SELECT id FROM posts")]
    sample = random.Random(1).sample(ids, min(200, len(ids)))
    similar_posts(store, sample[0])
    times = []
    for post_id in sample:
        started = time.perf_counter()
        similar_posts(store, post_id)
        times.append(time.perf_counter() - started)
    collapse = collapse_timings(store, runs)
    report = {
        "stories": len(set(found.values())),
        "true_stories": len(set(labels.values())),
        "precision": quality.precision,
        "recall": quality.recall,
        "story_bytes_per_post": (story_bytes or 0) / max(1, n),
        "similar_ms_median": statistics.median(times) * 1000,
        "similar_ms_p95": sorted(times)[int(len(times) * 0.95) - 1] * 1000,
        "collapse": collapse,
    }
    store.close()
    return report


def bench_size(
    n: int, runs: int, seed: int, keep: bool, text: str, corpus: Path | None = None,
    baseline: Path | None = None,
) -> dict:  # fmt: skip
    from generate import generate

    out = HERE / "out"
    posts = out / f"posts-{text}-{n}"
    db = out / f"archive-{text}-{n}.db"
    if not posts.exists():
        generate(n, posts, seed=seed, corpus=corpus, text=text)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "NEWSARC_DB": str(db), "PYTHONPATH": str(REPO)}
    newsarc = [sys.executable, "-m", "newsarc.cli"]
    apparent, on_disk = folder_size(posts)
    row: dict = {
        "n": n, "text": text, "folder_mb": apparent / 1e6, "folder_disk_mb": on_disk / 1e6
    }  # fmt: skip

    elapsed, peak, proc = timed_peak([*newsarc, "import", "--quiet", str(posts)], env)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"import failed: {proc.stderr.decode()[-2000:]}")
    row.update(import_s=elapsed, import_rate=n / elapsed, import_peak_mb=peak)
    if baseline is not None:
        base_db = out / f"baseline-{n}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base_db}{suffix}").unlink(missing_ok=True)
        base_env = {
            **env, "NEWSARC_DB": str(base_db), "PYTHONPATH": str(baseline),
            "PYTHONDONTWRITEBYTECODE": "1",
        }  # fmt: skip
        base_s, base_peak, _ = timed_peak([*newsarc, "import", "--quiet", str(posts)], base_env)
        row.update(baseline_import_s=base_s, baseline_peak_mb=base_peak)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base_db}{suffix}").unlink(missing_ok=True)
    elapsed, peak, _ = timed_peak([*newsarc, "import", "--quiet", str(posts)], env)
    row.update(reimport_s=elapsed, reimport_peak_mb=peak)
    parts = size_parts(db)
    row.update(db_mb=parts["file"], fts_mb=parts["fts"], parts=parts)

    searches = []
    exact = oracle_check(db, [term for _, term in TERMS])
    for label, term in TERMS:
        ours = median_time(
            [*newsarc, "search", term, "--limit", "20", "--format", "jsonl"], runs, env
        )
        rg = median_time(["rg", "-l", "-F", term, str(posts)], runs) if shutil.which("rg") else None
        grep = median_time(["grep", "-rlF", term, str(posts)], max(1, runs // 2))
        hits = subprocess.run(
            [*newsarc, "search", term, "--count"],
            capture_output=True,
            env=env,
            text=True,
            cwd=NEUTRAL,
        ).stdout.strip()
        inproc = in_process_search(db, term, runs * 3)
        searches.append(
            {
                "label": label,
                "term": term,
                "hits": hits,
                "newsarc_s": ours,
                "inproc_s": inproc,
                "rg_s": rg,
                "grep_s": grep,
                "exact": exact[term],
            }  # fmt: skip
        )
    row["search"] = searches
    trend = [*newsarc, "trend", TREND_TERM, "--by", "month", "--format", "table"]
    row["trend"] = {
        "term": TREND_TERM,
        "count_s": median_time([*newsarc, "search", TREND_TERM, "--count"], runs, env),
        "month_s": median_time(trend, runs, env),
        "split_s": median_time([*trend, "--split", "source"], runs, env),
    }
    row["stories"] = story_report(db, posts, runs)
    row["list_s"] = median_time([*newsarc, "list", "--limit", "50", "--format", "jsonl"], runs, env)
    row["show_s"] = median_time([*newsarc, "show", "1", "--format", "json"], runs, env)
    row["help_s"] = median_time([*newsarc, "--help"], runs, env)
    elapsed, peak, _ = timed_peak([*newsarc, "export", "--format", "jsonl"], env)
    row.update(export_s=elapsed, export_peak_mb=peak)
    elapsed, peak, _ = timed_peak([*newsarc, "list", "--all", "--format", "jsonl"], env)
    row.update(list_all_s=elapsed, list_all_peak_mb=peak)
    row["startup"] = startup(env, db, posts, runs)
    if not keep:
        shutil.rmtree(posts)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    return row


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip()
    except OSError:
        return "?"


def to_markdown(rows: list[dict]) -> str:
    lines = [
        f"Machine: {machine()}  ",
        f"Date: {dt.date.today()}, commit {commit()}. Whole-process times are medians; ratios are "
        "peer time ÷ newsarc time (higher is better for newsarc).",
        "",
        "Folder sizes: apparent bytes (`du -sb`) / on disk (`du -s`); the ratios divide the database "
        "by each.",
        "",
        "| posts | text | import s | posts/s | import peak MB | re-import s | folder MB | DB MB | DB ÷ folder | FTS MB | FTS ÷ folder |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        disk = r.get("folder_disk_mb") or r["folder_mb"]
        lines.append(
            f"| {r['n']:,} | {r['text']} | {r['import_s']:.1f} | {r['import_rate']:,.0f} | {r['import_peak_mb']} | "
            f"{r['reimport_s']:.1f} | {r['folder_mb']:.0f} / {disk:.0f} | {r['db_mb']:.0f} | "
            f"{r['db_mb'] / r['folder_mb']:.2f} / {r['db_mb'] / disk:.2f} | {r['fts_mb']:.0f} | "
            f"{r['fts_mb'] / r['folder_mb']:.2f} / {r['fts_mb'] / disk:.2f} |"
        )
    names = [name for name, _ in PARTS] + ["other", "free"]
    lines += [
        "",
        "Size per part (MB of pages in use, `dbstat`; ÷ the folder's apparent bytes):",
        "",
        "| posts | text | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for r in rows:
        cells = [f"{r['parts'][k]:.1f} ({r['parts'][k] / r['folder_mb']:.2f})" for k in names]
        lines.append(f"| {r['n']:,} | {r['text']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Start-up against `python3 -c 'import sqlite3'` (s, and ÷ it) in the same run; the search "
        "(`newsarc search 港股`, output piped) beside `rg -l -F`:",
        "",
        "| posts | text | python s | --version | search --help | search piped | rg |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        st = r["startup"]
        base = st["python_s"]
        cells = [
            f"{st[k]:.3f} ({st[k] / base:.1f}×)" if k in st else "–"
            for k in ("version_s", "search_help_s", "search_pipe_s", "rg_s")
        ]
        lines.append(f"| {r['n']:,} | {r['text']} | {base:.3f} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| posts | text | list 50 s | show s | --help s | export s | export peak MB | list --all s | list --all peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['text']} | {r['list_s']:.3f} | {r['show_s']:.3f} | {r['help_s']:.3f} | "
            f"{r['export_s']:.1f} | {r['export_peak_mb']} | {r.get('list_all_s', 0):.1f} | "
            f"{r.get('list_all_peak_mb', '–')} |"
        )
    lines += [
        "",
        "Trend of a two-character term, whole process, chart drawn (`newsarc trend TERM --by month "
        "--format table`, and with `--split source`), beside `search TERM --count`:",
        "",
        "| posts | term | search --count s | trend by month s | trend --split source s |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        t = r.get("trend")
        if t:
            lines.append(
                f"| {r['n']:,} | {t['term']} | {t['count_s']:.3f} | {t['month_s']:.3f} | "
                f"{t['split_s']:.3f} |"
            )
    lines += [
        "",
        "Stories (grouping against the generator's true stories; story data = signatures, band "
        "keys, paragraph contexts and the story index):",
        "",
        "| posts | import s | baseline import s | slowdown | stories | true stories | precision "
        "| recall | story bytes/post | similar ms (median / p95) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        st = r["stories"]
        base = r.get("baseline_import_s")
        slow = f"{(r['import_s'] / base - 1) * 100:+.0f} %" if base else "–"
        lines.append(
            f"| {r['n']:,} | {r['import_s']:.1f} | {f'{base:.1f}' if base else '–'} | {slow} | "
            f"{st['stories']:,} | {st['true_stories']:,} | {st['precision']:.3f} | "
            f"{st['recall']:.3f} | {st['story_bytes_per_post']:.0f} | "
            f"{st['similar_ms_median']:.1f} / {st['similar_ms_p95']:.1f} |"
        )
    for r in rows:
        lines += [
            "",
            f"Collapse at {r['n']:,} posts, text {r['text']} (in-process `search(limit=20)`, "
            "mean of runs; a page of more than 1,000 matches counts its posts, not its stories):",
            "",
            "| term | plain ms | collapsed ms | added |",
            "|---|---|---|---|",
        ]
        for term, plain, collapsed in r["stories"]["collapse"]:
            lines.append(
                f"| {term} | {plain * 1000:.1f} | {collapsed * 1000:.1f} | "
                f"{(collapsed / plain - 1) * 100:+.0f} % |"
            )
    for r in rows:
        lines += [
            "",
            f"Search at {r['n']:,} posts, text {r['text']} (`newsarc search TERM --limit 20 --format jsonl`, with snippets):",
            "",
            "| query | term | matches | same as oracle | newsarc s | in-process ms | rg -l -F s | rg ÷ newsarc | grep -rlF s | grep ÷ newsarc |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in r["search"]:
            rg = f"{s['rg_s']:.3f} | {s['rg_s'] / s['newsarc_s']:.1f}×" if s["rg_s"] else "– | –"
            lines.append(
                f"| {s['label']} | {s['term']} | {s['hits']} | {s.get('exact', '–')} | {s['newsarc_s']:.3f} | "
                f"{s['inproc_s'] * 1000:.1f} | {rg} | {s['grep_s']:.3f} | {s['grep_s'] / s['newsarc_s']:.1f}× |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000])
    parser.add_argument("--runs", type=int, default=5, help="repetitions per timing (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep generated posts and databases")
    parser.add_argument("--md", type=Path, help="write the Markdown table to this file")
    parser.add_argument("--json", type=Path, help="write raw numbers as JSON")
    parser.add_argument(
        "--baseline", type=Path,
        help="a checkout of newsarc without stories: its import of the same posts is timed too",
    )  # fmt: skip
    parser.add_argument(
        "--text",
        default="words,paragraphs",
        help="corpora to run, comma-separated: words (never recurs), paragraphs (recurs)",
    )
    parser.add_argument(
        "--corpus", type=Path, help="real posts to grow from (generate.py's default)"
    )
    parser.add_argument(
        "--collapse", type=Path, metavar="ARCHIVE",
        help="only time collapsed against plain search pages on an existing archive",
    )  # fmt: skip
    args = parser.parse_args()
    if args.collapse is not None:
        from newsarc.store import Store

        store = Store.open(args.collapse, create=False, readonly=True)
        collapse_timings(store, 1)  # warm the caches, as a full run's searches have
        print("| term | plain ms | collapsed ms | added |\n|---|---|---|---|")
        for term, plain, collapsed in collapse_timings(store, args.runs):
            print(
                f"| {term} | {plain * 1000:.1f} | {collapsed * 1000:.1f} | "
                f"{(collapsed / plain - 1) * 100:+.0f} % |"
            )
        store.close()
        return
    rows = []
    for n in args.sizes:
        for text in args.text.split(","):
            print(f"benchmarking {n:,} posts, text {text}…", file=sys.stderr)
            rows.append(
                bench_size(n, args.runs, args.seed, args.keep, text, args.corpus, args.baseline)
            )
    text = to_markdown(rows)
    print(text)
    if args.md:
        args.md.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
