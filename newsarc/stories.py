"""Stories: near-copies of one news item, grouped (the similarity engine, pure Python).

A wire story is carried by several outlets, each with its own title, source line and time;
rolling feeds repeat an item; Hong Kong outlets print it in traditional characters. newsarc
groups such copies into one *story*. This module is the engine and holds no SQL: the store keeps
what it computes (``Signature.to_bytes``, ``Signature.band_keys``, paragraph counts) and asks it
to decide. ``StoryIndex`` is the same algorithm over dictionaries, for tests and the benchmark.

How two posts are compared
--------------------------
1. **Content.** The post's plain text (never its title: copies are retitled, and a post with no
   text is its own story), split into paragraphs and folded as search folds it (``fold.fold``:
   width, case, traditional → simplified). Known boilerplate is cut: source credits
   (``（文章来源：…）``, a trailing ``（财联社）``), and paragraphs from a disclaimer or byline
   marker on (``风险提示：``, ``声明：``, ``责任编辑：`` …), back-links and ``<http…>`` lines.
   Then only letters and digits are kept: punctuation and spacing differ between outlets.
2. **Shingles.** Every run of ``SHINGLE`` (3) consecutive characters, digits included, so that
   ``净流入超40亿元`` and ``净流入超50亿元`` differ in three shingles, not none.
3. **Sketch.** Each shingle is hashed (see ``_hashes``); the ``SKETCH`` (32) smallest hash values
   are the post's bottom-k sketch. For texts of at most 32 shingles (short one-paragraph
   digests) the sketch *is* the shingle set and the similarity below is exact; for longer
   texts it is an unbiased estimate (standard error ≈ 0.06 at 0.5).
4. **Numbers.** The numbers of the content (``6.3512``, ``2018``, ``40``) are kept apart: a
   templated report with other figures (``沪指涨0.5%…`` vs ``沪指跌1.2%…``) is another story.
5. **Score.** ``text`` = Jaccard similarity of the shingle sets (shared shingles / all shingles
   of the two), estimated from the two sketches; ``numbers`` = share of the numbers of the post
   with fewer numbers that the other has too (1 when either has none). ``score = text × numbers``.
   Two posts are the same story when ``score >= threshold`` (default ``DEFAULT_THRESHOLD``, 0.4:
   for two texts of equal length, about 57 % of each one's shingles found in the other).
6. **Shared paragraphs.** Two different digests under one long disclaimer share exactly that
   paragraph; two copies of an article share their lead. So when two posts have whole
   paragraphs in common but *start* differently, those paragraphs are set aside and ``text``
   is the similarity of the rest (computed from the paragraphs' shingle counts, see
   ``text_similarity``) -- unless one post is nothing but the shared paragraphs (a copy with a
   paragraph added). This works from the first post that carries a new disclaimer.

Boilerplate nobody listed
-------------------------
A paragraph (at least ``MIN_PARAGRAPH`` folded characters) that turns up next to *different*
content in ``BOILERPLATE_CONTEXTS`` posts is boilerplate from then on and left out of new
signatures. "Different content" is measured without knowing the stories: each paragraph is
recorded with the smallest shingle hash of the *rest* of its post (``Signature.contexts``; a
post of one paragraph has no rest, so it records nothing and the archive is not asked about
it: most digests cost nothing here).
Copies of one wire story have the same rest, so the same value (with probability = their
similarity); a disclaimer under unrelated digests gets a new value each time. A story carried
by twenty outlets therefore does not make its own paragraphs boilerplate, and the count does not
depend on earlier grouping decisions (no feedback loop). Posts imported before a disclaimer
became frequent keep their signature until the stories are rebuilt (``maintenance``), which
counts all paragraphs first.

Candidates: LSH bands
---------------------
Comparing a new post with every post is a scan; instead each signature has ``BANDS`` band
keys (one-permutation hashing: the hash range is cut into ``BANDS × ROWS`` bins; a band key is
the minima of ``ROWS`` bins). Posts with a key in common are candidates: the store indexes the
keys, so finding candidates is an index lookup. Two posts of Jaccard similarity ``J`` share at
least one of the 8 keys with probability ≈ ``1 - (1 - J²)⁸``: 0.75 at J = 0.4, 0.90 at 0.5,
0.97 at 0.6, 0.28 at 0.2 (those are then scored and mostly rejected). Two rows per band, not
one, so that a common shingle (``亿美元``) that happens to hash low does not make a key shared
by every post containing it.

Grouping
--------
A new post joins the story of its best-scoring candidate at or above the threshold, else it
starts its own story. The story id is the id of the story's first post, so adding posts never
renames a story and re-importing the same files gives the same ids.

Hashing
-------
Shingles are hashed with CPython's hash of a tuple of code points: computed in C, with no
per-shingle encoding or Python-level arithmetic (the whole signature of a typical digest costs
less than datasketch's ``MinHash.update_batch`` of its shingles alone; see bench/STORIES.md).
An import worker signs its whole batch of posts at once with numpy (``folded_signatures``):
the same tuple hash computed in 64-bit vectors over every shingle of the batch, then sorted per
paragraph and per post; it makes exactly the signatures of ``folded_signature`` (tested).
Hashes of ints and tuples are not randomised per process
(only ``str``/``bytes`` hashes are), but they may change between Python versions and differ
on 32-bit builds: ``HASH_CHECK`` fingerprints them, and the store rebuilds stories when the
recorded value differs.
"""

