"""The reading commands through the CLI: list, show, export, stats; the scripting contract (data
on stdout only, exit codes, no colour or control characters when piped, hostile content shown
literally); help on every command and option; and real runs of the installed ``newsarc``."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc.cli import COMMANDS, app, build_command
from newsarc.cli import options as cli_options
from newsarc.store import Store

from conftest import add_post, run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SGR = re.compile(r"\x1b\[[0-9;]*m")
BOX = re.compile(r"[\u2500-\u257f]")
C1 = re.compile(r"[\x80-\x9f]")

HOSTILE_TITLE = "[bold red]x[/] [link=file:///etc/passwd]y[/link] \x1b[31mred\x1b]8;;http://evil\x1b\\z\r\x9b2J\u202eabc"
HOSTILE_TEXT = "body [bold]b[/bold]\x1b[2J\rover\x85\x9d0;title\x07 end"


@pytest.fixture
def hostile(isolated_archive: Path) -> Path:
    """An archive with one post full of markup and terminal control sequences, stored as is."""
    with Store.open(isolated_archive) as store:
        add_post(
            store, external_id="evil1", title=HOSTILE_TITLE, text=HOSTILE_TEXT,
            source="[red]src\x1b[0m", tags=["[b]t\x1b[5m"], url="http://e.example/\x1b[31m",
        )  # fmt: skip
    return isolated_archive


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch):
    """Make the CLI believe stdout is a colour terminal, 100 columns wide."""
    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "40")


def assert_terminal_safe(output: str) -> None:
    """No control sequence reaches the terminal except Rich's own colour codes."""
    rest = SGR.sub("", output)
    assert "\x1b" not in rest, repr(rest)
    assert "\r" not in rest and "\x07" not in rest and "\u202e" not in rest
    assert not C1.search(rest)


# -- list ---------------------------------------------------------------------------------------


def test_list_piped_is_plain_lines_newest_first(runner, imported):
    result = run(runner, "list")
    lines = result.stdout.splitlines()
    assert len(lines) == 12 and result.stderr == ""
    assert lines[0] == "1\t2022-05-26T00:00:00+08:00\t上海证券报\t"
    assert lines[1].startswith("2\t2022-04-09T14:22:44+08:00\t中国经营网\t国资委力推组建创新联合体")
    assert lines[-1].startswith("3\t2021-12-01T13:33:50+08:00\tsitenews\t开站大吉")
    assert "\x1b" not in result.stdout and not BOX.search(result.stdout)


def test_list_json_is_the_export_record_without_text(runner, imported):
    listed = json.loads(run(runner, "list", "--format", "json", "--sort", "id").stdout)
    exported = [json.loads(line) for line in run(runner, "export").stdout.splitlines()]
    assert listed == [{k: v for k, v in r.items() if k != "text"} for r in exported]
    with_text = json.loads(run(runner, "list", "-f", "json", "--sort", "id", "--text").stdout)
    assert with_text == exported


@pytest.mark.parametrize(
    "args, ids",
    [
        (["--limit", "3"], [1, 2, 12]),
        (["--limit", "2", "--offset", "2"], [12, 11]),
        (["--sort", "date", "-n", "2"], [3, 5]),
        (["--sort", "id", "-n", "3"], [1, 2, 3]),
        (["--sort", "-id", "-n", "2"], [12, 11]),
        (["--category", "sitenews"], [3]),
        (["--tag", "中国经营网新闻"], [2]),
        (["--source", "澎湃新闻"], [8]),
        (["--since", "2022", "--sort", "id"], [1, 2]),
        (["--until", "2021-12-01"], [3]),
        (["--since", "2022-04", "--until", "2022-04"], [2]),
    ],
)
def test_list_options(runner, imported, args, ids):
    assert run(runner, "list", "--format", "ids", *args).stdout.split() == [str(i) for i in ids]


def test_list_limit_default_and_all(runner, imported, isolated_archive, monkeypatch):
    with Store.open(isolated_archive) as store:
        for n in range(60):
            add_post(store, external_id=f"extra{n}", date_utc=n)
    piped = run(runner, "list", "-f", "ids")  # piped: every post, as grep prints every match
    assert len(piped.stdout.split()) == 72 and piped.stderr == ""
    assert len(run(runner, "list", "-f", "ids", "--all").stdout.split()) == 72
    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    page = run(runner, "--plain", "list").stdout  # the terminal view: 50 at a time
    assert page.rstrip().endswith("1–50 of 72 posts")  # collapsed, but no post has a copy
    assert run(runner, "--plain", "list", "--all").stdout.rstrip().endswith("1–72 of 72 posts")
    uncollapsed = run(runner, "--plain", "list", "--no-collapse").stdout
    assert uncollapsed.rstrip().endswith("1–50 of 72 posts")


