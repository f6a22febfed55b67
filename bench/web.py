"""Server time of the web view (the Datasette plugin) on an existing archive.

Each page is requested in-process through Datasette's own ASGI client (no network, no browser),
so the time is what the server spends: routing, the search, rendering. Every term is asked once
to warm the caches, then ``--runs`` times; the median and the slowest run are reported, next to
``newsarc.search`` alone on the same page of results. Pages: the search page (by relevance and
newest first), and ``posts.json?_search=`` with its default facets (category, source, tags,
month) and without them (``_nofacet=1``).

    python bench/generate.py --corpus DIR 100000 /tmp/posts
    newsarc --db /tmp/web100k.db import /tmp/posts
    python bench/web.py /tmp/web100k.db [--runs 9] [--term 港股 ...]

Needs the web extra (pip install '.[web]').
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: two-character terms, common and rare, and a longer one for comparison
TERMS = ["中国", "港股", "央企", "5G", "国资委"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="an archive")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per page (default 9)")
    parser.add_argument("--term", action="append", help="terms to search (default: a few)")
    args = parser.parse_args()

    from newsarc import web
    from newsarc.queries import count_posts
    from newsarc.search import search
    from newsarc.store import Store

    ds = web.datasette_for(args.db)
    name = args.db.stem
    loop = asyncio.new_event_loop()
    loop.run_until_complete(ds.invoke_startup())

    def page_ms(path: str) -> list[float]:
        times = []
        for _ in range(args.runs + 1):
            start = time.perf_counter()
            response = loop.run_until_complete(ds.client.get(path))
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
        return times[1:]

    with Store.open(args.db, readonly=True) as store:
        posts = count_posts(store)

        def library_ms(term: str, sort: str) -> list[float]:
            times = []
            for _ in range(args.runs + 1):
                start = time.perf_counter()
                search(store, term, sort=sort, limit=web.PAGE_SIZE, text=False)  # type: ignore[arg-type]
                times.append((time.perf_counter() - start) * 1000)
            return times[1:]

        print(f"archive: {args.db} ({posts:,} posts); {args.runs} runs, median (max) ms")
        print(f"{'term':8} {'matches':>8}  {'search page':>14}  {'by date':>14}  "
              f"{'posts?_search':>14}  {'no facets':>14}  {'search() alone':>14}")  # fmt: skip
        for term in args.term or TERMS:
            total = search(store, term, limit=1).total
            cells = [
                page_ms(f"/-/newsarc/{name}?q={quote(term)}"),
                page_ms(f"/-/newsarc/{name}?q={quote(term)}&sort=-date"),
                page_ms(f"/{name}/posts.json?_search={quote(term)}&_size=20&_col=title"),
                page_ms(f"/{name}/posts.json?_search={quote(term)}&_size=20&_col=title&_nofacet=1"),
                library_ms(term, "rank"),
            ]
            shown = "  ".join(f"{statistics.median(c):7.1f} ({max(c):4.0f})" for c in cells)
            print(f"{term:8} {total:>8,}  {shown}")
    loop.close()


if __name__ == "__main__":
    main()