from __future__ import annotations

import re
import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .fold import fold

#: characters per shingle
SHINGLE = 3
#: hash values kept per post (bottom-k sketch). 32, not 64: the archive keeps one per post, and
#: on the labelled set 32 loses nothing (recall 0.990 vs 0.983, precision 1.000 both; see
#: bench/STORIES.md "Storage")
SKETCH = 32
#: LSH: bands × rows one-permutation bins (a power of two). 8 bands, not 16: half the index rows
#: for the same labelled-set quality; pairs of Jaccard 0.4 share a key with probability 0.75,
#: of 0.6 with 0.97 (copies score far above the threshold; rewrites near it may be missed)
BANDS = 8
ROWS = 2
#: the default ``score`` at or above which two posts are the same story
DEFAULT_THRESHOLD = 0.4
#: paragraphs shorter than this (folded) are never counted as boilerplate: headings, dates
MIN_PARAGRAPH = 12
#: a paragraph seen beside this many different contents is boilerplate
BOILERPLATE_CONTEXTS = 3
#: numbers kept per post
MAX_NUMBERS = 32

#: fingerprint of the shingle hash function: signatures made under another value are stale
HASH_CHECK = hash((0x4E00, 0x4E01, 0x4E02)) & 0xFFFFFFFF
#: bumped whenever signatures made by older code must be rebuilt
VERSION = 2

