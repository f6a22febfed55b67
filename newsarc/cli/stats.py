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
    on a terminal.

    \b
    Examples:
      newsarc stats
      newsarc stats --since 2022 --top 0 --format json
    Exit codes: 0 posts counted, 1 no posts (the counts are still printed), 2 bad option.
    """
    from newsarc.queries import archive_stats
    from newsarc.stats import stats_document, stats_rows

    selection = options.filters(category, tag, source, since, until)
    with options.open_store(ctx, readonly=True) as store:
        result = archive_stats(store, selection, top=top or None)
    people = options.for_people(fmt)
    if people:
        from newsarc import render

        render.print_stats(result, plain=options.plain(ctx, plain))
    elif fmt is StatsFormat.json:
        sys.stdout.write(to_json(stats_document(result), indent=2) + "\n")
    else:
        data_format = Format.tsv if fmt in (None, StatsFormat.table) else Format(fmt.value)
        write_records(stats_rows(result), data_format, sys.stdout, tty=options.is_tty())
    if not result.posts:
        if people:  # the terminal view has said so
            raise typer.Exit(ExitStatus.NOT_FOUND)
        raise NotFoundError("no posts match")
