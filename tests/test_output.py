"""output.py: the piped line of list and search, and the sort orders."""

from __future__ import annotations

import pytest

from newsarc.models import Post
from newsarc.output import SearchSort, Sort, post_line
from newsarc.queries import SORTS


def post(**fields) -> Post:
    defaults = dict(
        id=7, external_id="x", title="标题", date="2022-04-09T14:22:44+08:00", category="emnews",
        tags=[], source="中国经营网", url=None, summary=None, text=None, paths=[],
    )  # fmt: skip
    return Post(**{**defaults, **fields})


def test_post_line_fields():
    assert post_line(post()) == "7\t2022-04-09T14:22:44+08:00\t中国经营网\t标题\n"
    assert post_line(post(source=None)) == "7\t2022-04-09T14:22:44+08:00\temnews\t标题\n"
    assert post_line(post(date=None, source=None, category=None, title="")) == "7\t\t\t\n"
    assert (
        post_line(post(), "…snippet…")
        == "7\t2022-04-09T14:22:44+08:00\t中国经营网\t标题\t…snippet…\n"
    )


@pytest.mark.parametrize("title", ["a\tb", "a\nb", "a\t\n\tb", "\n"])
def test_post_line_is_one_line_of_five_cells_whatever_the_content(title):
    line = post_line(post(title=title), "snip\tpet\nnext")
    assert line.endswith("\n") and line.count("\n") == 1 and line.count("\t") == 4
    assert line.split("\t")[3] == title.replace("\t", " ").replace("\n", " ")


def test_sort_values_are_the_stores_orders():
    assert [s.value for s in Sort] == ["date", "-date", "title", "-title", "id", "-id"]
    assert {s.value for s in Sort} == set(SORTS)
    assert Sort("-date") is Sort.newest and str(Sort.newest) == "-date"
    assert [s.value for s in SearchSort] == ["rank", "-date", "date"]