@pytest.mark.parametrize("sort", ["-date", "date", "title", "id"])
@pytest.mark.parametrize("offset", ["0", "5", "11", "12", "40"])
def test_list_all_streams_the_same_posts_as_one_big_page(runner, imported, sort, offset):
    """--all is streamed in batches; it must give exactly what an unlimited page would."""
    from newsarc.queries import iter_list, list_posts

    with Store.open(imported, create=False) as store:
        stream, total = iter_list(store, sort=sort, offset=int(offset))
        assert not isinstance(stream, list)  # a generator, not a loaded list
        page, page_total = list_posts(store, sort=sort, limit=None, offset=int(offset))
        assert [p.id for p in stream] == [p.id for p in page] and total == page_total == 12
    every = run(runner, "list", "-f", "ids", "--all", "--sort", sort, "--offset", offset, code=None)
    expected = [str(p.id) for p in page]
    assert every.stdout.split() == expected
    assert every.exit_code == (0 if expected else 1)


def test_list_csv_and_tsv(runner, imported):
    rows = list(csv.DictReader(io.StringIO(run(runner, "list", "-f", "csv", "-n", "2").stdout)))
    assert [r["id"] for r in rows] == ["1", "2"] and json.loads(rows[0]["tags"]) == ["东财滚动新闻"]
    tsv = run(runner, "list", "-f", "tsv", "-n", "1").stdout.splitlines()
    assert tsv[0].split("\t")[:3] == ["id", "external_id", "title"] and len(tsv) == 2


def test_list_nothing_matches_exits_1(runner, imported):
    result = run(runner, "list", "--category", "nope", code=1)
    assert result.stdout == "" and "no posts match" in result.stderr


def test_list_offset_past_the_end_exits_1(runner, imported):
    result = run(runner, "list", "--offset", "12", code=1)
    assert result.stdout == "" and result.stderr == "newsarc: no posts after the first 12 (of 12)\n"


def test_list_bad_sort_exits_2(runner, imported):
    result = run(runner, "list", "--sort", "views", code=2)
    assert "'views' is not one of 'date', '-date', 'title'" in result.stderr
    assert (
        result.stdout == ""
        and "[date|-date|title|-title|id|-id]" in run(runner, "list", "-h").stdout
    )


def test_list_on_a_terminal_is_a_table(runner, imported, terminal):
    out = run(runner, "list").stdout
    assert "1–12 of 12 posts" in out and "国资委力推组建创新联合体" in out
    assert "\x1b[" in out and "─" in out  # colour and the header rule


def test_list_plain_terminal_has_no_ansi_or_boxes(runner, imported, terminal):
    from rich.cells import cell_len

    for args in (["--plain", "list"], ["list", "--plain"]):
        out = run(runner, *args).stdout
        assert "\x1b" not in out and not BOX.search(out)
        assert all(cell_len(line) <= 100 for line in out.splitlines())
        assert "1–12 of 12 posts" in out


