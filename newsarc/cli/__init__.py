"""The command line: Typer only. Each command parses options, calls the library, and prints.

This module is the root group: the global options, the table of commands, and the translation
of every error into one stderr line and an exit status (``NewsarcGroup.invoke``, the one place).
Commands live one per module and are imported and built only when invoked: ``newsarc search``
never loads the code (or the imports) of ``import`` or ``export``, and ``newsarc --help`` lists
them from ``COMMANDS`` without loading any. Rich (``render``) is imported lazily, only when
output goes to a person.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import click
import typer
from typer.core import TyperCommand, TyperGroup

from newsarc import __version__
from newsarc.errors import ExitStatus, NewsarcError, NotFoundError


class Command(NamedTuple):
    """A command in the table: the module (in ``newsarc.cli``) that defines it as a function of
    the same name, and its one-line help (the first line of that function's docstring; a test
    keeps them equal)."""

    module: str
    help: str


#: every command, in the order ``newsarc --help`` lists them
COMMANDS = {
    "import": Command(
        "import_", "Import posts: every file with YAML front matter, whatever its extension."
    ),
    "search": Command("search", "Search posts."),
    "list": Command("list_", "List posts, newest first."),
    "show": Command("show", "Show posts in full."),
    "similar": Command(
        "similar", "Posts like one post: its story's other posts, then the nearest below."
    ),
    "export": Command("export", "Export posts to stdout or --out."),
    "stats": Command("stats", "Show statistics."),
    "trend": Command("trend", "Count matching posts per period, as a bar chart or records."),
    "serve": Command(
        "serve", "Browse and search the archive in a web browser (Datasette, read-only)."
    ),
    "maintenance": Command(
        "maintenance",
        "Check and compact the archive: integrity checks, full-text index merge, VACUUM.",
    ),
}

TRACEBACK_ENV = "NEWSARC_TRACEBACK"


def build_command(name: str) -> click.Command:
    """Import the module of command ``name`` and build its click command (Typer's work)."""
    entry = COMMANDS[name]
    module = importlib.import_module(f"{__name__}.{entry.module}")
    function = getattr(module, entry.module)
    sub = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)
    sub.command(name, cls=NewsarcCommand)(function)
    return typer.main.get_command(sub)


def _set_db(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "db": value}


#: the global ``--db``, accepted after every command's name too (``newsarc list --db x.db``)
DB_AFTER_COMMAND = click.Option(
    ["--db"],
    type=click.Path(path_type=Path),
    expose_value=False,
    callback=_set_db,
    metavar="PATH",
    help="Archive file (the global --db, also accepted here).",
)


