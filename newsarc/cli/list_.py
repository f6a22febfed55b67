"""``newsarc list`` (``list_``: a module named ``list`` would shadow the builtin in the package)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from newsarc.errors import ExitStatus, NotFoundError
from newsarc.output import Format, Sort, post_line, write_records

from . import options
from .options import (
    CategoryOpt,
    CollapseOpt,
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
    limit: LimitOpt = None,
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
    collapse: CollapseOpt = None,
) -> None:
    """List posts, newest first.

    A table on a terminal, 50 posts at a time (titles cut to its width, a footer with the count
    shown and the total); piped or with --format, every post (unless --limit), streamed.

    \b
    Examples:
      newsarc list --category emnews --since 2022-04
      newsarc list --format ids | newsarc show -
      newsarc list --tag 东财滚动新闻 --format json --text
      newsarc list --no-collapse        (every post, copies included)
    On a terminal each story is shown once (+N: its other posts; the outlets); --collapse
    does the same for data formats (with story_posts and story_sources).
    Exit codes: 0 posts listed, 1 none (no match, or --offset past the end), 2 bad option.
    """
    from newsarc.queries import iter_list, list_posts

    filters = options.filters(category, tag, source, since, until)
    with_text = text and fmt not in (None, Format.table, Format.ids)
    people = options.for_people(fmt)
    collapsed = options.collapse(collapse, people)
    limit = options.page_limit(limit, all_, people, page=50)
    with options.open_store(ctx, readonly=True) as store:
        posts: Iterable[Post]
        stories = None
        story_posts = None
        if collapsed:
            posts, stories, total, story_posts = _collapsed(
                store, filters, sort.value, limit, offset, with_text
            )
        elif people:
            posts, total = list_posts(store, filters, sort=sort.value, limit=limit, offset=offset)
        else:  # streamed: a million posts are never in memory at once
            posts, total = iter_list(
                store, filters, sort=sort.value, offset=offset, limit=limit, text=with_text
            )
        if people:
            from newsarc import render

            page = list(posts)
            render.print_posts(
                page, total, offset, plain=options.plain(ctx, plain), stories=stories,
                pager=all_ and not no_pager, story_posts=story_posts,
            )  # fmt: skip
            if not page:  # the terminal view has said so
                raise typer.Exit(ExitStatus.NOT_FOUND)
            return
        written = 0
        if fmt in (None, Format.table):
            for post in posts:
                sys.stdout.write(post_line(post))
                written += 1
        else:
            records = (_record(p, text, stories) for p in posts)
            written = write_records(records, fmt, sys.stdout, tty=options.is_tty())
    if not written:
        raise NotFoundError(options.nothing_found(offset, total))
    options.note_cut(written, total, limit, offset, collapsed=stories is not None)


def _collapsed(
    store: Any, filters: Any, sort: str, limit: int | None, offset: int, text: bool
) -> tuple[list[Post], dict[int, tuple[int, list[str]]], int, int | None]:
    """A page (every story when ``limit`` is None) of stories: the first post of each in
    ``sort`` order, post id → (posts of its story, outlets), and how many stories there are."""
    from newsarc.queries import posts_by_ids, story_page

    page = story_page(store, None, None, filters, sort=sort, limit=limit, offset=offset)
    posts = posts_by_ids(store, [r.id for r in page.rows], text=text)
    assert page.total is not None  # only a ranked page leaves its stories uncounted
    return posts, {r.id: (r.posts, r.sources) for r in page.rows}, page.total, page.posts


def _record(post: Post, text: bool, stories: dict[int, tuple[int, list[str]]] | None) -> dict:
    record = post.to_record(with_text=text)
    if stories is not None:
        record["story_posts"], record["story_sources"] = stories[post.id]
    return record