_BINS = BANDS * ROWS
# hashes are signed 64-bit: bin b holds [(b - _BINS/2) << _BIN_BITS, (b + 1 - _BINS/2) << _BIN_BITS)
_BIN_BITS = 64 - (_BINS - 1).bit_length()
_BIN_STARTS = [(b - _BINS // 2) << _BIN_BITS for b in range(_BINS + 1)]
_BIN_RANGES = list(enumerate(zip(_BIN_STARTS, _BIN_STARTS[1:], strict=False)))

# On folded text, so written with half-width punctuation and simplified characters.
_SOURCE_CREDIT = re.compile(r"\((?:文章|本文|消息)?来源:[^()]{0,40}\)")
_TRAILING_CREDIT = re.compile(r"\(([^()0-9%.,:;]{2,16})\)[ 。.]*$")
_BOILERPLATE_START = re.compile(
    r"(?:风险提示|免责声明|特别声明|声明|责任编辑|责编|编辑|校对|审核|来源|文章来源|本文来源|"
    r"图片来源|原标题|作者|记者)\s*:"
)
_LINK_LINE = re.compile(r"^(?:<https?:.*>|<>|\[返回.*)$")
#: every pattern above needs one of these characters
_MARKERS = re.compile(r"[:()<\[]")
_NOT_TEXT = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def validate_threshold(value: float) -> float:
    """``value`` if it is a usable threshold (in (0, 1]); otherwise a ``UsageError``."""
    if not 0 < value <= 1:  # also rejects NaN
        raise UsageError(
            f"threshold {value!r} is outside (0, 1]: it is the share of text two posts "
            f"must have in common (default {DEFAULT_THRESHOLD})"
        )
    return value


def _cut_boilerplate(paragraph: str) -> str:
    """A folded paragraph without the boilerplate the patterns above recognise."""
    if not _MARKERS.search(paragraph):  # most paragraphs: no pattern can match
        return paragraph.strip()
    if _LINK_LINE.match(paragraph):
        return ""
    m = _BOILERPLATE_START.search(paragraph)
    # a marker starting the paragraph, or a sentence in it, ends its content
    if m and (m.start() == 0 or paragraph[m.start() - 1] in "。!?;. )"):
        paragraph = paragraph[: m.start()]
    paragraph = _SOURCE_CREDIT.sub("", paragraph)
    return _TRAILING_CREDIT.sub("", paragraph).strip()


def _hashes(chars: str) -> set[int]:
    """Signed 64-bit hashes of the shingles of ``chars`` (one shingle if it is shorter)."""
    codes = array("I", chars.encode("utf-32-le")).tolist()
    if len(codes) < SHINGLE:
        return {hash(tuple(codes))} if codes else set()
    return set(map(hash, zip(*(codes[i:] for i in range(SHINGLE)), strict=False)))


def paragraph_key(paragraph: str) -> int:
    """A 63-bit fingerprint of one folded paragraph (CRC-32 and Adler-32 of its UTF-8)."""
    data = paragraph.encode()
    return (zlib.crc32(data) << 31) ^ zlib.adler32(data)


@dataclass(frozen=True)
class Signature:
    """What the store keeps of a post to find and judge its copies.

    ``sketch``: the smallest shingle hashes, ascending (top 32 bits of each); ``size``: number of
    distinct shingles; ``numbers``: CRC-32s of the numbers, sorted; ``parts``: (fingerprint,
    shingle count) of each content paragraph, in order; ``bins``: one-permutation minima for
    the LSH bands (0 = empty bin); ``contexts``: (fingerprint, smallest shingle hash of the rest
    of the post) of each paragraph long enough to count as boilerplate. ``bins`` and
    ``contexts`` go to their own tables and are not in ``to_bytes``. An empty signature (no
    text) matches nothing.
    """

    sketch: tuple[int, ...]
    size: int
    numbers: tuple[int, ...] = ()
    parts: tuple[tuple[int, int], ...] = ()
    bins: tuple[int, ...] = field(default=(), compare=False)
    contexts: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    @property
    def empty(self) -> bool:
        known = self.__dict__.get("_empty")  # (set by ``_restore``: asked three times a post)
        if known is not None:
            return known
        data = self.__dict__.get("_bytes")
        return not (self.size_of(data) if data is not None else self.sketch)

    if not TYPE_CHECKING:  # (so that type checkers still see every other name as an error)

        def __getattr__(self, name: str) -> Any:
            """A signature received from an import worker (``_restore``) is decoded from its
            bytes when first read: most posts need only their band keys and bytes."""
            data = self.__dict__.get("_bytes")
            if name not in _DECODED or data is None or "sketch" in self.__dict__:
                raise AttributeError(name)
            full = Signature.from_bytes(data)
            for field_name in _DECODED:
                self.__dict__[field_name] = getattr(full, field_name)
            return self.__dict__[name]

    def band_keys(self) -> list[int]:
        """Signed 32-bit keys, one per band with at least one filled bin: SQLite stores them
        in 4 bytes (a chance collision only adds a candidate, which is then scored). Computed
        once per signature (import looks them up, then stores them)."""
        cached = self.__dict__.get("_band_keys")
        if cached is not None:
            return cached
        keys: list[int] = []
        bands = zip(*(self.bins[r::ROWS] for r in range(ROWS)), strict=True)
        for band, rows in enumerate(bands):
            if any(rows):
                keys.append((hash((band, *rows)) & 0xFFFFFFFF) - 0x80000000)
        self.__dict__["_band_keys"] = keys  # frozen, but a cache is no change of value
        return keys

    def to_bytes(self) -> bytes:
        """Storage form: a 9-byte header (version and counts), the sketch, the numbers, then
        the parts. Computed once per signature (an import worker makes it, the writer keeps it)."""
        cached = self.__dict__.get("_bytes")
        if cached is not None:
            return cached
        data = _pack(array("i", self.sketch).tobytes(), self.size, self.numbers, self.parts)
        self.__dict__["_bytes"] = data
        return data

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        version, n_sketch, n_numbers, n_parts, size = _HEAD.unpack_from(data)
        if version != VERSION:
            raise ValueError(f"story signature version {version}, expected {VERSION}")
        at = _HEAD.size
        # struct straight to tuples: this runs for every candidate of every imported post
        sketch = struct.unpack_from(f"<{n_sketch}i", data, at)
        at += 4 * n_sketch
        numbers = struct.unpack_from(f"<{n_numbers}I", data, at)
        at += 4 * n_numbers
        keys = struct.unpack_from(f"<{n_parts}q", data, at)
        sizes = struct.unpack_from(f"<{n_parts}I", data, at + 8 * n_parts)
        return cls(
            sketch=sketch, size=size, numbers=numbers, parts=tuple(zip(keys, sizes, strict=True))
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (an import worker sends each post's signature to the writer) as its storage
        form, band keys and contexts: a third of the bytes of the dataclass, and quicker."""
        return (_restore, (self.to_bytes(), tuple(self.band_keys()), self.contexts))

    @staticmethod
    def size_of(data: bytes) -> int:
        """The number of distinct shingles of a stored signature, without reading the rest."""
        return _HEAD.unpack_from(data)[4]


#: the fields ``to_bytes`` keeps, decoded on first use by a signature ``_restore`` made
_DECODED = ("sketch", "size", "numbers", "parts")


def _restore(
    data: bytes, keys: tuple[int, ...], contexts: tuple[tuple[int, int], ...]
) -> Signature:
    """Unpickle a signature: its bytes, band keys and contexts; the rest is decoded when read
    (see ``Signature.__getattr__``). Unpickling the whole object cost the writer 22-31 µs a post."""
    sig = object.__new__(Signature)
    sig.__dict__.update(
        _bytes=data, _band_keys=list(keys), contexts=contexts, bins=(),
        _empty=not Signature.size_of(data),
    )  # fmt: skip
    return sig


#: version, sketch length, numbers, paragraphs (at most 65,535 kept), distinct shingles
_HEAD = struct.Struct("<BBBHI")
#: a stored sketch of each length (at most 255, the header's byte)
_SKETCH_STRUCTS = [struct.Struct(f"<{n}i") for n in range(256)]

EMPTY = Signature(sketch=(), size=0)


def fold_paragraphs(text: str) -> list[str]:
    """``fold.fold`` of each paragraph of a post's plain text. Joined by spaces, the non-empty
    ones are ``fold.fold(text)``, so ingest can fold once for the search index and for this."""
    return [fold(p) for p in text.split("\n\n")]


def signature(text: str, skip: Iterable[int] = ()) -> Signature:
    """The signature of a post's plain text (paragraphs separated by blank lines)."""
    return folded_signature(fold_paragraphs(text), skip)


def folded_signature(paragraphs: Iterable[str], skip: Iterable[int] = ()) -> Signature:
    """The signature of a post from its folded paragraphs (``fold.fold`` of each), leaving out
    paragraphs whose ``paragraph_key`` is in ``skip`` (boilerplate the archive has learnt) unless
    that would leave nothing. Ingest folds each paragraph once for both the index and this.

    This is the reference: ``folded_signatures`` makes the same signatures for many posts at
    once (tested against this on every text of the labelled set and on random texts)."""
    content, keys, chars = _content(paragraphs, skip)
    para_hashes = [_hashes(c) for c in chars]
    every = para_hashes[0] if len(para_hashes) == 1 else set().union(*para_hashes)
    if not every:
        return EMPTY
    ordered = sorted(every)
    n = len(ordered)
    bins = [0] * _BINS
    i = 0
    for b, (lo, hi) in _BIN_RANGES:
        i = bisect_left(ordered, lo, i)
        if i == n:
            break
        if ordered[i] < hi:
            bins[b] = ordered[i]
    mins = [min(h, default=0) for h in para_hashes] if len(content) > 1 else []
    return _assemble(content, keys, ordered[:SKETCH], n, [len(h) for h in para_hashes], mins, bins)


def _content(
    paragraphs: Iterable[str], skip: Iterable[int] = (), letters: bool = True
) -> tuple[list[str], list[int], list[str]]:
    """A post's content paragraphs (boilerplate cut), their ``paragraph_key``s, and (unless
    ``letters`` is false) their letters and digits: what is shingled."""
    content = [c for c in map(_cut_boilerplate, paragraphs) if c]
    keys = [paragraph_key(c) for c in content]
    skip = set(skip)
    if skip and any(k in skip for k in keys):
        kept = [(c, k) for c, k in zip(content, keys, strict=True) if k not in skip]
        if kept:
            content, keys = [c for c, _ in kept], [k for _, k in kept]
    return content, keys, [_NOT_TEXT.sub("", c) for c in content] if letters else []


def _assemble(
    content: list[str], keys: list[int], smallest: list[int], size: int, counts: list[int],
    mins: list[int], bins: list[int],
) -> Signature:  # fmt: skip
    """A signature from what both ways of hashing compute: the ``SKETCH`` smallest distinct
    shingle hashes, their number, each paragraph's distinct count and (posts of several
    paragraphs) smallest hash, and the bin minima."""
    numbers, parts, contexts = _rest(content, keys, counts, mins)
    return Signature(
        # only the top 32 bits are stored, so keep no more in memory: fresh == loaded
        sketch=tuple(map((32).__rrshift__, smallest)),
        size=size,
        numbers=numbers,
        parts=parts,
        bins=tuple(bins),
        contexts=contexts,
    )


def _rest(
    content: list[str], keys: list[int], counts: list[int], mins: list[int]
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """A signature's numbers, parts and contexts (see ``Signature``)."""
    # from the paragraphs with their punctuation: 6.3512 is one number, 6.3-6.7 two
    numbers = {zlib.crc32(m.replace(",", "").encode()) for m in _NUMBER.findall("\n".join(content))}
    contexts = []
    # a post of one paragraph has none: leaving its only paragraph out would leave nothing (so
    # the archive is not even asked), and it shows nothing beside the paragraph
    if len(content) > 1:
        for p, para in enumerate(content):
            if len(para) >= MIN_PARAGRAPH:
                rest = min((m for j, m in enumerate(mins) if j != p and m), default=0)
                contexts.append((keys[p], rest))
    parts = tuple((k, n) for k, n in zip(keys, counts, strict=True) if n)[:0xFFFF]
    return tuple(sorted(numbers)[:MAX_NUMBERS]), parts, tuple(contexts)


def _pack(
    sketch: bytes, size: int, numbers: Sequence[int], parts: Sequence[tuple[int, int]]
) -> bytes:
    """The storage form (``Signature.to_bytes``) from the sketch's bytes (int32 each) and the
    other fields: a 9-byte header (version and counts), the sketch, the numbers, the parts."""
    head = _HEAD.pack(VERSION, len(sketch) // 4, len(numbers), len(parts), size)
    return b"".join(
        (
            head,
            sketch,
            array("I", numbers).tobytes(),
            array("q", [key for key, _ in parts]).tobytes(),
            array("I", [n for _, n in parts]).tobytes(),
        )
    )


#: below this many posts ``folded_signatures`` signs one by one (numpy's per-call cost)
BATCH_MIN = 4


def folded_signatures(posts: Sequence[Sequence[str]]) -> list[Signature]:
    """``folded_signature`` of many posts (each given as its folded paragraphs) at once.

    An import worker signs its batch of posts here. numpy does, over the whole batch: picking
    the letters and digits, the shingle hashes (CPython's tuple hash, reproduced exactly in
    64-bit arithmetic), their sorting per paragraph and per post, the bins and the band keys.
    What stays per post (boilerplate, paragraph keys, numbers) is Python. With band keys and
    storage bytes, 34-45 µs a post against 68-86 µs one by one (bench/RESULTS.md). Without
    numpy, or on a Python whose hashes differ, this is ``folded_signature`` of each post."""
    np = _numpy()
    if np is None or len(posts) < BATCH_MIN:
        return [folded_signature(p) for p in posts]
    parsed = [_content(p, letters=False) for p in posts]
    content = [c for post_content, _, _ in parsed for c in post_content]
    n_paras = np.array([len(post_content) for post_content, _, _ in parsed], dtype=np.int64)
    # only letters and digits are shingled (what ``_NOT_TEXT`` leaves), picked out by a table
    every = np.frombuffer("".join(content).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    para_of_every = np.repeat(
        np.arange(len(content)), np.fromiter(map(len, content), np.int64, len(content))
    )
    letters = _letters(np, every)
    codes = every[letters].astype(np.uint64)
    lengths = np.bincount(para_of_every[letters], minlength=len(content))
    # the hash of every run of SHINGLE characters; runs that cross a paragraph end are dropped
    para_of_char = np.repeat(np.arange(len(content)), lengths)
    if len(codes) >= SHINGLE:
        n = len(codes) - SHINGLE + 1
        acc = _tuple_hashes(np, [codes[k : n + k] for k in range(SHINGLE)])
        whole = para_of_char[:n] == para_of_char[SHINGLE - 1 :]
        hashes = acc.view(np.int64)[whole]
    else:
        hashes = np.zeros(0, dtype=np.int64)
    # a paragraph shorter than a shingle is one shingle, hashed here as _hashes hashes it
    counts = np.maximum(lengths - (SHINGLE - 1), 0)
    short = np.flatnonzero((lengths > 0) & (lengths < SHINGLE)).tolist()
    if short:
        where = np.concatenate(([0], np.cumsum(counts)))[short]
        first_code = np.concatenate(([0], np.cumsum(lengths)))
        extra = [hash(tuple(codes[first_code[i] : first_code[i + 1]].tolist())) for i in short]
        hashes = np.insert(hashes, where, np.array(extra, dtype=np.int64))
        counts[short] = 1
    if not len(hashes):
        return [EMPTY] * len(posts)  # nothing to shingle in any post
    ends = np.cumsum(counts)
    starts = ends - counts
    # each paragraph's hashes sorted, then each post's (a post of one paragraph: the same)
    bounds = list(zip(starts.tolist(), ends.tolist(), strict=True))
    for a, b in bounds:
        if b - a > 1:
            hashes[a:b].sort()
    # each post's entries: from its first paragraph's to its last's
    para_first = np.concatenate(([0], np.cumsum(n_paras)))
    entry_ends = np.concatenate(([0], ends))
    post_start, post_end = entry_ends[para_first[:-1]], entry_ends[para_first[1:]]
    para_post = np.repeat(np.arange(len(posts)), n_paras)
    entry_para = np.repeat(np.arange(len(content)), counts)
    # distinct hashes of each paragraph, and its smallest
    new = np.ones(len(hashes), dtype=bool)
    new[1:] = (hashes[1:] != hashes[:-1]) | (entry_para[1:] != entry_para[:-1])
    para_counts = np.bincount(entry_para[new], minlength=len(content)).tolist()
    para_mins = np.where(counts > 0, hashes[np.minimum(starts, len(hashes) - 1)], 0).tolist()
    merged = hashes.copy()
    for post, (a, b) in enumerate(zip(post_start.tolist(), post_end.tolist(), strict=True)):
        if n_paras[post] > 1 and b - a > 1:
            merged[a:b].sort()
    entry_post = para_post[entry_para]
    new = np.ones(len(merged), dtype=bool)
    new[1:] = (merged[1:] != merged[:-1]) | (entry_post[1:] != entry_post[:-1])
    distinct, distinct_post = merged[new], entry_post[new]
    sizes = np.bincount(distinct_post, minlength=len(posts))
    first = np.concatenate(([0], np.cumsum(sizes)[:-1])).tolist()
    # the smallest hash of each post's bins: the first of each (post, bin) run
    binned = (distinct >> _BIN_BITS) + _BINS // 2
    run = distinct_post * _BINS + binned
    heads = np.ones(len(run), dtype=bool)
    heads[1:] = run[1:] != run[:-1]
    bins = np.zeros((len(posts), _BINS), dtype=np.int64)
    bins[distinct_post[heads], binned[heads]] = distinct[heads]
    # the sketches as stored: the top 32 bits of each hash
    top, bin_rows, sizes_ = (distinct >> 32).astype(np.int32), bins.tolist(), sizes.tolist()
    band_keys, filled = (a.tolist() for a in _band_keys(np, bins))
    out = []
    p0 = 0
    for post, (content, keys, _) in enumerate(parsed):
        p1 = p0 + len(content)
        size = sizes_[post]
        if not size:
            out.append(EMPTY)
        else:
            at = first[post]
            numbers, parts, contexts = _rest(
                content, keys, para_counts[p0:p1], para_mins[p0:p1] if len(content) > 1 else []
            )
            data = _pack(top[at : at + min(size, SKETCH)].tobytes(), size, numbers, parts)
            # made as ``_restore`` makes a signature: its fields are decoded when first read
            # (an import worker only sends the bytes, band keys and contexts on)
            sig = object.__new__(Signature)
            sig.__dict__.update(
                _bytes=data, contexts=contexts, bins=tuple(bin_rows[post]), _empty=False,
                _band_keys=[k for k, f in zip(band_keys[post], filled[post], strict=True) if f],
            )  # fmt: skip
            out.append(sig)
        p0 = p1
    return out


def _letters(np: Any, codes: Any) -> Any:
    """Which of ``codes`` (uint32 code points) ``_NOT_TEXT`` keeps: a table of the Basic
    Multilingual Plane made once from the pattern itself, and the pattern for the rest."""
    global _LETTER_TABLE
    if _LETTER_TABLE is None:
        plane = "".join(map(chr, range(0x10000)))
        _LETTER_TABLE = np.zeros(0x10000, dtype=bool)
        _LETTER_TABLE[[ord(c) for c in _NOT_TEXT.sub("", plane)]] = True
    keep = _LETTER_TABLE[np.minimum(codes, 0xFFFF)]
    beyond = codes > 0xFFFF
    if beyond.any():
        for code in np.unique(codes[beyond]).tolist():
            keep[codes == code] = not _NOT_TEXT.fullmatch(chr(code))
    return keep


#: ``_letters``' table of the Basic Multilingual Plane (made on first use)
_LETTER_TABLE: Any = None


def _band_keys(np: Any, bins: Any) -> tuple[Any, Any]:
    """``Signature.band_keys`` of every row of ``bins`` (posts × bins, int64): the key of each
    band, and whether the band has a filled bin (only those are keys)."""
    rows = [bins[:, r::ROWS] for r in range(ROWS)]
    band = np.broadcast_to(np.arange(BANDS, dtype=np.uint64), rows[0].shape)
    acc = _tuple_hashes(np, [band, *(_int_hashes(np, row) for row in rows)])
    keys = (acc & np.uint64(0xFFFFFFFF)).astype(np.int64) - 0x80000000
    return keys, np.logical_or.reduce([row != 0 for row in rows])


def _int_hashes(np: Any, values: Any) -> Any:
    """CPython's ``hash`` of each int64 of ``values`` (the magnitude modulo 2**61 - 1, signed;
    -1 becomes -2), as the uint64 a tuple hash adds up."""
    negative = values < 0
    raw = values.view(np.uint64)
    magnitude = np.where(negative, ~raw + np.uint64(1), raw)  # (-2**63 too)
    hashed = (magnitude % np.uint64(_HASH_MODULUS)).astype(np.int64)
    hashed = np.where(negative, -hashed, hashed)
    hashed[hashed == -1] = -2
    return hashed.view(np.uint64)


#: CPython's modulus for hashing numbers (``sys.hash_info.modulus`` on 64-bit builds)
_HASH_MODULUS = (1 << 61) - 1


def _tuple_hashes(np: Any, lanes: list[Any]) -> Any:
    """CPython's hash of tuples (Objects/tupleobject.c, 64-bit builds), one per position of the
    ``lanes`` (uint64 arrays of one shape: the hashes of the tuples' items), as uint64."""
    acc = np.full(lanes[0].shape, _XX5, dtype=np.uint64)
    for lane in lanes:
        acc += lane * _XX2
        acc = (acc << np.uint64(31)) | (acc >> np.uint64(33))
        acc *= _XX1
    acc += np.uint64(len(lanes)) ^ _XX5 ^ np.uint64(3527539)
    acc[acc == np.uint64(0xFFFFFFFFFFFFFFFF)] = np.uint64(1546275796)
    return acc


#: xxHash's primes, as CPython's tuple hash uses them (set as numpy scalars by ``_numpy``)
_XX1: Any = 11400714785074694791
_XX2: Any = 14029467366897019727
_XX5: Any = 2870177450012600261
_np_module: Any = False


def _numpy() -> Any:
    """numpy, if it is installed and this Python hashes as ``folded_signatures`` computes
    (64-bit CPython 3.8 and after: checked on a probe tuple); else None."""
    global _np_module, _XX1, _XX2, _XX5
    if _np_module is False:
        _np_module = None
        try:
            import numpy
        except ImportError:
            return None
        if sys.hash_info.width != 64 or sys.hash_info.modulus != _HASH_MODULUS:
            return None
        _XX1, _XX2, _XX5 = (numpy.uint64(x) for x in (_XX1, _XX2, _XX5))
        probe = (0x4E2D, 0x56FD, 0x4EBA)
        lanes = [numpy.array([lane], dtype=numpy.uint64) for lane in probe]
        if int(_tuple_hashes(numpy, lanes).view(numpy.int64)[0]) == hash(probe):
            _np_module = numpy
    return _np_module


class KeyFilter:
    """Band keys an import has seen, as a bitmap (``2**bits`` bits): ``may_have`` says *no* for
    sure, so a post none of whose keys is set needs no index lookup (most posts: at 100,000
    posts 95 % of lookups are skipped, at 1,000,000 about 60 %). Keys are already hashes: their
    low bits are the bit numbers. False positives only cost the lookup the filter would save."""

    def __init__(self, bits: int = 27):
        self._mask = (1 << bits) - 1
        self._bits = bytearray(1 << max(0, bits - 3))

    def add(self, keys: Iterable[int]) -> None:
        bits, mask = self._bits, self._mask
        for key in keys:
            h = key & mask
            bits[h >> 3] |= 1 << (h & 7)

    def may_have(self, keys: Iterable[int]) -> bool:
        bits, mask = self._bits, self._mask
        for key in keys:
            h = key & mask
            if bits[h >> 3] >> (h & 7) & 1:
                return True
        return False


@dataclass(frozen=True)
class Similarity:
    """How alike two posts are.

    ``text``: estimated Jaccard similarity of their shingles; or, when they share whole
    paragraphs but start differently, the similarity of what they do not share (see
    ``text_similarity``); ``numbers``: share of numbers in common; ``score`` = text × numbers.
    """

    text: float
    numbers: float

    @property
    def score(self) -> float:
        return self.text * self.numbers


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity: of the ``SKETCH`` smallest hashes of the union, the share
    present in both sketches (exact when both texts have at most ``SKETCH`` shingles)."""
    if not a.sketch or not b.sketch:  # (an empty signature, quicker than ``empty``)
        return 0.0
    both = set(a.sketch).intersection(b.sketch)
    if not both:
        return 0.0
    union = sorted(both.union(a.sketch, b.sketch))[:SKETCH]
    return len(both.intersection(union)) / len(union)


def text_similarity(a: Signature, b: Signature) -> float:
    """Jaccard similarity, except for posts that share whole paragraphs but start differently.

    Two different digests under one disclaimer share exactly that paragraph; two copies of an
    article share their lead. So when the first paragraphs differ, whole paragraphs both posts
    have are set aside and the rest is compared (from the counts: the shared paragraphs' shingles
    are in the intersection and the union) -- unless one post is nothing but shared paragraphs
    (a copy with a paragraph added).
    """
    j = jaccard(a, b)
    if not a.parts or not b.parts or a.parts[0][0] == b.parts[0][0]:
        return j
    shared = {k for k, _ in a.parts} & {k for k, _ in b.parts}
    if not shared:
        return j
    mass = sum(n for k, n in dict(a.parts).items() if k in shared)
    if min(a.size, b.size) - mass < SHINGLE:
        return j
    inter = j * (a.size + b.size) / (1 + j)
    union = a.size + b.size - inter
    return max(0.0, inter - mass) / max(1.0, union - mass)


def number_agreement(a: Signature, b: Signature) -> float:
    """Share of the numbers of the post with fewer numbers that the other has (1 if none)."""
    if not a.numbers or not b.numbers:
        return 1.0
    common = len(set(a.numbers) & set(b.numbers))
    return common / min(len(a.numbers), len(b.numbers))


def similarity(a: Signature, b: Signature) -> Similarity:
    return Similarity(text=text_similarity(a, b), numbers=number_agreement(a, b))


def same_story(a: Signature, b: Signature, threshold: float = DEFAULT_THRESHOLD) -> bool:
    return similarity(a, b).score >= threshold


@dataclass(frozen=True)
class Match:
    """A candidate post and its similarity to the post being placed."""

    post: int
    similarity: Similarity


def plausible(
    stored: Iterable[tuple[int, bytes]], sig: Signature, threshold: float
) -> Iterator[tuple[int, Signature]]:
    """The stored candidates (post, ``to_bytes``) that can score ``threshold`` against ``sig``,
    decoded. A much shorter or longer text is left out (the true Jaccard similarity is at most
    the ratio of the two shingle counts, whatever the sketches estimate), and so is one whose
    sketch shares too little: the score is at most the estimated Jaccard similarity
    (``text_similarity`` is never above it), which is at most the share of shared hashes among
    the sketches' union. Both from the header and sketch alone."""
    mine = set(sig.sketch)
    head, sketches, my_size = _HEAD.unpack_from, _SKETCH_STRUCTS, sig.size
    for post, data in stored:
        _, n_sketch, _, _, size = head(data)
        if min(size, my_size) < threshold * max(size, my_size):
            continue
        sketch = sketches[n_sketch].unpack_from(data, _HEAD.size)
        shared = len(mine.intersection(sketch))
        if not shared:  # most candidates (the threshold is above 0)
            continue
        # of the union's SKETCH smallest hashes (``jaccard``), at most ``shared`` are in both
        if shared / min(SKETCH, len(mine) + len(set(sketch)) - shared) < threshold:
            continue
        yield post, Signature.from_bytes(data)


def best_match(
    candidates: Iterable[tuple[int, Signature]], sig: Signature, threshold: float
) -> Match | None:
    """The most similar candidate at or above ``threshold`` (ties: the earliest post)."""
    best: Match | None = None
    for post, other in candidates:
        text = text_similarity(sig, other)
        if text < threshold:  # the score is at most the text similarity: most candidates
            continue
        sim = Similarity(text=text, numbers=number_agreement(sig, other))
        if sim.score < threshold:
            continue
        if best is None or (sim.score, -post) > (best.similarity.score, -best.post):
            best = Match(post, sim)
    return best


class StoryIndex:
    """Grouping in memory: the algorithm the store runs with SQL tables.

    ``add`` places one post (ids ascending in import order) and returns its story id;
    ``rebuild`` groups a whole archive again, as ``maintenance`` will.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD):
        self.threshold = validate_threshold(threshold)
        self.signatures: dict[int, Signature] = {}
        self.story: dict[int, int] = {}
        self.bands: dict[int, list[int]] = {}
        self.contexts: dict[int, set[int]] = {}

    @classmethod
    def rebuild(
        cls, posts: Iterable[tuple[int, str]], threshold: float = DEFAULT_THRESHOLD
    ) -> StoryIndex:
        """Group ``(post id, text)`` pairs from scratch in two passes: first every paragraph's
        contexts are counted, then the posts are placed in id order -- so the first posts
        under a disclaimer are judged with the disclaimer already known as boilerplate."""
        index = cls(threshold)
        posts = sorted(posts)
        for _, text in posts:
            index.learn(signature(text))
        for post, text in posts:
            index.add(post, text, learn=False)
        return index

    def boilerplate(self, sig: Signature) -> set[int]:
        """Paragraph fingerprints of ``sig`` already seen beside enough different contents."""
        return {
            key
            for key, _ in sig.contexts
            if len(self.contexts.get(key, ())) >= BOILERPLATE_CONTEXTS
        }

    def learn(self, sig: Signature) -> None:
        """Count the contexts of ``sig``'s paragraphs (no more than the rule needs)."""
        for key, rest in sig.contexts:
            seen = self.contexts.setdefault(key, set())
            if len(seen) < BOILERPLATE_CONTEXTS:
                seen.add(rest)

    def candidates(self, sig: Signature) -> set[int]:
        return {post for key in sig.band_keys() for post in self.bands.get(key, ())}

    def add(self, post: int, text: str, sig: Signature | None = None, learn: bool = True) -> int:
        sig = signature(text) if sig is None else sig
        learnt = self.boilerplate(sig)
        if learnt:
            sig = signature(text, skip=learnt)
        if learn:
            self.learn(sig)
        match = best_match(
            ((p, self.signatures[p]) for p in sorted(self.candidates(sig))), sig, self.threshold
        )
        story = self.story[match.post] if match else post
        self.signatures[post] = sig
        self.story[post] = story
        if not sig.empty:
            for key in sig.band_keys():
                self.bands.setdefault(key, []).append(post)
        return story


@dataclass(frozen=True)
class PairQuality:
    """Pairwise quality of a grouping against labels: of the pairs put in one story
    (``predicted``), how many share a label (``correct``); ``true`` pairs share a label."""

    predicted: int
    true: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true if self.true else 1.0


def pair_quality(story: dict[str, int], label: dict[str, str]) -> PairQuality:
    """Compare a grouping (item → story id) with labels (item → story label)."""

    def pairs(groups: dict[str, object]) -> set[tuple[str, str]]:
        members: dict[object, list[str]] = {}
        for item, group in groups.items():
            members.setdefault(group, []).append(item)
        return {(a, b) for m in members.values() for a in m for b in m if a < b}

    predicted = pairs(dict(story))
    true = pairs(dict(label))
    return PairQuality(len(predicted), len(true), len(predicted & true))
