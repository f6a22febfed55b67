"""What a power user expects of the command line (issue 16, items 3, 4, 7 and 8): piped output
that is never cut silently, query terms that start with ``-``, numbers of any size, and options
that mean the same in every command (newsarc/cli/__init__.py's NewsarcCommand, options.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_export import add_post

from newsarc.cli import COMMANDS, build_command, split_query_terms
from newsarc.cli import options as cli_options
from newsarc.store import Store

from conftest import run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SGR = re.compile(r"\x1b\[[0-9;]*m")
BIG = "99999999999999999999999"  # past SQLite's (and C's) 64-bit integers


@pytest.fixture
def many(isolated_archive: Path) -> Path:
    """70 posts that all contain 央企, 10 of them 国资委 too: more than a page of either view."""
    with Store.open(isolated_archive) as store:
        for n in range(70):
            text = f"央企第{n}篇" + ("，国资委" if n % 7 == 0 else "")
            add_post(store, external_id=f"m{n}", title=f"标题{n}", text=text, date_utc=n)
    return isolated_archive


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    monkeypatch.setenv("FORCE_COLOR", "1")


def ids(result) -> list[str]:
    return result.stdout.split()


# -- item 3: a pipe is never cut silently -----------------------------------------------------


@pytest.mark.parametrize("fmt", [[], ["-f", "ids"], ["-f", "jsonl"]])
def test_search_piped_writes_every_match(runner, many, fmt):
    result = run(runner, "search", "央企", *fmt)
    assert len(result.stdout.splitlines()) == 70 and result.stderr == ""
    records = json.loads(run(runner, "search", "央企", "-f", "json").stdout)
    assert len({r["id"] for r in records}) == 70


def test_list_piped_writes_every_post(runner, many):
    result = run(runner, "list")
    assert len(result.stdout.splitlines()) == 70 and result.stderr == ""


def test_search_terminal_view_pages_and_all(runner, many, terminal):
    page = SGR.sub("", run(runner, "search", "央企").stdout)
    # collapsed on a terminal; no post has a copy here, so the stories are the posts
    assert page.rstrip().endswith("70 posts match; showing 1–20.")
    every = SGR.sub("", run(runner, "search", "央企", "--all").stdout)
    assert every.rstrip().endswith("70 posts match; showing 1–70.")
    posts = SGR.sub("", run(runner, "search", "央企", "--no-collapse").stdout)
    assert posts.rstrip().endswith("70 posts match; showing 1–20.")
    assert "标题0" in every and "标题0\n" not in page  # the oldest is on no first page


@pytest.mark.parametrize("command", [["search", "央企"], ["list"]])
def test_a_cut_pipe_says_so_on_stderr_with_the_total(runner, many, command):
    limited = run(runner, *command, "-f", "ids", "--limit", "5")
    assert len(ids(limited)) == 5
    assert limited.stderr == "newsarc: wrote 5 of 70 posts (--limit 5)\n"
    skipped = run(runner, *command, "-f", "ids", "--offset", "60")
    assert len(ids(skipped)) == 10
    assert skipped.stderr == "newsarc: wrote 10 of 70 posts (--offset 60)\n"
    both = run(runner, *command, "-f", "ids", "--offset", "1", "--limit", "2")
    assert both.stderr == "newsarc: wrote 2 of 70 posts (--offset 1 --limit 2)\n"
    whole = run(runner, *command, "-f", "ids", "--limit", "70")  # nothing left out: no note
    assert len(ids(whole)) == 70 and whole.stderr == ""


@pytest.mark.parametrize("command", [["search", "央企"], ["list"]])
def test_all_and_limit_together_is_a_usage_error(runner, many, command):
    result = run(runner, *command, "--all", "--limit", "3", code=2)
    assert "--all and --limit" in result.stderr and result.stdout == ""


def test_search_count_is_the_total_a_script_can_read(runner, many):
    assert run(runner, "search", "央企", "--count").stdout == "70\n"
    assert run(runner, "search", "央企", "--count", "--limit", "3").stdout == "70\n"


def test_search_every_match_streams_in_order(runner, many):
    """The piped stream gives exactly the ranked order of the one-page search."""
    from newsarc import search

    with Store.open(many, create=False) as store:
        page = search.search(store, "央企 -国资委", limit=None)
        stream = search.iter_search(store, "央企 -国资委")
        assert not isinstance(stream.hits, list) and stream.total == page.total == 60
        assert [h.post.id for h in stream.hits] == [h.post.id for h in page.hits]
    assert ids(run(runner, "search", "央企", "-国资委", "-f", "ids")) == [
        str(h.post.id) for h in page.hits
    ]


# -- item 4: terms that start with - ------------------------------------------------------------


def test_search_dash_term_after_the_query_is_an_exclusion(runner, many):
    excluded = ids(run(runner, "search", "央企", "-国资委", "-f", "ids"))
    assert len(excluded) == 60
    assert excluded == ids(run(runner, "search", "央企 NOT 国资委", "-f", "ids"))
    assert excluded == ids(run(runner, "search", "-f", "ids", "--", "央企", "-国资委"))
    with_options = run(
        runner, "search", "央企", "-国资委", "-n", "3", "--sort", "date", "-f", "ids"
    )
    assert ids(with_options) == ["2", "3", "4"]  # options after the terms still apply (1: 国资委)
    assert "of 60 posts" in with_options.stderr


def test_search_dash_words_that_look_like_options(runner, imported):
    # -2022 and -count are no options of search: terms; -c is --count
    assert run(runner, "search", "央企", "-c").stdout == "1\n"
    assert run(runner, "search", "国资委", "-央企", "-c", code=1).stdout == "0\n"
    assert run(runner, "search", "的", "-2022", "-c", code=None).stdout.strip().isdigit()


def test_search_ambiguous_option_says_to_put_dashes_before_the_query(runner, imported):
    result = run(runner, "search", "央企", "-nvidia", code=2)
    line = result.stderr.strip()
    assert "'vidia' is not a valid integer" in line and len(result.stderr.splitlines()) == 1
    assert "put -- before the query: newsarc search -- 央企 -nvidia" in line
    quoted = run(runner, "search", "a b", "-nvidia", code=2).stderr
    assert "newsarc search -- 'a b' -nvidia (see" in quoted
    assert line.endswith("(see 'newsarc search --help')")


@pytest.mark.parametrize("args", [["央企", "-n"], ["央企", "--limit"], ["-n"]])
def test_search_option_without_its_value_says_so(runner, imported, args):
    result = run(runner, "search", *args, code=2)
    assert re.fullmatch(
        r"newsarc: error: Option '(-n|--limit)' requires an argument "
        r"\(see 'newsarc search --help'\)\n",
        result.stderr,
    ), result.stderr


def test_split_query_terms_reads_words_as_click_would():
    params = build_command("search").params
    options, terms, doubtful, complete = split_query_terms(
        [
            "央企",
            "-国资委",
            "-cn",
            "5",
            "-fids",
            "--sort=date",
            "--until",
            "2022",
            "-x",
            "--",
            "-n",
        ],
        params,
    )
    assert options == ["-cn", "5", "-fids", "--sort=date", "--until", "2022"]
    assert terms == ["央企", "-国资委", "-x", "-n"] and doubtful == ["-cn", "-fids"] and complete
    assert split_query_terms(["x", "-n"], params)[3] is False
    assert split_query_terms(["x", "--limt", "3"], params)[0] == ["--limt"]  # a typo stays an error


# -- item 7: numbers of any size --------------------------------------------------------------


def test_show_a_huge_number_is_a_missing_post(runner, imported):
    result = run(runner, "show", BIG, code=1)
    assert (
        result.stderr.startswith(f"newsarc: no post '{BIG}'") and "Traceback" not in result.stderr
    )
    assert run(runner, "export", BIG, code=1).stderr.startswith(f"newsarc: no post '{BIG}'")
    assert run(runner, "show", "²", code=1).stderr.startswith("newsarc: no post '²'")


def test_an_article_id_past_64_bits_is_shown_by_it(runner, tmp_path):
    (tmp_path / f"2022-01-01-{BIG}.md").write_text(
        "---\ntitle: 大数字\ndate: 2022-01-01\n---\n正文\n", encoding="utf-8"
    )
    run(runner, "import", "-q", str(tmp_path))
    assert run(runner, "show", BIG).stdout.startswith("大数字\n")
    assert json.loads(run(runner, "export", BIG).stdout)["external_id"] == BIG


@pytest.mark.parametrize(
    "args, option",
    [
        (["list", "--offset", BIG], "--offset"),
        (["list", "--limit", BIG], "--limit"),
        (["search", "央企", "--offset", str(2**63)], "--offset"),
        (["search", "央企", "-n", str(2**63)], "--limit"),
        (["stats", "--top", BIG], "--top"),
        (["import", "--workers", BIG, "."], "--workers"),
        (["serve", "--port", BIG], "--port"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(runner, imported, args, option):
    result = run(runner, *args, code=2)
    assert result.stderr.startswith("newsarc: error: ") and len(result.stderr.splitlines()) == 1
    assert option in result.stderr and result.stdout == ""


@pytest.mark.parametrize("command", [["list"], ["search", "的"]])
def test_the_largest_offset_is_nothing_found(runner, imported, command):
    top = str(2**63 - 1)
    result = run(runner, *command, "-f", "ids", "--offset", top, "--limit", top, code=1)
    assert result.stderr.startswith("newsarc: no posts after the first 9,223,372,036,854,775,807")


# -- item 8: options that agree across commands -----------------------------------------------


def test_q_is_quiet_in_every_command():
    for name in COMMANDS:
        for param in build_command(name).params:
            if "-q" in getattr(param, "opts", []):
                assert param.name == "quiet", name


def test_export_q_drops_the_summary(runner, imported, tmp_path):
    out = tmp_path / "all.jsonl"
    loud = run(runner, "export", "--out", str(out))
    assert loud.stderr.startswith("exported 12 posts to ")
    quiet = run(runner, "export", "-q", "--force", "--out", str(out))
    assert quiet.stderr == "" and len(out.read_text(encoding="utf-8").splitlines()) == 12
    assert ids(run(runner, "export", "--query", "国资委", "-f", "csv")) != []


def test_search_plain(runner, imported, terminal):
    assert "\x1b[" in run(runner, "search", "國資委").stdout
    plain = run(runner, "search", "國資委", "--plain").stdout
    assert "\x1b[" not in plain and "国资委力推组建创新联合体" in plain


def test_db_after_the_command(runner, imported, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSARC_DB", str(tmp_path / "nothing-here.db"))
    for args in (["list", "-f", "ids"], ["search", "国资委", "-f", "ids"], ["show", "2"]):
        assert run(runner, *args, "--db", str(imported)).stdout, args
        assert run(runner, args[0], "--db", str(imported), *args[1:]).stdout, args
    assert run(runner, "stats", "--db", str(imported), "-f", "json").stdout
    assert ids(run(runner, "export", "--db", str(imported), "-f", "csv")) != []
    run(runner, "list", code=2)  # the environment's archive is still the default


def test_every_command_documents_db_after_it(runner):
    for name in COMMANDS:
        assert "--db PATH" in run(runner, name, "--help").stdout, name


def test_export_out_dash_is_stdout(runner, imported, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(runner, "export", "--out", "-", "2")
    assert json.loads(result.stdout)["id"] == 2 and result.stderr == ""
    assert not (tmp_path / "-").exists()
    jekyll = run(runner, "export", "-f", "jekyll", "-o", "-", code=2)
    assert "jekyll export writes a folder" in jekyll.stderr and not (tmp_path / "-").exists()


def test_stats_offers_no_ids_format(runner, imported):
    usage = run(runner, "stats", "--help").stdout
    assert "[table|json|jsonl|csv|tsv]" in usage and "ids" not in usage
    assert "'ids' is not one of" in run(runner, "stats", "-f", "ids", code=2).stderr


@pytest.mark.parametrize("other", ["--vacuum", "--rebuild-index"])
def test_maintenance_check_with_a_change_is_a_usage_error(runner, imported, other):
    before = imported.stat().st_mtime_ns
    result = run(runner, "maintenance", "--check", other, code=2)
    assert result.stderr.startswith("newsarc: error: --check changes nothing")
    assert imported.stat().st_mtime_ns == before
    run(runner, "maintenance", "--check")


def test_usage_lines_show_many_ids(runner):
    assert run(runner, "show", "-h").stdout.startswith("Usage: newsarc show [OPTIONS] ID...\n")
    assert run(runner, "export", "-h").stdout.startswith(
        "Usage: newsarc export [OPTIONS] [ID]...\n"
    )


def test_export_does_what_show_does_with_missing_ids(runner, imported):
    shown = run(runner, "show", "1", "99999", "-f", "json", code=None)
    exported = run(runner, "export", "1", "99999", code=None)
    assert shown.exit_code == exported.exit_code == 1
    assert json.loads(exported.stdout)["id"] == 1 and json.loads(shown.stdout)["id"] == 1
    assert exported.stderr == shown.stderr
    assert exported.stderr.startswith("newsarc: no post '99999'")


def test_export_to_a_file_with_a_missing_id_writes_the_others(runner, imported, tmp_path):
    out = tmp_path / "some.jsonl"
    result = run(runner, "export", "2", "99999", "--out", str(out), code=1)
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [2]
    assert "no post '99999'" in result.stderr


@pytest.mark.parametrize("flag, compacted", [(None, True), ("--no-compact", False)])
def test_import_compacts_unless_told_not_to(runner, tmp_path, monkeypatch, flag, compacted):
    calls: list[Path] = []
    real = Store.compact

    def compact(store: Store) -> bool:
        calls.append(store.path)
        return real(store)

    monkeypatch.setattr(Store, "compact", compact)
    (tmp_path / "2022-01-01-a.md").write_text(
        "---\ntitle: 标题\ndate: 2022-01-01\n---\n正文\n", encoding="utf-8"
    )
    run(runner, "import", "-q", *([flag] if flag else []), str(tmp_path))
    assert bool(calls) is compacted
