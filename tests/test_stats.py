"""stats.py: the statistics document and rows, checked against the store's counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsarc.ingest import Importer
from newsarc.queries import ArchiveStats, Filters, archive_stats
from newsarc.stats import stats_document, stats_rows
from newsarc.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def result(isolated_archive: Path) -> ArchiveStats:
    with Store.open(isolated_archive, create=True) as store:
        Importer(store, workers=1).run([EXAMPLES])
        return archive_stats(store, Filters(), top=2)


def test_stats_document_has_every_figure(result: ArchiveStats):
    document = stats_document(result)
    assert list(document) == [
        "posts", "first_date", "last_date", "undated", "files", "archive_bytes", "distinct",
        "categories", "sources", "tags", "months",
    ]  # fmt: skip
    assert document["posts"] == result.posts == 12 and document["files"] == 13
    assert document["categories"] == [{"name": n, "posts": c} for n, c in result.categories]
    assert document["categories"][0] == {"name": "emnews", "posts": 10}
    assert len(document["tags"]) == 2 and document["distinct"]["tags"] == 3
    assert sum(m["posts"] for m in document["months"]) == result.posts - result.undated
    assert [m["name"] for m in document["months"]] == sorted(m["name"] for m in document["months"])


def test_stats_rows_are_the_documents_counts_in_kind_order(result: ArchiveStats):
    rows = stats_rows(result)
    document = stats_document(result)
    expected = [
        {"kind": kind, **entry}
        for kind, key in (("category", "categories"), ("source", "sources"),
                          ("tag", "tags"), ("month", "months"))
        for entry in document[key]
    ]  # fmt: skip
    assert rows == expected and rows[0] == {"kind": "category", "name": "emnews", "posts": 10}


def test_stats_of_an_empty_selection(isolated_archive: Path):
    with Store.open(isolated_archive, create=True) as store:
        empty = archive_stats(store, Filters(category="nope"))
    assert stats_rows(empty) == []
    document = stats_document(empty)
    assert document["posts"] == 0 and document["first_date"] is None and document["months"] == []
