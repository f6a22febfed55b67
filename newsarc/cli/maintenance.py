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
) -> None:
    """Check and compact the archive: integrity checks, full-text index merge, VACUUM.

    Imports keep the index in good shape as they go; run this after very large imports or
    many updates to make the file smaller and searches a little faster.

    \b
    Examples:
      newsarc maintenance --check
      newsarc maintenance --vacuum
    Exit codes: 0 archive ok, 2 unusable archive, 4 problems found (named on stderr).
    """
    if check and (vacuum or rebuild):
        raise UsageError(
            "--check changes nothing, --vacuum and --rebuild-index change the archive: "
            "run them one after the other"
        )
    done = []
    with options.open_store(ctx) as store:
        if not check:
            if rebuild:
                done.append(f"index rebuilt from {count_of(store.rebuild_index(), 'post')}")
            store.optimize(vacuum=vacuum)
            done.append("index optimized")
            if vacuum:
                done.append("file rewritten without free pages")
        problems = store.check()
    for problem in problems:
        typer.echo(f"newsarc: problem: {problem}", err=True)
    if problems:
        raise typer.Exit(ExitStatus.PARTIAL)
    typer.echo(", ".join(["archive ok", *done]), err=True)
