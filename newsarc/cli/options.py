"""What several commands share: the selection and output options (declared once), and the small
steps that turn option values into library values (filters, time zone, the open archive)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from newsarc.errors import UsageError
from newsarc.output import Format, Sort, StatsFormat

if TYPE_CHECKING:
    from newsarc.queries import Filters
    from newsarc.store import Store

CategoryOpt = Annotated[str | None, typer.Option("--category", help="Only this category (exact).")]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Only posts with this tag (exact).")]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Only this source, e.g. 中国经营网.")
]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="From this date on: 2022, 2022-04, 2022-04-09.")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Up to and including this date, month or year.")
]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f",
        help="table (default on a terminal), json, jsonl, csv, tsv, ids. Piped without "
        "--format: plain tab-separated lines.",
        show_default=False,
    ),
]  # fmt: skip
#: SQLite's largest integer: a count or id option beyond it is a usage error, not an overflow
MAX_INT = 2**63 - 1

LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit", "-n", min=1, max=MAX_INT, show_default=False,
        help="At most this many posts. Default: one page in the terminal view; every post "
        "when piped or with a data --format.",
    ),
]  # fmt: skip
AllOpt = Annotated[
    bool, typer.Option("--all", "-a", help="Every post, in the terminal view too (no --limit).")
]
OffsetOpt = Annotated[
    int, typer.Option("--offset", min=0, max=MAX_INT, help="Skip this many posts first.")
]
SortOpt = Annotated[
    Sort, typer.Option("--sort", help="Order of the posts; - reverses it (-date: newest first).")
]
TextOpt = Annotated[
    bool, typer.Option("--text", help="Include each post's full text in data formats.")
]
CollapseOpt = Annotated[
    bool | None,
    typer.Option(
        "--collapse/--no-collapse",
        help="Each story (a post and its near-copies from other outlets) once, with its number "
        "of posts and outlets. Default: on a terminal, yes; in data formats, every post.",
        show_default=False,
    ),
]
PlainOpt = Annotated[
    bool, typer.Option("--plain", help="No colour or box drawing (same as the global --plain).")
]


def open_store(ctx: typer.Context, *, create: bool = False, readonly: bool = False) -> Store:
    """The archive of ``--db`` (or its default), opened for this command."""
    from newsarc.store import Store

    from . import db_path

    return Store.open(db_path(ctx), create=create, readonly=readonly)


def is_tty(stream: Any = None) -> bool:
    """Whether ``stream`` (stdout by default) is a terminal."""
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def for_people(fmt: Format | StatsFormat | None) -> bool:
    """Whether output is for a person (Rich) rather than for a script."""
    return (fmt is None or fmt.value == Format.table.value) and is_tty()


def collapse(value: bool | None, people: bool) -> bool:
    """``--collapse``/``--no-collapse`` as given, else collapsed only for people."""
    return people if value is None else value


def plain(ctx: typer.Context, local: bool = False) -> bool:
    """No colour or box drawing: the command's ``--plain``, the global one or ``NO_COLOR``."""
    return local or bool(ctx.find_root().obj["plain"])


def time_zone(value: str | None) -> Any:
    """``--tz``: the zone for dates written without one (default +08:00)."""
    from newsarc.dates import DEFAULT_TZ, parse_tz

    return parse_tz(value) if value else DEFAULT_TZ


def filters(
    category: str | None, tag: str | None, source: str | None,
    since: str | None, until: str | None,
) -> Filters:  # fmt: skip
    """The selection options as ``Filters``. ``--since``/``--until`` without an offset are local
    dates as written in each post (``dates.period_bound``); ``UsageError`` when the range is
    inverted."""
    from newsarc.dates import check_range, period_bound
    from newsarc.queries import Filters

    start = period_bound(since, end=False) if since else None
    end = period_bound(until, end=True) if until else None
    check_range(start, end)
    return Filters(category=category, tag=tag, source=source, since=start, until=end)


def page_limit(limit: int | None, all_: bool, people: bool, page: int) -> int | None:
    """How many posts to print: ``--limit`` if given; else ``page`` in the terminal view and
    every post when piped or in a data format, as rg, grep and notmuch print every match: a
    script must never get a first page that looks like the whole answer."""
    if all_ and limit is not None:
        raise UsageError("--all and --limit contradict each other: give one")
    if all_ or limit is not None:
        return limit
    return page if people else None


def note_cut(
    written: int, total: int | None, limit: int | None, offset: int, *, collapsed: bool = False,
    posts: int | None = None,
) -> None:  # fmt: skip
    """One line on stderr when ``--limit`` or ``--offset`` left posts (stories, ``collapsed``)
    out of output meant for a script, with the total, so that a pipe is never cut silently (the
    terminal view says it in its footer). A collapsed total not counted (None) is told by the
    posts it stands for."""
    unit = "stories" if collapsed else "posts"
    if not written or (total is not None and written >= total):
        return
    given = " ".join(
        f"{name} {value}" for name, value in (("--offset", offset), ("--limit", limit)) if value
    )
    if total is not None:
        of = f"{written:,} of {total:,} {unit}"
    else:
        unit = "story" if written == 1 else unit
        of = f"{written:,} {unit} of the {posts or 0:,} matching posts"
    sys.stdout.flush()  # the note comes after the output it is about, also through 2>&1
    typer.echo(f"newsarc: wrote {of} ({given})", err=True)


def nothing_found(offset: int, total: int | None, posts: int | None = None) -> str:
    """What list and search say when a page is empty: no match at all, or a page past the end
    (so that it is not mistaken for no match)."""
    total = total if total is not None else posts
    if total:
        return f"no posts after the first {offset:,} (of {total:,})"
    return "no posts match"
