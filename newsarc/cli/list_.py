"""``newsarc list`` (``list_``: a module named ``list`` would shadow the builtin in the package)."""

from __future__ import annotations

import sys

import typer

from newsarc.errors import ExitStatus, NotFoundError
from newsarc.output import Format, Sort, post_line, write_records

from . import options
from .options import (
    AllOpt,
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


def list_(
    ctx: typer.Context,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    sort: SortOpt = Sort.newest,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_: AllOpt = False,
    fmt: FormatOpt = None,
    text: TextOpt = False,
    plain: PlainOpt = False,
) -> None:
    """List posts, newest first.

    A table on a terminal, 50 posts at a time (titles cut to its width, a footer with the count
    shown and the total); piped or with --format, every post (unless --limit), streamed.

    \b
    Examples:
      newsarc list --category emnews --since 2022-04
      newsarc list --format ids | newsarc show -
      newsarc list --tag 东财滚动新闻 --format json --text
    Exit codes: 0 posts listed, 1 none (no match, or --offset past the end), 2 bad option.
    """
    from newsarc.queries import iter_list, list_posts

    filters = options.filters(category, tag, source, since, until)
    with_text = text and fmt not in (None, Format.table, Format.ids)
    people = options.for_people(fmt)
    limit = options.page_limit(limit, all_, people, page=50)
    with options.open_store(ctx, readonly=True) as store:
        if people:
            from newsarc import render

            page, total = list_posts(store, filters, sort=sort.value, limit=limit, offset=offset)
            render.print_posts(page, total, offset, plain=options.plain(ctx, plain))
            if not page:  # the terminal view has said so
                raise typer.Exit(ExitStatus.NOT_FOUND)
            return
        # streamed: a million posts are never in memory at once
        posts, total = iter_list(
            store, filters, sort=sort.value, offset=offset, limit=limit, text=with_text
        )
        if fmt in (None, Format.table):
            written = 0
            for post in posts:
                sys.stdout.write(post_line(post))
                written += 1
        else:
            records = (p.to_record(with_text=text) for p in posts)
            written = write_records(records, fmt, sys.stdout, tty=options.is_tty())
    if not written:
        raise NotFoundError(options.nothing_found(offset, total))
    options.note_cut(written, total, limit, offset)
