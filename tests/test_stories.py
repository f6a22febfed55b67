"""The story engine: grouping quality on the labelled set, and the rules it must keep."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stories.labelled import load_labelled

from newsarc import stories
from newsarc.errors import UsageError
from newsarc.fold import fold

DIGEST_A = "美国商务部部长雷蒙多表示，国会批准520亿美元扩大美国半导体生产的法案可能会拖延到2022年。雷蒙多仍在推动美国立法通过这项资金，以解决目前的芯片供应危机。"
DIGEST_B = "苏州银行12月8日午间公告，本行近日收到中国人民银行准予行政许可决定书，同意本行在全国银行间债券市场发行不超过60亿元人民币无固定期限资本债券。"
SHORT_A = "恒大汽车短线下挫，现跌超5%。"
SHORT_B = "富时中国A50指数期货涨超1%。"
DISCLAIMER = "风险提示：本文内容仅供参考，不构成任何投资建议。股市有风险，投资需谨慎，据此操作风险自担。市场数据来源于公开信息，力求但不保证准确完整。"
#: site boilerplate that no built-in pattern knows
SITE_NOTE = "更多精彩内容，请关注本站微信公众号与视频号，每日推送最新财经资讯与深度解读，助您第一时间把握市场脉搏与投资机会。"


def group(posts: list[tuple[str, str]], threshold: float = stories.DEFAULT_THRESHOLD):
    index = stories.StoryIndex(threshold)
    return {name: index.add(i, text) for i, (name, text) in enumerate(posts)}


def test_stories_labelled_set_precision_and_recall():
    """Pairwise, at the default threshold: every pair of posts given one story is a pair the
    labels put in one story (precision), and the other way round (recall)."""
    posts, labels = load_labelled()
    assert len(posts) > 250 and len(set(labels.values())) > 100
    quality = stories.pair_quality(group(posts), labels)
    assert quality.true > 250
    assert quality.precision >= 0.95, quality
    assert quality.recall >= 0.90, quality


def test_stories_labelled_real_groups_found():
    posts, labels = load_labelled()
    story = group(posts)
    for files in (
        ["real/2021-12-08-202112082206672930.md", "real/2021-12-08-202112082206781916.md"],
        ["real/2021-12-08-202112082206896571.md", "real/2021-12-08-202112082206936037.md"],
    ):
        assert story[files[0]] == story[files[1]]
    # the 40 and 50 billion northbound flashes are two items, not one updated
    assert (
        story["real/2021-12-08-202112082206761079.md"]
        != story["real/2021-12-08-202112082206777086.md"]
    )


def test_stories_rebuild_knows_boilerplate_from_the_start():
    """Incrementally, the first posts under a new disclaimer may miss their originals; a rebuild
    counts all paragraphs first and finds them, without losing precision."""
    posts, labels = load_labelled()
    incremental = stories.pair_quality(group(posts), labels)
    index = stories.StoryIndex.rebuild((i, text) for i, (_, text) in enumerate(posts))
    rebuilt = {name: index.story[i] for i, (name, _) in enumerate(posts)}
    quality = stories.pair_quality(rebuilt, labels)
    assert quality.recall >= incremental.recall
    assert quality.precision >= 0.95
    first = "generated/2021-12-07-boiler4-0.md"
    assert rebuilt[first] == rebuilt["real/2021-12-08-202112082206672930.md"]
    # story ids are still the first post of each story
    order = {name: i for i, (name, _) in enumerate(posts)}
    for sid in set(rebuilt.values()):
        assert sid == min(order[n] for n, s in rebuilt.items() if s == sid)


def test_stories_id_is_first_post_and_stable():
    posts, _ = load_labelled()
    story = group(posts)
    order = {name: i for i, (name, _) in enumerate(posts)}
    for name, sid in story.items():
        members = [n for n, s in story.items() if s == sid]
        assert sid == min(order[n] for n in members)
        assert order[name] >= sid
    # the same posts again give the same ids; unrelated posts added in between change none
    assert group(posts) == story
    index = stories.StoryIndex()
    mixed = {}
    for i, (name, text) in enumerate(posts):
        mixed[name] = index.add(2 * i, text)
        index.add(2 * i + 1, f"无关的第{i}条快讯：某公司发布公告称完成第{i}期债券付息工作。")
    assert {n: s // 2 for n, s in mixed.items()} == story


def test_stories_empty_text_is_its_own_story():
    index = stories.StoryIndex()
    assert index.add(1, "") == 1
    assert index.add(2, "") == 2
    assert index.add(3, "\n\n（来源：财联社）\n\n") == 3
    assert stories.signature("").empty
    assert stories.similarity(stories.signature(""), stories.signature("")).score == 0


def test_stories_boilerplate_only_overlap_is_not_similar():
    for boiler in (
        DISCLAIMER,
        "声明：本网转载此文出于传递更多信息之目的，并不意味着赞同其观点或证实其描述。文章内容仅供参考，不构成投资建议。投资者据此操作，风险自担。",
    ):
        a = stories.signature(f"{SHORT_A}\n\n{boiler}")
        b = stories.signature(f"{SHORT_B}\n\n{boiler}")
        assert stories.similarity(a, b).score < 0.1
        # the same digest with and without the disclaimer is one story
        assert stories.same_story(a, stories.signature(SHORT_A))


def test_stories_unknown_boilerplate_shared_paragraph_is_not_similar():
    """Two different digests under site boilerplate no pattern knows: what they share is a
    whole paragraph and they start differently, so only the rest is compared."""
    a = stories.signature(f"{SHORT_A}\n\n{SITE_NOTE}")
    b = stories.signature(f"{SHORT_B}\n\n{SITE_NOTE}")
    assert stories.jaccard(a, b) > 0.5  # by shingles alone they would look alike
    assert not stories.same_story(a, b)
    # copies of an article that share all but an added note are still one story
    article = f"{DIGEST_A}\n\n{DIGEST_B}"
    assert stories.same_story(
        stories.signature(article), stories.signature(f"{article}\n\n{SITE_NOTE}")
    )


def test_stories_boilerplate_is_learnt_from_different_contexts():
    index = stories.StoryIndex()
    texts = [DIGEST_A, DIGEST_B, SHORT_A, "印度央行将关键利率维持在4.00%不变，符合市场预期。"]
    for i, text in enumerate(texts):
        index.add(i, f"{text}\n\n{SITE_NOTE}")
    learnt = index.boilerplate(stories.signature(f"{SHORT_B}\n\n{SITE_NOTE}"))
    assert learnt == {stories.paragraph_key(fold(SITE_NOTE))}
    # from now on the note is left out: a short digest with it matches the digest alone
    first = index.add(10, f"{SHORT_B}\n\n{SITE_NOTE}")
    assert index.add(11, SHORT_B) == first
    # the paragraphs of one story carried many times are not boilerplate
    copies = stories.StoryIndex()
    for i in range(6):
        copies.add(i, f"{DIGEST_A}\n\n{DIGEST_B}")
    assert not copies.boilerplate(stories.signature(f"{DIGEST_A}\n\n{DIGEST_B}"))


def test_stories_traditional_and_full_width_copies_are_similar():
    simplified = stories.signature("离岸人民币兑美元升至6.3512，为2018年以来最高水平。")
    traditional = stories.signature("離岸人民幣兌美元升至６．３５１２，為２０１８年以來最高水平。")
    assert stories.similarity(simplified, traditional).score == 1.0
    hk = stories.signature(
        "美國商務部部長雷蒙多稱，國會批准５２０億美元擴大美國半導體生產的法案可能會拖延到２０２２年。"
        "雷蒙多仍在推動美國立法通過這項資金，以解決當前的芯片供應危機。（明報）"
    )
    assert stories.same_story(stories.signature(DIGEST_A), hk)


def test_stories_templated_reports_with_other_figures_differ():
    up = "截至收盘，沪指涨0.52%报3637.57点，深成指涨0.85%，创业板指涨1.71%。两市成交额12816亿元。"
    down = "截至收盘，沪指跌1.23%报3592.20点，深成指跌1.64%，创业板指跌2.05%。两市成交额11402亿元。"
    a, b = stories.signature(up), stories.signature(down)
    assert stories.similarity(a, b).numbers == 0
    assert not stories.same_story(a, b, threshold=0.01)
    # the figures decide even where they are a small part of the text
    forty = stories.signature("数据显示，截至目前，北向资金净流入超40亿元。")
    fifty = stories.signature("数据显示，截至目前，北向资金净流入超50亿元。")
    assert stories.jaccard(forty, fifty) > 0.6
    assert not stories.same_story(forty, fifty)
    # a copy that adds a dateline keeps all the figures of the original: same story
    assert stories.same_story(a, stories.signature("财联社12月8日电，" + up))


@pytest.mark.parametrize("value", [0, -0.1, 1.0001, 2, math.nan, math.inf])
def test_stories_threshold_outside_unit_interval_is_a_usage_error(value):
    with pytest.raises(UsageError, match="threshold"):
        stories.validate_threshold(value)
    with pytest.raises(UsageError):
        stories.StoryIndex(value)


@pytest.mark.parametrize("value", [1e-9, 0.4, 1])
def test_stories_threshold_inside_unit_interval_is_kept(value):
    assert stories.validate_threshold(value) == value


def test_stories_threshold_one_means_identical_text():
    a = stories.signature(DIGEST_A)
    assert stories.same_story(a, stories.signature(DIGEST_A + "（财联社）"), threshold=1)
    assert not stories.same_story(a, stories.signature(DIGEST_A + "雷蒙多称。"), threshold=1)


def test_stories_signature_bytes_round_trip():
    posts, _ = load_labelled()
    for _, text in posts[:60]:
        sig = stories.signature(text)
        back = stories.Signature.from_bytes(sig.to_bytes())
        assert back == sig
        assert stories.similarity(back, sig).score == (0 if sig.empty else 1)


def test_stories_signature_pickles_to_its_storage_form():
    """Import workers send signatures to the writer pickled: what arrives is the same
    signature, with its band keys, contexts and bytes, whatever the process computes."""
    import pickle

    posts, _ = load_labelled()
    for _, text in posts[:60]:
        sig = stories.signature(text + "\n\n" + DIGEST_A)
        data = pickle.dumps(sig)
        assert len(data) < len(sig.to_bytes()) + 40 * (stories.BANDS + len(sig.contexts) + 4)
        back = pickle.loads(data)
        assert back == sig and back.to_bytes() == sig.to_bytes()
        assert back.band_keys() == sig.band_keys() and back.contexts == sig.contexts
        assert back.contexts  # two paragraphs at least: the test covers contexts
    assert pickle.loads(pickle.dumps(stories.EMPTY)).empty


@given(
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=200),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=8),
    st.integers(3, 20),
)
def test_stories_key_filter_never_forgets_a_key(added, asked, bits):
    known = stories.KeyFilter(bits)
    known.add(added)
    for key in added:
        assert known.may_have([key])
    if added:
        assert known.may_have(asked + added[-1:])
    else:
        assert not known.may_have(asked)


def test_stories_key_filter_says_no_to_most_other_keys():
    import random

    rng = random.Random(1)
    known = stories.KeyFilter(20)
    known.add(rng.randrange(-(2**31), 2**31) for _ in range(10_000))
    others = [[rng.randrange(-(2**31), 2**31) for _ in range(8)] for _ in range(1_000)]
    # 10,000 keys in 2**20 bits: about 1 % set, so 8 other keys hit one 7 % of the time
    assert sum(known.may_have(keys) for keys in others) < 150


def test_stories_signature_of_old_version_is_refused():
    data = bytearray(stories.signature(DIGEST_A).to_bytes())
    data[0] = stories.VERSION + 1
    with pytest.raises(ValueError, match="version"):
        stories.Signature.from_bytes(bytes(data))


def test_stories_band_keys_are_sqlite_integers_and_shared_by_copies():
    a = stories.signature(DIGEST_A)
    keys = a.band_keys()
    assert 0 < len(keys) <= stories.BANDS
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert set(keys) & set(stories.signature("据外媒报道，" + DIGEST_A).band_keys())
    assert stories.signature("").band_keys() == []


def test_stories_short_texts_are_compared_exactly():
    """Up to SKETCH shingles the sketch is the whole shingle set: the score is exact."""
    a = stories.signature("北向资金净流入超40亿元。")
    b = stories.signature("数据显示，截至目前，北向资金净流入超40亿元。")
    chars_a, chars_b = "北向资金净流入超40亿元", "数据显示截至目前北向资金净流入超40亿元"
    grams_a = {chars_a[i : i + 3] for i in range(len(chars_a) - 2)}
    grams_b = {chars_b[i : i + 3] for i in range(len(chars_b) - 2)}
    assert stories.jaccard(a, b) == len(grams_a & grams_b) / len(grams_a | grams_b)


def test_stories_source_credits_and_links_are_not_content():
    plain = stories.signature(DIGEST_B)
    for dressed in (
        DIGEST_B + "（界面新闻）",
        DIGEST_B + "(文章来源：证券时报)",
        f"{DIGEST_B}\n\n责任编辑：王某\n\n<http://finance.eastmoney.com/a/1.html>",
        f"{DIGEST_B}\n\n[返回东财滚动新闻](//x/emnews/)｜[返回首页](//x/)",
    ):
        assert stories.similarity(plain, stories.signature(dressed)).score == 1.0, dressed


def test_stories_best_match_prefers_higher_score_then_earlier_post():
    a = stories.signature(DIGEST_A)
    copies = [
        (5, stories.signature(DIGEST_A)),
        (3, stories.signature(DIGEST_A)),
        (1, stories.signature(DIGEST_B)),
    ]
    match = stories.best_match(copies, a, 0.4)
    assert match is not None and match.post == 3 and match.similarity.score == 1
    assert stories.best_match([(1, stories.signature(DIGEST_B))], a, 0.4) is None


def test_stories_pair_quality_counts_pairs():
    q = stories.pair_quality(
        {"a": 1, "b": 1, "c": 1, "d": 4}, {"a": "x", "b": "x", "c": "y", "d": "y"}
    )
    assert (q.predicted, q.true, q.correct) == (3, 2, 1)
    assert q.precision == pytest.approx(1 / 3) and q.recall == 0.5


@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab 國Ａ\u3000\u200b\n,。1"), max_size=12), max_size=5
    )
)
def test_stories_fold_paragraphs_joined_is_fold(paragraphs):
    text = "\n\n".join(paragraphs)
    assert " ".join(p for p in stories.fold_paragraphs(text) if p) == fold(text)


def _same_signatures(batch: list[stories.Signature], one_by_one: list[stories.Signature]) -> None:
    assert len(batch) == len(one_by_one)
    for got, want in zip(batch, one_by_one, strict=True):
        assert got == want  # sketch, size, numbers, parts
        assert (got.bins, got.contexts) == (want.bins, want.contexts)
        assert got.band_keys() == want.band_keys() and got.to_bytes() == want.to_bytes()


def test_stories_batch_signatures_equal_one_by_one_on_the_labelled_set():
    """An import worker signs its batch with numpy: the signatures are exactly those of the
    pure-Python reference, for every post of the labelled set (digests, long articles,
    disclaimers, traditional and full-width copies), in batches of several sizes."""
    assert stories._numpy() is not None  # numpy is a dependency: the batch path is tested
    posts, _ = load_labelled()
    folded = [stories.fold_paragraphs(text) for _, text in posts]
    folded += [[], [""], ["。"], ["a"], ["ab", "", "c"], [DISCLAIMER], [DIGEST_A, DISCLAIMER]]
    want = [stories.folded_signature(p) for p in folded]
    for size in (stories.BATCH_MIN, 17, 64, len(folded)):
        got = [
            s
            for i in range(0, len(folded), size)
            for s in stories.folded_signatures(folded[i : i + size])
        ]
        _same_signatures(got, want)


@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.sampled_from("ab國人民1２.,:（）风险提示\u3000 😀𠀀"), max_size=40),
            max_size=6,
        ),
        min_size=1,
        max_size=12,
    )
)
def test_stories_batch_signatures_equal_one_by_one(posts):
    """Any paragraphs: empty ones, shorter than a shingle, punctuation only, characters
    outside the Basic Multilingual Plane, repeated shingles."""
    folded = [[fold(p) for p in paragraphs] for paragraphs in posts]
    _same_signatures(
        stories.folded_signatures(folded), [stories.folded_signature(p) for p in folded]
    )


def test_stories_batch_signatures_without_numpy_are_the_reference(monkeypatch):
    monkeypatch.setattr(stories, "_np_module", None)
    folded = [stories.fold_paragraphs(t) for t in (DIGEST_A, DIGEST_B, SHORT_A, SHORT_B, "")]
    _same_signatures(
        stories.folded_signatures(folded), [stories.folded_signature(p) for p in folded]
    )


def test_stories_plausible_never_drops_a_candidate_that_scores():
    """``plausible`` skips candidates from their header and sketch alone: it never skips one
    whose score reaches the threshold (every pair of the labelled set, several thresholds)."""
    posts, _ = load_labelled()
    sigs = [stories.signature(text) for _, text in posts]
    stored = [(i, s.to_bytes()) for i, s in enumerate(sigs) if not s.empty]
    decoded = {i: stories.Signature.from_bytes(data) for i, data in stored}
    skipped = 0
    for threshold in (0.05, 0.2, stories.DEFAULT_THRESHOLD, 0.7, 1.0):
        for sig in sigs:
            if sig.empty:
                continue
            kept = {i for i, _ in stories.plausible(stored, sig, threshold)}
            scoring = {
                i
                for i, other in decoded.items()
                if stories.similarity(sig, other).score >= threshold
                # (the true Jaccard similarity is at most the ratio of the shingle counts: a
                # pair beyond it is left out whatever its sketches estimate)
                and min(sig.size, other.size) >= threshold * max(sig.size, other.size)
            }
            assert scoring <= kept, threshold
            skipped += len(stored) - len(kept)
    assert skipped > 0  # and it does skip


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50))
def test_stories_vector_int_hash_is_pythons(values):
    """The batch path computes band keys with CPython's int hash in vectors: equal to
    ``hash`` for every int64, the edges included."""
    np = stories._numpy()
    edges = [-(2**63), -(2**61) + 1, -(2**61), -2, -1, 0, 1, 2**61 - 2, 2**61 - 1, 2**61, 2**63 - 1]
    array = np.array(values + edges, dtype=np.int64)
    got = stories._int_hashes(np, array).view(np.int64).tolist()
    assert got == [hash(v) for v in values + edges]
