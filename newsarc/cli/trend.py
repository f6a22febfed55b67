"""``newsarc trend``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from newsarc.errors import ExitStatus, NotFoundError, UsageError
from newsarc.output import Format, write_records
from newsarc.trends import MAX_BARS, By, Split

from . import options
from .options import CategoryOpt, PlainOpt, SinceOpt, SourceOpt, TagOpt, UntilOpt


def trend(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None,
        typer.Argument(
            help="Search terms, as for search (all posts without any).", show_default=False
        ),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="One series per QUERY argument instead of their AND."),
    ] = False,
    queries: Annotated[
        list[str] | None,
        typer.Option("--query", help="A query with a series of its own (repeat to compare)."),
    ] = None,
    by: Annotated[
        By | None,
        typer.Option(
            "--by",
            help=f"Period (default: from the range, at most {MAX_BARS} bars).",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        Split | None,
        typer.Option("--split", help="One series per group, stacked.", show_default=False),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", min=0, help="Groups shown with --split, the rest as other (0: all)."),
    ] = 5,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="table (a bar chart; the default on a terminal, drawn even when piped), json, "
            "jsonl, csv, tsv (records: period, start, end, count, and group or query). Piped "
            "without --format: tsv.",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    stories: Annotated[
        bool,
        typer.Option("--stories", help="Count stories, not posts: copies of one story count once."),
    ] = False,
    plain: PlainOpt = False,
) -> None:
    """Count matching posts per period, as a bar chart or records.

    Counts are exact: each period's count is what search finds with the same query and filters
    in that period. A post's date is its local date as written, in its own offset; undated
    posts are counted apart. Several words are one query (AND), as in search; --compare (or
    repeated --query) gives one series per query.

    \b
    Examples:
      newsarc trend 芯片 --since 2022 --by month
      newsarc trend 创新联合体 --split source --top 5
      newsarc trend --compare 芯片 半导体
      newsarc trend 港股 --by week --format csv
      newsarc trend 芯片 --stories
    Exit codes: 0 something matched, 1 nothing matched (the empty chart is
    still drawn), 2 bad query or option.
    """
    from newsarc.trends import trend as count_trend

    if fmt is Format.ids:
        raise UsageError("trend has no ids format: use table, json, jsonl, csv or tsv")
    if compare and queries:
        raise UsageError("give the queries to compare as QUERY arguments with --compare or as -q")
    words = list(query or [])
    series = words if compare else [*([" ".join(words)] if words else []), *(queries or [])]
    if compare and len(series) < 2:
        raise UsageError("--compare needs at least two queries")
    if split is not None and len(series) > 1:
        raise UsageError("--split counts one query: drop --split or compare queries")
    selection = options.filters(category, tag, source, since, until)
    with options.open_store(ctx, readonly=True) as store:
        result = count_trend(
            store, series, selection, by=by, split=split, top=top or None, stories=stories
        )
    people = fmt is Format.table or options.for_people(fmt)
    if people:
        from newsarc import render

        render.print_trend(result, plain=options.plain(ctx, plain))
    else:
        data_format = Format.tsv if fmt is None else fmt
        write_records(result.records(), data_format, sys.stdout, tty=options.is_tty())
    if result.empty:
        if people:  # the chart has said so
            raise typer.Exit(ExitStatus.NOT_FOUND)
        raise NotFoundError("no posts match")
