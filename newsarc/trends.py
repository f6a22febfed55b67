"""Trends: how many posts match a query per day, week, month, quarter or year.

The store counts the matching posts per local day (and group) with exactly the match set
search uses (``queries.day_counts``); this module gathers days into periods, fills the empty
periods inside the range with 0, keeps the top groups of a split (the rest as ``other``) and
gives one series per compared query. A post's day is its local date as written in its own
offset, the date ``show`` and ``list`` display and ``--since``/``--until`` compare with.
No SQL here, no Rich.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .dates import LOCAL_FORMAT
from .queries import Filters, day_counts, day_stories
from .search import match_expressions

if TYPE_CHECKING:
    from .store import Store

#: the most bars an automatic ``--by`` allows: a chart that still reads at a glance
MAX_BARS = 40
#: the name of the series that gathers the groups after the top ones
OTHER = "other"


class By(enum.StrEnum):
    """How long one period of a trend is."""

    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class Split(enum.StrEnum):
    """What a trend can be split by: one series per group."""

    source = "source"
    category = "category"
    tag = "tag"


@dataclass(frozen=True)
class Period:
    """One period: its ISO label (``2022-04``, ``2022-W14``, ``2022-Q2``, ``2022-04-09``,
    ``2022``) and its first and last local day, both included."""

    label: str
    start: dt.date
    end: dt.date


def period_of(day: dt.date, by: By) -> Period:
    """The period of ``by`` that holds ``day``. Weeks are ISO weeks (Monday to Sunday, in the
    ISO year of their Thursday: 2021-01-03 is in 2020-W53)."""
    if by is By.day:
        return Period(day.isoformat(), day, day)
    if by is By.week:
        year, week, weekday = day.isocalendar()
        start = day - dt.timedelta(days=weekday - 1)
        return Period(f"{year}-W{week:02d}", start, start + dt.timedelta(days=6))
    if by is By.year:
        return Period(str(day.year), dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
    months = 3 if by is By.quarter else 1
    first = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first, 1)
    after = (
        dt.date(day.year + 1, 1, 1) if first + months > 12 else start.replace(month=first + months)
    )
    label = f"{day.year}-Q{(first - 1) // 3 + 1}" if by is By.quarter else f"{day.year}-{first:02d}"
    return Period(label, start, after - dt.timedelta(days=1))


def periods(first: dt.date, last: dt.date, by: By) -> list[Period]:
    """Every period of ``by`` from the one holding ``first`` to the one holding ``last``."""
    out: list[Period] = []
    day = first
    while day <= last:
        period = period_of(day, by)
        out.append(period)
        if period.end >= dt.date.max - dt.timedelta(days=1):
            break
        day = period.end + dt.timedelta(days=1)
    return out


def auto_by(first: dt.date, last: dt.date, max_bars: int = MAX_BARS) -> By:
    """The shortest period that covers ``first``…``last`` in at most ``max_bars`` bars."""
    for by in By:
        if by is By.year or _span(first, last, by) <= max_bars:
            return by
    return By.year  # pragma: no cover - the loop returns at year


def _span(first: dt.date, last: dt.date, by: By) -> int:
    """How many periods of ``by`` cover ``first``…``last``, without listing them."""
    if by is By.day:
        return (last - first).days + 1
    if by is By.week:
        return (period_of(last, by).start - period_of(first, by).start).days // 7 + 1
    months = (last.year - first.year) * 12 + last.month - first.month
    if by is By.month:
        return months + 1
    if by is By.quarter:
        return (last.year - first.year) * 4 + (last.month - 1) // 3 - (first.month - 1) // 3 + 1
    return last.year - first.year + 1


@dataclass
class Series:
    """One line of a trend: a group of a split, a compared query, or the whole selection
    (``name`` None); ``counts`` align with the trend's periods."""

    name: str | None
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Trend:
    """Counts per period, one series or several (``kind`` says what they are: ``group`` of a
    split, ``query`` of a comparison, or None for one series)."""

    by: By
    periods: list[Period]
    series: list[Series]
    kind: str | None = None
    #: posts of the selection without a date, which no period holds (per series, summed)
    undated: int = 0
    #: the posts counted: with a split by tag a post counts in each of its tags, not here
    total: int = 0
    queries: list[str] = field(default_factory=list)
    #: what is counted: ``post``, or ``story`` (``--stories``: copies count once)
    unit: str = "post"

    @property
    def empty(self) -> bool:
        return self.total == 0

    def period_totals(self) -> list[int]:
        """Each period's count summed over the series."""
        return [sum(s.counts[i] for s in self.series) for i in range(len(self.periods))]

    def records(self) -> Iterator[dict[str, Any]]:
        """``{period, start, end, count}`` per period (and ``group`` or ``query`` per series),
        period by period, for scripts."""
        for i, period in enumerate(self.periods):
            for series in self.series:
                record: dict[str, Any] = {
                    "period": period.label,
                    "start": period.start.isoformat(),
                    "end": period.end.isoformat(),
                    "count": series.counts[i],
                }
                if self.kind:
                    record[self.kind] = series.name
                yield record


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _bound_day(bound: str | int | None, *, end: bool) -> dt.date | None:
    """The local day a ``--since``/``--until`` bound gives the range (the day before an
    exclusive end); None for no bound or an instant, whose local day depends on the post."""
    if not isinstance(bound, str):
        return None
    moment = dt.datetime.strptime(bound, LOCAL_FORMAT)
    if end:
        moment -= dt.timedelta(seconds=1)
    return moment.date()


