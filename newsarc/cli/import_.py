"""``newsarc import``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from newsarc.errors import ExitStatus

from . import options


def import_(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Post files or folders (searched recursively).", show_default=False),
    ],
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz", help="Time zone for dates without one: +08:00 (default), UTC, Asia/Shanghai."
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar or summary; only files that failed."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every skipped file, failure and warning.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Parser processes, 1 to 64 (default: CPU count, at most 4).",
        ),  # fmt: skip
    ] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Forget recorded files under PATH that are gone; delete posts left with no file.",
        ),
    ] = False,
    drafts: Annotated[
        bool, typer.Option("--drafts", help="In a Jekyll site folder, also import _drafts/.")
    ] = False,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact/--no-compact",
            help="After writing a quarter or more of the archive's posts, compact it (smaller, "
            "and briefly needs twice its size free on disk).",
        ),
    ] = True,
) -> None:
    """Import posts: every file with YAML front matter, whatever its extension.

    Re-running on the same folder skips unchanged files and updates changed ones. The same
    article seen in several files (same article id) is stored once; the most recently modified
    copy wins. In a Jekyll site folder (one with _posts/), only _posts/ is read.

    \b
    Example:
      newsarc import examples/
    Exit codes: 0 imported, 2 bad option or path, 4 some files failed, 130 interrupted.
    """
    from newsarc import render
    from newsarc.ingest import Importer

    zone = options.time_zone(tz)
    show_progress = not quiet and options.is_tty(sys.stderr)
    with (
        options.open_store(ctx, create=True) as store,
        render.import_progress(show_progress) as progress,
    ):
        result = Importer(
            store, tz=zone, workers=workers, progress=progress, prune=prune, drafts=drafts,
            compact=compact,
        ).run(paths)  # fmt: skip
    if not quiet:
        render.print_import_summary(result, verbose=verbose)
    elif result.n_failed:
        render.print_import_failures(result, verbose=verbose)
    if result.interrupted:
        raise typer.Exit(ExitStatus.INTERRUPTED)
    if result.n_failed:
        raise typer.Exit(ExitStatus.PARTIAL)
