"""The command line: Typer only. Each command parses options, calls the library, and prints.

Errors are translated to one stderr line and an exit code in one place, ``NewsarcGroup.invoke``.
Rich (``render``) is imported lazily, only when output goes to a person.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from . import __version__
from .errors import ExitStatus, NewsarcError, UsageError
from .output import Format, write_records


class NewsarcGroup(TyperGroup):
    """Translates newsarc's errors (and SQLite's) into a one-line message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsarcError as exc:
            _fail(str(exc), exc.exit_status)
        except sqlite3.Error as exc:
            store_path = (ctx.obj or {}).get("db_path") or "archive"
            _fail(f"{store_path}: database error: {exc}", ExitStatus.USAGE)
        except BrokenPipeError:
            # the reader went away (`newsarc export | head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(0) from None
        except KeyboardInterrupt:
            _fail("interrupted", 130)


def _fail(message: str, code: int) -> None:
    click.echo(f"newsarc: error: {message}", err=True)
    raise click.exceptions.Exit(int(code))


app = typer.Typer(
    cls=NewsarcGroup,
    name="newsarc",
    help="A fast, searchable local archive of Jekyll-style news posts (exact Chinese search).",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        click.echo(f"newsarc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="Archive file. Default: $NEWSARC_DB, else $XDG_DATA_HOME/newsarc/archive.db.",
            show_default=False,
        ),
    ] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="No colour or box drawing, even on a terminal.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """newsarc: import news posts into a local SQLite archive, then search, list, show, export.

    \b
    Quick start:
      newsarc import ~/finews/_posts
      newsarc search 创新联合体
      newsarc show 42

    Exit codes: 0 success; 1 nothing found or some files failed; 2 usage or input error.
    """
    from .store import default_db_path

    ctx.obj = {"db_path": db or default_db_path(), "plain": plain or bool(os.environ.get("NO_COLOR"))}


def _store(ctx: typer.Context, *, create: bool = False, readonly: bool = False) -> Any:
    from .store import Store

    return Store.open(ctx.obj["db_path"], create=create, readonly=readonly)


def _is_tty(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _people(ctx: typer.Context, fmt: Format | None) -> bool:
    """Whether output is for a person (Rich) rather than for a script."""
    return fmt in (None, Format.table) and _is_tty()


def _tz(value: str | None) -> Any:
    from .dates import DEFAULT_TZ, parse_tz

    return parse_tz(value) if value else DEFAULT_TZ


def _filters(
    category: str | None, tag: str | None, source: str | None,
    since: str | None, until: str | None, tz: str | None = None,
) -> Any:  # fmt: skip
    from .dates import period_bound
    from .store import Filters

    zone = _tz(tz)
    return Filters(
        category=category,
        tag=tag,
        source=source,
        since=period_bound(since, end=False, tz=zone) if since else None,
        until=period_bound(until, end=True, tz=zone) if until else None,
    )


# Options shared by list, search and export (defined once)
CategoryOpt = Annotated[str | None, typer.Option("--category", help="Only this category (exact).")]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Only posts with this tag (exact).")]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Only this source, e.g. 中国经营网.")]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="From this date on: 2022, 2022-04, 2022-04-09.")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Up to and including this date, month or year.")
]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f",
        help="table (default on a terminal), json, jsonl, csv, tsv, ids. Piped without "
        "--format: plain tab-separated lines.",
        show_default=False,
    ),
]  # fmt: skip
LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=0, help="At most this many posts.")]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help="Skip this many posts first.")]


# -- import ---------------------------------------------------------------------------------------


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Post files or folders (searched recursively).", show_default=False)
    ],
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="Time zone for dates without one: +08:00 (default), UTC, Asia/Shanghai."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every skipped file, failure and warning.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Parser processes (default: CPU count, at most 4).")
    ] = None,
) -> None:
    """Import posts: every file with YAML front matter, whatever its extension.

    Re-running on the same folder skips unchanged files and updates changed ones. The same
    article seen in several files (same article id) is stored once; the most recently modified
    copy wins.

    \b
    Example:
      newsarc import examples/
    """
    from .ingest import Importer

    zone = _tz(tz)
    show_progress = not quiet and _is_tty(sys.stderr)
    from . import render

    with _store(ctx, create=True) as store, render.import_progress(show_progress) as progress:
        result = Importer(store, tz=zone, workers=workers, progress=progress).run(paths)
    if not quiet or result.failed:
        render.print_import_summary(result, verbose=verbose)
    if result.interrupted:
        raise typer.Exit(130)
    if result.failed:
        raise typer.Exit(ExitStatus.PARTIAL)


# -- search ---------------------------------------------------------------------------------------


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[
        list[str], typer.Argument(help="Search terms (see the query language below).", show_default=False)
    ],
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    sort: Annotated[
        str, typer.Option("--sort", help="rank (relevance), -date (newest first) or date.")
    ] = "rank",
    limit: LimitOpt = 20,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = None,
    count: Annotated[bool, typer.Option("--count", "-c", help="Print only the number of matches.")] = False,
    text: Annotated[bool, typer.Option("--text", help="Include each post's full text in data formats.")] = False,
) -> None:
    """Search posts. Every term matches wherever it occurs in the title or text, for any length,
    folding case, full/half width and traditional/simplified Chinese.

    \b
    Query language:
      创新 联合体             both terms (AND)
      芯片 OR 半导体          either term
      央企 NOT 国资委         exclude (also -国资委, after -- on the command line)
      "federal reserve"      a phrase with spaces
      (芯片 OR 半导体) 央企    grouping
      title:央企 source:中国经营网 category:emnews tag:东财滚动新闻
    Example:
      newsarc search 创新联合体 --since 2022-04 --format json
    Exit codes: 0 something matched, 1 nothing matched, 2 bad query.
    """
    from . import search as searching

    if sort not in ("rank", "date", "-date"):
        raise UsageError(f"--sort must be rank, date or -date, not {sort!r}")
    text_query = " ".join(query)
    filters = _filters(category, tag, source, since, until)
    with _store(ctx, readonly=True) as store:
        if count:
            n = searching.count(store, text_query, filters)
            click.echo(n)
            raise typer.Exit(ExitStatus.OK if n else ExitStatus.NOT_FOUND)
        result = searching.search(
            store, text_query, filters, sort=sort, limit=limit, offset=offset,  # type: ignore[arg-type]
            text=text, snippets=fmt is not Format.ids,
        )  # fmt: skip
    if _people(ctx, fmt):
        from . import render

        render.print_search(result, text_query, offset, plain=ctx.obj["plain"])
    elif fmt in (None, Format.table):
        for hit in result.hits:
            post = hit.post
            cells = [str(post.id), post.date or "", post.source or post.category or "", post.title, hit.snippet]
            sys.stdout.write("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells) + "\n")
    else:
        records = (
            {**hit.post.to_record(with_text=text), "score": hit.score, "snippet": hit.snippet}
            for hit in result.hits
        )
        write_records(records, fmt, sys.stdout, tty=_is_tty())
    if not result.hits and result.total == 0:
        raise typer.Exit(ExitStatus.NOT_FOUND)


# -- export ---------------------------------------------------------------------------------------


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl (default) or json.")] = "jsonl",
) -> None:
    """Export every post as JSON records.

    \b
    Example:
      newsarc export --format jsonl > posts.jsonl
    """
    if fmt not in ("jsonl", "json"):
        raise UsageError(f"unknown export format {fmt!r}")
    with _store(ctx, readonly=True) as store:
        records = (post.to_record() for post in store.iter_posts())
        write_records(records, fmt, sys.stdout)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
