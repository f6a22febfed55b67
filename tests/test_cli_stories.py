"""Stories through the CLI: collapsed search and list, story counts, similar, stats and the
rebuild, in every format."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from test_stories_archive import copy_labelled
from typer.testing import CliRunner

from newsarc.cli import options as cli_options
from newsarc.queries import story_members
from newsarc.store import Store

from conftest import run


@pytest.fixture
def archive(runner: CliRunner, tmp_path: Path, isolated_archive: Path) -> Path:
    copy_labelled(tmp_path / "posts")
    run(runner, "import", "-q", str(tmp_path / "posts"))
    return isolated_archive


def stories_of(db: Path) -> dict[int, int]:
    with Store.open(db, readonly=True) as store:
        return dict(store.conn.execute("SELECT id, coalesce(story, id) FROM posts"))


def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    monkeypatch.setenv("COLUMNS", "160")


def test_cli_search_data_formats_keep_every_post_unless_collapse(runner, archive):
    story = stories_of(archive)
    posts = json.loads(run(runner, "search", "美国", "-n", "1000", "-f", "json").stdout)
    assert all(p["story"] == story[p["id"]] for p in posts)
    assert len(posts) == int(run(runner, "search", "美国", "--count").stdout)
    collapsed = json.loads(
        run(runner, "search", "美国", "-n", "1000", "-f", "json", "--collapse").stdout
    )
    stories = Counter(story[p["id"]] for p in posts)
    assert len(collapsed) == len(stories) < len(posts)
    assert len(collapsed) == int(run(runner, "search", "美国", "--count", "--collapse").stdout)
    for record in collapsed:
        assert record["story_posts"] == stories[record["story"]]
        assert record["story_sources"] == sorted(
            {p["source"] for p in posts if p["story"] == record["story"] and p["source"]}
        )
    rows = list(csv.DictReader(io.StringIO(run(runner, "search", "美国", "-f", "csv").stdout)))
    assert "story" in rows[0] and "story_posts" not in rows[0]


def test_cli_search_terminal_collapses_with_copies_and_outlets(runner, archive, monkeypatch):
    terminal(monkeypatch)
    shown = run(runner, "--plain", "search", "半导体生产", "-n", "50").stdout
    n_posts = int(run(runner, "search", "半导体生产", "--count").stdout)
    n_stories = int(run(runner, "search", "半导体生产", "--count", "--collapse").stdout)
    assert n_stories < n_posts
    # the footer counts the stories and the posts they hold
    stories = f"{n_stories} stories match" if n_stories > 1 else "1 story matches"
    assert f"{stories} ({n_posts} posts)" in shown
    assert "copies · " in shown and "财联社" in shown
    every = run(runner, "--plain", "search", "半导体生产", "-n", "50", "--no-collapse").stdout
    assert f"{n_posts} posts match" in every and "copies" not in every


def test_cli_search_says_when_the_stories_were_not_counted(runner, archive, monkeypatch):
    """Above ``STORY_COUNT_MAX`` matches a collapsed page does not count its stories (a lookup
    per match would cost more than the page): the footer and the note of a cut pipe give the
    posts instead, never a wrong story count."""
    from newsarc import queries

    monkeypatch.setattr(queries, "STORY_COUNT_MAX", 0)
    monkeypatch.setattr(queries, "WALK_ALL", 0)
    n_posts = int(run(runner, "search", "美国", "--count").stdout)
    n_stories = int(run(runner, "search", "美国", "--count", "--collapse").stdout)
    assert 2 < n_stories < n_posts  # --count --collapse still counts them
    cut = run(runner, "search", "美国", "-f", "ids", "--collapse", "-n", "2")
    assert len(cut.stdout.split()) == 2
    assert cut.stderr == f"newsarc: wrote 2 stories of the {n_posts} matching posts (--limit 2)\n"
    terminal(monkeypatch)
    shown = run(runner, "--plain", "search", "美国", "-n", "2").stdout
    assert f"{n_posts} posts match, each story once; showing 1–2." in shown
    assert "stories match" not in shown


def test_cli_list_collapses_on_a_terminal_only(runner, archive, monkeypatch):
    story = stories_of(archive)
    ids = run(runner, "list", "--all", "-f", "ids").stdout.split()
    assert len(ids) == len(story)
    collapsed = run(runner, "list", "--all", "-f", "jsonl", "--collapse").stdout.splitlines()
    records = [json.loads(line) for line in collapsed]
    assert len(records) == len(set(story.values()))
    assert sum(r["story_posts"] for r in records) == len(story)
    terminal(monkeypatch)
    table = run(runner, "--plain", "list", "-n", "300").stdout
    assert f"of {len(set(story.values()))} stories ({len(story)} posts)" in table
    big = Counter(story.values()).most_common(1)[0][1]
    assert f"+{big - 1} " in table


def test_cli_similar_lists_the_story_then_the_nearest(runner, archive):
    story = stories_of(archive)
    biggest = Counter(story.values()).most_common(1)[0][0]
    records = json.loads(run(runner, "similar", str(biggest), "-f", "json").stdout)
    same = {r["id"] for r in records if r["same_story"]}
    with Store.open(archive, readonly=True) as store:
        assert same == {p.id for p in story_members(store, biggest)} - {biggest}
        threshold = store.story_threshold()
    for r in records:
        assert 0 <= r["score"] <= 1 and {"text_similarity", "numbers", "story"} <= set(r)
        assert r["same_story"] or threshold / 2 <= r["score"]
    lines = run(runner, "similar", str(biggest)).stdout.splitlines()
    assert len(lines) == len(records) and lines[0].split("\t")[-1] == "same story"
    for fmt in ("jsonl", "csv", "tsv", "ids"):
        assert run(runner, "similar", str(biggest), "-f", fmt).stdout


def test_cli_similar_unknown_and_lonely_posts_exit_1(runner, archive, tmp_path: Path):
    missing = run(runner, "similar", "no-such-post", code=1)
    assert missing.stdout == "" and len(missing.stderr.strip().splitlines()) == 1
    assert "no post 'no-such-post'" in missing.stderr
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "2030-01-01-only.md").write_text(
        "---\ntitle: 孤篇\ndate: 2030-01-01\n---\n火星上的第一家面馆今天开业，只卖一种面。\n",
        "utf-8",
    )
    run(runner, "import", "-q", str(lonely))
    none = run(runner, "similar", str(lonely / "2030-01-01-only.md"), code=1)
    assert none.stdout == "" and "no posts like post" in none.stderr


def test_cli_stats_counts_stories(runner, archive, monkeypatch):
    story = stories_of(archive)
    document = json.loads(run(runner, "stats", "-f", "json", "--top", "0").stdout)
    assert document["stories"] == len(set(story.values()))
    assert sum(c["posts"] for c in document["categories"]) == len(story)
    biggest = Counter(story.values()).most_common(1)[0]
    assert document["largest_stories"][0]["story"] == biggest[0]
    assert document["largest_stories"][0]["posts"] == biggest[1]
    rows = run(runner, "stats", "-f", "jsonl").stdout.splitlines()
    assert any(json.loads(r)["kind"] == "story" for r in rows)
    terminal(monkeypatch)
    shown = run(runner, "--plain", "stats").stdout
    assert f"{len(set(story.values()))} stories" in shown and "largest stories" in shown


@pytest.mark.parametrize("bad", ["0", "-1", "1.01", "nan", "x"])
def test_cli_rebuild_stories_threshold_out_of_range_is_a_usage_error(runner, archive, bad):
    result = run(runner, "maintenance", "--rebuild-stories", "--threshold", bad, code=2)
    assert result.stderr.startswith("newsarc: error:") and len(result.stderr.splitlines()) == 1


def test_cli_rebuild_stories_with_a_threshold(runner, archive):
    before = len(set(stories_of(archive).values()))
    result = run(runner, "maintenance", "--rebuild-stories", "--threshold", "1")
    assert "threshold 1" in result.stderr
    assert len(set(stories_of(archive).values())) > before
    run(runner, "maintenance", "--threshold", "0.5", code=2)
