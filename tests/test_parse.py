"""Tests for ``newsarc.parse``: real posts from the shared corpus, and written files for every odd
case the import issue lists (broken YAML, dates, encodings' leftovers, ids, hostile input). The
body reader has its own tests in test_body.py."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path, PurePath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarc.body import blocks_text
from newsarc.errors import NotAPost, PostError
from newsarc.parse import MAX_FRONT_MATTER, parse_post

CORPUS = Path(__file__).resolve().parent / "corpus"
POSTS = CORPUS / "posts"
VERSIONS = CORPUS / "versions"
DATA = Path(__file__).resolve().parent / "data"
CST = dt.timezone(dt.timedelta(hours=8))
NAME = PurePath("2022-04-09-202204092337358965.md")


def real(name: str, folder: Path = POSTS):
    """Parse a corpus file as read.py hands it over: decoded, line ends untouched."""
    path = folder / name
    return parse_post(path.read_bytes().decode("utf-8"), path)


def data(name: str):
    path = DATA / name
    return parse_post(path.read_bytes().decode("utf-8"), path)


def post(front: str, body: str = "正文。", name: PurePath | None = NAME, dated: bool = True, **kw):
    """A post written the way the site's generator writes them (with a date unless ``front``
    has one or ``dated`` is false)."""
    if dated and not re.search(r"^date:", front, re.MULTILINE):
        front += "\ndate: 2022-04-09 14:22:44 +0800"
    return parse_post(f"---\n{front.strip()}\n---\n{body}", name, **kw)


# -- the eastmoney HTML article -------------------------------------------------------------------

EASTMONEY = "-202205262391921712.md"


def test_parse_post_eastmoney_ids_and_metadata():
    parsed = real(EASTMONEY)
    assert parsed.external_id == "202205262391921712"
    assert parsed.title == ""
    assert parsed.category == "emnews"
    assert parsed.tags == ["东财滚动新闻"]
    assert parsed.url is None  # the trailing "<>" link is empty
    assert parsed.meta == {"layout": "post"}


def test_parse_post_eastmoney_date_from_file_name():
    parsed = real(EASTMONEY)
    assert parsed.date == dt.datetime(2022, 5, 26, tzinfo=CST)
    assert parsed.warnings == [
        "no date in front matter; took 2022-05-26 from the file name",
        "empty title",
    ]


# -- the media post -------------------------------------------------------------------------------

MEDIA = "000_da33c2ea1906ec2c.txt"


def test_parse_post_media_post_metadata():
    parsed = real(MEDIA)
    assert parsed.external_id == "NW202204092337358965"
    assert parsed.title == "国资委力推组建创新联合体 多领域技术攻关获成效"
    assert parsed.date == dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)
    assert parsed.date.isoformat() == "2022-04-09T14:22:44+08:00"
    assert parsed.category == "zhongguojingyingwang"
    assert parsed.tags == ["中国经营网新闻"]
    assert parsed.source == "中国经营网"
    assert parsed.url == (
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202204092337358965"
    )
    assert parsed.summary is None
    assert parsed.warnings == []


# -- short emnews posts ---------------------------------------------------------------------------


def test_parse_post_emnews_trailing_link_gives_url_and_id():
    parsed = real("2021-12-08-202112082206672930.md")
    assert parsed.url == "http://finance.eastmoney.com/news/11060,202112082206672930.html"
    assert parsed.external_id == "202112082206672930"
    assert parsed.title == "离岸人民币兑美元升至2018年以来最高水平"
    assert parsed.date == dt.datetime(2021, 12, 8, 10, 46, 18, tzinfo=CST)
    assert parsed.text == "离岸人民币兑美元升至6.3512，为2018年以来最高水平。"
    assert [block.type for block in parsed.blocks] == ["p"]


def test_parse_post_emnews_empty_link():
    parsed = real("2021-12-08-202112082206870651.md")
    assert parsed.url is None
    assert parsed.external_id == "202112082206870651"
    assert parsed.text == (
        "2021年12月8日讯，财政部2年期续发国债中标利率为2.4576%，边际利率为2.4823%，"
        "全场倍数为3.7，边际倍数为2.2。(东方财富Choice数据)"
    )
    assert parsed.source == "东方财富Choice数据"


def test_parse_post_emnews_blank_line_before_front_matter():
    parsed = real("2021-12-08-202112082206703990.md")
    assert parsed.title == "FF：有充足的现金支持到FF 91完成投产"
    assert parsed.date == dt.datetime(2021, 12, 8, 10, 18, 31, tzinfo=CST)
    assert parsed.external_id == "202112082206703990"
    assert parsed.text.startswith("Faraday Future (FF)于今日举办的线上投资者沟通交流会上")


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("2021-12-08-202112082206881771.md", "知乎申请“B乎”商标被驳回复审"),
        (
            "2021-12-08-202112082206891482.md",
            "“新债王”冈拉克：美联储加息料引发市场动荡 收益率曲线趋平构成担忧",
        ),
        (
            "2021-12-08-202112082206794293.md",
            "阿里巴巴(09988.HK)在北京成立元境生生科技公司 注册资本1000万",
        ),
        (
            "2021-12-08-202112082206897139.md",
            "英特尔(INTC.O)CEO基辛格：将用Mobileye上市所筹资金建设更多芯片工厂",
        ),
    ],
)
def test_parse_post_emnews_titles_with_curly_quotes_and_codes(name, title):
    assert real(name).title == title


def test_parse_post_emnews_no_final_newline_same_as_with_one():
    path = POSTS / "2021-12-08-202112082206735975.md"
    text = path.read_bytes().decode("utf-8")
    assert not text.endswith("\n")
    assert parse_post(text, path) == parse_post(text + "\n", path)


def test_parse_post_site_notice():
    parsed = real("2021-12-01-init.md")
    assert (parsed.title, parsed.text, parsed.category, parsed.tags) == (
        "开站大吉",
        "祝贺开站",
        "sitenews",
        ["站长消息"],
    )
    assert parsed.external_id == "2021-12-01-init"  # no URL, no article number: the file name


def corpus_files(folder: Path) -> list[Path]:
    """Files of a corpus folder; none when it is missing (test_parse_corpus_present says so)."""
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def test_parse_corpus_present():
    assert len(corpus_files(POSTS)) == 81, f"the vendored corpus is missing at {CORPUS}"
    assert len(corpus_files(VERSIONS)) == 57


@pytest.mark.parametrize("path", corpus_files(POSTS), ids=lambda p: p.name)
def test_parse_post_every_corpus_post(path):
    parsed = parse_post(path.read_bytes().decode("utf-8"), path)
    assert parsed.text and parsed.text == blocks_text(parsed.blocks)  # the body: test_body.py
    assert parsed.date is not None and parsed.date.utcoffset() == dt.timedelta(hours=8)
    if path.name != EASTMONEY:
        assert parsed.title and parsed.warnings == []
    json.dumps(parsed.meta, allow_nan=False)


def _post_for(version: Path) -> Path:
    return POSTS / re.sub(r"@[0-9a-f]+(?=\.\w+$)", "", version.name)


@pytest.mark.parametrize("version", corpus_files(VERSIONS), ids=lambda p: p.name)
def test_parse_post_versions_match_their_post(version):
    """Older copies differ in back-link style, date format and white space only, so every field
    must come out the same: a strong check that boilerplate stripping covers every variant."""
    parsed = real(version.name, VERSIONS)
    current = _post_for(version)
    if not current.exists():
        assert parsed.external_id == re.search(r"\d{18}", version.name).group()
        assert parsed.text and "返回" not in parsed.text
        return
    expected = real(current.name)
    assert parsed.external_id == expected.external_id
    for field in ("title", "date", "category", "tags", "source", "url", "summary", "text"):
        assert getattr(parsed, field) == getattr(expected, field), field
    assert parsed.blocks == expected.blocks


def test_parse_post_versions_cover_back_link_variants():
    """The versions folder really holds the variants the stripping must handle."""
    tails = {
        re.sub(r"\d{10,}", "N", line)
        for path in corpus_files(VERSIONS) + corpus_files(POSTS)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("[返回")
    }
    assert {
        "[返回东财滚动新闻](../emnews/)",
        "[返回东财滚动新闻](./emnews/)",
        "[返回东财滚动新闻](//finews.zning.me/emnews/)",
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)",
    } <= tails


# -- written files: front matter ------------------------------------------------------------------


def test_parse_post_broken_title_file():
    parsed = data("2022-04-09-broken-title.md")
    assert parsed.title == '央行："降准"落地 释放长期资金约5300亿元'
    assert parsed.date == dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)
    assert parsed.category == "zhongguojingyingwang"
    assert parsed.tags == ["中国经营网新闻"]
    assert parsed.external_id == "NW202204092337358111"
    assert parsed.source == "中国经营网"
    assert parsed.meta == {"layout": "post"}
    assert parsed.text == (
        "中国人民银行决定于4月25日下调金融机构存款准备金率0.25个百分点。\n\n（文章来源：中国经营网）"
    )
    assert len(parsed.warnings) == 1
    assert parsed.warnings[0].startswith("front matter is not valid YAML")


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ('title: "央行："降准"落地"', '央行："降准"落地'),
        ('title: "他说"好""', '他说"好"'),
        ('title: ""降准"落地"', '"降准"落地'),
        ("title: FF: 有充足的现金", "FF: 有充足的现金"),
        ('title: "港股: "恒指" 收涨"', '港股: "恒指" 收涨'),
        ("title: *ST海投：公告", "*ST海投：公告"),
    ],
)
def test_parse_post_title_breaking_yaml_recovered(line, title):
    parsed = post(
        f"{line}\ndate: 2022-04-09 14:22:44 +0800\ncategories: emnews\ntags: 东财滚动新闻"
    )
    assert parsed.title == title
    assert parsed.date == dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)
    assert (parsed.category, parsed.tags) == ("emnews", ["东财滚动新闻"])
    assert len(parsed.warnings) == 1
    assert "not valid YAML" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ('title: "C" #1 产品"', 'C" #1 产品'),  # YAML: "C" and a comment
        ("title: 第 #1 名", "第 #1 名"),
        ("title: 1.10", "1.10"),  # YAML: the float 1.1
        ("title: 12:30", "12:30"),  # YAML 1.1: 750, base 60
        ("title: yes", "yes"),  # YAML 1.1: True
        (r'title: "C:\new"', r"C:\new"),  # YAML: a line break
    ],
)
def test_parse_post_title_yaml_would_change_kept_as_written(line, title):
    parsed = post(line)
    assert parsed.title == title
    assert len(parsed.warnings) == 1
    assert "kept the text as written" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("line", "title"),
    [
        (r'title: "他说\"好\""', '他说"好"'),  # a generator that escapes: YAML reads it right
        ('title: "*ST海投：公告"', "*ST海投：公告"),
        ("title: 'It''s'", "It's"),
        ('title: "C# 入门"', "C# 入门"),
        ("title: 2022", "2022"),
        # an escape and a "#" inside the quotes: the escape is YAML's, the "#" no comment
        (r'title: "\u4e2d文 #1"', "中文 #1"),
        (r'title: "\u4e2d文 \"#1\" # 2"', '中文 "#1" # 2'),
        ("title: '第 #1 名'", "第 #1 名"),
        (r'title: "C# \\ 入门" # a comment', "C# \\ 入门"),
    ],
)
def test_parse_post_title_valid_yaml(line, title):
    parsed = post(line)
    assert parsed.title == title
    assert parsed.warnings == []


def test_parse_post_title_white_space_collapsed():
    assert post('title: "  一  二\u3000三 "').title == "一 二 三"


def test_parse_post_title_empty():
    parsed = post('title: ""\ndate: 2022-04-09 14:22:44 +0800')
    assert parsed.title == ""
    assert parsed.warnings == ["empty title"]


def test_parse_post_title_missing():
    parsed = post("date: 2022-04-09 14:22:44 +0800")
    assert parsed.title == ""
    assert parsed.warnings == ["no title in front matter"]


def test_parse_post_date_offset_only_takes_file_name_date():
    parsed = post('title: "x"\ndate:  +0800', name=PurePath("-202205262391921712.md"))
    assert parsed.date == dt.datetime(2022, 5, 26, tzinfo=CST)
    assert parsed.warnings == ["no date in front matter; took 2022-05-26 from the file name"]


def test_parse_post_date_offset_only_and_no_date_in_name():
    parsed = post('title: "x"\ndate:  +0800', name=PurePath("notice.md"))
    assert parsed.date is None
    assert parsed.warnings == ["no date in front matter or file name; date left empty"]
    assert parsed.external_id == "notice"


@pytest.mark.parametrize(
    "value",
    ["2022-04-09 14:22:44 +0800", "2022-04-09 14:22:44 +08:00", "2022-04-09T14:22:44+08:00",
     "2022-04-09 06:22:44 Z", "2022-04-09 06:22:44 +0000", "2022-04-09 01:22:44 -05:00"],
)  # fmt: skip
def test_parse_post_date_offsets(value):
    parsed = post(f'title: "x"\ndate: {value}')
    assert parsed.date == dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)
    assert parsed.warnings == []


def test_parse_post_date_offset_kept():
    parsed = post('title: "x"\ndate: 2022-04-09 14:22:44 +0800')
    assert parsed.date.utcoffset() == dt.timedelta(hours=8)
    assert parsed.date.isoformat() == "2022-04-09T14:22:44+08:00"


def test_parse_post_naive_date_default_tz():
    parsed = post('title: "x"\ndate: 2022-04-09 14:22:44')
    assert parsed.date.isoformat() == "2022-04-09T14:22:44+08:00"


def test_parse_post_naive_date_utc():
    parsed = post('title: "x"\ndate: 2022-04-09 14:22:44', tz=dt.UTC)
    assert parsed.date.isoformat() == "2022-04-09T14:22:44+00:00"


def test_parse_post_naive_date_asia_shanghai():
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    parsed = post('title: "x"\ndate: 2022-04-09 14:22:44', tz=shanghai)
    assert parsed.date.tzinfo is shanghai
    assert parsed.date.isoformat() == "2022-04-09T14:22:44+08:00"


def test_parse_post_explicit_offset_ignores_tz_argument():
    parsed = post('title: "x"\ndate: 2022-04-09 14:22:44 +0800', tz=dt.UTC)
    assert parsed.date.isoformat() == "2022-04-09T14:22:44+08:00"


def test_parse_post_date_only():
    parsed = post('title: "x"\ndate: 2022-04-09', tz=dt.UTC)
    assert parsed.date == dt.datetime(2022, 4, 9, tzinfo=dt.UTC)


def test_parse_post_file_name_date_uses_tz():
    parsed = post('title: "x"', name=PurePath("2022-04-09-x.md"), dated=False, tz=dt.UTC)
    assert parsed.date == dt.datetime(2022, 4, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value", ["明天", "2022-02-30", "2022-04-09 25:00", "[2022]", "2022-04-09 +2500"]
)
def test_parse_post_invalid_date_warns(value):
    parsed = post(f'title: "x"\ndate: {value}')
    assert parsed.date == dt.datetime(2022, 4, 9, tzinfo=CST)  # from the file name
    assert parsed.warnings[0].startswith("unrecognised date")
    assert parsed.warnings[1] == "no date in front matter; took 2022-04-09 from the file name"


@pytest.mark.parametrize(
    ("front", "category", "tags"),
    [
        ("categories: emnews\ntags: 东财滚动新闻", "emnews", ["东财滚动新闻"]),
        ("categories: emnews\ntags: 创新 联合体", "emnews", ["创新", "联合体"]),
        ("category: emnews\ntag: 创新", "emnews", ["创新"]),
        ("categories: [emnews]\ntags: [创新, 联合体]", "emnews", ["创新", "联合体"]),
        ("categories:\n  - emnews\ntags:\n  - 创新\n  - 联合 体", "emnews", ["创新", "联合 体"]),
        ("categories:\ncategory: emnews", "emnews", []),
        ("tags: 2022", None, ["2022"]),
        ("", None, []),
    ],
)
def test_parse_post_categories_and_tags(front, category, tags):
    parsed = post(f'title: "x"\n{front}')
    assert (parsed.category, parsed.tags) == (category, tags)


def test_parse_post_several_categories_kept_in_meta():
    parsed = post('title: "x"\ncategories: emnews markets')
    assert parsed.category == "emnews"
    assert parsed.meta == {"categories": ["emnews", "markets"]}


def test_parse_post_categories_recovered_from_broken_yaml():
    parsed = post('title: "a"b"\ncategories: [emnews, markets]\ntags:\n  - 创新\n  - 联合体')
    assert parsed.title == 'a"b'
    assert parsed.category == "emnews"
    assert parsed.tags == ["创新", "联合体"]
    assert parsed.meta == {"categories": ["emnews", "markets"]}


def test_parse_post_extra_keys_in_meta():
    parsed = post(
        'title: "x"\nlayout: post\nauthor: 记者\nupdated: 2022-04-09 10:00:00 +08:00\n'
        "day: 2022-04-09\nviews: 12\nscore: .nan\ndraft: false\nextra:\n  nested: [1, two]"
    )
    assert parsed.meta == {
        "layout": "post",
        "author": "记者",
        "updated": "2022-04-09 10:00:00 +08:00",
        "day": "2022-04-09",
        "views": 12,
        "score": "nan",
        "draft": False,
        "extra": {"nested": [1, "two"]},
    }
    json.dumps(parsed.meta, allow_nan=False)


def test_parse_post_meta_of_recovered_front_matter_is_text():
    parsed = post('title: "a"b"\nlayout: post\nupdated: 2022-04-09 10:00:00 +08:00')
    assert parsed.meta == {"layout": "post", "updated": "2022-04-09 10:00:00 +08:00"}


# -- written files: text forms --------------------------------------------------------------------

LF_POST = (
    '---\ntitle: "央行：降准"\ndate: 2022-04-09 14:22:44 +0800\ncategories: emnews\n---\n'
    "<p>第一段</p>\n<p>第二段<br>换行</p>\n\n<http://finance.eastmoney.com/news/1,202204092337358965.html>"
    "\n\n[返回东财滚动新闻](../emnews/)\n[返回首页](../)\n"
)


def test_parse_post_crlf_same_as_lf():
    lf = parse_post(LF_POST, NAME)
    crlf = parse_post(LF_POST.replace("\n", "\r\n"), NAME)
    assert crlf == lf
    assert lf.text == "第一段\n\n第二段\n换行"
    assert "\r" not in crlf.text + crlf.title + (crlf.url or "")


def test_parse_post_old_mac_line_ends():
    assert parse_post(LF_POST.replace("\n", "\r"), NAME) == parse_post(LF_POST, NAME)


def test_parse_post_bom_same_as_without():
    assert parse_post("\ufeff" + LF_POST, NAME) == parse_post(LF_POST, NAME)


def test_parse_post_bom_blank_lines_and_crlf():
    text = "\ufeff\r\n\r\n" + LF_POST.replace("\n", "\r\n")
    parsed = parse_post(text, NAME)
    assert parsed.title == "央行：降准"
    assert parsed == parse_post(LF_POST, NAME)


def test_parse_post_nul_and_surrogates_removed_other_controls_kept():
    """NUL, lone surrogates and non-characters are not text; ESC, BEL … are what the source
    says, kept exactly (views make them inert)."""
    parsed = parse_post('---\ntitle: "a\x00b\x07"\n---\n<p>x\x00y\x1b\ud800z\ufffe</p>', NAME)
    assert parsed.title == "ab\x07"
    assert parsed.text == "xy\x1bz"


ESCAPES = "\x1b[31mred\x1b[0m \x1b]8;;file:///etc/passwd\x1b\\link\x1b]8;;\x1b\\ \x07\x08"


@pytest.mark.parametrize("body", [f"<p>芯片{ESCAPES}正文</p>", f"芯片{ESCAPES}正文"])
def test_parse_post_escape_sequences_kept_whole(body):
    """No residue such as ``[31m`` or ``]8;;file:…``: the whole sequence stays, ESC included."""
    parsed = parse_post(f'---\ntitle: "题{ESCAPES}"\n---\n\n{body}\n', NAME)
    assert parsed.title == f"题{ESCAPES}"
    assert parsed.text == f"芯片{ESCAPES}正文"


def test_parse_post_control_characters_in_markdown():
    assert post('title: "x"', "一\x00二\x07三").text == "一二\x07三"


# -- written files: Markdown bodies ---------------------------------------------------------------


SECOND_LINE = "第二行紧跟<标记>，AT&T 与 a&para 照原样。"


def test_parse_post_markdown_file():
    parsed = data("2022-04-10-markdown-features.md")
    assert parsed.title == "Markdown 全功能"
    assert parsed.date == dt.datetime(2022, 4, 10, tzinfo=CST)
    assert parsed.category == "emnews"
    assert parsed.tags == ["创新", "联合体"]
    assert parsed.meta == {"author": "记者", "categories": ["emnews", "markets"]}
    assert parsed.url == "http://finance.eastmoney.com/news/1354,202204102206000001.html"
    assert parsed.external_id == "202204102206000001"
    assert parsed.summary == "摘要：创新联合体建设提速。"
    assert [b.to_dict() for b in parsed.blocks] == [
        {"type": "quote", "text": "摘要：创新联合体建设提速。"},
        {"type": "h", "text": "划定重点领域"},
        {"type": "p", "text": "正文第一段，含加粗、链接文字与代码。\n" + SECOND_LINE},
        {"type": "img", "src": "http://example.com/c.png", "alt": "示意图"},
        {"type": "quote", "text": "引用一段话。"},
        {"type": "table", "rows": [["指标", "数值"], ["增速", "14.4%"], ["投资", "42.7%"]]},
        {"type": "p", "text": "• 要点一\n• 要点二"},
        {"type": "p", "text": "填写______年。"},
    ]
    assert parsed.text == (
        "摘要：创新联合体建设提速。\n\n划定重点领域\n\n正文第一段，含加粗、链接文字与代码。\n"
        "第二行紧跟<标记>，AT&T 与 a&para 照原样。\n\n引用一段话。\n\n指标\t数值\n增速\t14.4%\n"
        "投资\t42.7%\n\n• 要点一\n• 要点二\n\n填写______年。"
    )
    assert parsed.warnings == []


def test_parse_post_markdown_block_scalar_title():
    parsed = post("title: |\n  第一行\n  第二行\ncategories: x")
    assert parsed.title == "第一行 第二行"
    assert parsed.warnings == []


# -- written files: HTML bodies -------------------------------------------------------------------


def test_parse_post_html_file():
    parsed = data("2022-04-11-html-features.html")
    assert parsed.title == "HTML 全功能"
    assert parsed.date == dt.datetime(2022, 4, 11, 9, 30, tzinfo=CST)
    assert parsed.external_id == "2022-04-11-html-features"
    assert [b.to_dict() for b in parsed.blocks] == [
        {"type": "p", "text": "第一行\n第二行"},
        {"type": "p", "text": "上段"},
        {"type": "p", "text": "下段"},
        {"type": "p", "text": "中国经营网 and Latin"},
        {"type": "quote", "text": "引一"},
        {"type": "quote", "text": "引二"},
        {"type": "h", "text": "小标题"},
        {"type": "p", "text": "有 空格"},
        {"type": "table", "rows": [["指标", "数值"], ["增速", "14.4%"]]},
        {"type": "img", "src": "http://example.com/d.png", "alt": "图"},
        {"type": "p", "text": "结尾（记者 王梦）"},
    ]
    assert "脚本" not in parsed.text and "注释" not in parsed.text and "隐藏" not in parsed.text
    assert "K图" not in parsed.text
    assert parsed.source is None  # a reporter's name is no source


# -- trailing boilerplate -------------------------------------------------------------------------


# -- ids and source -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name", "external_id"),
    [
        ("http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202204092337358965", "a.md",
         "NW202204092337358965"),
        ("http://finance.eastmoney.com/news/1354,202112082206734275.html", "a.md",
         "202112082206734275"),
        ("http://finance.eastmoney.com/a/202112082206734276.html", "a.md", "202112082206734276"),
        ("https://example.com/story", "2021-12-08-202112082206672930.md", "202112082206672930"),
        (None, "-202205262391921712.md", "202205262391921712"),
        (None, "2021-12-08-202112082206672930@cfbae483017a.md", "202112082206672930"),
        (None, "2021-12-01-init.md", "2021-12-01-init"),
    ],
)  # fmt: skip
def test_parse_post_external_id(url, name, external_id):
    body = "正文" + (f"\n\n<{url}>" if url else "")
    assert post('title: "x"', body, name=PurePath(name)).external_id == external_id


def test_parse_post_path_as_text():
    assert post('title: "x"', name="posts/-202205262391921712.md").external_id == (
        "202205262391921712"
    )


def test_parse_post_no_id_without_path_or_url():
    with pytest.raises(PostError) as info:
        post('title: "x"', name=None)
    assert info.value.reason == "no id"
    assert not isinstance(info.value, NotAPost)


def test_parse_post_id_from_url_without_path():
    parsed = post('title: "x"', "正文\n\n<http://x.com/news/1,202112082206734275.html>", name=None)
    assert parsed.external_id == "202112082206734275"


# -- refusals and hostile input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\ufeff",
        "\n\n  \n",
        "正文，没有 front matter",
        "# 标题\n\n---\n\n正文",
        "--- not yaml\n---\n",
    ],
)
def test_parse_post_not_a_post(text):
    with pytest.raises(NotAPost) as info:
        parse_post(text, NAME)
    assert info.value.reason == "no front matter"


@pytest.mark.parametrize("text", ["---\ntitle: x\n正文", "---\n", "---"])
def test_parse_post_front_matter_not_closed(text):
    with pytest.raises(PostError) as info:
        parse_post(text, NAME)
    assert not isinstance(info.value, NotAPost)
    assert info.value.reason == "bad front matter"


def test_parse_post_front_matter_too_large():
    with pytest.raises(PostError) as info:
        post('title: "x"\nnote: "' + "长" * MAX_FRONT_MATTER + '"')
    assert info.value.reason == "bad front matter"


def test_parse_post_empty_front_matter():
    parsed = parse_post("---\n---\n正文", NAME)
    assert (parsed.title, parsed.text, parsed.meta) == ("", "正文", {})


def test_parse_post_front_matter_closed_by_dots():
    assert parse_post('---\ntitle: "x"\n...\n正文', NAME).text == "正文"


def test_parse_post_front_matter_not_a_mapping():
    parsed = parse_post("---\n- a\n- b\n---\n正文", NAME)
    assert parsed.text == "正文"
    assert parsed.warnings[0] == "front matter is not a mapping; read it line by line"


BILLION_LAUGHS = """title: "笑"
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]"""


def test_parse_post_yaml_bomb_is_small_and_fast():
    start = time.perf_counter()
    parsed = post(BILLION_LAUGHS)
    assert time.perf_counter() - start < 1
    assert parsed.title == "笑"
    assert len(json.dumps(parsed.meta)) < 2000
    assert parsed.warnings[0] == (
        "front matter has too many values once its aliases are expanded; read it line by line"
    )


def test_parse_post_yaml_aliases_are_read():
    """Anchors and aliases are YAML: read as YAML reads them, merge keys included."""
    parsed = post('base: &base {x: 1}\ntitle: "x"\nother:\n  <<: *base\n  y: 2')
    assert parsed.title == "x"
    assert parsed.meta == {"base": {"x": 1}, "other": {"x": 1, "y": 2}}
    assert parsed.warnings == []


@pytest.mark.parametrize(
    "front",
    ["tags: &t [x, y]", "tags: &t [x, y]\nkeywords: *t", "tags: &t\n  - x\n  - y\nkeywords: *t"],
)
def test_parse_post_yaml_anchor_in_tags(front):
    parsed = post(f'title: "x"\n{front}')
    assert parsed.tags == ["x", "y"]
    assert parsed.warnings == []
    assert parsed.meta.get("keywords", ["x", "y"]) == ["x", "y"]


def test_parse_post_anchor_and_alias_recovered_when_yaml_fails():
    parsed = post('title: "a"b"\ntags: &t [x, y]\nkeywords: *t')
    assert (parsed.title, parsed.tags) == ('a"b', ["x", "y"])
    assert parsed.meta == {"keywords": ["x", "y"]}
    assert "not valid YAML" in parsed.warnings[0]


def test_parse_post_recursive_alias_read_line_by_line():
    parsed = post('title: "x"\nloop: &a [*a]')
    assert parsed.title == "x"
    assert "nests deeper" in parsed.warnings[0]
    json.dumps(parsed.meta)


@pytest.mark.parametrize(
    "nested",
    ["[" * 400 + "]" * 400, "{a: " * 300 + "b" + "}" * 300, "\n" + "- " * 400 + "x"],
    ids=["flow-list", "flow-map", "block-list"],
)
def test_parse_post_deep_yaml_read_line_by_line(nested):
    parsed = post(f'title: "x"\nx: {nested}')
    assert parsed.title == "x"
    assert "not valid YAML" in parsed.warnings[0]
    json.dumps(parsed.meta)


# ids: pytest puts the test id in PYTEST_CURRENT_TEST, and a 120 kB id breaks exec (E2BIG)
@pytest.mark.parametrize(
    "nested", ["[" * 60_000 + "]" * 60_000, "\n" + "- " * 120_000 + "x"], ids=["flow", "block"]
)
def test_parse_post_very_deep_yaml_does_not_crash(nested):
    """libyaml's C composer recurses without limit and kills the process (SIGSEGV): run in a
    child so that a regression fails this test instead of the whole run."""
    code = (
        "import sys; from pathlib import PurePath; from newsarc.parse import parse_post\n"
        "p = parse_post(sys.stdin.read(), PurePath('a.md'))\n"
        "print(p.title, len(p.warnings))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=f'---\ntitle: "x"\ndate: 2022-04-09\nx: {nested}\n---\n正文',
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout == "x 1\n"


def test_parse_post_nul_bytes_in_html():
    parsed = post('title: "x"', "<p>a\x00b</p>\x00<p>\x00</p><div \x00>c</div>")
    assert parsed.text == "ab\n\nc"


# -- properties -----------------------------------------------------------------------------------

FRONT_LINE = st.one_of(
    st.text(max_size=40).map(lambda s: s.replace("\n", " ")),
    st.tuples(
        st.sampled_from(["title", "date", "categories", "tags", "category", "layout", "x"]),
        st.text(max_size=30),
    ).map(lambda kv: f"{kv[0]}: {kv[1]}"),
    st.sampled_from(
        ['title: "a"b"', "date:  +0800", "- a", "  - b", "&a x", "*a", "[", "{", "? x"]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_parse_post_property_random_text_never_crashes(text):
    try:
        parsed = parse_post(text, NAME)
    except PostError:
        return
    json.dumps(parsed.meta, allow_nan=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRONT_LINE, max_size=8), st.text(max_size=200))
def test_parse_post_property_random_front_matter_never_crashes(lines, body):
    text = "---\n" + "\n".join(lines) + "\n---\n" + body
    try:
        parsed = parse_post(text, NAME)
    except PostError:
        return
    assert isinstance(parsed.title, str) and "\n" not in parsed.title
    assert parsed.date is None or parsed.date.tzinfo is not None
    assert all(isinstance(tag, str) and tag for tag in parsed.tags)
    json.dumps(parsed.meta, allow_nan=False)
    assert parsed.text == blocks_text(parsed.blocks)


# Titles as the generator writes them: `title: "<raw>"`, unescaped. Backslashes are left out
# (`\"` is ambiguous: an escape to a careful generator, two characters to this one).
RAW_TITLE = st.text(
    alphabet=st.characters(
        whitelist_categories=("L", "N", "P", "S", "Zs"), blacklist_characters="\\"
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=500, deadline=None)
@given(RAW_TITLE)
def test_parse_post_property_generator_titles_recovered_exactly(raw):
    text = f'---\nlayout: post\ntitle: "{raw}"\ndate: 2022-04-09 14:22:44 +0800\n---\n正文'
    parsed = parse_post(text, NAME)
    assert parsed.title == " ".join(raw.split())
    assert parsed.date == dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)


def test_parse_post_external_id_key_wins_and_is_not_meta():
    text = '---\ntitle: x\nexternal_id: "notes.v2"\ndate: 2022-01-04\n---\n正文\n\n<http://finance.eastmoney.com/news/1,202112082206672930.html>'
    post = parse_post(text, PurePath("2022-01-04-中文 名.md"))
    assert post.external_id == "notes.v2"
    assert "external_id" not in post.meta
    assert post.url == "http://finance.eastmoney.com/news/1,202112082206672930.html"


_flat_value = st.one_of(
    st.text(st.sampled_from(list("ab 1:#-\"'[]{}&*!|>%@`,?.~中文：“”\\\t")), max_size=12),
    st.sampled_from(["yes", "no", "null", "~", "1.10", "12:30", "0x1F", ".inf", "2021-12-08 10:46:18",
                     '"quoted"', '"a"b"', "'single'", "- item", "[a, b]"]),
)  # fmt: skip


@given(
    st.lists(
        st.tuples(st.sampled_from(["title", "date", "tags", "layout", "x-y"]), _flat_value),
        max_size=5,
    )
)
def test_flat_front_matter_agrees_with_yaml(pairs):
    """The YAML-free fast path either declines or gives exactly what PyYAML gives."""
    from newsarc.parse import _HANDLER, _FastLoader, _flat_front_matter, _jsonable

    fm = "\n".join(f"{key}: {value}" for key, value in pairs)
    fast = _flat_front_matter(fm)
    if fast is None:
        return
    assert fast == (_jsonable(_HANDLER.load(fm, Loader=_FastLoader)) or {})


# -- categories and tags as Jekyll reads them (checked with Debian's jekyll 4.3) -------------------


@pytest.mark.parametrize(
    "front, categories, tags",
    [
        ("categories: [emnews, markets]", ["emnews", "markets"], []),
        ("categories: emnews markets", ["emnews", "markets"], []),
        # a singular key is one value, never split on white space
        ("category: hello world", ["hello world"], []),
        # the categories list, then the singular category: both count, each once
        ("categories: a b\ncategory: c d", ["a", "b", "c d"], []),
        ("categories: [a, b]\ncategory: a", ["a", "b"], []),
        ("categories: []\ncategory: solo", ["solo"], []),
        # a singular tag is one tag and hides tags:
        ("tag: x y\ntags: [p, q]", [], ["x y"]),
        # an empty tag: does not
        ("tags: p q\ntag:", [], ["p", "q"]),
        ("tags: [中国 经营, 新闻]", [], ["中国 经营", "新闻"]),
    ],
)
def test_parse_categories_and_tags_follow_jekyll(front, categories, tags):
    post = parse_post(f"---\ntitle: t\n{front}\n---\nbody\n", "2022-01-01-p.md")
    assert post.categories == categories
    assert post.category == (categories[0] if categories else None)
    assert post.tags == tags


@pytest.mark.parametrize(
    ("front", "body", "source", "in_meta"),
    [
        ("source: 新华社", "<p>正文。</p><p>（文章来源：中国经营网）</p>", "新华社", False),
        ('source: "  上海 证券报 "', "正文。", "上海 证券报", False),
        ("source: ''", "正文。（文章来源：中国经营网）", "中国经营网", True),
        ("source: [a, b]", "正文。（文章来源：中国经营网）", "中国经营网", True),
        ("layout: post", "正文。（文章来源：中国经营网）", "中国经营网", False),
    ],
)
def test_parse_post_source_key_wins_over_the_text(front, body, source, in_meta):
    parsed = post(f'title: "x"\n{front}', body)
    assert parsed.source == source
    assert ("source" in parsed.meta) == in_meta  # a source key that is used is not meta