def test_list_no_color_env(runner, imported, terminal, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = run(runner, "list").stdout
    assert "\x1b" not in out and "1–12 of 12 posts" in out


def test_list_truncates_titles_to_the_terminal(runner, imported, terminal, monkeypatch):
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", "60")
    out = run(runner, "--plain", "list").stdout
    assert all(cell_len(line) <= 60 for line in out.splitlines())
    assert "…" in out and " 2  2022-04-09 14:22" in out


# -- show ---------------------------------------------------------------------------------------


def test_show_text_by_id_external_id_and_path(runner, imported):
    by_id = run(runner, "show", "4").stdout
    assert by_id.startswith(
        "离岸人民币兑美元升至2018年以来最高水平\n\nid        4 (202112082206672930)\n"
    )
    assert "date      2021-12-08 10:46:18 +08:00\n" in by_id
    assert "length    30 characters\n" in by_id
    assert by_id.endswith("\n\n离岸人民币兑美元升至6.3512，为2018年以来最高水平。\n")
    assert run(runner, "show", "202112082206672930").stdout == by_id
    path = EXAMPLES / "2021-12-08-202112082206672930.md"
    assert run(runner, "show", str(path)).stdout == by_id
    older = EXAMPLES / "older" / "2021-12-08-202112082206672930@cfbae483017a.md"
    assert run(runner, "show", str(older)).stdout == by_id


def test_show_json_is_the_record_with_text(runner, imported):
    record = json.loads(run(runner, "show", "2", "--format", "json").stdout)
    assert record["external_id"] == "NW202204092337358965" and len(record["text"]) == 2451
    several = run(runner, "show", "2", "4", "-f", "json").stdout.splitlines()
    assert [json.loads(line)["id"] for line in several] == [2, 4]


def test_show_markdown(runner, imported):
    out = run(runner, "show", "1", "--format", "markdown").stdout
    assert out.startswith("# (no title)\n\n- id: 1 (202205262391921712)\n")
    assert "\n> 据霍尼韦尔官网消息" in out and "\n## 什么是HFO-1234yf\n" in out


def test_show_raw_is_byte_exact(runner, imported):
    for ref, name in (("2", "000_da33c2ea1906ec2c.txt"), ("1", "-202205262391921712.md")):
        result = runner.invoke(app, ["show", ref, "--format", "raw"])
        assert result.exit_code == 0
        assert result.stdout_bytes == (EXAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    "encoding, prefix",
    [
        ("gb18030", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16", b""),  # with the machine's byte-order mark
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
        ("utf-16-le", b""),  # no mark: recognised by its NULs
        ("utf-16-be", b""),
    ],
)
def test_show_raw_keeps_the_original_encoding(runner, tmp_path, encoding, prefix):
    text = "---\r\ntitle: 编码测试\r\ndate: 2022-01-01\r\n---\r\n\r\n中文正文。\r\n"
    original = prefix + text.encode(encoding)
    (tmp_path / "2022-01-01-enc.md").write_bytes(original)
    run(runner, "import", "-q", str(tmp_path))
    assert runner.invoke(app, ["show", "1", "-f", "raw"]).stdout_bytes == original
    assert run(runner, "show", "1", "-f", "json").stdout.count("中文正文。") == 1


def test_show_empty_stdin_is_nothing_found(runner, imported):
    result = run(runner, "show", "-", input="", code=1)
    assert result.stdout == "" and result.stderr == "newsarc: no post ids on stdin\n"


def test_show_reads_ids_from_stdin(runner, imported):
    ids = run(runner, "search", "苹果", "--format", "ids").stdout
    assert ids.split() == ["12", "10"] or sorted(ids.split()) == ["10", "12"]
    out = run(runner, "show", "-", "-f", "json", input=ids).stdout
    assert [json.loads(line)["id"] for line in out.splitlines()] == [int(i) for i in ids.split()]
    # the plain lines of list and search work too: the id is the first field
    lines = run(runner, "list", "-n", "2").stdout
    out = run(runner, "show", "-", "-f", "json", input=lines).stdout
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1, 2]


def test_show_missing_post_exits_1(runner, imported):
    result = run(runner, "show", "999999", code=1)
    assert result.stdout == ""
    assert result.stderr == (
        "newsarc: no post '999999': give a post id, an article id or an imported "
        "file's path (newsarc list shows ids)\n"
    )


def test_show_some_missing_shows_the_others_then_exits_1(runner, imported):
    result = run(runner, "show", "4", "nope", "-f", "json", code=1)
    assert json.loads(result.stdout)["id"] == 4
    assert "no post 'nope'" in result.stderr


def test_show_terminal_view(runner, imported, terminal):
    out = run(runner, "show", "1", "--no-pager").stdout
    plain = SGR.sub("", out)
    assert plain.startswith("(no title)\n")
    assert "▌ 据霍尼韦尔官网消息" in plain  # the summary as a quote
    assert (
        "[image: Image] https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg"
        in plain
    )
    assert "什么是HFO-1234yf" in plain
    assert "length    " in plain and "file      " in plain


def test_show_text_keeps_image_placeholders_with_their_url(runner, imported):
    """Piped text is the same reading as the terminal view: an image is a labelled line with
    its URL, in the place it had in the body."""
    out = run(runner, "show", "1", "-f", "text").stdout
    image = "[image: Image] https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg"
    assert f"\n\n{image}\n\n" in out


def test_show_terminal_table_block(runner, isolated_archive, terminal):
    from newsarc.models import Block

    with Store.open(isolated_archive) as store:
        add_post(
            store,
            text="before\n\na\tb",
            blocks=[Block("p", "before"), Block("table", rows=[["a", "b"]])],
        )
    out = SGR.sub("", run(runner, "show", "1", "--no-pager").stdout)
    assert "│ a │ b │" in out
    plain = run(runner, "--plain", "show", "1", "--no-pager").stdout
    assert "| a | b |" in plain and not BOX.search(plain)


def test_show_highlight_uses_search_folding(runner, imported, terminal):
    out = run(runner, "show", "2", "--highlight", "創新聯合體", "--no-pager").stdout
    marked = re.findall(r"\x1b\[[0-9;]*43m([^\x1b]+)\x1b\[0m", out)  # yellow background
    assert marked and set(marked) == {"创新联合体"}
    query = run(runner, "show", "2", "-H", "央企 OR 郝鹏", "--no-pager").stdout
    assert {"央企", "郝鹏"} <= set(re.findall(r"\x1b\[[0-9;]*43m([^\x1b]+)\x1b\[0m", query))


def test_show_bad_highlight_query_exits_2(runner, imported):
    assert "unbalanced" in run(runner, "show", "2", "-H", "(央企", code=2).stderr


def test_show_long_post_goes_through_the_pager(runner, imported, terminal, monkeypatch, tmp_path):
    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"sh -c 'cat > {paged}'")
    result = run(runner, "show", "2")
    assert result.stdout == "" and "划定重点领域" in paged.read_text(encoding="utf-8")
    paged.unlink()
    assert "划定重点领域" in run(runner, "show", "2", "--no-pager").stdout
    assert "离岸人民币" in run(runner, "show", "4").stdout  # short: printed directly
    assert not paged.exists()


