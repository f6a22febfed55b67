"""``newsarc search``."""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer

from newsarc.errors import ExitStatus, NotFoundError
from newsarc.output import Format, SearchSort, post_line, write_records

from . import options
from .options import (
    AllOpt,
    CategoryOpt,
    CollapseOpt,
    FormatOpt,
    LimitOpt,
    OffsetOpt,
    PlainOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    TextOpt,
    UntilOpt,
)  # fmt: skip


def search(
    ctx: typer.Context,
    query: Annotated[
        list[str],
        typer.Argument(help="Search terms (the query language is above).", show_default=False),
    ],
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    sort: Annotated[
        SearchSort,
        typer.Option("--sort", help="rank: by relevance; -date: newest first; date: oldest first."),
    ] = SearchSort.rank,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_: AllOpt = False,
    fmt: FormatOpt = None,
    count: Annotated[
        bool, typer.Option("--count", "-c", help="Print only the number of matches.")
    ] = False,
    text: TextOpt = False,
    collapse: CollapseOpt = None,
    plain: PlainOpt = False,
) -> None:
    """Search posts.

    Every term matches wherever it occurs in the title or text, for any length, folding case,
    full/half width and traditional/simplified Chinese. The terminal view shows 20 posts at a
    time; piped or with --format, every match is written (unless --limit).

    \b
    Query language:
      创新 联合体             both terms (AND)
      芯片 OR 半导体          either term
      央企 -国资委            exclude (also NOT 国资委)
      "federal reserve"      a phrase with spaces
      (芯片 OR 半导体) 央企    grouping
      title:央企 source:中国经营网 category:emnews tag:东财滚动新闻
    Words starting with - that are not options are query terms; put -- before a query
    to make every word a term (newsarc search -- -nvidia).
    Examples:
      newsarc search 创新联合体 --since 2022-04 --format json
      newsarc search 央企 --format ids | newsarc show -
      newsarc search 离岸人民币 --count --collapse     (stories, not posts)
    On a terminal each story is shown once (+N copies and their outlets); --no-collapse
    shows every post, --collapse collapses data formats too.
    Exit codes: 0 something matched, 1 nothing matched, 2 bad query.
    """
    from newsarc import search as searching

    text_query = " ".join(query)
    filters = options.filters(category, tag, source, since, until)
    people = options.for_people(fmt)
    collapsed = options.collapse(collapse, people)
    limit = options.page_limit(limit, all_, people, page=20)
    with options.open_store(ctx, readonly=True) as store:
        if count:
            n = searching.count(store, text_query, filters, stories=bool(collapse))
            click.echo(n)  # the number is the answer, 0 included: nothing more to say
            raise typer.Exit(ExitStatus.OK if n else ExitStatus.NOT_FOUND)
        found = searching.iter_search(
            store, text_query, filters, sort=sort.value, limit=limit, offset=offset,  # type: ignore[arg-type]
            text=text, snippets=fmt is not Format.ids, collapse=collapsed,
        )  # fmt: skip
        if people:
            from newsarc import render

            result = searching.SearchResult(
                found.total, list(found.hits), collapsed=collapsed, posts=found.posts
            )
            render.print_search(result, text_query, offset, plain=options.plain(ctx, plain))
            if not result.hits:  # the terminal view has said so
                raise typer.Exit(ExitStatus.NOT_FOUND)
            return
        written = 0
        if fmt in (None, Format.table):
            for hit in found.hits:
                sys.stdout.write(post_line(hit.post, hit.snippet))
                written += 1
        else:
            records = (hit.to_record(with_text=text, collapsed=collapsed) for hit in found.hits)
            written = write_records(records, fmt, sys.stdout, tty=options.is_tty())
    if not written:
        raise NotFoundError(options.nothing_found(offset, found.total, found.posts))
    options.note_cut(written, found.total, limit, offset, collapsed=collapsed, posts=found.posts)
