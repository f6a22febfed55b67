"""``newsarc stats``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from newsarc.errors import ExitStatus, NotFoundError
from newsarc.output import Format, StatsFormat, to_json, write_records

from . import options
from .options import CategoryOpt, PlainOpt, SinceOpt, SourceOpt, TagOpt, UntilOpt


def stats(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None,
        typer.Argument(
            help="Only posts matching this query (search's language); all posts without one.",
            show_default=False,
        ),
    ] = None,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    top: Annotated[
        int,
        typer.Option(
            "--top",
            min=0,
            max=options.MAX_INT,
            help="Categories, sources and tags shown (0: all).",
        ),  # fmt: skip
    ] = 10,
    fmt: Annotated[
        StatsFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table (bar charts on a terminal), json (one document), or jsonl, csv, tsv "
            "(rows: kind, name, posts). Piped without --format: tsv rows.",
            show_default=False,
        ),
    ] = None,
    plain: PlainOpt = False,
) -> None:
    """Show statistics.

    Posts per category, source, tag and month, the date range and the archive size; bar charts
    on a terminal. With a QUERY, of the posts matching it. Stories (a post and its near-copies count
    once): in all and per category, source and month, and the largest stories (most copies).

    \b
    Examples:
      newsarc stats
      newsarc stats --since 2022 --top 0 --format json
      newsarc stats 创新联合体 --top 5
    Exit codes: 0 posts counted, 1 no posts (the counts are still printed), 2 bad option.
    """
    from newsarc.queries import archive_stats, story_stats
    from newsarc.search import match_expressions
    from newsarc.stats import stats_document, stats_rows

    selection = options.filters(category, tag, source, since, until)
    include, exclude = match_expressions(" ".join(query or []))
    with options.open_store(ctx, readonly=True) as store:
        result = archive_stats(store, selection, top=top or None, include=include, exclude=exclude)
        stories = story_stats(store, selection, top=top or None, include=include, exclude=exclude)
    people = options.for_people(fmt)
    if people:
        from newsarc import render

        render.print_stats(result, plain=options.plain(ctx, plain), stories=stories)
    elif fmt is StatsFormat.json:
        sys.stdout.write(to_json(stats_document(result, stories), indent=2) + "\n")
    else:
        data_format = Format.tsv if fmt in (None, StatsFormat.table) else Format(fmt.value)
        rows = stats_rows(result, stories)
        write_records(rows, data_format, sys.stdout, tty=options.is_tty())
    if not result.posts:
        if people:  # the terminal view has said so
            raise typer.Exit(ExitStatus.NOT_FOUND)
        raise NotFoundError("no posts match")