# -- export -------------------------------------------------------------------------------------


def test_export_default_is_jsonl_of_every_post(runner, imported):
    records = [json.loads(line) for line in run(runner, "export").stdout.splitlines()]
    assert [r["id"] for r in records] == list(range(1, 13)) and "text" in records[0]


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "html", "es-bulk"])
def test_export_formats_to_stdout(runner, imported, fmt):
    out = run(runner, "export", "--format", fmt).stdout
    if fmt == "json":
        assert len(json.loads(out)) == 12
    elif fmt == "csv":
        assert len(list(csv.DictReader(io.StringIO(out)))) == 12
    elif fmt == "markdown":
        assert out.count("\n---\n\n") == 11
    elif fmt == "html":
        assert out.count("<article") == 12
    else:
        assert len([json.loads(line) for line in out.splitlines()]) == 24


def test_export_selection(runner, imported):
    def ids(*args):
        return [json.loads(line)["id"] for line in run(runner, "export", *args).stdout.splitlines()]

    assert ids("--query", "苹果") == [10, 12]
    assert ids("--query", "苹果", "--sort", "-id") == [12, 10]
    assert ids("--category", "emnews", "--since", "2022") == [1]
    assert ids("4", "NW202204092337358965") == [4, 2]
    stdin = run(runner, "export", "-", "--format", "ids", input="4\n2\n", code=2)
    assert "'ids'" in stdin.stderr  # ids is a list/search format, not an export one
    piped = run(runner, "export", "-", input="4\n\nNW202204092337358965\n").stdout.splitlines()
    assert [json.loads(line)["id"] for line in piped] == [4, 2]


def test_export_nothing_selected_exits_1(runner, imported):
    result = run(runner, "export", "--query", "不存在的词语", code=1)
    assert result.stdout == "" and result.stderr == "newsarc: no posts match\n"


def test_export_ids_and_filters_conflict(runner, imported):
    assert "not both" in run(runner, "export", "4", "--category", "emnews", code=2).stderr


def test_export_unknown_id_exits_1(runner, imported):
    assert "no post 'zzz'" in run(runner, "export", "4", "zzz", code=1).stderr


def test_export_bad_query_exits_2(runner, imported):
    assert "unbalanced" in run(runner, "export", "--query", '"open', code=2).stderr


def test_export_out_file_and_force(runner, imported, tmp_path):
    target = tmp_path / "posts.json"
    result = run(runner, "export", "-f", "json", "--out", str(target))
    assert result.stdout == "" and "exported 12 posts" in result.stderr
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 12
    again = run(runner, "export", "-f", "json", "--out", str(target), code=2)
    assert "already exists; add --force" in again.stderr
    run(
        runner,
        "export",
        "-f",
        "json",
        "--out",
        str(target),
        "--force",
        "--query",
        "苹果",
        "--quiet",
    )
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 2


