#!/usr/bin/env python3
"""Grow N synthetic Jekyll news posts from the real corpus, deterministically, for benchmarks.

    python bench/generate.py 100000 /tmp/gen100k [--seed 1] [--corpus PATH]

Every post is recombined from real material of the same kind found in the corpus (default
``tests/corpus/posts``, real posts vendored in the repository): real titles (sometimes spliced
with a fragment of another), real paragraphs, real trailing-link and back-link shapes, with a new
unique id and a date spread over 2021-06-01 … 2022-12-31. Kinds, in about these proportions:

- 85 % ``emnews``: short Markdown posts (1–3 plain paragraphs, ``<http://…eastmoney.com/news/…>``)
- 10 % media posts: ``<p>`` paragraphs, ``<strong>`` sub-headings, ``（文章来源：<outlet>）``,
  ``categories: <pinyin of outlet>`` / ``tags: <outlet>新闻``, ``NewsShare.html?infoCode=NW…``
- 5 % long eastmoney HTML articles: ``> `` digest, spans/links, stock charts, ``<center><img>``

About 1 % are odd cases seen in the wild: empty title, a blank line before the opening ``---``,
CRLF line ends, a title with curly quotes, an empty ``<>`` link.

Output goes to ``OUTDIR/YYYY-MM/YYYY-MM-DD-<id>.md``; a month that would hold more than 1,000
files is split into ``OUTDIR/YYYY-MM/000/``, ``001/`` … of 1,000 files each. Posts are streamed
(nothing but a few counters is kept per post), so a million posts is fine.

``--text words`` makes text that never recurs: every run of Chinese characters in titles,
paragraphs, sub-headings and captions is replaced by words drawn by frequency from jieba's word
list (``pip install '.[bench]'``), as many characters as it had; markup, numbers, punctuation,
links, outlets and back-links stay. The default, ``--text paragraphs``, recombines ~150 real
paragraphs, so every paragraph recurs thousands of times: compression and index sizes measured
on it are flattered.

Importable: ``from generate import generate`` (with bench/ on sys.path) →
``generate(n, outdir, seed=1, corpus=None, text="paragraphs") -> dict`` of stats.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import html
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CORPUS = REPO / "tests" / "corpus" / "posts"

#: file (in OUTDIR) listing each post's true story: ``path<TAB>story label``
LABELS = ".stories.tsv"

#: at most this many files in one folder; a bigger month gets numbered shard subfolders
FOLDER_LIMIT = 1000

#: (kind, weight)
KIND_WEIGHTS = (("emnews", 85), ("media", 10), ("emhtml", 5))

START = dt.datetime(2021, 6, 1)
END = dt.datetime(2023, 1, 1)  # exclusive: dates run to 2022-12-31 23:59:59
SPAN_SECONDS = int((END - START).total_seconds())
NO_OFFSET_SHARE = 0.30  # dates written without " +0800"

#: share of short (emnews) posts that are a copy of a recent one: another outlet's version,
#: a rolling update, a Hong Kong edition (1–3 edits of tests/stories/make_copies.py's Copier)
COPY_SHARE = 0.15
#: copies are made of the last this many original short posts
RECENT = 500
#: a stand-alone paragraph is spliced from runs of this many characters of random real
#: paragraphs, with every figure redrawn: the corpus has few paragraphs, and posts that repeat
#: one verbatim (or one long sentence) would all be one story
SPLICE = (6, 18)
#: the copy edits, as (Copier method, applies to the title)
COPY_EDITS = (
    "resource", "drop_sentence", "truncate", "relead", "add_sentence", "swap_words",
    "hong_kong", "full_width",
)  # fmt: skip

#: share of posts that get one odd case (split evenly over ODD_CASES)
ODD_SHARE = 0.01
ODD_CASES = ("empty_title", "blank_before_fm", "crlf", "curly_title", "empty_link")

#: Plausible outlets besides those found in the corpus, and the site's slug (pinyin) for each
#: outlet; corpus outlets without a known slug are left out (the site names categories by pinyin).
EXTRA_OUTLETS = (
    "中国经营网",
    "上海证券报",
    "证券时报",
    "财联社",
    "界面新闻",
    "中国证券报",
    "每日经济新闻",
)
OUTLET_SLUGS = {
    "中国经营网": "zhongguojingyingwang",
    "上海证券报": "shanghaizhengquanbao",
    "证券时报": "zhengquanshibao",
    "证券时报网": "zhengquanshibaowang",
    "财联社": "cailianshe",
    "界面新闻": "jiemianxinwen",
    "中国证券报": "zhongguozhengquanbao",
    "每日经济新闻": "meirijingjixinwen",
    "央视新闻": "yangshixinwen",
    "e公司": "egongsi",
    "中国基金报": "zhongguojijinbao",
    "中新网": "zhongxinwang",
    "发改委网站": "fagaiweiwangzhan",
    "天天基金网": "tiantianjijinwang",
    "新华社": "xinhuashe",
    "澎湃新闻": "pengpaixinwen",
    "东方财富Choice数据": "dongfangcaifuchoiceshuju",
    "21世纪经济报道": "21shijijingjibaodao",
    "第一财经": "diyicaijing",
    "经济观察网": "jingjiguanchawang",
}

# Real shapes (see the corpus README and 000_da33c2ea1906ec2c.txt)
MEDIA_LINK = "<http://finews.zning.xyz/html_News/NewsShare.html?infoCode={id}>"
MEDIA_BACKLINKS = (
    "[返回{tag}](//finews.withounder.com/category/{slug}.html)"
    "｜[返回首页](//finews.withounder.com/)"
)
EMHTML_BACKLINKS = (
    "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)"
)

_FM = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*\n?(.*)\Z", re.S)
_KEY = re.compile(r"^([A-Za-z_]\w*)\s*:\s*(.*?)\s*$", re.M)
_EM_LINK = re.compile(r"^<(https?://[^/<>\s]+/news/\d+),\d+\.html>$")
_AUTOLINK = re.compile(r"^<[^<>\s]*>$")
_BACKLINK_LINE = re.compile(r"^\[返回")
_HTML_TOKEN = re.compile(
    r"<!-- EM_StockImg_Start -->.*?<!-- EM_StockImg_End -->|<center>.*?</center>|<p\b[^>]*>.*?</p>",
    re.S,
)
_SOURCE = re.compile(r"（文章来源：(.*?)）")
_TRAILING_SOURCE = re.compile(r"[（(]([^（）()\n]{2,16})[）)]\s*$")
_NOT_SOURCE = re.compile(r"[\d，。、：:；;,.!?！？%/]")
_TAGS = re.compile(r"<[^>]*>")
_PLAIN_P = re.compile(r"^(<p[^>]*>)([^<>]{20,})(</p>)$")
_FIGURE = re.compile(r"\d+")
_TITLE_SEP = re.compile(r"[ ：:！？｜，]")
_IMG_NUMBER = re.compile(r"/D(\d{10,})_")
#: a run of Chinese characters (CJK unified ideographs), what ``--text words`` replaces
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_HAN_WORD = re.compile(r"[\u4e00-\u9fff]+\Z")
TEXT_MODES = ("paragraphs", "words")


class WordSource:
    """Chinese words drawn by frequency from jieba's dictionary (``jieba/dict.txt``: word,
    frequency, part of speech), only words made wholly of Chinese characters."""

    def __init__(self, rng: random.Random) -> None:
        import importlib.util

        spec = importlib.util.find_spec("jieba")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("generate: --text words needs jieba (pip install '.[bench]')")
        path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
        words: list[str] = []
        freqs: list[int] = []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                parts = line.split(" ")
                if len(parts) >= 2 and _HAN_WORD.match(parts[0]) and parts[1].isdigit():
                    words.append(parts[0])
                    freqs.append(int(parts[1]))
        if not words:
            raise SystemExit(f"generate: no words in {path}")
        # Drawing by bisecting 350,000 cumulative weights is slow in Python; instead a table
        # of TABLE slots holds each word floor(freq * TABLE / total) times, and the fractions
        # left over (the rare words' whole weight) are drawn by bisecting: exact, and fast.
        total = sum(freqs)
        table: list[str] = []
        rest: list[str] = []
        rest_cum: list[float] = []
        left = 0.0
        for word, freq in zip(words, freqs, strict=True):
            share = freq * self.TABLE / total
            slots = int(share)
            table.extend([word] * slots)
            if share > slots:
                left += share - slots
                rest.append(word)
                rest_cum.append(left)
        self.table, self.rest, self.rest_cum = table, rest, rest_cum
        self.rng = rng

    #: slots in the lookup table (a power of two: one ``getrandbits`` draws a slot)
    TABLE = 1 << 20

    def word(self) -> str:
        """One word, drawn by frequency."""
        slot = self.rng.getrandbits(20)
        if slot < len(self.table):
            return self.table[slot]
        left = self.rest_cum[-1]
        at = bisect.bisect(self.rest_cum, self.rng.random() * left)
        return self.rest[min(at, len(self.rest) - 1)]

    def draw(self, chars: int) -> str:
        """Words, drawn by frequency, cut to exactly ``chars`` characters."""
        out: list[str] = []
        n = 0
        while n < chars:
            word = self.word()
            out.append(word)
            n += len(word)
        return "".join(out)[:chars]

    def replace(self, text: str) -> str:
        """``text`` with every run of Chinese characters replaced by drawn words."""
        return _HAN_RUN.sub(lambda m: self.draw(len(m.group())), text)


@dataclass
class Material:
    """Real material harvested from the corpus, in sorted-file order (deterministic)."""

    titles: list[str] = field(default_factory=list)
    md_paragraphs: list[str] = field(default_factory=list)
    md_links: list[str] = field(default_factory=list)  # "http://host/news/1354" (one per real post)
    md_trailers: list[str] = field(default_factory=list)  # text after the link line ("" = none)
    media_paragraphs: list[str] = field(default_factory=list)
    media_headings: list[str] = field(default_factory=list)
    em_paragraphs: list[str] = field(default_factory=list)
    em_headings: list[str] = field(default_factory=list)
    em_images: list[str] = field(default_factory=list)
    em_captions: list[str] = field(default_factory=list)
    em_charts: list[str] = field(default_factory=list)  # hidden <p> + stock chart block
    em_sources: dict[str, str] = field(
        default_factory=dict
    )  # outlet → real source <p> (with spans)
    outlets: list[str] = field(default_factory=list)  # one entry per occurrence (→ weights)
    posts: dict[str, int] = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)


def _front_matter(text: str) -> tuple[dict[str, str], str] | None:
    m = _FM.match(text)
    if not m:
        return None
    return {k: v for k, v in _KEY.findall(m.group(1))}, m.group(2)


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _add_outlet(mat: Material, name: str) -> None:
    name = name.strip()
    if name in OUTLET_SLUGS:
        mat.outlets.append(name)


def load_material(corpus: Path) -> Material:
    mat = Material()
    files = sorted(p for p in corpus.iterdir() if p.is_file())
    if not files:
        raise SystemExit(f"generate: no posts in corpus {corpus}")
    for path in files:
        raw = path.read_bytes()
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
        parsed = _front_matter(text)
        if parsed is None:
            continue
        fm, body = parsed
        mat.sizes.append(len(raw))
        title = _unquote(fm.get("title", ""))
        category = fm.get("categories", "")
        is_html = "<p" in body
        if category == "emnews" and not is_html:
            kind = "emnews"
            _harvest_markdown(mat, body)
        elif category == "emnews":
            kind = "emhtml"
            _harvest_emhtml(mat, body)
        elif is_html:
            kind = "media"
            _harvest_media(mat, body)
        else:
            mat.posts["other"] = mat.posts.get("other", 0) + 1
            continue  # e.g. the site notice
        mat.posts[kind] = mat.posts.get(kind, 0) + 1
        if title and title not in mat.titles:
            mat.titles.append(title)
    for name in EXTRA_OUTLETS:
        mat.outlets.append(name)
    missing = [k for k, n in (("titles", mat.titles), ("paragraphs", mat.md_paragraphs)) if not n]
    if missing:
        raise SystemExit(f"generate: corpus {corpus} has no emnews {' or '.join(missing)}")
    return mat


def _harvest_markdown(mat: Material, body: str) -> None:
    blocks = [b.strip("\n") for b in re.split(r"\n[ \t]*\n", body.strip("\n"))]
    link_at = next((i for i, b in enumerate(blocks) if _AUTOLINK.match(b.strip())), None)
    paragraphs = blocks if link_at is None else blocks[:link_at]
    for p in paragraphs:
        if p.strip() and not _BACKLINK_LINE.match(p) and p not in mat.md_paragraphs:
            mat.md_paragraphs.append(p)
            src = _TRAILING_SOURCE.search(p)
            if src and not _NOT_SOURCE.search(src.group(1)):
                _add_outlet(mat, src.group(1))
    if link_at is not None:
        m = _EM_LINK.match(blocks[link_at].strip())
        if m:
            mat.md_links.append(m.group(1))
        tail = [b for b in blocks[link_at + 1 :] if _BACKLINK_LINE.match(b)]
        mat.md_trailers.append("\n\n".join(tail))


def _harvest_media(mat: Material, body: str) -> None:
    for line in body.split("\n"):
        for token in _HTML_TOKEN.findall(line.strip()):
            src = _SOURCE.search(token)
            if src:
                _add_outlet(mat, _TAGS.sub("", src.group(1)))
            elif "<strong>" in token and _TAGS.sub("", token).strip() == _strong_text(token):
                mat.media_headings.append(token)
            else:
                mat.media_paragraphs.append(token)


def _strong_text(token: str) -> str:
    m = re.search(r"<strong>(.*?)</strong>", token)
    return m.group(1).strip() if m else ""


def _harvest_emhtml(mat: Material, body: str) -> None:
    pending_hidden = ""
    for token in _HTML_TOKEN.findall(body):
        if "display:none" in token:
            pending_hidden = token
        elif token.startswith("<!-- EM_StockImg_Start"):
            mat.em_charts.append(pending_hidden + token)
            pending_hidden = ""
        elif token.startswith("<center>"):
            mat.em_images.append(token)
        elif 'class="em_media"' in token:
            src = _SOURCE.search(token)
            if src:
                outlet = _TAGS.sub("", src.group(1)).strip()
                _add_outlet(mat, outlet)
                mat.em_sources[outlet] = token
        elif token.startswith('<p style="text-align:center;">'):
            mat.em_captions.append(token)
        elif "<strong>" in token and _TAGS.sub("", token).strip() == _strong_text(token):
            mat.em_headings.append(token)
        else:
            mat.em_paragraphs.append(token)


# -- building posts -------------------------------------------------------------------------------


class Builder:
    def __init__(self, mat: Material, rng: random.Random, words: WordSource | None = None) -> None:
        self.mat = mat
        self.rng = rng
        self.words = words
        kinds = [(k, w) for k, w in KIND_WEIGHTS if k == "emnews" or self._has(k)]
        self.kinds = [k for k, _ in kinds]
        self.kind_cum = _cumulative([w for _, w in kinds])
        self.outlets = sorted(set(mat.outlets))
        counts = [mat.outlets.count(o) for o in self.outlets]
        self.outlet_cum = _cumulative(counts)
        self.html_paragraphs = mat.media_paragraphs + mat.em_paragraphs
        self._copier = None

    def _has(self, kind: str) -> bool:
        if kind == "media":
            return bool(self.mat.media_paragraphs)
        return bool(self.mat.em_paragraphs)

    def fresh(self, text: str) -> str:
        """Real material as is, or (``--text words``) with its Chinese text drawn anew."""
        return self.words.replace(text) if self.words is not None else text

    def pick_kind(self) -> str:
        return self.rng.choices(self.kinds, cum_weights=self.kind_cum)[0]

    def outlet(self) -> str:
        return self.rng.choices(self.outlets, cum_weights=self.outlet_cum)[0]

    def title(self) -> str:
        rng, titles = self.rng, self.mat.titles
        title = rng.choice(titles)
        if rng.random() < 0.3:
            other = [f for f in _TITLE_SEP.split(rng.choice(titles)) if len(f) >= 2]
            if other:
                frag = rng.choice(other)
                if frag not in title:
                    parts = title.split(" ")
                    if len(parts) > 1 and (rng.random() < 0.5 or len(title) + len(frag) > 40):
                        parts[-1] = frag  # replace the last fragment
                        title = " ".join(parts)
                    else:
                        title = f"{title} {frag}"
        return self.fresh(title)

    def n_paragraphs(self, mean_extra: float, limit: int) -> int:
        return max(1, min(limit, 1 + int(self.rng.expovariate(1.0 / mean_extra))))

    # -- kinds

    def renumber(self, text: str) -> str:
        """Every figure redrawn (same number of digits): another day's report."""
        rng = self.rng
        return _FIGURE.sub(
            lambda m: str(rng.randrange(10 ** (len(m.group()) - 1), 10 ** len(m.group())))
            if len(m.group()) > 1 else str(rng.randrange(10)),
            text,
        )  # fmt: skip

    def fresh_text(self, length: int) -> str:
        """About ``length`` characters no other post has: runs of real paragraphs, renumbered."""
        rng, pool = self.rng, self.mat.md_paragraphs
        out: list[str] = []
        size = 0
        while size < length:
            source = rng.choice(pool).split("\n")[0]
            n = rng.randint(*SPLICE)
            start = rng.randrange(max(1, len(source) - n))
            run = source[start : start + n].strip("，。；：、 ")
            out.append(run + rng.choice("，，，。"))
            size += len(out[-1])
        return self.renumber("".join(out)[:-1] + "。")

    def fresh_paragraph(self) -> str:
        """A paragraph as long as a real one, that no other post has (see ``fresh_text``;
        with ``--text words``, its Chinese text drawn anew as well)."""
        return self.fresh(
            self.fresh_text(len(self.rng.choice(self.mat.md_paragraphs).split("\n")[0]))
        )

    def fresh_html(self, token: str) -> str:
        """An HTML paragraph with its plain text made afresh (tags and markup kept)."""
        m = _PLAIN_P.match(token)
        if m is None:
            return self.fresh(token)
        text = self.fresh(self.fresh_text(len(m.group(2))))
        return m.group(1) + html.escape(text, False) + m.group(3)

    def emnews_paragraphs(self) -> list[str]:
        r = self.rng.random()
        k = 1 if r < 0.94 else 2 if r < 0.995 else 3
        return [self.fresh_paragraph() for _ in range(k)]

    def copy_of(self, title: str, paragraphs: list[str]) -> tuple[str, list[str]]:
        """A copy of a post: retitled (mostly) and 1–3 edits of its text."""
        copier, rng = self.copier, self.rng
        edits = rng.sample(COPY_EDITS, rng.randint(1, 3))
        out = []
        for paragraph in paragraphs:
            for edit in edits:
                paragraph = getattr(copier, edit)(paragraph)
            out.append(paragraph)
        if rng.random() < 0.8:
            title = copier.retitle(title)
        return title, out

    def emnews(self, post_id: str, odd: str | None, paragraphs: list[str] | None = None) -> str:
        rng, mat = self.rng, self.mat
        body = "\n\n".join(paragraphs or self.emnews_paragraphs())
        link = (
            "<>"
            if odd == "empty_link" or not mat.md_links
            else (f"<{rng.choice(mat.md_links)},{post_id}.html>")
        )
        trailer = rng.choice(mat.md_trailers) if mat.md_trailers else ""
        out = f"{body}\n\n{link}"
        return f"{out}\n\n{trailer}" if trailer else out

    @property
    def copier(self):
        if self._copier is None:
            sys.path.insert(0, str(REPO / "tests" / "stories"))
            from make_copies import Copier

            self._copier = Copier(seed=self.rng.getrandbits(32))
        return self._copier

    def media(self, post_id: str, odd: str | None) -> tuple[str, str, str]:
        rng, mat = self.rng, self.mat
        outlet = self.outlet()
        n = self.n_paragraphs(2.8, 40)
        paras = [
            self.fresh_html(
                rng.choice(
                    mat.media_paragraphs
                    if rng.random() < 0.75 or not mat.em_paragraphs
                    else mat.em_paragraphs
                )
            )
            for _ in range(n)
        ]
        items: list[str] = []
        for i, p in enumerate(paras):
            if i >= 2 and mat.media_headings and rng.random() < 0.15:
                items.append(self.fresh(rng.choice(mat.media_headings)))
            if i >= 1 and mat.em_images and rng.random() < 0.04:
                items.append(self.image())
            items.append(p)
        items[-1] += f'<p class="em_media">（文章来源：{outlet}）</p>'
        body = "\n ".join(items)
        link = "<>" if odd == "empty_link" else MEDIA_LINK.format(id=post_id)
        out = f"{body}\n\n{link}"
        if rng.random() < 0.85:
            out += "\n\n" + MEDIA_BACKLINKS.format(tag=_tag(outlet), slug=OUTLET_SLUGS[outlet])
        return out, OUTLET_SLUGS[outlet], _tag(outlet)

    def emhtml(self, post_id: str, odd: str | None) -> str:
        rng, mat = self.rng, self.mat
        outlet = self.outlet()
        n = self.n_paragraphs(1.3, 40)
        paras = [
            self.fresh_html(
                rng.choice(
                    mat.em_paragraphs
                    if rng.random() < 0.75 or not mat.media_paragraphs
                    else mat.media_paragraphs
                )
            )
            for _ in range(n)
        ]
        items: list[str] = []
        if mat.em_charts and rng.random() < 0.3:
            items.append(rng.choice(mat.em_charts))
        for i, p in enumerate(paras):
            if i >= 1 and mat.em_headings and rng.random() < 0.2:
                items.append(self.fresh(rng.choice(mat.em_headings)))
            if i >= 1 and mat.em_images and rng.random() < 0.15:
                items.append(self.image())
                if mat.em_captions and rng.random() < 0.3:
                    items.append(self.fresh(rng.choice(mat.em_captions)))
            items.append(p)
        items.append(
            mat.em_sources.get(outlet) or f'<p class="em_media">（文章来源：{outlet}）</p>'
        )
        digest = _digest(paras[0])
        if digest:
            digest = f"> {digest}（{outlet}）\n\n"
        if odd == "empty_link" or not mat.md_links or rng.random() < 0.2:
            link = "<>"  # as in the real article
        else:
            link = f"<{rng.choice(mat.md_links)},{post_id}.html>"
        out = f"{digest}{''.join(items)}\n\n{link}"
        if rng.random() < 0.85:
            out += "\n\n" + EMHTML_BACKLINKS
        return out

    def image(self) -> str:
        tag = self.rng.choice(self.mat.em_images)
        number = f"D{self.rng.randrange(10**19, 10**20)}_"
        return _IMG_NUMBER.sub(lambda m: "/" + number, tag, count=1)


