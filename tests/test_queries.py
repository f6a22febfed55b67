"""Read queries: named records for what an import looks up, posts by id, references, list pages,
statistics, export selections and search matches, each checked against the posts themselves."""

from __future__ import annotations

import hashlib
import math
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from newsarc.fold import encode_char, fold
from newsarc.ingest import Importer
from newsarc.migrations import FTS_COLUMNS
from newsarc.queries import (
    WEIGHTS,
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

from conftest import REPO, add_post

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("queries") / "a.db")
    Importer(store, workers=0).run([EXAMPLES])
    return store


@pytest.fixture(scope="module")
def posts(store: Store) -> list:
    return list(iter_posts(store, full=True, raw=True))


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


# -- ranking: SQLite's bm25, recomputed from the posts ---------------------------------------------

K1, B = 1.2, 0.75  # FTS5's bm25 constants (ext/fts5/fts5_aux.c)
#: the index columns ``Store.fts_values`` returns values for, in its order
FTS_VALUES = ("title", "text", "category", "tags", "source")


@pytest.fixture(scope="module")
def ranked_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """400 generated posts (most contain 的 and 涨) plus one built to beat every title match: 的
    twenty times in a short text and not in its title."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    folder = tmp_path_factory.mktemp("ranked") / "posts"
    generate(400, folder, seed=3)
    store = Store.open(tmp_path_factory.mktemp("ranked") / "a.db")
    Importer(store, workers=0).run([folder])
    add_post(store, external_id="dense", title="短讯", text="的" * 20, category="emnews")
    return store


def _bm25_oracle(store: Store, phrases: list[tuple[str, tuple[str, ...]]]) -> dict[int, float]:
    """bm25 of every post holding all of ``phrases`` (a single character, a prefix phrase on the
    given columns, each), computed from the posts as fts5_aux.c does: f = sum over the phrase's instances
    of its column's weight, D = the row's tokens in every column, avgdl over the whole index,
    idf = log((N - n + 0.5) / (n + 0.5)) (1e-6 when not positive)."""
    weights = dict(zip(FTS_COLUMNS, (float(w) for w in WEIGHTS.split(",")), strict=True))
    rows = {}
    for post in iter_posts(store, full=True, raw=True):
        values = Store.fts_values(post.title, post.text or "", post.categories, post.tags,
                                  post.source)  # fmt: skip
        # fts_values gives (title, text, categories, tags, source), whatever the index's order
        rows[post.id] = dict(zip(FTS_VALUES, (v.split() for v in values), strict=True))
    n_rows = len(rows)
    avgdl = sum(len(t) for cols in rows.values() for t in cols.values()) / n_rows
    freq = {  # per phrase: instances in each column (0 outside the phrase's columns)
        pid: [
            [sum(t.startswith(encode_char(fold(char))) for t in cols[c]) if c in columns else 0
             for c in FTS_COLUMNS]
            for char, columns in phrases
        ]
        for pid, cols in rows.items()
    }  # fmt: skip
    idf = []
    for i in range(len(phrases)):
        hits = sum(1 for f in freq.values() if sum(f[i]))
        value = math.log((n_rows - hits + 0.5) / (hits + 0.5))
        idf.append(value if value > 0 else 1e-6)
    scores = {}
    for pid, per_phrase in freq.items():
        if not all(sum(f) for f in per_phrase):
            continue
        size = sum(len(t) for t in rows[pid].values())
        score = 0.0
        for i, counts in enumerate(per_phrase):
            f = sum(weights[c] * n for c, n in zip(FTS_COLUMNS, counts, strict=True))
            score += idf[i] * (f * (K1 + 1)) / (f + K1 * (1 - B + B * size / avgdl))
        scores[pid] = -score
    return scores


@pytest.mark.parametrize("query", ["的", "涨", "的 涨", "title:涨 的"])
def test_queries_bm25_is_the_documented_formula(ranked_store: Store, query):
    """The scores match_page returns are fts5's bm25 recomputed from the posts: the model any
    shortcut in ranking has to be proved against."""
    compiled = compile_query(query)
    phrases: list[tuple[str, tuple[str, ...]]] = [
        (t.folded, (t.field,) if t.field else ("title", "text")) for t in compiled.terms
    ]
    expected = _bm25_oracle(ranked_store, phrases)
    page = match_page(ranked_store, compiled.include, None, limit=None)
    assert page.total == len(expected) > 40
    assert {m.id: m.score for m in page.matches} == pytest.approx(expected, rel=1e-9, abs=1e-15)
    order = sorted(expected, key=lambda pid: (expected[pid], -pid))
    assert [m.id for m in page.matches] == order


def test_queries_a_title_match_does_not_bound_the_ranking(ranked_store: Store):
    """A post without the term in its title can outrank every post with it there (bm25 saturates:
    f / (f + K) < 1 for title matches too, and a short row lowers K), so ranking only the title
    matches first and stopping there is not exact: the dense post must come first."""
    compiled = compile_query("的")
    page = match_page(ranked_store, compiled.include, None, limit=20)
    top = posts_by_ids(ranked_store, [m.id for m in page.matches], text=True)
    assert top[0].external_id == "dense" and "的" not in top[0].title
    assert sum("的" in fold(p.title) for p in top[1:]) >= 10


@pytest.mark.parametrize(
    "query, filters",
    [("的", None), ("涨", None), ("的 涨", None), ("的 OR 涨", None), ("的 -涨", None),
     ("的", Filters(category="emnews")), ("涨", Filters(since="2022-01-01 00:00:00")), ("(涨 OR 跌) -的", None)],
)  # fmt: skip
def test_queries_ranked_pages_are_slices_of_the_full_ranking(ranked_store: Store, query, filters):
    compiled = compile_query(query)
    full = match_page(ranked_store, compiled.include, compiled.exclude, filters, limit=None)
    total = count_matches(ranked_store, compiled.include, compiled.exclude, filters)
    assert full.total == total == len(full.matches) > 0
    keys = [(m.score, -m.id) for m in full.matches]
    assert keys == sorted(keys)
    for offset, limit in [(0, 1), (0, 20), (7, 20), (total - 3, 20), (total, 5)]:
        page = match_page(ranked_store, compiled.include, compiled.exclude, filters,
                          limit=limit, offset=offset)  # fmt: skip
        assert page.total == total
        assert page.matches == full.matches[offset : offset + limit]


@pytest.mark.parametrize(
    "query, filters",
    [("的", None), ("涨", None), ("的 涨", None), ("的 OR 涨", None), ("的 -涨", None),
     ("title:涨 的", None), ("的", Filters(category="emnews")), ("(涨 OR 跌) -的", None)],
)  # fmt: skip
def test_queries_title_first_pages_of_common_terms_are_exact(
    ranked_store: Store, query, filters, monkeypatch
):
    """A common query's page is ranked among the posts with a term in their title only (bm25
    for those alone): it must equal the same page of the whole ranking, total included, or
    fall back to it. Every match counts as common here (FAST_RANK_MIN = 1)."""
    from newsarc import queries
    from newsarc.search import title_expressions

    compiled = compile_query(query)
    titles = title_expressions(compiled.terms)
    args = (ranked_store, compiled.include, compiled.exclude, filters)
    monkeypatch.setattr(queries, "FAST_RANK_MIN", 10**9)  # never: the whole ranking
    full = match_page(*args, limit=None, title_terms=titles)
    keys = [m.id for m in full.matches]
    monkeypatch.setattr(queries, "FAST_RANK_MIN", 1)
    taken: list[object] = []
    real = queries._title_page

    def spy(*a, **k):
        found = real(*a, **k)
        taken.append(found)
        return found

    monkeypatch.setattr(queries, "_title_page", spy)
    for offset, limit in [(0, 1), (0, 20), (7, 20), (full.total - 3, 20), (full.total, 5)]:
        page = match_page(*args, limit=limit, offset=offset, title_terms=titles)
        assert page.total == full.total
        assert [m.id for m in page.matches] == keys[offset : offset + limit]
        assert page.matches == full.matches[offset : offset + limit]
    assert taken[0] is not None  # the shortcut answered the first page


def test_queries_title_matches_rank_first(ranked_store: Store):
    """With the query's terms in the title ranking first (README: Results), the dense post
    (的 twenty times in a short text, not in its title) comes after every title match, though
    its bm25 is the best."""
    from newsarc.search import title_expressions

    compiled = compile_query("的")
    page = match_page(
        ranked_store, compiled.include, None, limit=None,
        title_terms=title_expressions(compiled.terms),
    )  # fmt: skip
    posts = posts_by_ids(ranked_store, [m.id for m in page.matches], text=False)
    in_title = ["的" in fold(p.title) for p in posts]
    assert in_title == sorted(in_title, reverse=True) and any(in_title)
    dense = next(p.id for p in posts if p.external_id == "dense")
    assert min(page.matches, key=lambda m: m.score or 0.0).id == dense


@pytest.mark.parametrize(
    "expression, prefix",
    [
        ('{title text} : ("的" *)', True),
        ('"人民币"', False),
        ('"a*b" AND "c"', False),  # a star inside a phrase is a character
        ('"say ""hi""" OR ("x" *)', True),
        ('"say ""*"""', False),
    ],
)
def test_has_prefix_tells_prefix_queries_from_stars_in_phrases(expression, prefix):
    from newsarc.queries import _has_prefix

    assert _has_prefix(expression) is prefix