def test_export_jekyll_round_trip_through_the_cli(runner, imported, tmp_path, monkeypatch):
    site = tmp_path / "site"
    result = run(runner, "export", "--format", "jekyll", "--out", str(site))
    assert result.stdout == "" and "exported 12 posts" in result.stderr
    assert run(runner, "export", "-f", "jekyll", "-o", str(site), code=2).stderr.count("--force")
    before = run(runner, "export").stdout.splitlines()
    monkeypatch.setenv("NEWSARC_DB", str(tmp_path / "again.db"))
    run(runner, "import", "-q", str(site))
    after = run(runner, "export").stdout.splitlines()

    def comparable(lines):
        records = [json.loads(line) for line in lines]
        external = {r["id"]: r["external_id"] for r in records}
        out = {}
        for record in records:
            # ids are the archive's own; a story is named by its first post's article id
            record["story"] = external[record["story"]]
            del record["id"], record["paths"]
            out[record["external_id"]] = record
        return out

    assert comparable(after) == comparable(before)


def test_export_jekyll_needs_out(runner, imported):
    assert "add --out DIR" in run(runner, "export", "-f", "jekyll", code=2).stderr


def test_export_unknown_format_exits_2(runner, imported):
    assert run(runner, "export", "-f", "xml", code=2).stdout == ""


# -- stats --------------------------------------------------------------------------------------


def test_stats_json(runner, imported):
    data = json.loads(run(runner, "stats", "--format", "json").stdout)
    assert data["posts"] == 12 and data["files"] == 13 and data["undated"] == 0
    assert data["first_date"] == "2021-12-01T13:33:50+08:00"
    assert data["last_date"] == "2022-05-26T00:00:00+08:00"
    assert data["stories"] == 12  # no two posts of the sample are copies of each other
    assert data["categories"][0] == {"name": "emnews", "posts": 10, "stories": 10}
    assert data["tags"][0] == {"name": "东财滚动新闻", "posts": 10}
    assert data["months"] == [
        {"name": "2021-12", "posts": 10, "stories": 10},
        {"name": "2022-04", "posts": 1, "stories": 1},
        {"name": "2022-05", "posts": 1, "stories": 1},
    ]  # fmt: skip
    assert data["distinct"] == {"categories": 3, "sources": 4, "tags": 3}
    assert data["archive_bytes"] > 0


def test_stats_filters_and_top(runner, imported):
    data = json.loads(run(runner, "stats", "-f", "json", "--since", "2022", "--top", "1").stdout)
    assert (
        data["posts"] == 2 and len(data["categories"]) == 1 and data["distinct"]["categories"] == 2
    )


def test_stats_piped_rows(runner, imported):
    lines = run(runner, "stats").stdout.splitlines()
    assert lines[0] == "kind\tname\tposts\tstories" and "month\t2021-12\t10\t10" in lines
    rows = [json.loads(line) for line in run(runner, "stats", "-f", "jsonl").stdout.splitlines()]
    assert {"kind": "category", "name": "emnews", "posts": 10, "stories": 10} in rows
    assert "'ids' is not one of 'table', 'json'" in run(runner, "stats", "-f", "ids", code=2).stderr


def test_stats_terminal_bars(runner, imported, terminal):
    out = SGR.sub("", run(runner, "stats").stdout)
    assert out.startswith("12 posts · 12 stories  2021-12-01 → 2022-05-26\n")
    assert re.search(r"emnews\s+10\s+█{10,}", out)
    plain = run(runner, "--plain", "stats").stdout
    assert "\x1b" not in plain and "█" not in plain and re.search(r"emnews\s+10\s+#{10,}", plain)


def test_stats_empty_archive(runner, isolated_archive):
    Store.open(isolated_archive).close()
    empty = run(runner, "stats", "-f", "json", code=1)
    assert json.loads(empty.stdout)["posts"] == 0 and empty.stderr == "newsarc: no posts match\n"