def _top(totals: dict[str | None, int], top: int | None) -> list[str | None]:
    """The ``top`` groups with the most posts (ties by name), all when ``top`` is None."""
    ranked = sorted(totals, key=lambda g: (-totals[g], g is None, g or ""))
    return ranked if top is None else ranked[:top]


def trend(
    store: Store,
    queries: Sequence[str],
    filters: Filters | None = None,
    *,
    by: By | str | None = None,
    split: Split | str | None = None,
    top: int | None = 5,
    stories: bool = False,
) -> Trend:
    """Posts per period matching ``queries``: one query (or none: every post) as one series,
    split into the ``top`` groups of ``split`` and ``other``, or several queries compared, one
    series each. ``by`` None chooses the period from the range (at most ``MAX_BARS`` bars).
    The range runs from ``--since`` (or the first matching day) to ``--until`` (or the last
    one). ``stories`` counts stories instead of posts: a story with matching posts in a period
    counts once there, however many copies it has (``posts.story``, shared with search's
    collapse). ``QueryError``/``UsageError`` for a bad query; ``ValueError`` for a bad
    ``by``/``split``.
    """
    filters = filters or Filters()
    by = By(by) if by is not None else None
    split = Split(split) if split is not None else None
    if split is not None and len(queries) > 1:
        raise ValueError("a trend is split by groups or compares queries, not both")
    texts = list(queries) or [""]
    compiled = [match_expressions(q) for q in texts]
    # series → day → posts, or (stories) the set of stories with a post that day
    per_series: dict[str | None, dict[str, Any]] = {}
    undated = 0
    undated_stories: set[int] = set()
    for text, (include, exclude) in zip(texts, compiled, strict=True):
        if stories:
            for story in day_stories(store, include, exclude, filters, split=split):
                name = text if len(texts) > 1 else story.group
                if story.day is None:
                    undated_stories.add(story.story)
                    continue
                per_series.setdefault(name, {}).setdefault(story.day, set()).add(story.story)
            continue
        for row in day_counts(store, include, exclude, filters, split=split):
            name = text if len(texts) > 1 else row.group
            if row.day is None:
                undated += row.posts
                continue
            days = per_series.setdefault(name, {})
            days[row.day] = days.get(row.day, 0) + row.posts
    if stories:
        undated = len(undated_stories)
        # a story counts once in the total, though in several periods, groups or queries
        total = len({s for days in per_series.values() for day in days.values() for s in day})
    else:
        total = sum(sum(days.values()) for days in per_series.values())
        if split is Split.tag:  # a post counts once in the total, though in each of its tags
            total = sum(r.posts for r in day_counts(store, *compiled[0], filters) if r.day)

    all_days = sorted({d for days in per_series.values() for d in days})
    first = _bound_day(filters.since, end=False) or (_day(all_days[0]) if all_days else None)
    last = _bound_day(filters.until, end=True) or (_day(all_days[-1]) if all_days else None)
    if first is None or last is None or first > last:
        chosen = by or By.day
        spans: list[Period] = []
    else:
        chosen = by or auto_by(first, last)
        spans = periods(first, last, chosen)
    index = {p.label: i for i, p in enumerate(spans)}

    def counts(days: dict[str, Any]) -> list[int]:
        if stories:  # the distinct stories of each period's days
            found: list[set[int]] = [set() for _ in spans]
            for day, ids in days.items():
                i = index.get(period_of(_day(day), chosen).label)
                if i is not None:
                    found[i] |= ids
            return [len(ids) for ids in found]
        out = [0] * len(spans)
        for day, n in days.items():
            i = index.get(period_of(_day(day), chosen).label)
            if i is not None:
                out[i] += n
        return out

    if len(texts) > 1:
        series = [Series(t, counts(per_series.get(t, {}))) for t in texts]
        kind: str | None = "query"
    elif split is None:
        series = [Series(None, counts(per_series.get(None, {})))]
        kind = None
    else:
        totals = {
            g: len(set().union(*d.values())) if stories else sum(d.values())
            for g, d in per_series.items()
        }
        kept = _top(totals, top)
        series = [Series(g, counts(per_series[g])) for g in kept]
        rest = [g for g in per_series if g not in kept]
        if rest:
            other = OTHER if OTHER not in kept else f"{OTHER} (rest)"
            merged: dict[str, Any] = {}
            for g in rest:
                for day, n in per_series[g].items():
                    if stories:
                        merged[day] = merged.get(day, set()) | n
                    else:
                        merged[day] = merged.get(day, 0) + n
            series.append(Series(other, counts(merged)))
        kind = "group"
    return Trend(
        chosen, spans, series, kind, undated, total, [t for t in texts if t],
        unit="story" if stories else "post",
    )  # fmt: skip