class NewsarcCommand(TyperCommand):
    """Every command: takes the global ``--db`` after its name as well as before it, and, when
    it has a ``query`` argument, reads words that start with ``-`` but are none of its options
    as query terms: ``newsarc search 央企 -国资委 --limit 5`` excludes 国资委 and still limits."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        return [*params[:-1], DB_AFTER_COMMAND, *params[-1:]]  # --db before --help

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return self._parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = exc.ctx or ctx  # click's parser leaves it out: name this command's --help
            raise

    def _parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not any(isinstance(p, click.Argument) and p.name == "query" for p in self.params):
            return super().parse_args(ctx, args)
        options, terms, doubtful, complete = split_query_terms(args, self.get_params(ctx))
        # an option missing its value (`search 央企 -n`) stays last, so click says just that
        words = [*options, "--", *terms] if complete else options
        try:
            return super().parse_args(ctx, words)
        except click.UsageError as exc:
            if not doubtful or isinstance(exc, click.exceptions.NoArgsIsHelpError):
                raise
            # `-nvidia` was read as `-n vidia`: say how to search for it instead
            words = [a for a in args if a in terms or a in doubtful]
            retry = " ".join(_shell_word(w) for w in [*ctx.command_path.split(), "--", *words])
            raise click.UsageError(
                f"{exc.format_message().rstrip('.')}; to search for {doubtful[0]}, put -- "
                f"before the query: {retry}",
                ctx,
            ) from None


def _shell_word(word: str) -> str:
    """``word`` as typed in a shell: quoted only when it has to be (Chinese words need not)."""
    import shlex

    return word if re.fullmatch(r"[\w@%+=:,./-]+", word) else shlex.quote(word)


def split_query_terms(
    args: list[str], params: list[click.Parameter]
) -> tuple[list[str], list[str], list[str], bool]:
    """``args`` as (options with their values, query terms, doubtful): a word that starts with a
    single ``-`` is an option only when click would read it as one of ``params`` (``-n``, ``-n5``,
    ``-cn 5``), otherwise a term (``-国资委``, ``-2022``, ``-count``); everything after ``--`` is
    a term. Doubtful are the options that could also have been meant as terms (``-nvidia`` is
    ``-n vidia``). Long words (``--limt``) stay options, so a typo is an error, not a search.
    Last, whether every option that takes a value has one (not ``search 央企 -n``)."""
    takes_value: dict[str, bool] = {}
    for param in params:
        if isinstance(param, click.Option):
            for opt in [*param.opts, *param.secondary_opts]:
                takes_value[opt] = not (param.is_flag or param.count)
    options: list[str] = []
    terms: list[str] = []
    doubtful: list[str] = []
    complete = True
    words = iter(args)
    for word in words:
        if word == "--":
            terms.extend(words)
            break
        if word.startswith("--"):
            name, eq, _ = word.partition("=")
            options.append(word)
            if takes_value.get(name) and not eq:
                complete = _take_value(words, options)
            continue
        needs_value = _short_options(word, takes_value)
        if needs_value is None:
            terms.append(word)
            continue
        options.append(word)
        if len(word) > 2:
            doubtful.append(word)
        if needs_value:
            complete = _take_value(words, options)
    return options, terms, doubtful, complete


def _take_value(words: Iterator[str], options: list[str]) -> bool:
    """Move the next word (an option's value) to ``options``; False if there is none."""
    value = next(words, None)
    if value is None:
        return False
    options.append(value)
    return True


def _short_options(word: str, takes_value: dict[str, bool]) -> bool | None:
    """None if ``word`` is not short options as click reads them (``-c``, ``-ca``, ``-n5``);
    else whether the next word is the value of its last option."""
    if len(word) < 2 or word[0] != "-":
        return None
    for i, char in enumerate(word[1:], start=2):
        known = takes_value.get("-" + char)
        if known is None:
            return None
        if known:  # the rest of the word, or else the next word, is its value
            return i == len(word)
    return False


class NewsarcGroup(TyperGroup):
    """The root group: loads a command only when it is invoked, and translates newsarc's errors
    (and SQLite's, click's usage errors, Ctrl-C and bugs) into one line and an exit status."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return build_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``newsarc --help``, from the table: building every command
        (and importing its module) only to print one line each would cost most of the start-up
        that lazy loading saves."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.utils.make_default_short_help(entry.help, limit))
            for name, entry in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:  # the options before the command: `newsarc --bogus`
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            _usage_error(exc)
            raise  # not reached

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.UsageError as exc:  # a command's options: `newsarc list --limit x`
            _usage_error(exc)
        except click.ClickException:
            raise
        except NotFoundError as exc:  # an answer, not an error: `newsarc: no posts match`
            _fail(f"newsarc: {exc}", exc.exit_status)
        except NewsarcError as exc:
            _fail(f"newsarc: error: {exc}", exc.exit_status)
        except BrokenPipeError:
            # the reader went away (`newsarc export | head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(ExitStatus.OK) from None
        except KeyboardInterrupt:
            _fail("newsarc: error: interrupted", ExitStatus.INTERRUPTED)
        except Exception as exc:
            # only a module that was imported can have raised its error: checking this way keeps
            # sqlite3 off the start-up path of `--version` and `--help`
            sqlite3 = sys.modules.get("sqlite3")
            if sqlite3 is not None and isinstance(exc, sqlite3.Error):
                from newsarc.store import describe_error

                _fail(f"newsarc: error: {describe_error(exc, db_path(ctx))}", ExitStatus.USAGE)
            _internal_error(ctx, exc)


def db_path(ctx: click.Context) -> Path:
    """The archive file: ``--db``, else ``$NEWSARC_DB``, else the per-user data folder."""
    db = (ctx.find_root().obj or {}).get("db")
    if db is not None:
        return Path(db)
    from newsarc.store import default_db_path

    return default_db_path()


def _internal_error(ctx: click.Context, exc: Exception) -> None:
    """A bug: one line naming the exception, or its traceback when asked for."""
    if (ctx.obj or {}).get("traceback") or os.environ.get(TRACEBACK_ENV) == "1":
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
        raise typer.Exit(ExitStatus.INTERNAL)
    message = " ".join(str(exc).split())  # one line, whatever the exception says
    _fail(
        f"newsarc: internal error: {type(exc).__name__}: {message} "
        "(rerun with --traceback to see where)",
        ExitStatus.INTERNAL,
    )


def _usage_error(exc: click.UsageError) -> None:
    """click's usage error as one line, pointing at the command's --help."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc  # `newsarc` alone shows the help
    command = exc.ctx.command_path if exc.ctx else "newsarc"
    message = exc.format_message().rstrip(".")
    _fail(f"newsarc: error: {message} (see '{command} --help')", ExitStatus.USAGE)


def _fail(line: str, status: ExitStatus) -> None:
    click.echo(line, err=True)
    raise typer.Exit(status)


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
    traceback: Annotated[
        bool,
        typer.Option(
            "--traceback",
            help=f"On an internal error, show where it happened (also: {TRACEBACK_ENV}=1).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """newsarc: import news posts into a local SQLite archive, then search, list, show, export."""
    ctx.obj = {
        "db": db,
        "plain": plain or bool(os.environ.get("NO_COLOR")),
        "traceback": traceback,
    }


def main() -> None:
    """Console-script entry point."""
    app()
