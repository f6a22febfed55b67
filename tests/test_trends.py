"""Trends: periods (ISO weeks across years, quarters), the automatic period, exact counts per
period against search and against an oracle on the dates as written, splits, comparisons, and
the one date rule (a post's date is its local date in its own offset) in filters and stats."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarc.dates import local_datetime, period_bound
from newsarc.fold import fold
from newsarc.ingest import Importer
from newsarc.queries import Filters, archive_stats, list_posts
from newsarc.search import count, match_expressions, search
from newsarc.store import Store
from newsarc.trends import MAX_BARS, OTHER, By, Period, Split, auto_by, period_of, periods, trend

WORDS = ["芯片", "半导体", "港股", "创新联合体", "新闻", "市场"]
SOURCES = ["上海证券报", "中国经营网", "新华社", "财新", "第一财经", "证券时报", "经济日报"]
TAGS = ["科技", "金融", "宏观", "公司"]
OFFSETS = ["+08:00", "+05:30", "-05:00", "Z", ""]


@dataclass
class Written:
    """A post as the test wrote it: the oracle's view."""

    title: str
    text: str
    date: str | None  # as written in the file
    local: str | None  # its local date-time, read off what was written
    source: str
    category: str
    tags: list[str]


def _write(folder: Path, i: int, post: Written) -> None:
    lines = ["---", f'title: "{post.title}"']
    if post.date:
        lines.append(f"date: {post.date}")
    lines += [f"categories: {post.category}", f"tags: [{', '.join(post.tags)}]"]
    lines += [f"source: {post.source}", "---", "", post.text, ""]
    (folder / f"post-{i:04d}.md").write_text("\n".join(lines), encoding="utf-8")


def make_posts(rng: random.Random, n: int) -> list[Written]:
    posts = []
    start = dt.datetime(2021, 11, 20)
    for i in range(n):
        words = rng.sample(WORDS, rng.randint(1, 3))
        moment = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 470))
        if i % 17 == 0:  # near midnight, where offsets decide the day
            moment = moment.replace(hour=23, minute=30)
        offset = rng.choice(OFFSETS)
        written = moment.strftime("%Y-%m-%d %H:%M:%S") + (f" {offset}" if offset else "")
        date = None if i % 23 == 5 else written
        posts.append(
            Written(
                title=f"第{i}篇 {words[0]}",
                text="。".join(words) + f"。编号{i}。",
                date=date,
                local=moment.strftime("%Y-%m-%d %H:%M:%S") if date else None,
                source=rng.choice(SOURCES[: rng.randint(1, len(SOURCES))]),
                category=rng.choice(["emnews", "sitenews", "world"]),
                tags=rng.sample(TAGS, rng.randint(0, 2)),
            )
        )
    # the example: late on the 18th in India, already the 19th in Beijing
    posts.append(
        Written("印度 芯片", "芯片。", "2022-03-18 23:30:00 +05:30", "2022-03-18 23:30:00",
                "新华社", "world", ["科技"])
    )  # fmt: skip
    return posts


@pytest.fixture(scope="module")
def written() -> list[Written]:
    return make_posts(random.Random(12), 260)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, written: list[Written]) -> Store:
    folder = tmp_path_factory.mktemp("trend-posts")
    for i, post in enumerate(written):
        _write(folder, i, post)
    store = Store.open(tmp_path_factory.mktemp("trend-db") / "archive.db")
    result = Importer(store, workers=1).run([folder])
    assert not result.failed and result.imported == len(written)
    return store


def oracle(written: list[Written], term: str | None, *, start: str = "", end: str = "~") -> int:
    """Posts containing ``term`` whose local date (as written) is within ``start``…``end``."""
    return sum(
        1
        for p in written
        if p.local
        and start <= p.local[:10] <= end
        and (term is None or fold(term) in fold(p.title) or fold(term) in fold(p.text))
    )