def _tag(outlet: str) -> str:
    """``tags: <outlet>新闻`` as on the site, without doubling an outlet named …新闻."""
    return outlet if outlet.endswith("新闻") else f"{outlet}新闻"


def _digest(paragraph: str) -> str:
    """A ``> `` digest line from a paragraph's text: its first sentences, up to ~120 chars."""
    text = html.unescape(_TAGS.sub("", paragraph)).strip()
    if len(text) <= 120:
        return text
    cut = text.find("。", 40, 120)
    return text[: cut + 1] if cut >= 0 else text[:120]


def _cumulative(weights: list[int]) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


def _curly(title: str, rng: random.Random) -> str:
    if "“" in title or not title:
        return title
    parts = [p for p in _TITLE_SEP.split(title) if len(p) >= 2]
    frag = rng.choice(parts) if parts else title
    return title.replace(frag, f"“{frag}”", 1)


# -- ids, dates, folders ---------------------------------------------------------------------------

#: 10-digit id tails grow with the date like the real ones (2206… on 2021-12-08, 2337… on
#: 2022-04-09, 2391… on 2022-05-26): base + day * PER_DAY + a per-day permuted counter
TAIL_BASE = 1_995_000_000
PER_DAY = 1_100_000
TAIL_MULT = 1_594_323  # 3**13, coprime to PER_DAY, so counter → slot is a bijection per day
DAY_SHIFT = 389_713  # so that each day's first slot differs


