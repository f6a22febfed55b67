"""The command line: Typer only. Each command parses options, calls the library, and prints.

Errors are translated to one stderr line and an exit code in one place, ``NewsarcGroup.invoke``.
Rich (``render``) is imported lazily, only when output goes to a person.
"""

from __future__ import annotations

import enum
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from . import __version__
from .errors import ExitStatus, NewsarcError, NotFoundError, UsageError
from .models import count_of
from .output import ExportFormat, Format, ShowFormat, clean, to_json, write_records


class NewsarcGroup(TyperGroup):
    """Translates newsarc's errors (and SQLite's, and click's usage errors) into a one-line
    message and an exit code."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:  # the options before the command: `newsarc --bogus`
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            _usage_error(exc)
            raise  # not reached

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's options: `newsarc list --limit x`
            _usage_error(exc)
        except NewsarcError as exc:
            _fail(str(exc), exc.exit_status)
        except sqlite3.Error as exc:
            from .store import describe_error

            path = (ctx.obj or {}).get("db_path") or "archive"
            _fail(describe_error(exc, path), ExitStatus.USAGE)
        except BrokenPipeError:
            # the reader went away (`newsarc export | head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            _fail("interrupted", 130)


def _usage_error(exc: click.UsageError) -> None:
    """click's usage error as one line, pointing at the command's --help."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc  # `newsarc` alone shows the help
    command = exc.ctx.command_path if exc.ctx else "newsarc"
    _fail(f"{exc.format_message().rstrip('.')} (see '{command} --help')", ExitStatus.USAGE)


def _fail(message: str, code: int) -> None:
    click.echo(f"newsarc: error: {message}", err=True)
    # typer.Exit: Typer vendors its own click, whose main() does not know click's Exit
    raise typer.Exit(int(code))


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

    ctx.obj = {
        "db_path": db or default_db_path(),
        "plain": plain or bool(os.environ.get("NO_COLOR")),
    }


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
    since: str | None, until: str | None,
) -> Any:  # fmt: skip
    from .dates import check_range, period_bound
    from .queries import Filters

    # dates without an offset are local dates as written in each post (dates.period_bound)
    start = period_bound(since, end=False) if since else None
    end = period_bound(until, end=True) if until else None
    check_range(start, end)
    return Filters(category=category, tag=tag, source=source, since=start, until=end)


class ByChoice(enum.StrEnum):
    """``--by`` of trend (the library's ``trends.By``, which the CLI does not import at start)."""

    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class SplitChoice(enum.StrEnum):
    """``--split`` of trend (``trends.Split``)."""

    source = "source"
    category = "category"
    tag = "tag"


# Options shared by list, search and export (defined once)
CategoryOpt = Annotated[str | None, typer.Option("--category", help="Only this category (exact).")]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Only posts with this tag (exact).")]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Only this source, e.g. 中国经营网.")
]
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
LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many posts.")]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help="Skip this many posts first.")]


# -- import ---------------------------------------------------------------------------------------


@app.command("import")
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
        typer.Option("--workers", min=1, help="Parser processes (default: CPU count, at most 4)."),
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
    if not quiet:
        render.print_import_summary(result, verbose=verbose)
    elif result.n_failed:
        render.print_import_failures(result, verbose=verbose)
    if result.interrupted:
        raise typer.Exit(130)
    if result.n_failed:
        raise typer.Exit(ExitStatus.PARTIAL)


