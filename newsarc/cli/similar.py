"""``newsarc similar``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from newsarc.errors import NotFoundError
from newsarc.output import Format, post_line, write_records

from . import options
from .options import FormatOpt, PlainOpt


def similar(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            help="The post: its id, article id or imported file's path.", show_default=False
        ),
    ],
    nearest: Annotated[
        int,
        typer.Option(
            "--nearest",
            "-n",
            min=0,
            help="At most this many posts of other stories scoring at least half the threshold.",
        ),
    ] = 10,  # fmt: skip
    fmt: FormatOpt = None,
    plain: PlainOpt = False,
) -> None:
    """Posts like one post: its story's other posts, then the nearest below.

    Each with its score (text × numbers, see README "Stories"): ``text`` is the share of
    3-character runs of the folded text the two posts have in common, ``numbers`` the share of
    figures in common. Posts scoring at least the archive's threshold (0.4 unless set by
    ``maintenance --rebuild-stories --threshold``) are one story.

    \b
    Examples:
      newsarc similar 173
      newsarc similar 202112082206672930 --format json
    Exit codes: 0 similar posts listed, 1 none (or no such post), 2 bad option.
    """
    from newsarc.queries import posts_by_ids, resolve, similar_posts
    from newsarc.refs import not_found_message

    with options.open_store(ctx, readonly=True) as store:
        post_id = resolve(store, ref)
        if post_id is None:
            raise NotFoundError(not_found_message([ref]))
        found = similar_posts(store, post_id, nearest=nearest)
        posts = {p.id: p for p in posts_by_ids(store, [s.id for s in found], text=False)}
        threshold = store.story_threshold()
        (target,) = posts_by_ids(store, [post_id], text=False)
    records = [
        {
            **posts[s.id].to_record(with_text=False),
            "score": s.score,
            "text_similarity": s.text,
            "numbers": s.numbers,
            "same_story": s.same_story,
        }
        for s in found
        if s.id in posts
    ]
    if options.for_people(fmt):
        from newsarc import render

        render.print_similar(target, records, threshold, plain=options.plain(ctx, plain))
    elif fmt in (None, Format.table):
        for record in records:
            kind = "same story" if record["same_story"] else "nearest"
            sys.stdout.write(post_line(posts[record["id"]], f"{record['score']:.3f}", kind))
    else:
        write_records(records, fmt, sys.stdout, tty=options.is_tty())
    if not records:
        raise NotFoundError(
            f"no posts like post {post_id} (its story has no other post, and no post scores "
            f"{threshold / 2:g} or more)"
        )
