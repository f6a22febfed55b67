"""Stories in the archive: placement at import (through the real importer), stability, the
rebuild, and the queries every command shares (collapse, story counts, members, similar)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from stories.labelled import HERE, load_labelled

from newsarc import queries, stories
from newsarc.errors import UsageError
from newsarc.ingest import Importer
from newsarc.migrations import BAND_TABLES
from newsarc.search import compile_query, match_expressions
from newsarc.store import Store


def copy_labelled(target: Path) -> dict[str, str]:
    """The labelled set under names of their own (the copies' file names carry their
    original's article id, which would make them one post): file name → labelled name."""
    target.mkdir(parents=True, exist_ok=True)
    _, labels = load_labelled()
    names = {}
    for i, name in enumerate(sorted(labels)):
        shutil.copy2(HERE / name, target / f"post-{i:03d}.md")
        names[f"post-{i:03d}.md"] = name
    return names


def grouping(store: Store, names: dict[str, str]) -> dict[str, int]:
    """Labelled name → story id, read through the records every output uses."""
    ids = [r[0] for r in store.conn.execute("SELECT id FROM posts")]
    out = {}
    for post in queries.posts_by_ids(store, ids, text=False):
        for path in post.paths:
            if Path(path).name in names:
                out[names[Path(path).name]] = post.to_record()["story"]
    return out


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """An archive of the labelled set imported by the real importer (with workers), kept
    read-only by the tests that use it; copy it to change it."""
    root = tmp_path_factory.mktemp("labelled")
    names = copy_labelled(root / "posts")
    with Store.open(root / "a.db") as store:
        result = Importer(store, workers=2).run([root / "posts"])
        assert result.imported == len(names) and not result.failed
    return root / "a.db", root / "posts", names


@pytest.fixture
def archive(labelled, tmp_path: Path) -> Iterator[Store]:
    db, _, _ = labelled
    shutil.copy(db, tmp_path / "a.db")
    with Store.open(tmp_path / "a.db") as store:
        yield store


def earliest_rule(store: Store) -> None:
    """Every story id is the earliest post of its group (by date, undated last, then id)."""
    groups: dict[int, list[tuple[bool, int, int]]] = defaultdict(list)
    for post_id, date_utc, story in store.conn.execute(
        "SELECT id, date_utc, coalesce(story, id) FROM posts"
    ):
        groups[story].append((date_utc is None, date_utc or 0, post_id))
    for story, members in groups.items():
        assert min(members)[2] == story, (story, members)


def test_stories_import_matches_the_labels(labelled):
    db, _, names = labelled
    _, labels = load_labelled()
    with Store.open(db) as store:
        story = grouping(store, names)
        assert len(story) == len(labels)
        quality = stories.pair_quality(story, labels)
        assert quality.precision >= 0.95 and quality.recall >= 0.90, quality
        earliest_rule(store)
        # and the rebuild (every paragraph counted first) is at least as good
        store.rebuild_stories()
        rebuilt = stories.pair_quality(grouping(store, names), labels)
        assert rebuilt.precision >= 0.95 and rebuilt.recall >= quality.recall, rebuilt
        earliest_rule(store)


def test_stories_are_stable_across_reimport_and_unrelated_posts(archive: Store, labelled):
    _, posts, names = labelled
    before = grouping(archive, names)
    for path in posts.iterdir():  # a new mtime, the same content
        os.utime(path, (1e9, 1e9))
    Importer(archive, workers=0).run([posts])
    Importer(archive, workers=0).run([Path(__file__).parent / "data"])
    assert grouping(archive, names) == before
    earliest_rule(archive)


def test_stories_changed_post_is_placed_again(archive: Store, labelled):
    _, posts, names = labelled
    story = grouping(archive, names)
    by_story = defaultdict(list)
    for name, sid in story.items():
        by_story[sid].append(name)
    members = max(by_story.values(), key=len)
    assert len(members) >= 3
    file_of = {v: k for k, v in names.items()}
    rep = story[members[0]]
    rep_file = next(f for f in members if queries.resolve(archive, str(posts / file_of[f])) == rep)
    # the representative gets other news: it leaves, and the next earliest carries the story
    path = posts / file_of[rep_file]
    text = path.read_text(encoding="utf-8")
    head = text[: text.index("---", 4) + 4]
    path.write_text(
        head + "\n全新的另一条新闻：某市今日举行马拉松比赛，两万名选手参加。\n", "utf-8"
    )
    os.utime(path, (2e9, 2e9))
    result = Importer(archive, workers=0).run([posts])
    assert result.updated == 1
    after = grouping(archive, names)
    assert after[rep_file] == rep  # its own story now (it keeps its id)
    rest = [m for m in members if m != rep_file]
    new_ids = {after[m] for m in rest}
    assert len(new_ids) == 1 and rep not in new_ids
    earliest_rule(archive)
    assert queries.story_members(archive, rep) and len(queries.story_members(archive, rep)) == 1


def test_stories_keys_kept_in_memory_change_no_grouping(
    labelled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """An import into a small archive keeps the band keys in memory to skip lookups
    (``KNOWN_KEYS_MAX``). In small chunks, so that later chunks are placed against earlier
    ones, the stories are those of the same import making every lookup."""
    from newsarc import ingest

    _, posts, names = labelled
    monkeypatch.setattr(ingest, "CHUNK", 40)
    found = []
    for known_max in (-1, 10_000):
        monkeypatch.setattr(ingest, "KNOWN_KEYS_MAX", known_max)
        with Store.open(tmp_path / f"{known_max}.db") as store:
            importer = Importer(store, workers=0)
            importer.run([posts])
            assert (importer._known is not None) == (known_max >= 0)
            found.append(grouping(store, names))
            earliest_rule(store)
    assert found[0] == found[1]


def test_stories_placed_in_memory_within_a_chunk_change_no_grouping(
    labelled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A chunk's signatures and band keys are written at its end, and its posts are placed
    against its earlier posts in memory: in one chunk (every candidate of the same import in
    memory) the stories are those of an import one post a chunk (every candidate from the
    archive), and the archive holds the same signatures and keys."""
    from newsarc import ingest

    _, posts, names = labelled
    found, stored = [], []
    for chunk in (1, 10_000):
        monkeypatch.setattr(ingest, "CHUNK", chunk)
        with Store.open(tmp_path / f"{chunk}.db") as store:
            Importer(store, workers=0).run([posts])
            found.append(grouping(store, names))
            earliest_rule(store)
            stored.append(
                [
                    store.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                    for table in ("story_sig", *BAND_TABLES)
                ]
            )
    assert found[0] == found[1]
    assert stored[0] == stored[1] and stored[0][1] + stored[0][2]
    assert len(set(found[1].values())) < len(found[1])  # copies were found within the chunk


def test_stories_band_keys_are_found_before_and_after_their_merge(
    labelled, tmp_path: Path, monkeypatch
):
    """New band keys go to a small table that is merged into the large one now and then
    (``m012_recent_bands``): the stories are the same whether the keys are merged after nearly
    every chunk or never, and a merge moves every row, in both cases the same rows."""
    from newsarc import ingest
    from newsarc import store as store_module

    _, posts, names = labelled
    monkeypatch.setattr(ingest, "CHUNK", 25)
    found, rows, merged = [], [], []
    for minimum in (1, 10**9):
        monkeypatch.setattr(store_module, "RECENT_BANDS_MIN", minimum)
        with Store.open(tmp_path / f"{minimum}.db") as store:
            Importer(store, workers=0, compact=False).run([posts])
            found.append(grouping(store, names))
            counts = [
                store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in BAND_TABLES
            ]
            merged.append(counts[0])
            everything = "SELECT * FROM story_band UNION ALL SELECT * FROM story_band_recent"
            before = sorted(store.conn.execute(everything).fetchall())
            with store.transaction():
                store.merge_bands()
            assert store.conn.execute("SELECT count(*) FROM story_band_recent").fetchone()[0] == 0
            assert sorted(store.conn.execute("SELECT * FROM story_band").fetchall()) == before
            rows.append(before)
    assert found[0] == found[1] and rows[0] == rows[1]
    assert merged[0] > 0 and merged[1] == 0  # merged as the import went, and never
    assert len(set(found[0].values())) < len(found[0])


def test_stories_keys_are_not_loaded_for_a_few_posts_into_a_bigger_archive(
    archive: Store, tmp_path: Path
):
    """Loading every stored key costs more than the lookups of a handful of new posts save."""
    (tmp_path / "new").mkdir()
    shutil.copy2(
        Path(__file__).parent / "data" / "2022-04-10-markdown-features.md", tmp_path / "new"
    )
    importer = Importer(archive, workers=0)
    assert importer.run([tmp_path / "new"]).imported == 1
    assert importer._known is None


def test_stories_keys_in_memory_are_dropped_when_another_process_adds_posts(tmp_path: Path):
    """A copy of a post that another import added meanwhile is still found: the import that
    keeps keys in memory sees the other's posts and asks the index from then on."""
    listed, labels = load_labelled()
    first, copy = next(
        (a, b)
        for (a, text_a), (b, text_b) in zip(listed, listed[1:], strict=False)
        if labels[a] == labels[b]
        and stories.same_story(stories.signature(text_a), stories.signature(text_b))
    )
    unrelated = next(name for name, _ in listed if labels[name] != labels[first])
    for folder, name in (("a", unrelated), ("b", first), ("c", copy)):
        (tmp_path / folder).mkdir()
        # names of their own: a copy's name carries its original's id (one post, else)
        shutil.copy2(HERE / name, tmp_path / folder / f"post-{folder}.md")
    with Store.open(tmp_path / "x.db") as store, Store.open(tmp_path / "x.db") as other:
        importer = Importer(store, workers=0)
        importer.run([tmp_path / "a"])
        assert importer._known is not None
        Importer(other, workers=0).run([tmp_path / "b"])  # another process, meanwhile
        importer.run([tmp_path / "c"])
        b = queries.resolve(store, str(tmp_path / "b" / "post-b.md"))
        c = queries.resolve(store, str(tmp_path / "c" / "post-c.md"))
        assert b is not None and c is not None and b != c
        story = {p.id: p.to_record()["story"] for p in queries.posts_by_ids(store, [b, c])}
        assert story[b] == story[c]
        assert importer._known is None


def test_stories_post_without_text_is_its_own_story(tmp_path: Path):
    folder = tmp_path / "posts"
    folder.mkdir()
    for name in ("2021-12-08-a.md", "2021-12-08-b.md"):
        (folder / name).write_text("---\ntitle: 只有标题\ndate: 2021-12-08\n---\n", "utf-8")
    with Store.open(tmp_path / "a.db") as store:
        Importer(store, workers=0).run([folder])
        ids = [r[0] for r in store.conn.execute("SELECT id FROM posts")]
        assert len(ids) == 2
        assert {queries.story_of(store, i) for i in ids} == set(ids)
        assert queries.similar_posts(store, ids[0]) == []


def test_stories_rebuild_threshold_is_checked_and_stored(archive: Store, labelled):
    _, _, names = labelled
    for bad in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(UsageError):
            archive.rebuild_stories(bad)
    loose = stories.pair_quality(grouping(archive, names), load_labelled()[1])
    archive.rebuild_stories(1.0)
    assert archive.story_threshold() == 1.0
    strict = stories.pair_quality(grouping(archive, names), load_labelled()[1])
    assert strict.predicted < loose.predicted and strict.precision == 1.0
    archive.close()
    with Store.open(archive.path) as again:  # kept in the archive
        assert again.story_threshold() == 1.0


def test_stories_archive_from_before_stories_is_grouped_on_open(archive: Store, labelled):
    _, _, names = labelled
    before = grouping(archive, names)
    conn = archive.conn
    for table in ("story_sig", *BAND_TABLES, "story_paragraph"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("UPDATE posts SET story = NULL")
    conn.execute("DELETE FROM settings WHERE key LIKE 'story_%'")
    path = archive.path
    archive.close()
    with Store.open(path, readonly=True) as reader:  # no write access: each post on its own
        assert len(set(grouping(reader, names).values())) == len(names)
    with Store.open(path) as store:
        after = grouping(store, names)
    quality = stories.pair_quality(after, load_labelled()[1])
    assert quality.recall >= 0.9 and quality.precision >= 0.95
    assert len(set(after.values())) <= len(set(before.values())) + 2


@pytest.mark.parametrize("query", ["人民币", "美元", "-资金", None])
@pytest.mark.parametrize("sort", ["rank", "date", "-date", "title"])
def test_stories_collapse_counts_each_story_once(labelled, query, sort):
    db, _, _ = labelled
    with Store.open(db, readonly=True) as store:
        include, exclude = match_expressions(query or "")
        if sort == "title" and include is not None:
            sort = "rank"
        matched = queries.matching_ids(store, include, exclude)
        oracle: dict[int, list[int]] = defaultdict(list)
        for post in queries.posts_by_ids(store, sorted(matched), text=False):
            oracle[post.story].append(post.id)
        page = queries.story_page(store, include, exclude, sort=sort, limit=None)
        assert page.total == len(oracle) == queries.count_stories(store, include, exclude)
        assert len(page.rows) == len(oracle)
        assert sum(r.posts for r in page.rows) == len(matched)
        for row in page.rows:
            assert row.id in oracle[row.story] and row.posts == len(oracle[row.story])
            sources = {p.source for p in queries.posts_by_ids(store, oracle[row.story])}
            assert row.sources == sorted(s for s in sources if s)
        # pages of it are slices of the whole
        second = queries.story_page(store, include, exclude, sort=sort, limit=3, offset=3)
        assert second.rows == page.rows[3:6] and second.total == page.total


def test_stories_counts_per_value_and_stats_agree_with_the_posts(labelled):
    db, _, _ = labelled
    with Store.open(db, readonly=True) as store:
        rows = store.conn.execute(
            "SELECT category, source, substr(date, 1, 7), coalesce(story, id) FROM posts"
        ).fetchall()
        stats = queries.story_stats(store, top=None)
        assert stats.posts == len(rows) and stats.stories == len({r[3] for r in rows})
        for index, got in ((0, stats.categories), (1, stats.sources), (2, stats.months)):
            want = {
                value: (n, len({r[3] for r in rows if r[index] == value}))
                for value, n in Counter(r[index] for r in rows).items()
                if value is not None or index != 2  # months: dated posts only
            }
            assert {c.value: (c.posts, c.stories) for c in got} == want
        sizes = Counter(r[3] for r in rows)
        assert [s.posts for s in stats.largest] == sorted(
            (n for n in sizes.values() if n > 1), reverse=True
        )
        assert all(sizes[s.story] == s.posts for s in stats.largest)
        by_month = queries.story_counts(store, None, None, by="month")
        assert {c.value: (c.posts, c.stories) for c in by_month if c.value} == {
            c.value: (c.posts, c.stories) for c in stats.months
        }
        with pytest.raises(ValueError):
            queries.story_counts(store, None, None, by="date; DROP TABLE posts")


def test_stories_similar_lists_the_story_then_the_nearest(labelled):
    db, _, names = labelled
    with Store.open(db, readonly=True) as store:
        story = grouping(store, names)
        sizes = Counter(story.values())
        big = max(sizes, key=lambda s: sizes[s])
        found = queries.similar_posts(store, big)
        same = [s for s in found if s.same_story]
        assert {s.id for s in same} == {p.id for p in queries.story_members(store, big)} - {big}
        threshold = store.story_threshold()
        for s in found:
            assert s.score == pytest.approx(round(s.text * s.numbers, 3), abs=0.002)
            if not s.same_story:
                assert threshold / 2 <= s.score
                assert queries.story_of(store, s.id) != big
        assert [s.score for s in same] == sorted((s.score for s in same), reverse=True)
        assert queries.similar_posts(store, 10**9) == []
        members = queries.story_members(store, big)
        assert members[0].id == big and all(m.story == big for m in members)


@pytest.mark.parametrize("query", ["人民币", None])
@pytest.mark.parametrize("by", ["day", "month"])
def test_stories_trend_counts_each_story_once_per_period(labelled, query, by):
    """``trend --stories``: a period counts the distinct stories of its matching posts,
    checked against the posts' own story ids and local dates."""
    from newsarc.trends import By, period_of, trend

    db, _, _ = labelled
    with Store.open(db, readonly=True) as store:
        include, exclude = match_expressions(query or "")
        matched = queries.matching_ids(store, include, exclude)
        oracle: dict[str, set[int]] = defaultdict(set)
        undated: set[int] = set()
        for post in queries.posts_by_ids(store, sorted(matched), text=False):
            if post.date is None:
                undated.add(post.story)
                continue
            day = dt.date.fromisoformat(post.date[:10])
            oracle[period_of(day, By(by)).label].add(post.story)
        result = trend(store, [query] if query else [], by=by, stories=True)
        got = dict(zip([p.label for p in result.periods], result.series[0].counts, strict=True))
        assert {k: v for k, v in got.items() if v} == {k: len(v) for k, v in oracle.items()}
        assert result.total == len(set().union(*oracle.values()))
        assert result.undated == len(undated) and result.unit == "story"
        posts = trend(store, [query] if query else [], by=by)
        assert posts.total == len(matched) - posts.undated
        assert result.total < posts.total  # the labelled set has copies


@pytest.mark.parametrize("query", ["人民币", "美元 OR 人民币", "的 -资金", "title:美元"])
@pytest.mark.parametrize(
    "walk_all, count_max, fast",
    [(1_000, 10_000, 10_000), (0, 10_000, 10_000), (0, 0, 10_000), (0, 0, 1)],
    ids=["walk", "count", "none", "title-first"],
)
@pytest.mark.parametrize("filtered", [False, True], ids=["all", "until"])
def test_stories_ranked_collapse_is_the_ranking_with_each_story_once(
    labelled, query, walk_all, count_max, fast, filtered, monkeypatch
):
    """A collapsed page by relevance is read off the ranked matches (title matches walked
    first): it must be the uncollapsed ranking (``match_page``) with each story kept at its
    first post, counted and with its outlets from the posts themselves, at every offset.
    However its counts are found: by walking every match (``WALK_ALL``), in passes over the
    matches, or not at all for the stories (more than ``STORY_COUNT_MAX`` matches: the total
    is None unless the page walked past the last story)."""
    from newsarc.search import title_expressions

    monkeypatch.setattr(queries, "WALK_ALL", walk_all)
    monkeypatch.setattr(queries, "STORY_COUNT_MAX", count_max)
    monkeypatch.setattr(queries, "FAST_RANK_MIN", fast)
    db, _, _ = labelled
    with Store.open(db, readonly=True) as store:
        compiled = compile_query(query)
        args: tuple = (store, compiled.include, compiled.exclude)
        if filtered:  # posts up to the median local date of the matches
            every = queries.match_page(*args, limit=None).matches
            dates = sorted(p.date or "" for p in queries.posts_by_ids(store, [m.id for m in every]))
            middle = dates[len(dates) // 2][:19].replace("T", " ")  # a local date-time
            args = (*args, queries.Filters(until=middle))
        titles = title_expressions(compiled.terms)
        ranked = queries.match_page(*args, limit=None, title_terms=titles).matches
        if filtered:
            assert len(ranked) < len(every)  # the filter leaves some matches out
        posts = {p.id: p for p in queries.posts_by_ids(store, [m.id for m in ranked])}
        first: dict[int, tuple[int, float | None]] = {}
        members: dict[int, list[int]] = defaultdict(list)
        for m in ranked:
            story = posts[m.id].story
            assert story is not None
            first.setdefault(story, (m.id, m.score))
            members[story].append(m.id)
        oracle = [
            (pid, score, story, len(members[story]),
             sorted({posts[i].source for i in members[story]} - {None, ""}))
            for story, (pid, score) in first.items()
        ]  # fmt: skip
        assert len(oracle) > 3
        for offset, limit in [(0, 1), (0, 20), (2, 3), (len(oracle) - 1, 5), (0, None)]:
            page = queries.story_page(*args, limit=limit, offset=offset, title_terms=titles)
            counted = count_max or limit is None or offset + limit > len(oracle)
            assert page.total == (len(oracle) if counted else None)
            assert page.posts == len(ranked)
            want = oracle[offset : None if limit is None else offset + limit]
            assert [tuple(r) for r in page.rows] == want