# -- hostile content ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["list"], ["show", "1", "--no-pager"], ["stats"], ["search", "body"]]
)
def test_hostile_content_on_a_terminal(runner, hostile, terminal, args):
    out = run(runner, *args).stdout
    assert_terminal_safe(out)
    assert "\x1b]8;;" not in out
    if args[0] in ("list", "show", "search"):
        visible = SGR.sub("", out)
        assert "[bold red]x[/]" in visible and "[link=file:///etc/passwd]y[/link]" in visible
        assert "␛[31mred" in visible  # the escape made visible (titles may be cut to the width)
        if args[0] == "show":
            assert "␛[31mred␛]8;;http://evil␛\\z␍\ufffd2J" in visible
            assert "body [bold]b[/bold]␛[2J␍over" in visible
    plain = run(runner, "--plain", *args).stdout
    assert "\x1b" not in plain and "\r" not in plain and not C1.search(plain)


@pytest.mark.parametrize(
    "args",
    [["show", "1"], ["show", "1", "-f", "markdown"], ["show", "1", "-f", "raw"], ["list"],
     ["stats"], ["list", "-f", "csv"], ["export", "-f", "markdown"]],
)  # fmt: skip
def test_hostile_content_in_text_formats_on_a_terminal(runner, hostile, monkeypatch, args):
    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    monkeypatch.setenv("NO_COLOR", "1")
    out = run(runner, *args).stdout
    assert "\x1b" not in out and "\r" not in out and not C1.search(out), repr(out)


def test_hostile_content_stays_exact_in_data(runner, hostile):
    record = json.loads(run(runner, "list", "-f", "json", "--text").stdout)[0]
    assert record["title"] == HOSTILE_TITLE and record["text"] == HOSTILE_TEXT
    shown = json.loads(run(runner, "show", "evil1", "-f", "json").stdout)
    assert shown["title"] == HOSTILE_TITLE and shown["tags"] == ["[b]t\x1b[5m"]
    exported = json.loads(run(runner, "export").stdout)
    assert exported["text"] == HOSTILE_TEXT
    assert HOSTILE_TITLE in run(runner, "show", "1", "-f", "text").stdout  # piped: exact


def test_hostile_file_imported_and_listed(runner, tmp_path, terminal):
    """Markup and C1 controls survive the importer (C0 controls do not): they stay inert."""
    post = tmp_path / "2022-01-01-hostile.md"
    post.write_text(
        '---\ntitle: "[bold red]x[/] [link=file:///etc/passwd]y[/link] \\x9b31m"\n'
        "date: 2022-01-01\n---\n\n[red]body[/red] \x9b2J text\n", encoding="utf-8",
    )  # fmt: skip
    run(runner, "import", "-q", str(tmp_path))
    record = json.loads(run(runner, "list", "-f", "json").stdout)[0]
    assert record["title"] == "[bold red]x[/] [link=file:///etc/passwd]y[/link] \x9b31m"
    for args in (["list"], ["show", "1", "--no-pager"]):
        out = run(runner, *args).stdout
        assert_terminal_safe(out)
        assert "[bold red]x[/]" in SGR.sub("", out)


# -- contract: help, version, completion, errors ------------------------------------------------


def test_every_command_and_option_has_help():
    assert COMMANDS.keys() >= {"import", "search", "list", "show", "export", "stats"}
    for name in COMMANDS:
        command = build_command(name)
        assert command.help and "Example" in command.help, name
        for param in command.params:
            assert getattr(param, "help", None), f"{name} {param.name} has no help"


@pytest.mark.parametrize("command", ["list", "show", "export", "stats"])
def test_help_with_h(runner, command):
    result = run(runner, command, "-h")
    assert "Example" in result.stdout and "\x1b" not in result.stdout


def test_version(runner):
    from newsarc import __version__

    assert run(runner, "--version").stdout == f"newsarc {__version__}\n"


def test_completion_is_available(runner):
    assert "--install-completion" in run(runner, "--help").stdout
    script = run(runner, "--show-completion", "bash").stdout
    assert "complete" in script and "newsarc" in script


def test_no_archive_is_a_usage_error(runner):
    result = run(runner, "list", code=2)
    assert "no archive here yet" in result.stderr and "Traceback" not in result.stderr


def test_bad_option_exits_2(runner, imported):
    assert run(runner, "list", "--limit", "-1", code=2).stdout == ""


# -- the installed command -------------------------------------------------------------------------


