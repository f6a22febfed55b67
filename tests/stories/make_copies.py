"""Write the generated half of the labelled story set: copies and decoys of the real posts.

Run from anywhere: ``python3 tests/stories/make_copies.py``. It reads ``real/`` (real posts of
the sample site, copied unedited but for two file names given a date) and rewrites
``generated/`` and ``labels.tsv``. Seeded: the output only changes when this script does.

What it makes, imitating how outlets re-publish wire copy:

- copies of real posts, each with two or three edits at once: a new title; another outlet's
  credit or dateline (``财联社12月8日电，``, ``（证券时报）``, a media post's
  ``（文章来源：…）`` and back-links); a sentence dropped or added; wording swapped
  (``表示``→``称``); Hong Kong style (traditional characters, 「」 quotes, local words);
  full-width digits, letters and punctuation; HTML instead of Markdown; for long articles a
  paragraph dropped, an editor's note added;
- decoys: different digests under the same long disclaimer (known forms such as ``风险提示：``
  and site boilerplate no pattern knows), and templated reports with other figures (money
  market rates, index closes, bond auctions, northbound flows).

Labels: a copy has its source's story; real posts are labelled by hand in ``REAL_STORIES``
(near-copies only: two outlets' *rewrites* of one event, e.g. the two FF posts, are two
stories, since their texts are not copies of each other).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE / "real"
OUT = HERE / "generated"
T2S = HERE.parents[1] / "newsarc" / "data" / "t2s.txt"

#: real posts that are near-copies of each other (by reading the sample): story → files
REAL_STORIES = {
    "offshore-cny-6.3512": ["2021-12-08-202112082206672930.md", "2021-12-08-202112082206781916.md"],
    "onshore-cny-6.3565": ["2021-12-08-202112082206748961.md", "2021-12-08-202112082206749391.md"],
    "us-chips-act-delay": ["2021-12-08-202112082206896571.md", "2021-12-08-202112082206936037.md"],
    "northbound-40": ["2021-12-08-202112082206757673.md", "2021-12-08-202112082206761079.md"],
}

OUTLETS = [
    "财联社",
    "证券时报",
    "中国证券报",
    "上海证券报",
    "澎湃新闻",
    "界面新闻",
    "新浪财经",
    "智通财经",
    "21世纪经济报道",
    "每日经济新闻",
]
DATELINES = ["{o}12月8日电，", "{o}讯，", "据{o}报道，", "{o}APP获悉，", "【{o}】"]
ADDED = [
    "该消息发布后，相关概念股午后走强。",
    "业内人士认为，这一动向值得市场持续关注。",
    "截至发稿，公司方面暂未就此事作出进一步回应。",
    "分析人士指出，后续进展仍有待观察。",
    "记者注意到，此前市场对此已有一定预期。",
]
SWAPS = [
    ("表示", "称"),
    ("目前", "当前"),
    ("今日", "今天"),
    ("近日", "日前"),
    ("显示", "表明"),
    ("公司", "该公司"),
    ("预计", "预期"),
    ("进一步", "进一步地"),
]
HK_WORDS = [
    ("信息", "資訊"),
    ("质量", "質素"),
    ("视频", "視頻"),
    ("网络", "網絡"),
    ("软件", "軟件"),
    ("出租车", "的士"),
    ("“", "「"),
    ("”", "」"),
]
#: disclaimers: the first two of forms the engine knows, the last two site boilerplate it must learn
BOILERPLATE = [
    "风险提示：本文内容仅供参考，不构成任何投资建议。股市有风险，投资需谨慎，据此操作风险自担。市场数据来源于公开信息，力求但不保证准确完整。",
    "声明：本网转载此文出于传递更多信息之目的，并不意味着赞同其观点或证实其描述。文章内容仅供参考，不构成投资建议。投资者据此操作，风险自担。",
    "更多精彩内容，请关注本站微信公众号与视频号，每日推送最新财经资讯与深度解读，助您第一时间把握市场脉搏与投资机会。",
    "本站所载文章、数据仅供参考，使用前请核实，风险自负。本站内容如涉及版权问题，请与我们联系，我们将在第一时间处理。",
    "点击下方链接下载客户端，查看更多实时行情、公告解读与独家研报，新用户注册即送三个月高级会员。",
]
#: templated flashes: different stocks and figures, each its own story
FLASHES = [
    "海伦司(09869.HK)跌超7%，现报16.12港元。",
    "福森药业(01652.HK)跌超16%，现报1.12港元。",
    "比亚迪电子(00285.HK)涨超5%，现报38.50港元。",
    "恒大汽车(00708.HK)跌超5%，现报3.21港元。",
    "港股半导体板块走低，英恒科技跌近5%，上海复旦跌近3%。",
    "港股汽车板块走低，蔚来跌近6%，小鹏汽车跌近4%。",
]
#: templated reports: (story prefix, template, figures per day)
TEMPLATES = [
    (
        "shibor",
        "隔夜shibor报{0}%，{1}{2}个基点；7天shibor报{3}%，{4}{5}个基点；3个月shibor报{6}%，{7}{8}个基点。",
        [
            ("2.0530", "下跌", "9.8", "2.1590", "下跌", "4.3", "2.4880", "下跌", "0.1"),
            ("1.9870", "下跌", "6.6", "2.1440", "下跌", "1.5", "2.4880", "持平", "0"),
            ("2.1030", "上涨", "11.6", "2.2010", "上涨", "5.7", "2.4900", "上涨", "0.2"),
        ],
    ),
    (
        "a-share-close",
        "截至收盘，沪指{0}{1}%报{2}点，深成指{3}{4}%，创业板指{5}{6}%。两市成交额{7}亿元，北向资金净{8}{9}亿元。",
        [
            ("涨", "0.52", "3637.57", "涨", "0.85", "涨", "1.71", "12816", "流入", "72.30"),
            ("跌", "1.23", "3592.20", "跌", "1.64", "跌", "2.05", "11402", "流出", "35.10"),
            ("涨", "0.17", "3666.35", "跌", "0.21", "涨", "0.43", "13258", "流入", "18.95"),
            ("跌", "0.08", "3663.50", "涨", "0.36", "涨", "0.92", "12580", "流入", "44.02"),
        ],
    ),
    (
        "bond-auction",
        "{0}讯，财政部{1}年期续发国债中标利率为{2}%，边际利率为{3}%，全场倍数为{4}，边际倍数为{5}。",
        [
            ("2021年12月15日", "10", "2.8379", "2.8596", "2.64", "1.59"),
            ("2021年12月22日", "5", "2.6573", "2.6877", "3.12", "2.05"),
            ("2021年12月29日", "2", "2.3810", "2.4127", "2.95", "1.42"),
        ],
    ),
    (
        "hk-close",
        "港股收评：恒指{0}{1}%报{2}点，国指{3}{4}%，恒生科技指数{5}{6}%；全日成交额{7}亿港元，南下资金净买入{8}亿港元。",
        [
            ("涨", "0.34", "23996", "涨", "0.21", "跌", "0.52", "1102.3", "15.62"),
            ("跌", "1.08", "23740", "跌", "1.35", "跌", "2.17", "986.4", "8.90"),
            ("涨", "1.26", "24040", "涨", "1.52", "涨", "2.48", "1251.7", "30.18"),
        ],
    ),
]
NORTHBOUND = [
    "北向资金净流入超20亿元。",
    "数据显示，截至目前，北向资金净流入超60亿元。",
    "北向资金净流入超70亿元。",
    "北向资金净流出超10亿元。",
]

_FRONT = re.compile(r"\A\s*---\n(.*?)\n---\n?(.*)\Z", re.S)
_TRAILER = re.compile(r"\n*(<[^>\n]*>|\[返回[^\n]*)\s*\Z")
_CREDIT = re.compile(r"[（(]([^（）()0-9]{2,16})[）)]\s*$")
_SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")


def load(path: Path) -> tuple[dict[str, str], str]:
    """(front matter as flat strings, body without the trailing link lines) of a real post."""
    m = _FRONT.match(path.read_text(encoding="utf-8"))
    assert m, path
    fm = {}
    for line in m.group(1).splitlines():
        key, _, value = line.partition(":")
        fm[key.strip()] = value.strip().strip('"')
    body = m.group(2)
    while True:
        cut = _TRAILER.sub("", body)
        if cut == body:
            break
        body = cut
    return fm, body.strip()


def paragraphs_of(body: str) -> list[str]:
    if "<p" in body:
        return [
            re.sub(r"<[^>]+>", "", p).strip() for p in re.findall(r"<p[^>]*>(.*?)</p>", body, re.S)
        ]
    return [p.strip() for p in body.split("\n\n") if p.strip() and not p.startswith(">")]


class Copier:
    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        sources: dict[str, list[str]] = {}
        for line in T2S.read_text(encoding="utf-8").splitlines():
            if len(line) == 2:
                sources.setdefault(line[1], []).append(line[0])
        # only one-to-one pairs: where several traditional characters fold to one simplified
        # (蒙 ← 懞 矇 濛), Hong Kong text mostly keeps the common one, often the same character
        # and characters that are standard traditional too in most words (表示, 批准, 致力)
        keep = set("表准致面里干只台系制范余云才松征")
        self.s2t = str.maketrans(
            {s: t[0] for s, t in sources.items() if len(t) == 1 and s not in keep}
        )

    def retitle(self, title: str) -> str:
        words = title.split(" ")
        if len(words) > 1 and self.rnd.random() < 0.5:
            words = words[: -1 if self.rnd.random() < 0.5 else len(words)][::-1]
        out = "，".join(words)
        return self.rnd.choice(["", "快讯：", "【独家】", "突发！"]) + out

    def resource(self, text: str) -> str:
        outlet = self.rnd.choice(OUTLETS)
        text = _CREDIT.sub("", text).rstrip()
        if self.rnd.random() < 0.5:
            return self.rnd.choice(DATELINES).format(o=outlet) + text
        return text + f"（{outlet}）"

    def drop_sentence(self, text: str) -> str:
        sentences = _SENTENCE.findall(text)
        if len(sentences) < 3:
            return text
        del sentences[self.rnd.randrange(1, len(sentences))]
        return "".join(sentences)

    def truncate(self, text: str) -> str:
        sentences = _SENTENCE.findall(text)
        if len(sentences) < 4:
            return text
        return "".join(sentences[: (len(sentences) + 1) // 2 + 1])

    def relead(self, text: str) -> str:
        head, sep, rest = text.partition("，")
        if not sep or len(head) > 16:
            return self.rnd.choice(["据悉，", "消息称，", "另据报道，"]) + text
        return (
            self.rnd.choice(["据外媒报道", "据知情人士透露", "相关消息显示", "记者获悉"])
            + "，"
            + rest
        )

    def add_sentence(self, text: str) -> str:
        return text + self.rnd.choice(ADDED)

    def swap_words(self, text: str) -> str:
        for old, new in self.rnd.sample(SWAPS, 3):
            text = text.replace(old, new, 1)
        return text

    def hong_kong(self, text: str) -> str:
        for old, new in HK_WORDS:
            text = text.replace(old, new)
        return text.translate(self.s2t)

    def full_width(self, text: str) -> str:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def post(title: str, date: str, outlet: str, paragraphs: list[str], html: bool) -> str:
    fm = f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\ncategories: emnews\ntags: {outlet}\n---\n'
    if html:
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        body += f'<p class="em_media">（文章来源：{outlet}）</p>\n\n[返回{outlet}新闻](//finews.example/category/x.html)｜[返回首页](//finews.example/)'
    else:
        body = "\n\n".join(paragraphs)
    return fm + body + "\n"


def main() -> None:
    cp = Copier(seed=11)
    rnd = cp.rnd
    labels: dict[str, str] = {}
    real = sorted(p.name for p in REAL.iterdir())
    for story, files in REAL_STORIES.items():
        for name in files:
            labels[f"real/{name}"] = story
    for name in real:
        labels.setdefault(f"real/{name}", "real:" + name)
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    written: dict[str, str] = {}

    def write(name: str, text: str, story: str) -> None:
        written[name] = text
        labels[f"generated/{name}"] = story

    # copies: every real digest of at least two sentences gets one to three edited copies
    sources = [
        n
        for n in real
        if n.startswith("2021-12-08")
        and len(
            _SENTENCE.findall(
                paragraphs_of(load(REAL / n)[1])[0] if paragraphs_of(load(REAL / n)[1]) else ""
            )
        )
        >= 2
    ]
    edits = [
        cp.resource,
        cp.drop_sentence,
        cp.add_sentence,
        cp.swap_words,
        cp.hong_kong,
        cp.full_width,
        cp.truncate,
        cp.relead,
    ]
    for n, name in enumerate(sources):
        fm, body = load(REAL / name)
        paras = paragraphs_of(body)
        for k in range(1 + n % 3):
            chosen = rnd.sample(edits, rnd.choice([2, 2, 3]))
            # Hong Kong style and full width last: they rewrite what the others added
            chosen.sort(key=lambda f: f in (cp.hong_kong, cp.full_width))
            text = paras[0]
            for edit in chosen:
                text = edit(text)
            out = [text] + paras[1:]
            title = cp.retitle(fm.get("title", ""))
            if cp.hong_kong in chosen:
                title = cp.hong_kong(title)
            tag = "-".join(e.__name__.replace("_", "") for e in chosen)
            date = fm.get("date", "2021-12-08 12:00:00").split(" +")[0]
            write(
                f"{name[:-3]}-copy{k}-{tag}.md",
                post(title, date, rnd.choice(OUTLETS), out, html=rnd.random() < 0.3),
                labels[f"real/{name}"],
            )

    # long articles: a paragraph dropped, an editor's note added, another outlet's source line
    for name in ["2022-04-09-000_da33c2ea1906ec2c.md", "2022-05-26-202205262391921712.md"]:
        fm, body = load(REAL / name)
        paras = [p for p in paragraphs_of(body) if p]
        for k in range(2):
            out = list(paras)
            del out[rnd.randrange(1, len(out))]
            if k:
                out.insert(rnd.randrange(1, len(out)), cp.swap_words(out[rnd.randrange(len(out))]))
                out = [cp.hong_kong(p) for p in out]
            out.append("编者按：本文为" + rnd.choice(OUTLETS) + "记者采写，转载请注明出处。")
            write(
                f"{name[:-3]}-copy{k}.md",
                post(
                    cp.retitle(fm.get("title") or "制冷剂"),
                    "2022-05-26 10:00:00",
                    rnd.choice(OUTLETS),
                    out,
                    html=True,
                ),
                labels[f"real/{name}"],
            )

    # decoys: unrelated digests under one long disclaimer; copies of some of them too
    bases = [
        n
        for n in real
        if n.startswith("2021-12-08") and 40 <= len(paragraphs_of(load(REAL / n)[1])[0]) <= 120
    ]
    rnd.shuffle(bases)
    for i, boiler in enumerate(BOILERPLATE):
        for j, name in enumerate(bases[4 * i : 4 * i + 4]):
            fm, body = load(REAL / name)
            text = paragraphs_of(body)[0]
            story = labels[f"real/{name}"]
            write(
                f"2021-12-08-boiler{i}-{j}.md",
                post(
                    fm["title"], "2021-12-08 15:00:00", "东财滚动新闻", [text, boiler], html=False
                ),
                story,
            )
            if j == 0:
                write(
                    f"2021-12-08-boiler{i}-{j}-copy.md",
                    post(
                        cp.retitle(fm["title"]),
                        "2021-12-08 16:00:00",
                        rnd.choice(OUTLETS),
                        [cp.resource(text), boiler],
                        html=True,
                    ),
                    story,
                )

    # the first posts under a new disclaimer: very short digests it outweighs
    shorts = [
        n
        for n in real
        if n.startswith("2021-12-08") and len(paragraphs_of(load(REAL / n)[1])[0]) < 40
    ]
    for j, name in enumerate(shorts[:5]):
        fm, body = load(REAL / name)
        write(
            f"2021-12-07-boiler4-{j}.md",
            post(
                fm["title"],
                "2021-12-07 09:00:00",
                "东财滚动新闻",
                [paragraphs_of(body)[0], BOILERPLATE[4]],
                html=False,
            ),
            labels[f"real/{name}"],
        )
    for j, text in enumerate(FLASHES):
        write(
            f"2021-12-09-flash{j}.md",
            post(text[:12], "2021-12-09 10:00:00", "东财滚动新闻", [text], html=False),
            f"flash-{j}",
        )

    # decoys: templated reports with other figures, and more northbound-flow flashes
    for prefix, template, days in TEMPLATES:
        for d, figures in enumerate(days):
            write(
                f"2021-12-{10 + d:02d}-{prefix}.md",
                post(
                    prefix,
                    f"2021-12-{10 + d:02d} 15:30:00",
                    "东财滚动新闻",
                    [template.format(*figures)],
                    html=False,
                ),
                f"{prefix}-{d}",
            )
    for d, text in enumerate(NORTHBOUND):
        write(
            f"2021-12-{10 + d:02d}-northbound.md",
            post("北向资金", f"2021-12-{10 + d:02d} 11:00:00", "东财滚动新闻", [text], html=False),
            f"northbound-{d}",
        )

    for name, text in written.items():
        (OUT / name).write_text(text, encoding="utf-8")
    lines = ["file\tstory"] + [f"{f}\t{s}" for f, s in sorted(labels.items())]
    (HERE / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(written)} generated posts, {len(labels)} labelled")


if __name__ == "__main__":
    main()
