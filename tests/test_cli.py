"""The root group (newsarc/cli/__init__.py): the command table and lazy loading, the import
budget of start-up, and the error contract (one line, one exit status per meaning)."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newsarc import cli, search
from newsarc.cli import COMMANDS, app, build_command
from newsarc.errors import ExitStatus

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
COMMAND_MODULES = {f"newsarc.cli.{entry.module}" for entry in COMMANDS.values()}


def python(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter with this checkout first on the path; its stdout."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60
    )
    return result.stdout


# -- the command table and lazy loading --------------------------------------------------------


def test_cli_table_help_is_each_commands_docstring_first_line():
    for name, entry in COMMANDS.items():
        function = getattr(__import__(f"newsarc.cli.{entry.module}", fromlist=["_"]), entry.module)
        assert entry.help == inspect.getdoc(function).splitlines()[0], name
        assert build_command(name).name == name


def test_cli_help_lists_every_command_with_its_short_help(runner):
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = dict(
        re.findall(r"^  (\S+)\s+(.+)$", result.stdout.split("Commands:")[1], re.MULTILINE)
    )
    assert list(listed) == list(COMMANDS)
    for name, entry in COMMANDS.items():  # long ones are cut to the width, as click does
        assert entry.help.startswith(listed[name].removesuffix("...")), name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_cli_command_help_and_h_alias(runner, name):
    long = runner.invoke(app, [name, "--help"])
    assert long.exit_code == 0 and long.stdout.startswith(f"Usage: newsarc {name} ")
    assert COMMANDS[name].help.split(":")[0] in long.stdout
    assert runner.invoke(app, [name, "-h"]).stdout == long.stdout


BUDGET = """
import sys
from newsarc.cli import main
sys.argv = ["newsarc", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)))
"""


def test_cli_search_imports_only_its_own_command(imported, isolated_archive):
    modules = set(
        python(BUDGET, "search", "央企", env={"NEWSARC_DB": str(isolated_archive)}).split()
    )
    assert "newsarc.cli.search" in modules and "newsarc.search" in modules  # it did run
    assert modules & COMMAND_MODULES == {"newsarc.cli.search"}
    heavy = {"rich", "lxml", "yaml", "frontmatter", "sqlite_utils", "newsarc.render",
             "newsarc.ingest", "newsarc.parse", "newsarc.export", "importlib.metadata"}  # fmt: skip
    assert not modules & heavy


def test_cli_version_and_help_import_no_archive_code():
    for args in (["--version"], ["--help"], ["search", "--help"]):
        modules = set(python(BUDGET, *args).split())
        assert "newsarc.cli" in modules, args
        unwanted = {"sqlite3", "newsarc.store", "newsarc.search", "rich", "importlib.metadata"}
        assert not modules & unwanted, (args, modules & unwanted)
        loaded = modules & COMMAND_MODULES
        assert loaded == ({"newsarc.cli.search"} if args[0] == "search" else set()), args


def test_cli_version_is_the_packages():
    from newsarc import __version__

    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and "newsarc.__version__" in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert python(BUDGET, "--version").startswith(f"newsarc {__version__}\n")


# -- the error contract ---------------------------------------------------------------------------


def test_exit_status_names_every_code_once():
    assert {s.name: s.value for s in ExitStatus} == {
        "OK": 0, "NOT_FOUND": 1, "USAGE": 2, "INTERNAL": 3, "PARTIAL": 4, "INTERRUPTED": 130,
    }  # fmt: skip
    assert len(set(ExitStatus)) == len(ExitStatus.__members__)  # no aliases


def test_readme_exit_code_table_is_exit_status():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes")[1].split("\n## ")[0]
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", section, re.MULTILINE)
    assert [(int(code), name) for code, name in rows] == [(s.value, s.name) for s in ExitStatus]


def test_cli_source_has_no_literal_exit_numbers():
    for path in (REPO / "newsarc" / "cli").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"Exit\(\d", source), path
        assert not re.search(r"_fail\([^)]*, \d", source), path


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["list", "--category", "nope"], None, "newsarc: no posts match"),
        (["list", "--offset", "12"], None, "newsarc: no posts after the first 12 (of 12)"),
        (["search", "量子纠缠"], None, "newsarc: no posts match"),
        (["search", "港股", "--offset", "50"], None, "newsarc: no posts after the first 50 (of 2)"),
        (["search", "量子纠缠", "-f", "json"], None, "newsarc: no posts match"),
        (["show", "999999"], None, "newsarc: no post '999999': give a post id"),
        (["show", "-"], "", "newsarc: no post ids on stdin"),
        (["export", "--query", "量子纠缠"], None, "newsarc: no posts match"),
        (["export", "4", "zzz"], None, "newsarc: no post 'zzz': give a post id"),
        (["export", "-"], "\n", "newsarc: no post ids on stdin"),
        (["stats", "--since", "2031"], None, "newsarc: no posts match"),
    ],
)
def test_cli_nothing_found_is_one_line_and_exit_1(runner, imported, args, stdin, message):
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == ExitStatus.NOT_FOUND == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "error" not in result.stderr


def test_cli_show_and_export_word_missing_posts_alike(runner, imported):
    refs = ["4", *[f"zz{i}" for i in range(7)]]
    shown = runner.invoke(app, ["show", *refs, "-f", "json"]).stderr
    exported = runner.invoke(app, ["export", *refs]).stderr
    assert shown == exported
    assert shown.startswith("newsarc: no post 'zz0', 'zz1', 'zz2', 'zz3', 'zz4' and 2 more: ")


def _explode(*args, **kwargs):
    raise RuntimeError("the disk\nis on fire")


def test_cli_unexpected_exception_is_one_line_and_exit_3(runner, imported, monkeypatch):
    monkeypatch.setattr(search, "iter_search", _explode)
    result = runner.invoke(app, ["search", "央企"])
    assert result.exit_code == ExitStatus.INTERNAL == 3 and result.stdout == ""
    assert result.stderr == (
        "newsarc: internal error: RuntimeError: the disk is on fire "
        "(rerun with --traceback to see where)\n"
    )


@pytest.mark.parametrize("how", ["option", "env"])
def test_cli_traceback_on_request(runner, imported, monkeypatch, how):
    monkeypatch.setattr(search, "iter_search", _explode)
    if how == "env":
        monkeypatch.setenv("NEWSARC_TRACEBACK", "1")
    args = ["--traceback", "search", "央企"] if how == "option" else ["search", "央企"]
    result = runner.invoke(app, args)
    assert result.exit_code == ExitStatus.INTERNAL
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in _explode" in result.stderr and result.stderr.endswith("is on fire\n")


def test_cli_internal_error_in_a_subprocess(tmp_path):
    """The installed path: a bug in a command module is one line on stderr, exit 3."""
    code = (
        "import sys, newsarc.queries\n"
        "def broken(*a, **k): raise KeyError('boom')\n"
        "newsarc.queries.iter_list = broken\n"
        "from newsarc.cli import main\n"
        "sys.argv = ['newsarc', 'list']\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "NEWSARC_DB": str(tmp_path / "a.db")}
    subprocess.run([sys.executable, "-m", "newsarc", "import", "-q", str(EXAMPLES)], env=env)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 3 and result.stdout == ""
    assert result.stderr == (
        "newsarc: internal error: KeyError: 'boom' (rerun with --traceback to see where)\n"
    )


def test_cli_ctrl_c_is_exit_130(runner, imported, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(search, "iter_search", interrupted)
    result = runner.invoke(app, ["search", "央企"])
    assert result.exit_code == ExitStatus.INTERRUPTED == 130
    assert result.stderr == "newsarc: error: interrupted\n"


def test_cli_usage_error_names_the_commands_help(runner):
    result = runner.invoke(app, ["search", "x", "--sort", "sideways"])
    assert result.exit_code == ExitStatus.USAGE
    assert result.stderr.startswith("newsarc: error: Invalid value for '--sort': 'sideways'")
    assert result.stderr.endswith("(see 'newsarc search --help')\n")
    assert "[rank|-date|date]" in runner.invoke(app, ["search", "-h"]).stdout


def test_cli_json_data_still_written_when_nothing_found(runner, imported):
    result = runner.invoke(app, ["search", "量子纠缠", "-f", "json"])
    assert json.loads(result.stdout) == [] and result.exit_code == 1


def test_cli_python_dash_m(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for module in ("newsarc", "newsarc.cli"):
        result = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0 and result.stdout.startswith("newsarc "), module


def test_cli_package_has_a_module_per_command():
    assert {p.stem for p in (REPO / "newsarc" / "cli").glob("*.py")} == {
        "__init__", "__main__", "options", *(entry.module for entry in COMMANDS.values())
    }  # fmt: skip
    assert cli.main.__module__ == "newsarc.cli"
