"""Search: exact substring semantics against an oracle, the query language, filters, ranking."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsarc.dates import period_bound
from newsarc.errors import QueryError
from newsarc.fold import fold
from newsarc.ingest import Importer
from newsarc.queries import Filters
from newsarc.search import (
    And,
    Not,
    Or,
    Term,
    compile_query,
    count,
    make_snippet,
    parse_query,
    search,
)
from newsarc.store import Store


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Store:
    """The whole real corpus (posts and older versions) imported once for this module."""
    db = tmp_path_factory.mktemp("search") / "archive.db"
    store = Store.open(db)
    result = Importer(store, workers=1).run([corpus / "posts", corpus / "versions"])
    assert not result.failed
    return store


@pytest.fixture(scope="module")
def docs(archive: Store) -> dict[int, tuple[str, str]]:
    rows = archive.conn.execute("SELECT id, title, text FROM posts").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def oracle(docs: dict[int, tuple[str, str]], term: str) -> set[int]:
    """Plain substring search over folded title and text: the definition of a match."""
    folded = fold(term)
    return {i for i, (title, text) in docs.items() if folded in fold(title) or folded in fold(text)}


def ids(store: Store, query: str, filters: Filters | None = None) -> set[int]:
    return {hit.post.id for hit in search(store, query, filters, limit=None, snippets=False).hits}


def phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


# -- exactness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    ["钛", "央企", "芯片", "港股", "联合体", "创新联合体", "國資委", "創新聯合體", "350km/h", "5G",
     "HFO-1234yf", "600519", "GDP", "gdp", "ＧＤＰ", "(00388.HK)", "的", "，", "A股", "INTC.O"],
)  # fmt: skip
def test_search_known_terms_equal_oracle(archive: Store, docs, term: str):
    expected = oracle(docs, term)
    assert ids(archive, phrase(term)) == expected
    assert count(archive, phrase(term)) == len(expected)


def test_search_finds_the_example_post(archive: Store, docs):
    found = ids(archive, "创新联合体")
    assert found and all("创新联合体" in docs[i][0] + docs[i][1] for i in found)


def test_search_across_inline_markup(archive: Store, docs):
    # the HTML source splits 蔚来 and 巨化股份 across <span>/<a> elements
    for term in ("蔚来", "巨化股份", "新能源汽车"):
        assert ids(archive, term) == oracle(docs, term) != set()


def test_search_does_not_match_across_paragraphs(archive: Store, docs):
    # text ends one paragraph with "。" and starts the next; a term spanning the gap must
    # match only where the oracle (which sees the blank line) matches
    title, text = next(v for v in docs.values() if "\n\n" in v[1])
    end_of_first = text.split("\n\n")[0][-2:]
    start_of_second = text.split("\n\n")[1][:2]
    assert ids(archive, phrase(end_of_first + start_of_second)) == oracle(
        docs, end_of_first + start_of_second
    )


@st.composite
def substrings(draw, docs: dict[int, tuple[str, str]]):
    post_id = draw(st.sampled_from(sorted(docs)))
    title, text = docs[post_id]
    source = draw(st.sampled_from([title, text])) or text
    assume(source)
    length = draw(st.integers(1, 8))
    start = draw(st.integers(0, max(0, len(source) - 1)))
    return source[start : start + length]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_search_random_substrings_equal_oracle(archive: Store, docs, data):
    term = data.draw(substrings(docs))
    assume(fold(term))
    expected = oracle(docs, term)
    assert expected, "a substring of a post must find at least that post"
    assert ids(archive, phrase(term)) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    term=st.text(
        st.sampled_from(list("央企芯片国资委创新联合体港股钛的了 AaBb0159-/%.：（）國")),
        min_size=1,
        max_size=5,
    )
)
def test_search_random_terms_equal_oracle(archive: Store, docs, term: str):
    assume(fold(term))
    assert ids(archive, phrase(term)) == oracle(docs, term)


# -- query language --------------------------------------------------------------------------


def test_search_and_or_not(archive: Store, docs):
    a, b = oracle(docs, "港股"), oracle(docs, "涨")
    assert ids(archive, "港股 涨") == a & b
    assert ids(archive, "港股 AND 涨") == a & b
    assert ids(archive, "港股 OR 茅台") == a | oracle(docs, "茅台")
    assert ids(archive, "港股 -涨") == a - b
    assert ids(archive, "港股 NOT 涨") == a - b
    assert ids(archive, "(港股 OR 茅台) 涨") == (a | oracle(docs, "茅台")) & b
    c = oracle(docs, "茅台")
    assert ids(archive, "涨 -(港股 OR 茅台)") == b - (a | c) != set()
    assert ids(archive, "涨 NOT (港股 OR 茅台)") == b - (a | c)
    assert ids(archive, "涨 -(港股)") == b - a
    assert ids(archive, "-(港股 OR 涨)") == set(docs) - (a | b)
    assert ids(archive, '"-(港股)"') == oracle(docs, "-(港股)")  # quoted: plain text


def test_search_only_exclusions_select_the_rest(archive: Store, docs):
    assert ids(archive, "-港股") == set(docs) - oracle(docs, "港股")


def test_search_field_filters(archive: Store, docs):
    title_hits = {i for i, (title, _) in docs.items() if "港股" in fold(title)}
    assert ids(archive, "title:港股") == title_hits
    rows = archive.conn.execute("SELECT id, category, source, tags FROM posts").fetchall()
    assert ids(archive, "category:zhongguojingyingwang") == {
        r[0] for r in rows if r[1] == "zhongguojingyingwang"
    }
    assert ids(archive, "source:中国经营网") == {
        r[0] for r in rows if r[2] and "中国经营网" in r[2]
    }
    assert ids(archive, "tag:站长") == {r[0] for r in rows if "站长" in r[3]}


def test_search_options_filters(archive: Store):
    rows = archive.conn.execute("SELECT id, date, category, source FROM posts").fetchall()
    since = period_bound("2022-04", end=False)
    until = period_bound("2022-04", end=True)
    # a post's date is its local date as written, whatever its offset
    april = {r[0] for r in rows if r[1] is not None and r[1].startswith("2022-04")}
    assert april
    assert ids(archive, "-zzzz", Filters(since=since, until=until)) == april
    assert ids(archive, "-zzzz", Filters(category="sitenews")) == {
        r[0] for r in rows if r[2] == "sitenews"
    }
    assert ids(archive, "-zzzz", Filters(source="上海证券报")) == {
        r[0] for r in rows if r[3] == "上海证券报"
    }


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "(a",
        "a )",
        "(a) )",
        "title:(a",
        "title:()",
        "a OR",
        "OR a",
        "AND",
        "NOT",
        "()",
        '""',
        "\u200b",
        "a OR -b",
        "(a -b) OR -c",
    ],
)
def test_search_bad_queries_raise_query_error(archive: Store, query: str):
    with pytest.raises(QueryError):
        search(archive, query)


def test_parse_query_parentheses_inside_words_are_text():
    # grouping starts only at a `(` that begins a term and ends at a `)` before a space or the end
    cases = {
        "港交所(0388.HK)": "港交所(0388.HK)",
        "茅台(重回)": "茅台(重回)",
        "HFC)制冷剂": "HFC)制冷剂",
        "贵州茅台(600519)的": "贵州茅台(600519)的",
        "a(b c)d": None,
    }
    for query, word in cases.items():
        node = parse_query(query)
        if word is None:
            assert isinstance(node, And)
            assert [t.text for t in node.children] == ["a(b", "c)d"]  # type: ignore[union-attr]
        else:
            assert isinstance(node, Term) and node.text == word, query


def test_parse_query_groups_still_group():
    node = parse_query("(芯片 OR 半导体) 央企")
    assert isinstance(node, And) and isinstance(node.children[0], Or)
    node = parse_query("(茅台(重回))")
    assert isinstance(node, Term) and node.text == "茅台(重回)"
    node = parse_query("((a OR b) c)")
    assert isinstance(node, And) and isinstance(node.children[0], Or)
    node = parse_query("美国 -(芯片 OR 半导体)")
    assert isinstance(node, And) and isinstance(node.children[1], Not)
    node = parse_query("(INTC.O)")  # a group of one term: the same posts as the term
    assert isinstance(node, Term) and node.text == "INTC.O"


def test_parse_query_field_before_group_applies_to_every_term():
    node = parse_query("title:(茅台 OR 港交所) 央企")
    assert isinstance(node, And)
    group, plain = node.children
    assert isinstance(group, Or) and [t.field for t in group.children] == ["title", "title"]  # type: ignore[union-attr]
    assert isinstance(plain, Term) and plain.field is None
    node = parse_query("-TITLE:(茅台 OR text:港交所) x")
    assert isinstance(node, And) and isinstance(node.children[0], Not)
    inner = node.children[0].child  # type: ignore[union-attr]
    assert [t.field for t in inner.children] == ["title", "text"]
    node = parse_query("Title:央企")
    assert isinstance(node, Term) and node.field == "title"


def test_search_parenthesised_stock_codes_match_the_substring(archive: Store, docs):
    for term in ("港交所(0388.HK)", "茅台(重回)", "(00388.HK)的", "英特尔(INTC.O)"):
        assert ids(archive, term) == oracle(docs, term), term
    # the query that used to match posts containing 港交所 and 0388.HK apart
    assert ids(archive, "港交所(0388.HK)") == oracle(docs, "港交所(0388.HK)")


def test_search_field_group_equals_union_of_field_terms(archive: Store):
    both = ids(archive, "title:(茅台 OR 港股)")
    assert both and both == ids(archive, "title:茅台") | ids(archive, "title:港股")


@pytest.mark.parametrize(
    "query", ["NEAR(a b)", "a*", "^a", "a:b", "title:", '"a""b"', "{x}", "'", "a - b"]
)
def test_search_fts5_syntax_is_plain_text(archive: Store, docs, query: str):
    node = parse_query(query)
    assert node is not None
    search(archive, query)  # no SQL error


def test_compile_query_is_safe_for_fts5_specials():
    compiled = compile_query('NEAR "x" ^y * :')
    assert compiled.include and "NEAR(" not in compiled.include


# -- ranking and snippets --------------------------------------------------------------------


def test_search_title_matches_rank_first(archive: Store, docs):
    hits = search(archive, "港股", limit=None).hits
    in_title = ["港股" in fold(h.post.title) for h in hits]
    assert in_title == sorted(in_title, reverse=True)


def test_search_sort_by_date(archive: Store):
    hits = search(archive, "港股", sort="-date", limit=None).hits
    dates = [h.post.date for h in hits if h.post.date]
    assert dates == sorted(dates, reverse=True)


def test_search_limit_offset_total(archive: Store, docs):
    total = len(oracle(docs, "的"))
    first = search(archive, "的", limit=5)
    second = search(archive, "的", limit=5, offset=5)
    assert first.total == second.total == total
    assert len(first.hits) == 5
    assert not {h.post.id for h in first.hits} & {h.post.id for h in second.hits}


def test_snippet_highlights_exact_characters_through_folding(archive: Store):
    hits = search(archive, "國資委").hits
    assert hits
    for hit in hits:
        assert hit.highlights
        for start, end in hit.highlights:
            assert fold(hit.snippet[start:end]) == "国资委"


def test_make_snippet_maps_back_through_expanding_characters():
    from newsarc.search import Term

    text = "前文㍿很长的一段文字，ＧＤＰ增长"
    snippet, spans = make_snippet(text, [Term("gdp", "gdp")])
    assert [snippet[s:e] for s, e in spans] == ["ＧＤＰ"]


@pytest.mark.parametrize("query", ["央企 OR 茅台", "茅台 OR 央企", "(茅台 OR 央企)"])
def test_search_rank_title_matches_first_with_or(tmp_path: Path, query: str):
    """A title match outranks every body-only match, whatever the order of OR's terms. bm25
    alone misorders this archive: 央企 is in most posts (its IDF is tiny) and 茅台 in one body
    many times (its IDF is large)."""
    from test_export import add_post

    store = Store.open(tmp_path / "a.db")
    titled = [
        add_post(store, external_id=f"t{i}", title=f"央企改革第{i}篇", text="国资委发布通知。")
        for i in range(4)
    ]
    for i in range(6):
        add_post(store, external_id=f"f{i}", title=f"其他{i}", text="央企的消息。" * 3)
    body_only = add_post(store, external_id="b", title="白酒行情", text="茅台茅台，贵州茅台。" * 5)
    ranked = [hit.post.id for hit in search(store, query, limit=None, snippets=False).hits]
    assert set(ranked[:4]) == set(titled)
    assert body_only in ranked[4:]
    # both terms in the title: above the titles with only one
    both = add_post(store, external_id="two", title="央企与茅台", text="无关")
    ranked = [hit.post.id for hit in search(store, query, limit=None, snippets=False).hits]
    assert ranked[0] == both and set(ranked[1:5]) == set(titled)


def test_search_highlights_matches_in_titles(tmp_path: Path):
    from test_export import add_post

    store = Store.open(tmp_path / "a.db")
    title_only = add_post(store, external_id="t", title="央企改革与央企", text="国资委发布通知。")
    body_only = add_post(store, external_id="b", title="其他", text="央企的消息。")
    hits = {hit.post.id: hit for hit in search(store, "央企").hits}
    assert hits[title_only].title_highlights == [(0, 2), (5, 7)]
    assert hits[title_only].highlights == []
    assert hits[body_only].title_highlights == []
    (hit,) = search(store, "title:央企").hits
    assert hit.post.id == title_only and hit.title_highlights == [(0, 2), (5, 7)]
    (hit,) = search(store, "text:央企").hits
    assert hit.post.id == body_only and hit.title_highlights == [] and hit.highlights
