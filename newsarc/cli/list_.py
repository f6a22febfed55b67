"""``newsarc list`` (``list_``: a module named ``list`` would shadow the builtin in the package)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import typer

from newsarc.errors import ExitStatus, NotFoundError
from newsarc.output import Format, Sort, post_line, write_records

from . import options
from .options import (
    CategoryOpt,
    FormatOpt,
    LimitOpt,
    OffsetOpt,
    PlainOpt,
    SinceOpt,
    SortOpt,
    SourceOpt,
    TagOpt,
    TextOpt,
    UntilOpt,
)  # fmt: skip

if TYPE_CHECKING:
    from newsarc.models import Post


def list_(
    ctx: typer.Context,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    sort: SortOpt = Sort.newest,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", "-a", help="Every post: no --limit (on a terminal, through $PAGER as show)."
        ),
    ] = False,
    fmt: FormatOpt = None,
    text: TextOpt = False,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="With --all, print directly, without $PAGER.")
    ] = False,
    plain: PlainOpt = False,
) -> None:
    """List posts, newest first.

    A table on a terminal (titles cut to its width, a footer with the count shown and the
    total); records for scripts with --format.

    \b
    Examples:
      newsarc list --category emnews --since 2022-04
      newsarc list --all --format ids | newsarc show -
      newsarc list --tag 东财滚动新闻 --format json --text
    Exit codes: 0 posts listed, 1 none (no match, or --offset past the end), 2 bad option.
    """
    from newsarc.queries import iter_list, list_posts

    filters = options.filters(category, tag, source, since, until)
    with_text = text and fmt not in (None, Format.table, Format.ids)
    people = options.for_people(fmt)
    with options.open_store(ctx, readonly=True) as store:
        posts: Iterable[Post]
        if all_:  # streamed: a million posts are never in memory at once
            posts, total = iter_list(store, filters, sort=sort.value, offset=offset, text=with_text)
            shown = max(0, total - offset)
        else:
            posts, total = list_posts(
                store, filters, sort=sort.value, limit=limit, offset=offset, text=with_text
            )
            shown = len(posts)
        if people:
            from newsarc import render

            render.print_posts(
                list(posts), total, offset, plain=options.plain(ctx, plain),
                pager=all_ and not no_pager,
            )  # fmt: skip
        elif fmt in (None, Format.table):
            for post in posts:
                sys.stdout.write(post_line(post))
        else:
            records = (p.to_record(with_text=text) for p in posts)
            write_records(records, fmt, sys.stdout, tty=options.is_tty())
    if not shown:
        if people:  # the terminal view has said so
            raise typer.Exit(ExitStatus.NOT_FOUND)
        raise NotFoundError(options.nothing_found(offset, total))