# -- search ---------------------------------------------------------------------------------------


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[
        list[str],
        typer.Argument(help="Search terms (the query language is above).", show_default=False),
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
    count: Annotated[
        bool, typer.Option("--count", "-c", help="Print only the number of matches.")
    ] = False,
    text: Annotated[
        bool, typer.Option("--text", help="Include each post's full text in data formats.")
    ] = False,
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
            cells = [
                str(post.id),
                post.date or "",
                post.source or post.category or "",
                post.title,
                hit.snippet,
            ]
            sys.stdout.write(
                "\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells) + "\n"
            )
    else:
        records = (
            {**hit.post.to_record(with_text=text), "score": hit.score, "snippet": hit.snippet}
            for hit in result.hits
        )
        write_records(records, fmt, sys.stdout, tty=_is_tty())
    if not result.hits:
        if result.total and not _people(ctx, fmt):
            typer.echo(
                f"newsarc: no posts after the first {offset:,} (of {result.total:,})", err=True
            )
        raise typer.Exit(ExitStatus.NOT_FOUND)


# -- list, show, export, stats --------------------------------------------------------------------

PlainOpt = Annotated[
    bool, typer.Option("--plain", help="No colour or box drawing (same as the global --plain).")
]
SortOpt = Annotated[
    str,
    typer.Option("--sort", help="date, -date (newest first), title, -title, id or -id."),
]


def _plain(ctx: typer.Context, plain: bool) -> bool:
    return plain or ctx.obj["plain"]


def _refs(refs: list[str]) -> Iterator[str]:
    """The post references given, with ``-`` replaced by the lines of stdin (read lazily)."""
    for ref in refs:
        if ref != "-":
            yield ref
            continue
        for line in sys.stdin:
            # a line of `search` or `list` output: the id is the first field
            first = line.strip().split("\t", 1)[0].strip()
            if first:
                yield first


def _post_lines(posts: Iterable[Any]) -> None:
    """Piped without --format: one tab-separated line per post (id, date, where, title)."""
    for post in posts:
        cells = [str(post.id), post.date or "", post.source or post.category or "", post.title]
        sys.stdout.write("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells) + "\n")


@app.command("list")
def list_(
    ctx: typer.Context,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    sort: SortOpt = "-date",
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every post: no --limit.")] = False,
    fmt: FormatOpt = None,
    text: Annotated[
        bool, typer.Option("--text", help="Include each post's full text in data formats.")
    ] = False,
    plain: PlainOpt = False,
) -> None:
    """List posts, newest first. A table on a terminal (titles cut to its width, a footer with
    the count shown and the total); records for scripts with --format.

    \b
    Examples:
      newsarc list --category emnews --since 2022-04
      newsarc list --all --format ids | newsarc show -
      newsarc list --tag 东财滚动新闻 --format json --text
    Exit codes: 0 posts listed, 1 none (no match, or --offset past the end), 2 bad option.
    """
    from .store import iter_list, list_posts, order_clause

    try:
        order_clause(sort)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    filters = _filters(category, tag, source, since, until)
    with_text = text and fmt not in (None, Format.table, Format.ids)
    with _store(ctx, readonly=True) as store:
        posts: Iterable[Any]
        if all_:  # streamed: a million posts are never in memory at once
            posts, total = iter_list(store, filters, sort=sort, offset=offset, text=with_text)
            shown = max(0, total - offset)
        else:
            posts, total = list_posts(
                store, filters, sort=sort, limit=limit, offset=offset, text=with_text
            )
            shown = len(posts)
        if _people(ctx, fmt):
            from . import render

            render.print_posts(list(posts), total, offset, plain=_plain(ctx, plain))
        elif fmt in (None, Format.table):
            _post_lines(posts)
        else:
            records = (p.to_record(with_text=text) for p in posts)
            write_records(records, fmt, sys.stdout, tty=_is_tty())
    if not shown:
        if not _people(ctx, fmt):
            where = f" after the first {offset:,} (of {total:,})" if total else " match"
            typer.echo(f"newsarc: no posts{where}", err=True)
        raise typer.Exit(ExitStatus.NOT_FOUND)


@app.command()
def show(
    ctx: typer.Context,
    refs: Annotated[
        list[str],
        typer.Argument(
            help="Post ids, article ids (NW2022…) or imported file paths; - reads them from "
            "stdin, one per line (the first tab-separated field).",
            metavar="ID",
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
    """Show posts in full. On a terminal: the title, metadata (date, category, tags, source,
    URL, files, length), then the body with its sub-headings, summary, images and tables,
    through a pager when longer than the screen.

    \b
    Examples:
      newsarc show 42
      newsarc show NW202204092337358965 --highlight 创新联合体
      newsarc search 央企 --format ids | newsarc show - --format markdown
      newsarc show 42 --format raw > original.md
    Exit codes: 0 shown, 1 some post not found (the others are still shown), 2 bad option.
    """
    terms: list[Any] = []
    if highlight:
        from .search import compile_query

        for query in highlight:
            terms += compile_query(query).terms
    tty = _is_tty()
    missing: list[str] = []
    given = [0]  # how many references were read (stdin may hold millions)
    with _store(ctx, readonly=True) as store:

        def posts() -> Iterator[Any]:
            for ref in _refs(refs):
                given[0] += 1
                post_id = store.resolve(ref)
                found = store.posts_by_ids([post_id], full=True) if post_id is not None else []
                if not found:
                    missing.append(ref)
                yield from found

        if fmt is None and tty:
            from . import render

            render.print_posts_full(posts(), terms, plain=_plain(ctx, plain), pager=not no_pager)
        else:
            for n, post in enumerate(posts()):
                _write_post(store, post, fmt or ShowFormat.text, first=n == 0, tty=tty)
    if not given[0]:  # `-` and an empty stdin: an empty search upstream, say
        raise NotFoundError("no post ids on stdin")
    if missing:
        listed = ", ".join(repr(ref) for ref in missing[:5])
        more = f" and {len(missing) - 5:,} more" if len(missing) > 5 else ""
        raise NotFoundError(
            f"no post {listed}{more}: give a post id, an article id or an imported file's path "
            "(newsarc list shows ids)"
        )


def _write_post(store: Any, post: Any, fmt: ShowFormat, *, first: bool, tty: bool) -> None:
    """One post of ``show`` in a data format (on a terminal, control characters made visible)."""
    from .export import post_markdown, post_text
    from .output import json_line
    from .store import raw_source

    fix = clean if tty else (lambda s: s)
    if fmt is ShowFormat.json:
        sys.stdout.write(json_line(post.to_record()) + "\n")
    elif fmt is ShowFormat.markdown:
        sys.stdout.write(("" if first else "\n---\n\n") + fix(post_markdown(post)))
    elif fmt is ShowFormat.raw:
        _write_raw(raw_source(store, post.id), tty)
    else:
        sys.stdout.write(("" if first else "\n" + "=" * 40 + "\n\n") + fix(post_text(post)))


def _encodings_of(raw: str, encoding: str) -> Iterator[bytes]:
    """The bytes ``raw`` may have had in its file, most likely first: in ``encoding``, or for a
    UTF-16/32 file with a byte-order mark, in either byte order (Python writes the machine's)."""
    candidates = [(raw, encoding), (raw, "utf-8-sig"), (raw, "utf-8")]
    if encoding in ("utf-16", "utf-32"):
        candidates += [("\ufeff" + raw, f"{encoding}-{order}") for order in ("be", "le")]
    for text, codec in candidates:
        try:
            yield text.encode(codec)
        except (LookupError, UnicodeError):
            continue


def _write_raw(source: tuple[str, str | None, str] | None, tty: bool) -> None:
    """The original file: its exact bytes when the stored text and encoding reproduce them
    (checked against the file's hash), else the stored text as UTF-8."""
    import hashlib

    if source is None:
        return
    raw, encoding, digest = source
    if tty:
        sys.stdout.write(clean(raw))
        return
    data = raw.encode("utf-8")
    for encoded in _encodings_of(raw, encoding or "utf-8"):
        if hashlib.sha256(encoded).hexdigest() == digest:
            data = encoded
            break
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@app.command()
def export(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Export only these posts (ids, article ids or paths; - reads stdin). "
            "Default: every post the filters select.",
            metavar="ID",
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
            help="Write to this file (a folder for jekyll) instead of stdout.",
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
            "-q",
            help="Only posts matching this search query (search's language and semantics).",
            show_default=False,
        ),
    ] = None,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    sort: SortOpt = "id",
    index: Annotated[
        str, typer.Option("--index", help="Index name in es-bulk action lines.")
    ] = "newsarc",
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No summary on stderr after writing --out.")
    ] = False,
) -> None:
    """Export posts to stdout or --out. Every post, those the filters or --query select, or
    the ids given.

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
    from .export import export_jekyll, output_file, select, write_export

    filtered = any(v is not None for v in (query, category, tag, source, since, until))
    if refs and filtered:
        raise UsageError("give post ids, or filters and --query, not both")
    if fmt is ExportFormat.jekyll and out is None:
        raise UsageError("jekyll export writes a folder of files: add --out DIR")
    filters = _filters(category, tag, source, since, until)
    with _store(ctx, readonly=True) as store:
        ids = None
        if refs:
            ids, missing = [], []
            for ref in _refs(refs):
                post_id = store.resolve(ref)
                if post_id is None:
                    missing.append(ref)
                else:
                    ids.append(post_id)
            if missing:
                raise NotFoundError(
                    f"no post {', '.join(repr(r) for r in missing[:5])}"
                    f"{' and more' if len(missing) > 5 else ''}: nothing exported"
                )
        selection = select(filters, query, ids, sort)
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
            n = write_export(store, selection, fmt, sys.stdout, tty=_is_tty(), index=index)
        else:
            with output_file(out, force=force) as stream:
                n = write_export(store, selection, fmt, stream, index=index)
    if out is not None and not quiet:
        typer.echo(f"exported {count_of(n, 'post')} to {clean(str(out))} ({fmt.value})", err=True)
    if n == 0:
        typer.echo("newsarc: no posts selected", err=True)
        raise typer.Exit(ExitStatus.NOT_FOUND)


@app.command()
def stats(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None,
        typer.Argument(
            help="Only posts matching this query (search's language); all posts without one.",
            show_default=False,
        ),
    ] = None,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    top: Annotated[
        int,
        typer.Option("--top", min=0, help="Categories, sources and tags shown (0: all)."),
    ] = 10,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="table (bar charts on a terminal), json (one document), or jsonl, csv, tsv "
            "(rows: kind, name, posts). Piped without --format: tsv rows.",
            show_default=False,
        ),
    ] = None,
    plain: PlainOpt = False,
) -> None:
    """Show statistics. Posts per category, source, tag and month, the date range and the
    archive size; bar charts on a terminal.

    \b
    Examples:
      newsarc stats
      newsarc stats 芯片 --since 2022 --top 0 --format json
    """
    from .queries import archive_stats
    from .search import compile_query

    if fmt is Format.ids:
        raise UsageError("stats has no ids format: use table, json, jsonl, csv or tsv")
    filters = _filters(category, tag, source, since, until)
    text_query = " ".join(query or [])
    compiled = compile_query(text_query) if text_query.strip() else None
    with _store(ctx, readonly=True) as store:
        result = archive_stats(
            store, filters, top=top or None,
            include=compiled.include if compiled else None,
            exclude=compiled.exclude if compiled else None,
        )  # fmt: skip
    if _people(ctx, fmt):
        from . import render

        render.print_stats(result, plain=_plain(ctx, plain))
    elif fmt is Format.json:
        document = {
            "posts": result.posts,
            "first_date": result.first_date,
            "last_date": result.last_date,
            "undated": result.undated,
            "files": result.files,
            "archive_bytes": result.archive_bytes,
            "distinct": result.distinct,
            "categories": [{"name": k, "posts": n} for k, n in result.categories],
            "sources": [{"name": k, "posts": n} for k, n in result.sources],
            "tags": [{"name": k, "posts": n} for k, n in result.tags],
            "months": [{"name": k, "posts": n} for k, n in result.months],
        }
        sys.stdout.write(to_json(document, indent=2) + "\n")
    else:
        rows = [
            {"kind": kind, "name": name, "posts": n}
            for kind, pairs in (
                ("category", result.categories), ("source", result.sources),
                ("tag", result.tags), ("month", result.months),
            )
            for name, n in pairs
        ]  # fmt: skip
        data_format = Format.tsv if fmt in (None, Format.table) else fmt
        write_records(rows, data_format, sys.stdout, tty=_is_tty())


# -- trend ---------------------------------------------------------------------------------------


@app.command()
def trend(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None,
        typer.Argument(
            help="Search terms, as for search (all posts without any).", show_default=False
        ),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="One series per QUERY argument instead of their AND."),
    ] = False,
    queries: Annotated[
        list[str] | None,
        typer.Option("--query", "-q", help="A query of its own series (repeat to compare)."),
    ] = None,
    by: Annotated[
        ByChoice | None,
        typer.Option(
            "--by",
            help="Period: day, week, month, quarter, year (default: from the "
            "range, at most 40 bars).",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        SplitChoice | None,
        typer.Option("--split", help="One series per source, category or tag.", show_default=False),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", min=0, help="Groups shown with --split, the rest as other (0: all)."),
    ] = 5,
    category: CategoryOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="table (a bar chart; the default on a terminal), json, jsonl, csv, tsv "
            "(records: period, start, end, count, and group or query). Piped without "
            "--format: tsv.",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    plain: PlainOpt = False,
) -> None:
    """Count matching posts per day, week, month, quarter or year, as a bar chart or records.
    Counts are exact: each period's count is what search finds in that period. A post's date
    is its local date as written (in its own offset); undated posts are counted apart.

    \b
    Examples:
      newsarc trend 芯片 --since 2022 --by month
      newsarc trend 创新联合体 --split source --top 5
      newsarc trend --compare 芯片 半导体
      newsarc trend 港股 --format csv
    Exit codes: 0 something matched, 1 nothing matched, 2 bad query or option.
    """
    from .trends import trend as count_trend

    if fmt is Format.ids:
        raise UsageError("trend has no ids format: use table, json, jsonl, csv or tsv")
    words = list(query or [])
    if compare and queries:
        raise UsageError("use --compare with QUERY arguments or -q queries, not both")
    series = words if compare else ([*([" ".join(words)] if words else []), *(queries or [])])
    if compare and len(series) < 2:
        raise UsageError("--compare needs at least two queries")
    if split is not None and len(series) > 1:
        raise UsageError("--split counts one query: drop --split or compare queries")
    filters = _filters(category, tag, source, since, until)
    with _store(ctx, readonly=True) as store:
        result = count_trend(
            store, series, filters, by=by.value if by else None,
            split=split.value if split else None, top=top or None,
        )  # fmt: skip
    if fmt is Format.table or _people(ctx, fmt):
        from . import render

        render.print_trend(result, plain=_plain(ctx, plain))
    else:
        data_format = Format.tsv if fmt is None else fmt
        write_records(result.records(), data_format, sys.stdout, tty=_is_tty())
        if result.empty:
            typer.echo("newsarc: no posts match", err=True)
    if result.empty:
        raise typer.Exit(ExitStatus.NOT_FOUND)


@app.command()
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
    """
    done = []
    with _store(ctx) as store:
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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
