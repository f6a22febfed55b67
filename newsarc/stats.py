"""The statistics of ``newsarc stats`` as data: one JSON document, or rows of counts.

The counting itself is a read query (``archive_stats``); this module shapes its result for the
machine formats, so the CLI only prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .queries import ArchiveStats, Count


def stats_document(stats: ArchiveStats) -> dict[str, Any]:
    """``stats --format json``: the totals, the date range, the archive's size and the counts as
    ``{"name", "posts"}`` lists (most posts first; months oldest first)."""
    return {
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


def stats_rows(stats: ArchiveStats) -> list[dict[str, Any]]:
    """``stats`` as rows (jsonl, csv, tsv): one ``{"kind", "name", "posts"}`` per count, kinds
    in the order category, source, tag, month."""
    kinds = (
        ("category", stats.categories),
        ("source", stats.sources),
        ("tag", stats.tags),
        ("month", stats.months),
    )
    return [{"kind": kind, "name": name, "posts": n} for kind, pairs in kinds for name, n in pairs]


def _named(counts: list[Count]) -> list[dict[str, Any]]:
    return [{"name": name, "posts": n} for name, n in counts]
