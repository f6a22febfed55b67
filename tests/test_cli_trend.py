"""``newsarc trend`` and ``newsarc stats QUERY`` through the CLI: exact output per format, the
chart at 80 and 40 columns and without colour, bad input, and the one date rule for every
command's --since/--until."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from newsarc.cli import app

from conftest import run

REPO = Path(__file__).resolve().parents[1]
SGR = re.compile(r"\x1b\[[0-9;]*m")

#: (file name, date as written or None, title, text, source, tags)
POSTS = [
    ("a", "2021-12-31 10:00:00 +08:00", "芯片 半导体 年终", "芯片。半导体。", "丙报", []),
    ("b", "2022-01-05 09:00:00 +08:00", "芯片 新品", "芯片发布。", "甲报", ["科技"]),
    ("c", "2022-01-20 12:00:00 +08:00", "半导体 与 芯片", "产业。", "乙报", ["科技", "产业"]),
    # 23:30 on the 18th in India is already the 19th in Beijing: it belongs to the 18th
    ("d", "2022-03-18 23:30:00 +05:30", "印度 芯片", "芯片工厂。", "甲报", []),
    ("e", "2022-03-19 00:10:00 +08:00", "半导体 设备", "设备。", "丙报", ["产业"]),
    ("f", "2022-04-02 08:00:00 +08:00", "芯片 出口", "出口。", "甲报", []),
    ("g", "2022-04-30 23:00:00 -05:00", "港股 收盘", "港股。", "乙报", []),
    ("h", None, "芯片 无日期", "没有日期的芯片。", "甲报", []),
]


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    folder = tmp_path / "posts"
    folder.mkdir()
    for name, date, title, text, source, tags in POSTS:
        head = ["---", f"title: {title}", "categories: news", f"source: {source}"]
        head += [f"date: {date}"] if date else []
        head += [f"tags: [{', '.join(tags)}]", "---", "", text, ""]
        (folder / f"{name}.md").write_text("\n".join(head), encoding="utf-8")
    runner = CliRunner()
    run(runner, "import", "-q", str(folder))
    return runner


# -- data formats ---------------------------------------------------------------------------------


def test_cli_trend_csv_by_month(runner):
    result = run(runner, "trend", "芯片", "--by", "month", "-f", "csv")
    assert result.stdout == (
        "period,start,end,count\n"
        "2021-12,2021-12-01,2021-12-31,1\n"
        "2022-01,2022-01-01,2022-01-31,2\n"
        "2022-02,2022-02-01,2022-02-28,0\n"
        "2022-03,2022-03-01,2022-03-31,1\n"
        "2022-04,2022-04-01,2022-04-30,1\n"
    )


def test_cli_trend_json_jsonl_tsv_hold_the_same_records(runner):
    as_json = json.loads(run(runner, "trend", "芯片", "--by", "quarter", "-f", "json").stdout)
    lines = run(runner, "trend", "芯片", "--by", "quarter", "-f", "jsonl").stdout.splitlines()
    tsv = run(runner, "trend", "芯片", "--by", "quarter", "-f", "tsv").stdout
    rows = list(csv.DictReader(io.StringIO(tsv), delimiter="\t"))
    assert as_json == [json.loads(line) for line in lines]
    assert as_json == [{**r, "count": int(r["count"])} for r in rows]
    assert [(r["period"], r["count"]) for r in as_json] == [("2021-Q4", 1), ("2022-Q1", 3),
                                                             ("2022-Q2", 1)]  # fmt: skip


def test_cli_trend_piped_without_format_is_tsv(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "NEWSARC_DB": str(tmp_path / "a.db")}
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "x.md").write_text("---\ntitle: 港股\ndate: 2022-04-09\n---\n港股。\n", "utf-8")
    cli = [sys.executable, "-m", "newsarc.cli"]
    subprocess.run([*cli, "import", "-q", str(folder)], env=env, check=True)
    proc = subprocess.run([*cli, "trend", "港股"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "period\tstart\tend\tcount\n2022-04-09\t2022-04-09\t2022-04-09\t1\n"


def test_cli_trend_counts_equal_search_counts_per_period(runner):
    for query in ("芯片", "半导体", "芯片 OR 港股", "芯片 -半导体"):
        records = json.loads(run(runner, "trend", query, "--by", "month", "-f", "json").stdout)
        for record in records:
            found = runner.invoke(
                app, ["search", query, "--count", "--since", record["start"],
                      "--until", record["end"]],
            )  # fmt: skip
            assert int(found.stdout) == record["count"], (query, record)


def test_cli_trend_split_source_top_and_other(runner):
    records = json.loads(
        run(runner, "trend", "芯片", "--split", "source", "--top", "1", "--by", "year",
            "-f", "json").stdout
    )  # fmt: skip
    assert records == [
        {"period": "2021", "start": "2021-01-01", "end": "2021-12-31", "count": 0, "group": "甲报"},
        {
            "period": "2021",
            "start": "2021-01-01",
            "end": "2021-12-31",
            "count": 1,
            "group": "other",
        },
        {"period": "2022", "start": "2022-01-01", "end": "2022-12-31", "count": 3, "group": "甲报"},
        {
            "period": "2022",
            "start": "2022-01-01",
            "end": "2022-12-31",
            "count": 1,
            "group": "other",
        },
    ]


def test_cli_trend_split_tag_counts_posts_without_tags(runner):
    records = json.loads(
        run(runner, "trend", "半导体", "--split", "tag", "--by", "year", "-f", "json").stdout
    )
    counts = {(r["period"], r["group"]): r["count"] for r in records if r["count"]}
    assert counts == {("2021", None): 1, ("2022", "科技"): 1, ("2022", "产业"): 2}


def test_cli_trend_compare_and_repeated_q_agree(runner):
    compare = run(runner, "trend", "--compare", "芯片", "半导体", "--by", "year", "-f", "csv")
    repeated = run(
        runner, "trend", "--query", "芯片", "--query", "半导体", "--by", "year", "-f", "csv"
    )
    assert (
        compare.stdout
        == repeated.stdout
        == (
            "period,start,end,count,query\n"
            "2021,2021-01-01,2021-12-31,1,芯片\n"
            "2021,2021-01-01,2021-12-31,1,半导体\n"
            "2022,2022-01-01,2022-12-31,4,芯片\n"
            "2022,2022-01-01,2022-12-31,2,半导体\n"
        )
    )
    # without --compare, the words are one query, as search reads them
    anded = run(runner, "trend", "芯片", "半导体", "--by", "year", "-f", "csv")
    assert anded.stdout.splitlines()[1:] == ["2021,2021-01-01,2021-12-31,1",
                                             "2022,2022-01-01,2022-12-31,1"]  # fmt: skip


# -- the chart ------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 40])
def test_cli_trend_chart_fits_and_marks_the_peak(runner, width):
    out = run(runner, "trend", "芯片", "--by", "month", "-f", "table",
              env={"COLUMNS": str(width)}).stdout  # fmt: skip
    lines = out.splitlines()
    assert lines[0].startswith("芯片") and "per month" in lines[0]
    rows = [line for line in lines if re.match(r"\d{4}-\d\d ", line)]
    assert [r.split()[:2] for r in rows] == [["2021-12", "1"], ["2022-01", "2"], ["2022-02", "0"],
                                             ["2022-03", "1"], ["2022-04", "1"]]  # fmt: skip
    assert all(cell_len(line) <= width for line in lines)
    peak = [r for r in rows if r.rstrip().endswith(("◆", "<"))]
    assert len(peak) == 1 and peak[0].startswith("2022-01")
    # the bar of 2 is twice the bar of 1
    bars = {r.split()[0]: r.count("█") for r in rows}
    assert bars["2022-01"] == 2 * bars["2021-12"] > 0 and bars["2022-02"] == 0
    assert lines[-2:] == ["5 posts, 2021-12-01 → 2022-04-30", "1 undated post not shown"]


@pytest.mark.parametrize("how", [("--plain",), ("NO_COLOR",)])
def test_cli_trend_chart_plain_is_ascii_bars(runner, how):
    args = ["trend", "芯片", "--by", "month", "-f", "table"]
    env = {"COLUMNS": "60", "TERM": "xterm-256color", "FORCE_COLOR": "1"}
    if how == ("--plain",):
        args.append("--plain")
    else:
        env["NO_COLOR"] = "1"
    out = run(runner, *args, env=env).stdout
    assert not SGR.search(out) and "█" not in out and "◆" not in out
    assert re.search(r"^2022-01 2 #+ <$", out, re.MULTILINE), out


def test_cli_trend_chart_split_and_compare_legends(runner):
    split = run(runner, "trend", "芯片", "--split", "source", "--by", "year", "--plain",
                "-f", "table").stdout  # fmt: skip
    assert "## 甲报 3" in split and "== 丙报 1" in split
    assert re.search(r"^2022 4 #+=*\+* <$", split, re.MULTILINE), split
    compare = run(runner, "trend", "--compare", "芯片", "港股", "--by", "year", "--plain",
                  "-f", "table").stdout  # fmt: skip
    assert re.search(r"^2022 芯片 4 #+ <$", compare, re.MULTILINE), compare
    assert re.search(r"^     港股 1 =+ <$", compare, re.MULTILINE), compare


def test_cli_trend_chart_shows_hostile_names_literally(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "x.md").write_text(
        '---\ntitle: 港股\ndate: 2022-04-09\nsource: "[bold]x\\e[31m"\n---\n港股。\n', "utf-8"
    )
    runner = CliRunner()
    run(runner, "import", "-q", str(folder))
    out = run(runner, "trend", "港股", "--split", "source", "-f", "table").stdout
    assert "[bold]x␛[31m" in out and "\x1b" not in out


# -- bad input ------------------------------------------------------------------------------------


def test_cli_trend_no_match_prints_an_empty_chart_and_exits_1(runner):
    result = run(runner, "trend", "没有这个词", "-f", "table", code=1)
    assert result.stdout.startswith("没有这个词") and "0 posts" in result.stdout
    assert "No posts match 没有这个词." in result.stderr
    data = run(runner, "trend", "没有这个词", "-f", "json", code=1)
    assert data.stdout == "[]\n"


@pytest.mark.parametrize(
    ("option", "value", "choices"),
    [("--by", "fortnight", "'day', 'week', 'month', 'quarter', 'year'"),
     ("--split", "author", "'source', 'category', 'tag'")],
)  # fmt: skip
def test_cli_trend_unknown_choice_lists_the_choices(runner, option, value, choices):
    result = run(runner, "trend", "芯片", option, value, code=2)
    assert result.stderr.startswith(f"newsarc: error: Invalid value for '{option}'")
    assert choices in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", ["search 芯片", "list", "export", "stats", "trend 芯片"])
def test_cli_inverted_range_is_a_usage_error(runner, command):
    result = run(runner, *command.split(), "--since", "2022-05", "--until", "2022-04", code=2)
    assert result.stderr == "newsarc: error: --since is after --until: the range selects " \
                            "nothing; swap them\n"  # fmt: skip


def test_cli_trend_split_with_compare_is_a_usage_error(runner):
    result = run(runner, "trend", "--compare", "芯片", "港股", "--split", "source", code=2)
    assert "--split" in result.stderr


# -- one date rule for every command ------------------------------------------------------------


def test_cli_since_follows_the_date_as_written(runner):
    # the post written at 23:30 +05:30 on the 18th is on the 18th for every command
    listed = run(runner, "list", "--since", "2022-03-19", "--until", "2022-03-19", "-f", "json")
    assert [p["title"] for p in json.loads(listed.stdout)] == ["半导体 设备"]
    found = run(runner, "search", "印度", "--until", "2022-03-18", "-f", "json")
    assert [p["date"] for p in json.loads(found.stdout)] == ["2022-03-18T23:30:00+05:30"]
    run(runner, "search", "印度", "--since", "2022-03-19", "--count", code=1)
    days = json.loads(run(runner, "trend", "印度", "--by", "day", "-f", "json").stdout)
    assert [(d["period"], d["count"]) for d in days] == [("2022-03-18", 1)]
    # the post at 23:00 -05:00 on April 30th (May 1st in Beijing) is April's
    months = json.loads(run(runner, "stats", "港股", "-f", "json").stdout)["months"]
    assert months == [{"name": "2022-04", "posts": 1, "stories": 1}]
    # a bound with an offset is an instant: 23:30 +05:30 is 18:00 UTC
    run(runner, "search", "印度", "--since", "2022-03-18T18:00:00Z", "--count")
    run(runner, "search", "印度", "--since", "2022-03-18T18:00:01Z", "--count", code=1)


def test_cli_stats_query_counts_the_matching_posts(runner):
    stats = json.loads(run(runner, "stats", "半导体", "-f", "json").stdout)
    assert stats["posts"] == int(run(runner, "search", "半导体", "--count").stdout) == 3
    assert {s["name"]: s["posts"] for s in stats["sources"]} == {"丙报": 2, "乙报": 1}
    assert {t["name"]: t["posts"] for t in stats["tags"]} == {"产业": 2, "科技": 1}
    assert stats["first_date"] == "2021-12-31T10:00:00+08:00"
    narrowed = json.loads(run(runner, "stats", "芯片", "--source", "甲报", "-f", "json").stdout)
    assert narrowed["posts"] == 4 and narrowed["undated"] == 1


def test_cli_trend_stories_counts_copies_once(tmp_path: Path):
    """Three outlets carrying one story on one day: 3 posts, 1 story with --stories."""
    folder = tmp_path / "posts"
    folder.mkdir()
    body = "离岸人民币兑美元日内涨超200点，升至6.3512，为2018年以来最高水平。" * 3
    for n, outlet in enumerate(["甲社", "乙社", "丙社"], 1):
        (folder / f"2022-04-0{n}-x{n}.md").write_text(
            f"---\ntitle: {outlet}\ndate: 2022-04-09 1{n}:00:00 +0800\n---\n{body}\n",
            encoding="utf-8",
        )
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "import", str(folder)]).exit_code == 0
    posts = runner.invoke(app, ["--db", db, "trend", "人民币", "--by", "day", "-f", "json"])
    stories = runner.invoke(
        app, ["--db", db, "trend", "人民币", "--by", "day", "-f", "json", "--stories"]
    )
    assert json.loads(posts.stdout)[0]["count"] == 3
    assert json.loads(stories.stdout)[0]["count"] == 1
    chart = runner.invoke(
        app, ["--db", db, "trend", "人民币", "--by", "day", "-f", "table", "--stories", "--plain"]
    )
    assert "stories per day" in chart.stdout and "1 story" in chart.stdout