def _dates(seed: int, n: int):
    rng = random.Random(seed)
    for _ in range(n):
        yield rng.randrange(SPAN_SECONDS)


def generate(
    n: int,
    outdir: str | os.PathLike,
    seed: int = 1,
    corpus: str | os.PathLike | None = None,
    text: str = "paragraphs",
) -> dict:
    """Write ``n`` posts under ``outdir`` (which must not exist or be empty); return stats.
    ``text``: ``"paragraphs"`` (real paragraphs, recurring) or ``"words"`` (never recurring)."""
    if text not in TEXT_MODES:
        raise ValueError(f"text must be one of {', '.join(TEXT_MODES)}, not {text!r}")
    mode = text
    started = time.perf_counter()
    corpus_path = Path(corpus) if corpus is not None else DEFAULT_CORPUS
    if not corpus_path.is_dir():
        raise SystemExit(f"generate: corpus folder not found: {corpus_path}")
    out = Path(outdir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"generate: output folder is not empty: {out}")
    out.mkdir(parents=True, exist_ok=True)
    mat = load_material(corpus_path)

    master = random.Random(seed)
    date_seed = master.getrandbits(64)
    content_seed = master.getrandbits(64)
    tail_offset = master.randrange(PER_DAY)
    # drawn last and from its own generator, so the paragraphs mode writes what it always did
    words = WordSource(random.Random(master.getrandbits(64))) if mode == "words" else None

    # pass 1: how many posts each month gets (decides which months are sharded)
    month_total: dict[tuple[int, int], int] = {}
    for sec in _dates(date_seed, n):
        d = START + dt.timedelta(seconds=sec)
        key = (d.year, d.month)
        month_total[key] = month_total.get(key, 0) + 1

    rng = random.Random(content_seed)
    builder = Builder(mat, rng, words)
    month_seen: dict[tuple[int, int], int] = {}
    day_seen: dict[int, int] = {}
    made_dirs: set[str] = set()
    kinds = {k: 0 for k, _ in KIND_WEIGHTS}
    odd_counts = {k: 0 for k in ODD_CASES}
    total_bytes = 0
    # (story label, title, paragraphs) of recent original short posts, to copy
    recent: list[tuple[str, str, list[str]]] = []
    copies = 0
    # the true stories, for bench/run.py's grouping report (a dot file: import skips it)
    labels = open(out / LABELS, "w", encoding="utf-8")  # noqa: SIM115
    for sec in _dates(date_seed, n):
        d = START + dt.timedelta(seconds=sec)
        day = sec // 86400
        ymd = f"{d.year:04d}{d.month:02d}{d.day:02d}"
        counter = day_seen.get(day, 0)
        day_seen[day] = counter + 1
        slot = (counter * TAIL_MULT + tail_offset + day * DAY_SHIFT) % PER_DAY
        tail = TAIL_BASE + day * PER_DAY + slot
        kind = builder.pick_kind()
        odd = rng.choice(ODD_CASES) if rng.random() < ODD_SHARE else None
        post_id = f"{ymd}{tail}"
        story = post_id
        title = None
        if kind == "media":
            post_id = story = "NW" + post_id
            body, category, tag = builder.media(post_id, odd)
        elif kind == "emnews":
            if recent and rng.random() < COPY_SHARE:
                story, original_title, paragraphs = rng.choice(recent)
                title, paragraphs = builder.copy_of(original_title, paragraphs)
                copies += 1
            else:
                paragraphs = builder.emnews_paragraphs()
                title = builder.title()
                recent.append((story, title, paragraphs))
                if len(recent) > RECENT:
                    recent.pop(rng.randrange(len(recent)))
            body = builder.emnews(post_id, odd, paragraphs)
            category, tag = "emnews", "东财滚动新闻"
        else:
            body = builder.emhtml(post_id, odd)
            category, tag = "emnews", "东财滚动新闻"
        if title is None:
            title = builder.title()
        if odd == "empty_title":
            title = ""
        if odd == "curly_title":
            title = _curly(title, rng)
        date = f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        if rng.random() >= NO_OFFSET_SHARE:
            date += " +0800"
        gap = "\n" if kind == "media" else "\n\n"
        text = (
            f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\n'
            f"categories: {category}\ntags: {tag}\n---{gap}{body}"
        )
        if rng.random() < 0.03:
            text += "\n"  # 98 of 100 real files end without a newline
        if odd == "blank_before_fm":
            text = "\n" + text
        elif odd == "crlf":
            text = text.replace("\n", "\r\n")
        data = text.encode("utf-8")

        month = (d.year, d.month)
        folder = f"{d.year:04d}-{d.month:02d}"
        if month_total[month] > FOLDER_LIMIT:
            idx = month_seen.get(month, 0)
            month_seen[month] = idx + 1
            folder = f"{folder}/{idx // FOLDER_LIMIT:03d}"
        if folder not in made_dirs:
            (out / folder).mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        name = f"{folder}/{ymd[:4]}-{ymd[4:6]}-{ymd[6:]}-{post_id}.md"
        with open(out / name, "wb") as fh:
            fh.write(data)
        labels.write(f"{name}\t{story}\n")
        total_bytes += len(data)
        kinds[kind] += 1
        if odd:
            odd_counts[odd] += 1

    labels.close()
    seconds = time.perf_counter() - started
    corpus_bytes = sum(mat.sizes)
    return {
        "files": n,
        "bytes": total_bytes,
        "avg_bytes": total_bytes / n if n else 0.0,
        "seconds": seconds,
        "folders": len(made_dirs),
        "kinds": kinds,
        "odd": odd_counts,
        "copies": copies,
        "seed": seed,
        "text": mode,
        "outdir": str(out),
        "corpus": str(corpus_path),
        "corpus_files": len(mat.sizes),
        "corpus_avg_bytes": corpus_bytes / len(mat.sizes) if mat.sizes else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of posts to write")
    parser.add_argument("outdir", help="output folder (created; must be empty if it exists)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--corpus", default=None, help=f"folder of real posts (default {DEFAULT_CORPUS})"
    )
    parser.add_argument(
        "--text",
        choices=TEXT_MODES,
        default="paragraphs",
        help="paragraphs: real paragraphs recombined (recur); words: Chinese text drawn anew "
        "from jieba's word frequencies (never recurs; needs the bench extra)",
    )
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    try:
        stats = generate(args.n, args.outdir, seed=args.seed, corpus=args.corpus, text=args.text)
    except FileExistsError as exc:
        print(exc, file=sys.stderr)
        return 2
    kinds = " ".join(f"{k}={v}" for k, v in stats["kinds"].items())
    print(
        f"generate: {stats['files']:,} files, {stats['bytes']:,} bytes "
        f"(avg {stats['avg_bytes']:.0f}, corpus avg {stats['corpus_avg_bytes']:.0f}), "
        f"{stats['folders']} folders, text={stats['text']}, {kinds}, "
        f"odd={sum(stats['odd'].values())}, copies={stats['copies']:,}, "
        f"{stats['seconds']:.1f} s -> {stats['outdir']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