# -- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "by", "label", "start", "end"),
    [
        ("2022-04-09", By.day, "2022-04-09", "2022-04-09", "2022-04-09"),
        ("2022-04-09", By.week, "2022-W14", "2022-04-04", "2022-04-10"),
        ("2022-04-09", By.month, "2022-04", "2022-04-01", "2022-04-30"),
        ("2022-04-09", By.quarter, "2022-Q2", "2022-04-01", "2022-06-30"),
        ("2022-04-09", By.year, "2022", "2022-01-01", "2022-12-31"),
        ("2024-02-29", By.month, "2024-02", "2024-02-01", "2024-02-29"),
        ("2022-12-31", By.month, "2022-12", "2022-12-01", "2022-12-31"),
        ("2022-12-31", By.quarter, "2022-Q4", "2022-10-01", "2022-12-31"),
        ("2022-01-01", By.quarter, "2022-Q1", "2022-01-01", "2022-03-31"),
        # ISO weeks across year boundaries: a week belongs to the year of its Thursday
        ("2021-01-03", By.week, "2020-W53", "2020-12-28", "2021-01-03"),
        ("2021-01-04", By.week, "2021-W01", "2021-01-04", "2021-01-10"),
        ("2019-12-30", By.week, "2020-W01", "2019-12-30", "2020-01-05"),
        ("2022-01-01", By.week, "2021-W52", "2021-12-27", "2022-01-02"),
        ("2026-12-31", By.week, "2026-W53", "2026-12-28", "2027-01-03"),
        ("2025-12-29", By.week, "2026-W01", "2025-12-29", "2026-01-04"),
    ],
)
def test_period_of_labels_and_bounds(day, by, label, start, end):
    period = period_of(dt.date.fromisoformat(day), by)
    assert period == Period(label, dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_periods_across_a_year_boundary_by_week():
    spans = periods(dt.date(2020, 12, 20), dt.date(2021, 1, 12), By.week)
    assert [p.label for p in spans] == ["2020-W51", "2020-W52", "2020-W53", "2021-W01", "2021-W02"]


dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))


@given(dates, dates, st.sampled_from(list(By)))
def test_periods_tile_the_range(a, b, by):
    first, last = min(a, b), max(a, b)
    if by is By.day:
        last = min(last, first + dt.timedelta(days=800))
    spans = periods(first, last, by)
    assert spans[0].start <= first <= spans[0].end
    assert spans[-1].start <= last <= spans[-1].end
    for before, after in zip(spans, spans[1:], strict=False):
        assert after.start == before.end + dt.timedelta(days=1)
    assert len({p.label for p in spans}) == len(spans)
    for probe in (first, last, first + (last - first) / 2):
        assert period_of(probe, by) in spans


@given(dates, dates)
def test_auto_by_is_the_finest_period_with_readable_bars(a, b):
    first, last = min(a, b), max(a, b)
    chosen = auto_by(first, last)
    assert len(periods(first, last, chosen)) <= MAX_BARS or chosen is By.year
    finer = list(By)[: list(By).index(chosen)]
    if finer and (last - first).days < 3000:
        assert len(periods(first, last, finer[-1])) > MAX_BARS


# -- counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["芯片", "半导体 OR 港股", "市场 -新闻", "芯片 半导体", "编号1"])
@pytest.mark.parametrize("by", [By.week, By.month, By.quarter])
def test_trend_counts_equal_search_per_period(archive, written, query, by):
    result = trend(archive, [query], by=by)
    assert result.total > 0
    for period, n in zip(result.periods, result.series[0].counts, strict=True):
        filters = Filters(
            since=period_bound(period.start.isoformat(), end=False),
            until=period_bound(period.end.isoformat(), end=True),
        )
        assert n == count(archive, query, filters), (query, period.label)
        if " " not in query:  # one term: the oracle reads the dates as written
            assert n == oracle(written, query, start=str(period.start), end=str(period.end))
    assert result.total == count(archive, query) - result.undated


def test_trend_by_day_follows_the_date_as_written(archive, written):
    result = trend(archive, ["印度"], by=By.day)
    assert [(p.label, n) for p, n in zip(result.periods, result.series[0].counts, strict=True)] == [
        ("2022-03-18", 1)
    ]
    every = trend(archive, [], by=By.day)
    expected: dict[str, int] = {}
    for post in written:
        if post.local:
            expected[post.local[:10]] = expected.get(post.local[:10], 0) + 1
    shown = {p.label: n for p, n in zip(every.periods, every.series[0].counts, strict=True) if n}
    assert shown == expected


