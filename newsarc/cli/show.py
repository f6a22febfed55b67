"""``newsarc show``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from newsarc.output import ShowFormat, clean

from . import options
from .options import PlainOpt

if TYPE_CHECKING:
    from newsarc.models import Post
    from newsarc.store import Store


def show(
    ctx: typer.Context,
    refs: Annotated[
        list[str],
        typer.Argument(
            help="Post ids, article ids (NW2022…) or imported file paths; - reads them from "
            "stdin, one per line (the first tab-separated field).",
            metavar="ID...",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        ShowFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="text, json (one record per line, with text), markdown or raw (the original "
            "file, byte for byte). Default: a formatted view on a terminal, text when piped.",
            show_default=False,
        ),
    ] = None,
    highlight: Annotated[
        list[str] | None,
        typer.Option(
            "--highlight",
            "-H",
            help="Highlight this term (search's folding: case, width, traditional/simplified) "
            "in the terminal view; repeatable; a query such as '芯片 OR 半导体' works too.",
            show_default=False,
        ),
    ] = None,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Print long posts directly, without $PAGER.")
    ] = False,
    plain: PlainOpt = False,
) -> None:
    """Show posts in full.

    On a terminal: the title, metadata (date, category, tags, source, URL, files, length), then
    the body with its sub-headings, summary, images and tables, through a pager when longer
    than the screen.

    \b
    Examples:
      newsarc show 42
      newsarc show NW202204092337358965 --highlight 创新联合体
      newsarc search 央企 --format ids | newsarc show - --format markdown
      newsarc show 42 --format raw > original.md
    Exit codes: 0 shown, 1 some post not found (the others are still shown), 2 bad option.
    """
    from newsarc.queries import posts_by_ids
    from newsarc.refs import PostRefs

    terms: list[Any] = []
    if highlight:
        from newsarc.search import compile_query

        for query in highlight:
            terms += compile_query(query).terms
    tty = options.is_tty()
    with options.open_store(ctx, readonly=True) as store:
        wanted = PostRefs(store, refs, sys.stdin)

        def posts() -> Iterator[Post]:  # one at a time: stdin may hold millions of ids
            for post_id in wanted:
                yield from posts_by_ids(store, [post_id], full=True)

        if fmt is None and tty:
            from newsarc import render

            render.print_posts_full(
                posts(), terms, plain=options.plain(ctx, plain), pager=not no_pager
            )
        else:
            for n, post in enumerate(posts()):
                _write_post(store, post, fmt or ShowFormat.text, first=n == 0, tty=tty)
    wanted.check()


def _write_post(store: Store, post: Post, fmt: ShowFormat, *, first: bool, tty: bool) -> None:
    """One post of ``show`` in a data format (on a terminal, control characters made visible)."""
    from newsarc.export import post_markdown, post_text
    from newsarc.output import json_line

    fix = clean if tty else (lambda s: s)
    if fmt is ShowFormat.json:
        sys.stdout.write(json_line(post.to_record()) + "\n")
    elif fmt is ShowFormat.markdown:
        sys.stdout.write(("" if first else "\n---\n\n") + fix(post_markdown(post)))
    elif fmt is ShowFormat.raw:
        _write_raw(store, post, tty)
    else:
        sys.stdout.write(("" if first else "\n" + "=" * 40 + "\n\n") + fix(post_text(post)))


def _write_raw(store: Store, post: Post, tty: bool) -> None:
    """The original file: its exact bytes (``read.encode``); on a terminal, its text with
    control characters made visible."""
    from newsarc.queries import raw_source
    from newsarc.read import encode

    source = raw_source(store, post.id)
    if source is None:
        return
    raw, encoding, digest = source
    if tty:
        sys.stdout.write(clean(raw))
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(encode(raw, encoding, digest))
    sys.stdout.buffer.flush()