def test_local_date_bounds_select_what_the_dates_as_written_say(tmp_path: Path):
    """``--since``/``--until`` without an offset compare each post's date as written, in its
    own offset; the query also bounds ``date_utc`` by a day either side (the archive keeps no
    index of local dates). Posts at the extreme offsets (+14:00, -12:00) around midnight must
    be selected exactly as the dates they show, for every bound (oracle: the written dates)."""
    import random

    from newsarc.dates import local_datetime
    from newsarc.queries import Filters, list_posts

    rng = random.Random(7)
    folder = tmp_path / "posts"
    folder.mkdir()
    written = {}
    for n in range(60):
        offset = rng.choice(["+1400", "-1200", "+0000", "+0800", "-0930", "+1345"])
        day = rng.choice(["2022-03-18", "2022-03-19", "2022-03-20"])
        time = rng.choice(["00:00:00", "00:30:00", "11:59:59", "12:00:00", "23:30:00", "23:59:59"])
        name = f"{day}-p{n}.md"
        (folder / name).write_text(
            f"---\ntitle: 第{n}篇\ndate: {day} {time} {offset}\n---\n正文{n}\n", encoding="utf-8"
        )
        written[f"第{n}篇"] = f"{day} {time}"
    with Store.open(tmp_path / "a.db") as store:
        Importer(store, workers=0).run([folder])
        for since, until in [
            ("2022-03-19 00:00:00", "2022-03-20 00:00:00"),
            ("2022-03-18 12:00:00", "2022-03-19 12:00:00"),
            ("2022-03-19 23:59:59", None),
            (None, "2022-03-18 00:30:00"),
            ("2022-03-20 00:00:00", "2022-03-20 00:00:01"),
        ]:
            page = list_posts(store, Filters(since=since, until=until), limit=None)
            got = {p.title for p in page.posts}
            assert all(local_datetime(p.date) == written[p.title] for p in page.posts)
            want = {
                title for title, local in written.items()
                if (since is None or local >= since) and (until is None or local < until)
            }  # fmt: skip
            assert got == want and page.total == len(want), (since, until)
