#!/usr/bin/env python3
"""Measure the story engine: signature cost per post, and grouping quality on the labelled set.

    python bench/stories.py [--posts 2000] [--repeat 5]

1. **Cost.** CPU time per post (``time.process_time``, best of ``--repeat`` runs, so other
   processes on the machine count less) of what an import worker already does for a post
   (``parse_post`` + the index form of title and text) and of the story signature, on the
   labelled posts and on ``--posts`` posts grown by ``bench/generate.py`` from the labelled set's
   real posts. The signature's share of the worker's time is what import slows by, at most
   (the main process only adds an index lookup and a few comparisons per post). If
   ``datasketch`` happens to be installed, its ``MinHash.update_batch`` on the same shingles is
   timed too, for comparison (newsarc does not depend on it).
2. **Quality.** Pairwise precision and recall of the incremental grouping
   (``stories.StoryIndex``, posts in date order) against ``tests/stories/labels.tsv`` at several
   thresholds; and the LSH recall: of the pairs scoring at or above the threshold, the share
   that share a band key (the others could only be found by a full scan).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "stories"))

from labelled import load_labelled  # noqa: E402

from newsarc import stories  # noqa: E402
from newsarc.fold import fold, index_form  # noqa: E402
from newsarc.parse import parse_post  # noqa: E402

LABELLED = HERE.parent / "tests" / "stories"


def best_time(fn: Callable[[object], object], items: Sequence[object], repeat: int) -> float:
    """Best CPU seconds per item of ``fn`` over ``items``."""
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            fn(item)
        runs.append(time.process_time() - start)
    return min(runs) / len(items)


def cost(files: list[Path], repeat: int) -> dict[str, float]:
    raw = [(f.read_text(encoding="utf-8", errors="replace"), f) for f in files]
    parsed = [parse_post(text, path) for text, path in raw]
    texts = [p.text for p in parsed]
    folded = [[fold(para) for para in t.split("\n\n")] for t in texts]
    out = {
        "parse_post": best_time(lambda r: parse_post(*r), raw, repeat),
        "index form (title + text)": best_time(
            lambda p: (index_form(p.title), index_form(p.text)), parsed, repeat
        ),
        "story signature (from text)": best_time(stories.signature, texts, repeat),
        "story signature (pre-folded)": best_time(stories.folded_signature, folded, repeat),
    }
    try:
        from datasketch import MinHash  # type: ignore[import-not-found]
    except ImportError:
        return out
    shingled = []
    for t in texts:
        chars = stories._NOT_TEXT.sub("", fold(t))
        shingled.append([chars[i : i + 3].encode() for i in range(max(1, len(chars) - 2))])
    template = MinHash(num_perm=128)

    def minhash(grams: list[bytes]) -> None:
        m = template.copy()
        m.update_batch(grams)

    out["datasketch MinHash(128).update_batch"] = best_time(minhash, shingled, repeat)
    return out


def quality(posts: list[tuple[str, str]], labels: dict[str, str], threshold: float):
    index = stories.StoryIndex(threshold)
    story = {name: index.add(i, text) for i, (name, text) in enumerate(posts)}
    found = stories.pair_quality(story, labels)
    sigs = index.signatures
    keys = {i: set(s.band_keys()) for i, s in sigs.items()}
    close = candidates = 0
    for a in sigs:
        for b in sigs:
            if a < b and stories.similarity(sigs[a], sigs[b]).score >= threshold:
                close += 1
                candidates += bool(keys[a] & keys[b])
    return found, candidates / close if close else 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000, help="generated posts to time")
    parser.add_argument("--repeat", type=int, default=5, help="timing runs (best is kept)")
    args = parser.parse_args(argv)

    from generate import generate

    labelled_files = sorted((LABELLED / "real").iterdir()) + sorted(
        (LABELLED / "generated").iterdir()
    )
    with tempfile.TemporaryDirectory() as tmp:
        generate(args.posts, Path(tmp) / "gen", seed=1, corpus=LABELLED / "real")
        generated = sorted((Path(tmp) / "gen").rglob("*.md"))
        print(f"CPU per post, µs (best of {args.repeat})")
        print(f"{'':40} {'labelled':>10} {'generated':>10}")
        a, b = cost(labelled_files, args.repeat), cost(generated, args.repeat)
        for step in a:
            print(f"{step:40} {a[step] * 1e6:10.1f} {b[step] * 1e6:10.1f}")
        for name, c in (("labelled", a), ("generated", b)):
            worker = c["parse_post"] + c["index form (title + text)"]
            share = c["story signature (pre-folded)"] / worker
            print(f"signature / worker time ({name}): {share:.0%}")

    posts, labels = load_labelled()
    sizes = [len(stories.signature(t).to_bytes()) for _, t in posts]
    print(
        f"\nlabelled set: {len(posts)} posts, {len(set(labels.values()))} stories; "
        f"signature {sum(sizes) / len(sizes):.0f} bytes on average, "
        f"{stories.BANDS} band keys per post"
    )
    print(f"{'threshold':>9} {'pairs':>6} {'precision':>9} {'recall':>7} {'LSH recall':>10}")
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
        found, lsh = quality(posts, labels, threshold)
        mark = " (default)" if threshold == stories.DEFAULT_THRESHOLD else ""
        print(
            f"{threshold:9.2f} {found.predicted:6} {found.precision:9.3f} {found.recall:7.3f} "
            f"{lsh:10.3f}{mark}"
        )
    index = stories.StoryIndex.rebuild((i, text) for i, (_, text) in enumerate(posts))
    found = stories.pair_quality(
        {name: index.story[i] for i, (name, _) in enumerate(posts)}, labels
    )
    print(
        f"rebuild (all paragraphs counted first) at {stories.DEFAULT_THRESHOLD}: "
        f"{found.predicted} pairs, precision {found.precision:.3f}, recall {found.recall:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