def test_trend_fills_empty_periods_inside_the_range(archive):
    result = trend(archive, ["印度"], by=By.month, filters=Filters(
        since=period_bound("2022-01", end=False), until=period_bound("2022-06", end=True)
    ))  # fmt: skip
    assert [p.label for p in result.periods] == [f"2022-0{m}" for m in range(1, 7)]
    assert result.series[0].counts == [0, 0, 1, 0, 0, 0]
    records = list(result.records())
    assert records[2] == {"period": "2022-03", "start": "2022-03-01", "end": "2022-03-31",
                          "count": 1}  # fmt: skip


def test_trend_chooses_the_period_from_the_range(archive):
    assert trend(archive, ["新闻"]).by is By.month  # 15 months of posts
    assert len(trend(archive, ["新闻"]).periods) <= MAX_BARS
    april = Filters(
        since=period_bound("2022-04", end=False), until=period_bound("2022-04", end=True)
    )
    assert trend(archive, ["新闻"], april).by is By.day
    assert [p.label for p in trend(archive, ["新闻"], april).periods][-1] == "2022-04-30"


def test_trend_counts_undated_posts_apart(archive, written):
    result = trend(archive, [])
    undated = sum(1 for p in written if not p.date)
    assert undated and result.undated == undated
    assert result.total == len(written) - undated


def test_trend_split_by_source_top_and_other(archive, written):
    result = trend(archive, ["新闻"], split=Split.source, top=3, by=By.quarter)
    names = [s.name for s in result.series]
    assert names[-1] == OTHER and len(names) == 4
    per_source: dict[str, int] = {}
    for p in written:
        if p.local and "新闻" in p.title + p.text:
            per_source[p.source] = per_source.get(p.source, 0) + 1
    ranked = sorted(per_source, key=lambda s: (-per_source[s], s))
    assert names[:3] == ranked[:3]
    assert {s.name: s.total for s in result.series[:3]} == {s: per_source[s] for s in ranked[:3]}
    assert result.series[-1].total == sum(per_source[s] for s in ranked[3:])
    single = trend(archive, ["新闻"], by=By.quarter)
    assert result.period_totals() == single.series[0].counts
    assert {r["group"] for r in result.records()} == set(names)


def test_trend_split_by_tag_counts_each_tag(archive, written):
    result = trend(archive, ["芯片"], split="tag", top=None, by=By.year)
    per_tag: dict[str | None, int] = {}
    for p in written:
        if p.local and "芯片" in p.title + p.text:
            for tag in p.tags or [None]:
                per_tag[tag] = per_tag.get(tag, 0) + 1
    assert {s.name: s.total for s in result.series} == per_tag
    assert result.total == oracle(written, "芯片")


def test_trend_split_by_category_matches_the_category_filter(archive):
    result = trend(archive, [], split=Split.category, by=By.month)
    for series in result.series:
        alone = trend(archive, [], Filters(category=series.name), by=By.month)
        by_label = dict(zip([p.label for p in alone.periods], alone.series[0].counts, strict=True))
        assert [by_label.get(p.label, 0) for p in result.periods] == series.counts


def test_trend_compare_gives_one_series_per_query(archive):
    result = trend(archive, ["芯片", "半导体", "没有这个词"], by=By.quarter)
    assert result.kind == "query"
    assert [s.name for s in result.series] == ["芯片", "半导体", "没有这个词"]
    for series in result.series:
        alone = trend(archive, [series.name], by=By.quarter, filters=Filters(
            since=period_bound(str(result.periods[0].start), end=False),
            until=period_bound(str(result.periods[-1].end), end=True),
        ))  # fmt: skip
        assert alone.series[0].counts == series.counts
    assert result.series[2].total == 0
    assert {r["query"] for r in result.records()} == {"芯片", "半导体", "没有这个词"}


def test_trend_with_no_match_is_empty(archive):
    result = trend(archive, ["没有这个词"])
    assert result.empty and result.periods == [] and list(result.records()) == []


