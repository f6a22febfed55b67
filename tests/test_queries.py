"""Read queries: named records for what an import looks up, posts by id, references, list pages,
statistics, export selections and search matches, each checked against the posts themselves."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import pytest

from newsarc.fold import fold
from newsarc.ingest import Importer
from newsarc.queries import (
    Count,
    FileState,
    Filters,
    RawSource,
    StoredPost,
    archive_stats,
    count_matches,
    count_posts,
    file_state,
    find_post_by_external_id,
    iter_list,
    iter_posts,
    list_posts,
    match_page,
    matching_ids,
    posts_by_ids,
    raw_source,
    resolve,
    select,
)
from newsarc.search import compile_query
from newsarc.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("queries") / "a.db")
    Importer(store, workers=0).run([EXAMPLES])
    return store


@pytest.fixture(scope="module")
def posts(store: Store) -> list:
    return list(iter_posts(store, full=True))


def test_queries_file_state_is_the_recorded_stat_and_hash(store: Store, posts):
    for post in posts:
        for path in post.paths:
            state = file_state(store, path)
            assert isinstance(state, FileState)
            st = os.stat(path)
            assert (state.size, state.mtime_ns) == (st.st_size, st.st_mtime_ns)
            assert state.hash == hashlib.sha256(Path(path).read_bytes()).hexdigest()
            assert state.post_id == post.id and state.status in ("post", "duplicate")
    assert file_state(store, str(EXAMPLES / "no-such-file.md")) is None


def test_queries_find_post_by_external_id(store: Store, posts):
    for post in posts:
        found = find_post_by_external_id(store, post.external_id)
        source = Path(post.paths[0])
        assert found == StoredPost(
            post.id,
            hashlib.sha256(source.read_bytes()).hexdigest(),
            source.stat().st_mtime_ns,
            str(source),
        )
        assert found.id == post.id
    assert find_post_by_external_id(store, "no such id") is None


def test_queries_raw_source_gives_back_the_file(store: Store, posts):
    for post in posts:
        source = raw_source(store, post.id)
        assert isinstance(source, RawSource) and source.raw == post.raw
        original = Path(post.paths[0]).read_bytes()
        assert source.hash == hashlib.sha256(original).hexdigest()
    assert raw_source(store, max(p.id for p in posts) + 1) is None


def test_queries_resolve_by_id_external_id_and_path(store: Store, posts):
    for post in posts:
        assert resolve(store, str(post.id)) == post.id
        assert resolve(store, f" {post.external_id}\n") == post.id
        assert all(resolve(store, path) == post.id for path in post.paths)
    assert resolve(store, str(max(p.id for p in posts) + 1)) is None
    assert resolve(store, "no such post") is None


def test_queries_posts_by_ids_keeps_order_across_chunks(store: Store, posts):
    ids = [p.id for p in posts]
    wanted = list(reversed(ids)) + list(range(1000, 1700))  # missing ids are left out
    assert [p.id for p in posts_by_ids(store, wanted, text=False)] == list(reversed(ids))
    assert posts_by_ids(store, []) == []


def test_queries_list_pages_and_stream(store: Store, posts):
    by_id = sorted(p.id for p in posts)
    page = list_posts(store, sort="id", limit=5, offset=2)
    assert [p.id for p in page.posts] == by_id[2:7] and page.total == len(posts)
    stream = iter_list(store, sort="-id", offset=3)
    assert stream.total == len(posts)
    assert [p.id for p in stream.posts] == list(reversed(by_id))[3:]
    emnews = Filters(category="emnews")
    expected = sorted(p.id for p in posts if p.category == "emnews")
    assert [p.id for p in list_posts(store, emnews, sort="id", limit=None).posts] == expected
    assert list_posts(store, emnews, limit=1).total == len(expected)


def test_queries_archive_stats_counts_match_the_posts(store: Store, posts):
    stats = archive_stats(store, top=None)
    assert stats.posts == count_posts(store) == len(posts)
    assert all(isinstance(c, Count) for c in stats.categories + stats.tags + stats.months)
    assert {c.value: c.posts for c in stats.categories} == Counter(p.category for p in posts)
    assert {c.value: c.posts for c in stats.sources} == Counter(p.source for p in posts)
    assert {c.value: c.posts for c in stats.tags} == Counter(t for p in posts for t in p.tags)
    dated = [p.date for p in posts if p.date]
    assert {c.value: c.posts for c in stats.months} == Counter(d[:7] for d in dated)
    assert stats.undated == len(posts) - len(dated)
    counts = [c.posts for c in stats.categories]
    assert counts == sorted(counts, reverse=True)
    assert len(archive_stats(store, top=1).categories) == 1


@pytest.mark.parametrize("query", ["人民币", "人民币 OR 美元", "-人民币", "美元 -人民币"])
def test_queries_selection_and_matches_agree_with_substring_search(store: Store, posts, query):
    compiled = compile_query(query)
    words = query.split()
    wanted = [w for w in words if not w.startswith("-")]
    unwanted = [w[1:] for w in words if w.startswith("-")]
    anyof = [w for w in wanted if w != "OR"]

    def has(p, word: str) -> bool:
        return fold(word) in fold(p.title) or fold(word) in fold(p.text or "")

    def matches(p) -> bool:
        found = any(has(p, w) for w in anyof) if anyof else True
        return found and not any(has(p, w) for w in unwanted)

    expected = {p.id for p in posts if matches(p)}
    selection = select(include=compiled.include, exclude=compiled.exclude, sort="-id")
    assert [p.id for p in selection.posts(store, text=False)] == sorted(expected, reverse=True)
    assert selection.count(store) == len(expected)
    assert matching_ids(store, compiled.include, compiled.exclude) == expected
    assert count_matches(store, compiled.include, compiled.exclude) == len(expected)


def test_queries_match_page_ranks_pages_and_counts(store: Store, posts):
    compiled = compile_query("的")
    total = count_matches(store, compiled.include, compiled.exclude)
    assert total >= 3
    ranked = match_page(store, compiled.include, None, limit=None)
    assert ranked.total == total == len(ranked.matches)
    scores = [m.score for m in ranked.matches if isinstance(m.score, float)]
    assert len(scores) == total and scores == sorted(scores)
    first = match_page(store, compiled.include, None, limit=1)
    assert first.total == total and first.matches == ranked.matches[:1]
    past = match_page(store, compiled.include, None, limit=5, offset=total)
    assert past.matches == [] and past.total == total
    by_date = match_page(store, compiled.include, None, sort="date", limit=None)
    dates = {p.id: p.date for p in posts}
    assert all(m.score is None for m in by_date.matches)
    ordered = [dates[m.id] for m in by_date.matches]
    assert ordered == sorted(ordered, key=lambda d: (d is None, d))


def test_queries_unknown_sort_names_the_valid_ones():
    with pytest.raises(ValueError, match="use one of date, -date"):
        select(sort="popularity")