def newsarc(*args: str, db: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("newsarc")
    command = [exe] if exe else [sys.executable, "-m", "newsarc.cli"]
    env = {**os.environ, "NEWSARC_DB": str(db)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([*command, *args], input=input, capture_output=True, env=env, timeout=120)


@pytest.fixture
def real_db(tmp_path: Path) -> Path:
    db = tmp_path / "real.db"
    assert newsarc("import", "-q", str(EXAMPLES), db=db).returncode == 0
    return db


def test_installed_search_ids_into_show(real_db):
    ids = newsarc("search", "央企", "--format", "ids", db=real_db)
    assert ids.returncode == 0 and ids.stdout.split() == [b"2"]
    shown = newsarc("show", "-", db=real_db, input=ids.stdout)
    assert shown.returncode == 0 and shown.stderr == b""
    text = shown.stdout.decode("utf-8")
    assert text.startswith("国资委力推组建创新联合体 多领域技术攻关获成效\n") and "\x1b" not in text
    shell = subprocess.run(
        "newsarc search 央企 --format ids | newsarc show - --format json",
        shell=True, capture_output=True, env={**os.environ, "NEWSARC_DB": str(real_db)},
    )  # fmt: skip
    assert json.loads(shell.stdout)["id"] == 2


def test_installed_show_missing_and_version(real_db):
    missing = newsarc("show", "999999", db=real_db)
    assert missing.returncode == 1 and missing.stdout == b""
    assert missing.stderr.startswith(b"newsarc: no post '999999'")
    assert b"Traceback" not in missing.stderr
    version = newsarc("--version", db=real_db)
    assert version.returncode == 0 and version.stdout.startswith(b"newsarc ")


def test_installed_raw_and_piped_output(real_db):
    raw = newsarc("show", "NW202204092337358965", "--format", "raw", db=real_db)
    assert (
        hashlib.sha256(raw.stdout).digest()
        == hashlib.sha256((EXAMPLES / "000_da33c2ea1906ec2c.txt").read_bytes()).digest()
    )
    listed = newsarc("list", db=real_db)
    assert (
        listed.returncode == 0
        and b"\x1b" not in listed.stdout
        and len(listed.stdout.splitlines()) == 12
    )
    stats = newsarc("stats", "--format", "json", db=real_db)
    assert json.loads(stats.stdout)["posts"] == 12


def test_installed_export_into_a_closed_pipe(tmp_path):
    """``newsarc export | head -1``: the reader goes away; newsarc stops quietly."""
    db = tmp_path / "big.db"
    with Store.open(db) as store:
        for n in range(3000):
            add_post(store, external_id=f"p{n}", text="很长的正文。" * 40)
    exe = shutil.which("newsarc") or "newsarc"
    proc = subprocess.Popen(
        [exe, "export"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "NEWSARC_DB": str(db)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    json.loads(proc.stdout.readline())
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in stderr and b"Broken pipe" not in stderr


# -- fidelity: every category, files gone, stored warnings, Jekyll sites --------------------------


def _post(path: Path, title: str, front: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\n{front}---\n\n正文{title}。\n", encoding="utf-8")
    return path


@pytest.fixture
def categorised(runner: CliRunner, isolated_archive: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    _post(folder / "2022-01-01-202201010000000001.md", "两类", "categories: [emnews, markets]\n")
    _post(folder / "2022-01-02-202201020000000002.md", "一类", "category: emnews\n")
    _post(folder / "2022-01-03-202201030000000003.md", "单数", "category: hello world\n")
    run(runner, "import", "-q", str(folder))
    return folder


def test_every_category_selects_and_counts(runner, categorised):
    listed = run(runner, "list", "--category", "markets", "--format", "json").stdout
    [record] = json.loads(listed)
    assert record["title"] == "两类"
    assert record["category"] == "emnews" and record["categories"] == ["emnews", "markets"]
    found = run(runner, "search", "category:markets", "--format", "ids").stdout.split()
    assert found == [str(record["id"])]
    assert (
        run(runner, "search", "正文", "--category", "markets", "--format", "ids").stdout.split()
        == found
    )
    assert len(run(runner, "list", "--category", "emnews", "--format", "ids").stdout.split()) == 2
    # a singular category: is one category, spaces and all
    assert (
        len(run(runner, "list", "--category", "hello world", "--format", "ids").stdout.split()) == 1
    )
    run(runner, "list", "--category", "hello", code=1)
    stats = json.loads(run(runner, "stats", "--format", "json").stdout)
    assert {c["name"]: c["posts"] for c in stats["categories"]} == {
        "emnews": 2,
        "markets": 1,
        "hello world": 1,
    }
    text = run(runner, "show", str(record["id"]), "--format", "text").stdout
    assert "category  emnews, markets" in text


def test_import_reports_files_gone_and_prunes(runner, isolated_archive, tmp_path: Path):
    folder = tmp_path / "in"
    gone = _post(folder / "2022-01-01-202201010000000001.md", "甲")
    _post(folder / "2022-01-02-202201020000000002.md", "乙")
    run(runner, "import", str(folder))
    gone.unlink()
    result = run(runner, "import", str(folder))
    assert "1 file recorded is gone; their posts are kept" in result.stderr
    record = json.loads(run(runner, "show", "202201010000000001", "--format", "json").stdout)
    assert record["missing_paths"] == [str(gone)] == record["paths"]
    text = run(runner, "show", "202201010000000001", "--format", "text").stdout
    assert f"{gone} (gone: not found by the last import)" in text
    check = run(runner, "maintenance", "--check")
    assert f"newsarc: gone: {gone}: recorded, but no longer found" in check.stderr
    result = run(runner, "import", "--prune", str(folder))
    assert (
        "pruned: forgot 1 file that is gone and deleted 1 post left with no file" in result.stderr
    )
    run(runner, "show", "202201010000000001", code=1)
    assert len(run(runner, "list", "--format", "ids").stdout.split()) == 1


def test_import_verbose_lists_stored_warnings_every_time(runner, isolated_archive, tmp_path):
    folder = tmp_path / "in"
    _post(folder / "x-202201010000000001.md", "无日期")
    (folder / "notes.txt").write_text("notes\n", encoding="utf-8")
    first = run(runner, "import", "--verbose", str(folder))
    again = run(runner, "import", "--verbose", str(folder))
    warning = "no date in front matter; took 2022-01-01 from the file name"
    for result in (first, again):
        assert warning in result.stderr
        assert "1 skipped" in result.stderr and "notes.txt: no front matter" in result.stderr
    check = run(runner, "maintenance", "--check")
    assert f"newsarc: warning: {folder / 'x-202201010000000001.md'}: {warning}" in check.stderr
    assert f"newsarc: skipped: {folder / 'notes.txt'}: " in check.stderr
    assert "archive ok" in check.stderr


def test_import_jekyll_site_says_so(runner, isolated_archive, tmp_path: Path):
    site = tmp_path / "site"
    _post(site / "_posts" / "2022-01-01-202201010000000001.md", "文章")
    _post(site / "index.md", "首页", "layout: default\n")
    result = run(runner, "import", str(site))
    assert "1 imported" in result.stderr and "(1 file in" in result.stderr
    assert f"{site}: a Jekyll site; read only its _posts/ folder" in result.stderr


def test_import_with_another_tz_says_it_reads_files_again(runner, isolated_archive, tmp_path):
    folder = tmp_path / "in"
    _post(folder / "2022-01-01-202201010000000001.md", "甲", "date: 2022-01-01 08:00\n")
    run(runner, "import", str(folder))
    result = run(runner, "import", "--tz", "UTC", str(folder))
    assert "0 imported, 1 updated" in result.stderr
    assert "1 file imported before with another --tz read again" in result.stderr
    record = json.loads(run(runner, "show", "202201010000000001", "--format", "json").stdout)
    assert record["date"] == "2022-01-01T08:00:00+00:00"


def test_list_all_on_a_terminal_pages_as_show(runner, imported, terminal, monkeypatch):
    from newsarc import render

    pages: list[str] = []
    monkeypatch.setattr(render, "page", lambda text, fallback: pages.append(text))
    monkeypatch.setenv("LINES", "8")
    assert "of 12 posts" in run(runner, "list").stdout and not pages  # a page: printed
    assert run(runner, "list", "--all").stdout == ""
    assert len(pages) == 1 and "of 12 posts" in pages[0]
    assert "of 12 posts" in run(runner, "list", "--all", "--no-pager").stdout and len(pages) == 1


def test_show_text_marks_sub_headings(runner, isolated_archive):
    from newsarc.models import Block

    with Store.open(isolated_archive) as store:
        add_post(
            store,
            text="第一段。\n\n小标题\n\n第二段。",
            blocks=[Block("p", "第一段。"), Block("h", "小标题"), Block("p", "第二段。")],
        )
    out = run(runner, "show", "1", "-f", "text").stdout
    assert "\n\n第一段。\n\n## 小标题\n\n第二段。\n" in out