def test_trend_rejects_unknown_choices(archive):
    with pytest.raises(ValueError):
        trend(archive, ["芯片"], by="fortnight")
    with pytest.raises(ValueError):
        trend(archive, ["芯片"], split="author")
    with pytest.raises(ValueError, match="not both"):
        trend(archive, ["芯片", "半导体"], split="source")


# -- the date rule everywhere ---------------------------------------------------------------------


def test_filters_follow_the_local_date(archive, written):
    india = next(p for p in written if p.title == "印度 芯片")
    since_19 = Filters(since=period_bound("2022-03-19", end=False))
    until_18 = Filters(until=period_bound("2022-03-18", end=True))
    assert count(archive, "印度", since_19) == 0
    assert count(archive, "印度", until_18) == 1
    # the stored local date is the date as written, in SQL and in Python alike
    date, local = archive.conn.execute(
        "SELECT date, local_date FROM posts WHERE title = ?", (india.title,)
    ).fetchone()
    assert local == local_datetime(date) == india.local
    # list and search agree with the oracle for a day
    day = Filters(since=period_bound("2022-03-18", end=False),
                  until=period_bound("2022-03-18", end=True))  # fmt: skip
    listed = {p.id for p in list_posts(archive, day, limit=None).posts}
    found = {h.post.id for h in search(archive, "-没有这个词", day, limit=None).hits}
    assert listed == found and len(listed) == oracle(written, None, start="2022-03-18",
                                                     end="2022-03-18")  # fmt: skip


def test_filters_with_an_offset_compare_instants(archive):
    # 2022-03-18 23:30 +05:30 is 18:00 UTC
    assert (
        count(archive, "印度", Filters(since=period_bound("2022-03-18T18:00:00Z", end=False))) == 1
    )
    assert (
        count(archive, "印度", Filters(since=period_bound("2022-03-18T18:00:01Z", end=False))) == 0
    )


def test_stats_of_a_query_count_the_matching_posts(archive, written):
    stats = archive_stats(archive, top=None, include=search_include("芯片"))
    matching = [p for p in written if "芯片" in p.title + p.text]
    assert stats.posts == len(matching)
    per_source: dict[str, int] = {}
    for p in matching:
        per_source[p.source] = per_source.get(p.source, 0) + 1
    assert {c.value: c.posts for c in stats.sources} == per_source
    per_tag: dict[str, int] = {}
    for p in matching:
        for tag in p.tags:
            per_tag[tag] = per_tag.get(tag, 0) + 1
    assert {c.value: c.posts for c in stats.tags} == per_tag
    months: dict[str, int] = {}
    for p in matching:
        if p.local:
            months[p.local[:7]] = months.get(p.local[:7], 0) + 1
    assert {c.value: c.posts for c in stats.months} == months
    assert stats.undated == sum(1 for p in matching if not p.local)


def search_include(query: str) -> str | None:
    from newsarc.search import compile_query

    return compile_query(query).include


def test_trend_split_and_stats_query_count_every_category(tmp_path: Path):
    """A post in two categories is counted in both, by ``--split category`` and ``stats QUERY``
    alike (as ``--category`` selects it by either)."""
    folder = tmp_path / "posts"
    folder.mkdir()
    posts = [
        ("a", "[markets, emnews]", "芯片出口"),
        ("b", "emnews", "芯片价格"),
        ("c", "cnews", "别的"),
    ]
    for name, categories, text in posts:
        (folder / f"2022-04-0{len(name)}-{name}.md").write_text(
            f"---\ntitle: {text}\ndate: 2022-04-09 10:00:00 +0800\ncategories: {categories}\n---\n"
            f"{text}。\n",
            encoding="utf-8",
        )
    with Store.open(tmp_path / "a.db") as store:
        assert Importer(store, workers=1).run([folder]).imported == 3
        result = trend(store, ["芯片"], split=Split.category, by=By.month)
        assert {s.name: s.total for s in result.series} == {"emnews": 2, "markets": 1}
        include, exclude = match_expressions("芯片")
        stats = archive_stats(store, include=include, exclude=exclude)
        assert {c.value: c.posts for c in stats.categories} == {"emnews": 2, "markets": 1}
