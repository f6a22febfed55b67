"""The statistics of ``newsarc stats`` as data: one JSON document, or rows of counts.

The counting itself is a read query (``archive_stats``); this module shapes its result for the
machine formats, so the CLI only prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .queries import ArchiveStats, Count, StoryStats


def stats_document(stats: ArchiveStats, stories: StoryStats | None = None) -> dict[str, Any]:
    """``stats --format json``: the totals, the date range, the archive's size and the counts as
    ``{"name", "posts"}`` lists (most posts first; months oldest first). With ``stories``: the
    number of stories in all and in each category, source and month (``"stories"``), and the
    largest stories."""
    document: dict[str, Any] = {
        "posts": stats.posts,
        "first_date": stats.first_date,
        "last_date": stats.last_date,
        "undated": stats.undated,
        "files": stats.files,
        "archive_bytes": stats.archive_bytes,
        "distinct": stats.distinct,
        "categories": _named(stats.categories),
        "sources": _named(stats.sources),
        "tags": _named(stats.tags),
        "months": _named(stats.months),
    }
    if stories is not None:
        document["stories"] = stories.stories
        for key in ("categories", "sources", "months"):
            per = {c.value: c.stories for c in getattr(stories, key)}
            for item in document[key]:
                item["stories"] = per.get(item["name"])
        document["largest_stories"] = [s._asdict() for s in stories.largest]
    return document


def stats_rows(stats: ArchiveStats, stories: StoryStats | None = None) -> list[dict[str, Any]]:
    """``stats`` as rows (jsonl, csv, tsv): one ``{"kind", "name", "posts"}`` per count, kinds
    in the order category, source, tag, month; with ``stories`` a ``stories`` column too (empty
    for tags), and one ``story`` row per largest story (name: its id)."""
    kinds = (
        ("category", stats.categories),
        ("source", stats.sources),
        ("tag", stats.tags),
        ("month", stats.months),
    )
    rows: list[dict[str, Any]] = [
        {"kind": kind, "name": name, "posts": n} for kind, pairs in kinds for name, n in pairs
    ]
    if stories is None:
        return rows
    per = {
        (kind, c.value): c.stories
        for kind, counts in (
            ("category", stories.categories), ("source", stories.sources),
            ("month", stories.months),
        )
        for c in counts
    }  # fmt: skip
    for row in rows:
        row["stories"] = per.get((row["kind"], row["name"]))
    rows += [
        {"kind": "story", "name": str(s.story), "posts": s.posts, "stories": 1}
        for s in stories.largest
    ]
    return rows


def _named(counts: list[Count]) -> list[dict[str, Any]]:
    return [{"name": name, "posts": n} for name, n in counts]
