"""Folding and the n-gram token form behind exact substring search."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from newsarc.fold import fold, fold_chars, grams, index_form, match_phrase


def test_fold_width_and_case():
    assert fold("ＧＤＰ５．２％") == fold("GDP5.2%") == "gdp5.2%"


def test_fold_traditional_to_simplified():
    assert fold("創新聯合體") == "创新联合体"
    assert fold("國資委") == "国资委"
    assert fold("內") == "内"


def test_fold_whitespace_and_invisible_characters():
    assert fold("  a\t\n\u3000b  ") == "a b"
    assert fold("创\u200b新") == "创新"  # zero-width space inside a word
    assert fold("soft\u00adhyphen") == "softhyphen"
    assert fold("bell\x07") == "bell"


def test_fold_chars_is_per_character():
    text = "國資委 ＧＤＰ"
    assert fold_chars(text) == "".join(fold_chars(c) for c in text)


def test_fold_is_idempotent_on_corpus_sample():
    sample = "國資委力推組建創新聯合體，多領域技術攻關獲成效。ＧＤＰ增長５．２％，350km/h"
    assert fold(fold(sample)) == fold(sample)


def test_grams_bigrams_plus_last_character():
    assert grams("abc") == ["ab", "bc", "c"]
    assert grams("a") == ["a"]
    assert grams("") == []


def test_grams_escape_separators_to_token_characters():
    tokens = grams("k/h")
    assert len(tokens) == 3
    assert all(len(t) == 2 for t in tokens[:2])
    assert "/" not in "".join(tokens)


def _matches(doc: str, term: str) -> bool:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE f USING fts5(t, content='', tokenize='unicode61 remove_diacritics 0')"
    )
    db.execute("INSERT INTO f(rowid, t) VALUES (1, ?)", (index_form(doc),))
    return bool(
        db.execute("SELECT rowid FROM f WHERE f MATCH ?", (match_phrase(fold(term)),)).fetchall()
    )


def test_match_phrase_any_length_through_fts5():
    doc = "国资委力推组建创新联合体，研制的350km/h高铁轴承，HFO-1234yf，钛"
    for term in ["钛", "央", "联合", "创新联合体", "350km/h", "km", "hfo-1234YF", "，", "体，研"]:
        assert _matches(doc, term) == (fold(term) in fold(doc)), term


def test_match_phrase_not_across_fields_or_gaps():
    # "创新" and "联合" are in the text but not adjacent: the phrase must not match
    assert not _matches("创新和联合", "新联")
    assert _matches("创新联合", "新联")


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x4E20)
mixed = st.one_of(cjk, st.sampled_from(list("ab1 -/%.Ｇ國")))


@given(doc=st.text(mixed, min_size=0, max_size=30), term=st.text(mixed, min_size=1, max_size=4))
def test_match_phrase_equals_substring_oracle(doc: str, term: str):
    folded = fold(term)
    if not folded:
        return
    assert _matches(doc, term) == (folded in fold(doc))
