"""``newsarc export``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from newsarc.errors import NotFoundError, UsageError
from newsarc.models import count_of
from newsarc.output import ExportFormat, Sort, clean

from . import options
from .options import CategoryOpt, SinceOpt, SortOpt, SourceOpt, TagOpt, UntilOpt


def export(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Export only these posts (ids, article ids or paths; - reads stdin). "
            "Default: every post the filters select.",
            metavar="[ID]...",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="jsonl, json, csv, markdown (one document), html (one self-contained page), "
            "jekyll (a folder of post files; needs --out), es-bulk (Elasticsearch _bulk body).",
        ),
    ] = ExportFormat.jsonl,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write to this file (a folder for jekyll) instead of stdout; - is stdout.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite existing files at --out.")
    ] = False,
    query: Annotated[
        str | None,
        typer.Option(
            "--query",
            help="Only posts matching this search query (search's language and semantics).",
            show_default=False,
        ),
    ] = None,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    sort: SortOpt = Sort.id,
    index: Annotated[
        str, typer.Option("--index", help="Index name in es-bulk action lines.")
    ] = "newsarc",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary on stderr after writing --out.")
    ] = False,
) -> None:
    """Export posts to stdout or --out.

    Every post, those the filters or --query select, or the ids given.

    Streams: memory stays flat whatever the archive size. Files appear at --out only when
    complete, and existing files are never overwritten without --force.

    \b
    Examples:
      newsarc export > posts.jsonl
      newsarc export --query 创新联合体 --format html --out report.html
      newsarc export --category emnews --since 2022 --format jekyll --out site/_posts
      newsarc export --format es-bulk | curl -s -H 'Content-Type: application/x-ndjson' \\
          -XPOST localhost:9200/_bulk --data-binary @-
    Exit codes: 0 exported, 1 nothing selected, 2 bad option or existing file.
    """
    from newsarc.export import export_jekyll, output_file, select, write_export
    from newsarc.refs import PostRefs

    filtered = any(v is not None for v in (query, category, tag, source, since, until))
    if refs and filtered:
        raise UsageError("give post ids, or filters and --query, not both")
    if out is not None and str(out) == "-":  # the usual spelling of stdout
        if fmt is ExportFormat.jekyll:
            raise UsageError("jekyll export writes a folder of files, not stdout: --out DIR")
        out = None
    if fmt is ExportFormat.jekyll and out is None:
        raise UsageError("jekyll export writes a folder of files: add --out DIR")
    filters = options.filters(category, tag, source, since, until)
    wanted = None
    with options.open_store(ctx, readonly=True) as store:
        ids = None
        if refs:  # as show does: the posts found are exported, the others named after
            wanted = PostRefs(store, refs, sys.stdin)
            ids = list(wanted)
        selection = select(filters, query, ids, sort.value)
        if fmt is ExportFormat.jekyll:
            assert out is not None
            result = export_jekyll(store, selection, out, force=force)
            n = result.written
            for post_id, external_id in result.inexact[:10]:
                typer.echo(
                    f"newsarc: warning: post {post_id} ({clean(external_id)}): its file would "
                    "not import back with the same article id", err=True,
                )  # fmt: skip
        elif out is None:
            tty = options.is_tty()
            n = write_export(store, selection, fmt, sys.stdout, tty=tty, index=index)
        else:
            with output_file(out, force=force) as stream:
                n = write_export(store, selection, fmt, stream, index=index)
    if out is not None and not quiet:
        typer.echo(f"exported {count_of(n, 'post')} to {clean(str(out))} ({fmt.value})", err=True)
    if wanted is not None:
        wanted.check()
    if n == 0:
        raise NotFoundError("no posts match")
