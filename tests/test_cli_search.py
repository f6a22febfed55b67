"""import and search through the CLI: exit codes, formats, stderr/stdout separation, subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc.cli import app
from newsarc.fold import fold

from conftest import run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# -- import ------------------------------------------------------------------------------------


def test_cli_import_summary_on_stderr(runner: CliRunner):
    result = run(runner, "import", str(EXAMPLES))
    assert result.stdout == ""
    assert "12 imported" in result.stderr and "1 duplicate," in result.stderr
    again = run(runner, "import", str(EXAMPLES))
    assert "0 imported" in again.stderr and "13 unchanged" in again.stderr


def test_cli_import_quiet_prints_nothing(runner: CliRunner):
    result = run(runner, "import", "--quiet", str(EXAMPLES))
    assert result.stdout == "" and result.stderr == ""


def test_cli_import_missing_path_exit_2(runner: CliRunner, tmp_path: Path):
    result = run(runner, "import", str(tmp_path / "nope"), code=2)
    assert result.stderr.strip() == f"newsarc: error: {tmp_path / 'nope'}: no such file or folder"


def test_cli_import_failure_exit_4_names_file(runner: CliRunner, tmp_path: Path):
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: never closed\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("no front matter", encoding="utf-8")
    result = run(runner, "import", str(tmp_path), code=4)
    assert f"{bad}: front matter is not closed" in result.stderr
    assert "Traceback" not in result.stderr
    assert "skipped: 1 no front matter" in result.stderr


def test_cli_import_quiet_prints_only_the_failures(runner: CliRunner, tmp_path: Path):
    bad = [tmp_path / f"bad{i}.md" for i in range(12)]
    for path in bad:
        path.write_text("---\ntitle: never closed\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("no front matter", encoding="utf-8")
    shutil.copy(EXAMPLES / "2021-12-08-202112082206672930.md", tmp_path)
    result = run(runner, "import", "-q", str(tmp_path), code=4)
    lines = result.stderr.splitlines()
    assert result.stdout == "" and len(lines) == 11, lines  # 10 failures and "… and 2 more …"
    assert all(line.endswith("front matter is not closed by a '---' line") for line in lines[:10])
    assert lines[10] == "… and 2 more failures (--verbose lists them)"
    every = run(runner, "import", "-q", "-v", str(tmp_path), code=4).stderr.splitlines()
    assert sorted(line.split(":")[0] for line in every) == sorted(map(str, bad))


def test_cli_import_verbose_lists_warnings(runner: CliRunner):
    result = run(runner, "import", "--verbose", str(EXAMPLES))
    assert "took 2022-05-26 from the file name" in result.stderr


def test_cli_import_bad_tz_exit_2(runner: CliRunner):
    result = run(runner, "import", "--tz", "Mars/Olympus", str(EXAMPLES), code=2)
    assert "unknown time zone" in result.stderr


def test_cli_import_db_is_not_an_archive(runner: CliRunner, tmp_path: Path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = run(runner, "--db", str(junk), "import", str(EXAMPLES), code=2)
    assert "not a SQLite database" in result.stderr
    assert junk.read_bytes() == b"this is not sqlite" * 100


# -- search --------------------------------------------------------------------------------


def test_cli_search_formats(runner: CliRunner, imported):
    records = json.loads(run(runner, "search", "创新联合体", "--format", "json").stdout)
    assert [r["external_id"] for r in records] == ["NW202204092337358965"]
    record = records[0]
    assert set(record) == {"id", "external_id", "title", "date", "category", "categories",
                           "tags", "source", "url", "summary", "story", "paths", "missing_paths",
                           "score", "snippet"}  # fmt: skip
    assert "创新联合体" in record["snippet"] and record["score"] > 0
    lines = run(runner, "search", "港股", "--format", "jsonl").stdout.splitlines()
    assert all(json.loads(line)["id"] for line in lines)
    ids = run(runner, "search", "港股", "--format", "ids").stdout.split()
    assert ids == [str(json.loads(line)["id"]) for line in lines]
    rows = list(
        csv.DictReader(io.StringIO(run(runner, "search", "港股", "--format", "csv").stdout))
    )
    assert [r["id"] for r in rows] == ids
    tsv = run(runner, "search", "港股", "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[:3] == ["id", "external_id", "title"] and len(tsv) == len(ids) + 1


def test_cli_search_text_option(runner: CliRunner, imported):
    record = json.loads(run(runner, "search", "创新联合体", "--format", "jsonl", "--text").stdout)
    assert "创新联合体" in record["text"]


def test_cli_search_count_and_exit_codes(runner: CliRunner, imported):
    assert run(runner, "search", "--count", "港股").stdout.strip().isdigit()
    assert run(runner, "search", "--count", "量子纠缠", code=1).stdout.strip() == "0"
    result = run(runner, "search", "量子纠缠", "--format", "json", code=1)
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize("query", ['"unbalanced', "(央企", "a OR", "央企 OR -国资委"])
def test_cli_search_bad_query_exit_2(runner: CliRunner, imported, query: str):
    result = run(runner, "search", query, code=2)
    assert result.stderr.startswith("newsarc: error: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_cli_search_traditional_and_width_folding(runner: CliRunner, imported):
    simplified = run(runner, "search", "国资委", "--format", "ids").stdout
    assert simplified and run(runner, "search", "國資委", "--format", "ids").stdout == simplified
    assert (
        run(runner, "search", "ＨＦＯ－１２３４ＹＦ", "--format", "ids").stdout
        == run(runner, "search", "hfo-1234yf", "--format", "ids").stdout
        != ""
    )


def test_cli_search_filters(runner: CliRunner, imported):
    april = run(
        runner, "search", "的", "--since", "2022-04", "--until", "2022-04", "--format", "jsonl"
    ).stdout
    dates = [json.loads(line)["date"] for line in april.splitlines()]
    assert dates and all(d.startswith("2022-04") for d in dates)
    run(runner, "search", "的", "--since", "2031-01", code=1)
    run(runner, "search", "的", "--since", "April", code=2)
    media = run(runner, "search", "的", "--source", "中国经营网", "--format", "jsonl").stdout
    assert [json.loads(line)["source"] for line in media.splitlines()] == ["中国经营网"]


def test_cli_search_sort_and_paging(runner: CliRunner, imported):
    newest = run(
        runner, "search", "的", "--sort", "-date", "--format", "jsonl", "--limit", "100"
    ).stdout
    dates = [json.loads(line)["date"] for line in newest.splitlines()]
    assert dates == sorted(dates, reverse=True)
    page = run(
        runner,
        "search",
        "的",
        "--sort",
        "-date",
        "--format",
        "ids",
        "--limit",
        "2",
        "--offset",
        "1",
    ).stdout
    assert page.split() == [str(json.loads(line)["id"]) for line in newest.splitlines()[1:3]]
    run(runner, "search", "的", "--sort", "sideways", code=2)


def test_cli_search_offset_past_the_end_is_nothing_found(
    runner: CliRunner, imported, monkeypatch: pytest.MonkeyPatch
):
    """Like list: a page past the end exits 1 (paging loops stop on it) and says how many
    matched, so it is not mistaken for no match at all."""
    total = int(run(runner, "search", "港股", "--count").stdout)
    piped = run(runner, "search", "港股", "--offset", str(total), code=1)
    assert piped.stdout == "" and f"(of {total})" in piped.stderr
    last = run(runner, "search", "港股", "--offset", str(total - 1), "-f", "ids").stdout.split()
    assert len(last) == 1
    from newsarc.cli import options as cli_options

    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    monkeypatch.setenv("COLUMNS", "120")
    shown = run(runner, "--plain", "search", "港股", "--offset", "100", code=1).stdout
    assert f"No posts after the first 100 (of {total} matching '港股')." in shown
    assert "No posts match" not in shown


@pytest.mark.parametrize("command", ["search", "list"])
def test_cli_limit_zero_is_a_usage_error(runner: CliRunner, imported, command: str):
    args = [command, "港股"] if command == "search" else [command]
    result = run(runner, *args, "--limit", "0", code=2)
    assert "--limit" in result.stderr


def test_cli_search_plain_lines_when_piped(runner: CliRunner, imported):
    out = run(runner, "search", "创新联合体").stdout
    fields = out.rstrip("\n").split("\t")
    assert fields[0].isdigit() and "\x1b" not in out
    assert fold("创新联合体") in fold(fields[4])


def test_cli_search_missing_archive_exit_2(runner: CliRunner, tmp_path: Path):
    result = run(runner, "--db", str(tmp_path / "none.db"), "search", "x", code=2)
    assert "no archive here yet" in result.stderr


def test_cli_search_terminal_output_highlights(runner: CliRunner, imported, monkeypatch):
    from newsarc.cli import options as cli_options

    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = run(runner, "search", "國資委").stdout
    assert "1 post matches" in out  # collapsed on a terminal, no copies: posts
    assert "\x1b[" in out  # highlighted on a colour terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run(runner, "search", "國資委").stdout


# -- the installed command ---------------------------------------------------------------


def _newsarc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsarc.cli", *args], capture_output=True, text=True, env=env
    )


def test_subprocess_import_search_pipeline(tmp_path: Path):
    env = {**os.environ, "NEWSARC_DB": str(tmp_path / "a.db")}
    imported = _newsarc("import", str(EXAMPLES), env=env)
    assert imported.returncode == 0 and imported.stdout == ""
    found = _newsarc("search", "央企", "--format", "ids", env=env)
    assert found.returncode == 0 and found.stdout.split()
    none = _newsarc("search", "没有这个词", env=env)
    assert none.returncode == 1 and none.stdout == ""
    bad = _newsarc("search", '"', env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_subprocess_search_does_not_import_heavy_modules(tmp_path: Path):
    env = {**os.environ, "NEWSARC_DB": str(tmp_path / "a.db")}
    _newsarc("import", "-q", str(EXAMPLES), env=env)
    code = (
        "import sys; from newsarc.cli import main; sys.argv=['newsarc','search','央企','--format','ids'];\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('lxml', 'sqlite_utils', 'newsarc.ingest', 'newsarc.parse', 'yaml') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "HEAVY []" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        (["import", "--workers", "0", "x"], "Invalid value for '--workers'"),
        (["list", "--bogus"], "No such option '--bogus'"),
        (["--bogus", "list"], "No such option '--bogus'"),
        (["show"], "Missing argument 'ID...'"),
        (["search"], "Missing argument 'QUERY...'"),
        (["export", "--format", "nope"], "'nope' is not one of"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
    ],
)
def test_cli_usage_errors_are_one_line(runner: CliRunner, imported, args: list[str], says: str):
    result = run(runner, *args, code=2)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsarc: error: "), result.stderr
    assert says in lines[0] and lines[0].endswith(" --help')") and result.stdout == ""


def test_cli_no_arguments_shows_the_help(runner: CliRunner):
    result = runner.invoke(app, [])  # click's convention: the help on stderr, exit 2
    assert result.exit_code == 2 and "Commands" in result.stderr and "import" in result.stderr
