"""``newsarc serve``: the archive in a web browser through Datasette and newsarc's plugin.

It only declares options and delegates to ``newsarc.web.serve``; the root group's ``--db`` and
error translation apply as for every command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from newsarc.errors import UsageError


def serve(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on.")
    ] = 8001,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to bind; 0.0.0.0 shares the archive on the network."),
    ] = "127.0.0.1",
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the search page in a web browser.")
    ] = False,
) -> None:
    """Browse and search the archive in a web browser (Datasette, read-only).

    \b
    Needs the web extra: pip install 'newsarc[web]'. Imports may run while it serves.
    Example:
      newsarc serve --open
      then http://127.0.0.1:8001/-/newsarc/archive?q=创新联合体
    """
    try:
        from newsarc import web
    except ImportError as exc:
        raise UsageError(
            f"serve needs Datasette ({exc.name} is missing): pip install 'newsarc[web]'"
        ) from None
    from . import db_path

    archive = db_path(ctx)
    typer.echo(f"newsarc: serving {archive} at {web.address(archive, host, port)} "
               "(Ctrl-C stops)", err=True)  # fmt: skip
    web.serve(archive, host=host, port=port, open_browser=open_browser)
