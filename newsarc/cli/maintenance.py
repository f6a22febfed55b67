"""``newsarc maintenance``."""

from __future__ import annotations

from typing import Annotated

import typer

from newsarc.errors import ExitStatus, UsageError
from newsarc.models import count_of

from . import options


def maintenance(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option("--check", help="Only check the archive's integrity; change nothing.")
    ] = False,
    vacuum: Annotated[
        bool, typer.Option("--vacuum", help="Also rewrite the file to give free space back.")
    ] = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild-index", help="Rebuild the full-text index from the posts.")
    ] = False,
    rebuild_stories: Annotated[
        bool,
        typer.Option(
            "--rebuild-stories",
            help="Group every post into stories again (after a --threshold change; it also "
            "finds copies that the first posts under new boilerplate missed).",
        ),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="With --rebuild-stories: the least score (0 < T <= 1) for two posts to be one "
            "story, kept in the archive for later imports (default 0.4; see README Stories).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check and compact the archive: integrity checks, full-text index merge, VACUUM.

    Imports keep the index in good shape as they go; run this after very large imports or
    many updates to make the file smaller and searches a little faster.

    \b
    Examples:
      newsarc maintenance --check
      newsarc maintenance --vacuum
      newsarc maintenance --rebuild-stories --threshold 0.5

    --check also lists what imports found in the files: skipped and failed files with the
    reason, warnings, and recorded files that are gone. Run --rebuild-index after editing
    posts rows with other tools (sqlite-utils, SQL): --check reports such rows.
    Exit codes: 0 archive ok, 2 unusable archive, 4 problems found (named on stderr).
    """
    from newsarc.output import clean
    from newsarc.queries import file_notes
    from newsarc.stories import validate_threshold

    if threshold is not None:
        if not rebuild_stories:
            raise UsageError("--threshold goes with --rebuild-stories")
        validate_threshold(threshold)
    if check and (vacuum or rebuild or rebuild_stories):
        raise UsageError(
            "--check changes nothing, --vacuum, --rebuild-index and --rebuild-stories change "
            "the archive: run them one after the other"
        )
    done = []
    with options.open_store(ctx) as store:
        if not check:
            if rebuild:
                done.append(f"index rebuilt from {count_of(store.rebuild_index(), 'post')}")
            if rebuild_stories:
                n = store.rebuild_stories(threshold)
                done.append(
                    f"stories of {count_of(n, 'post')} grouped again "
                    f"(threshold {store.story_threshold():g})"
                )
            store.optimize(vacuum=vacuum)
            done.append("index optimized")
            if vacuum:
                done.append("file rewritten without free pages")
        problems = store.check()
        notes = file_notes(store) if check else []
    for note in notes:  # what imports found in the files: not damage to the archive
        typer.echo(clean(f"newsarc: {note.kind}: {note.path}: {note.message}"), err=True)
    for problem in problems:
        typer.echo(f"newsarc: problem: {problem}", err=True)
    if problems:
        raise typer.Exit(ExitStatus.PARTIAL)
    typer.echo(", ".join(["archive ok", *done]), err=True)
