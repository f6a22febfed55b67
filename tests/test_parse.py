"""Tests for ``newsarc.parse``: real posts from the shared corpus, and written files for every odd
case the import issue lists (broken YAML, dates, encodings' leftovers, HTML and Markdown bodies,
hostile input)."""

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

from newsarc.errors import NotAPost, PostError
from newsarc.parse import MAX_FRONT_MATTER, blocks_text, parse_post

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
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


def block_types(parsed) -> list[str]:
    return [block.type for block in parsed.blocks]


def texts(parsed, kind: str) -> list[str]:
    return [block.text for block in parsed.blocks if block.type == kind]


def assert_not_glued(parsed) -> None:
    """Every block's text is its own paragraph: the end of one and the start of the next are
    separated by a blank line, never adjacent (which would invent words across them)."""
    paragraphs = [b for b in parsed.blocks if b.type != "img"]
    assert parsed.text.count("\n\n") == len(paragraphs) - 1
    for first, second in zip(paragraphs, paragraphs[1:], strict=False):
        assert first.text[-3:] + second.text[:3] not in parsed.text
        assert first.text + "\n\n" + second.text in parsed.text


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


def test_parse_post_eastmoney_digest_is_summary():
    parsed = real(EASTMONEY)
    assert parsed.summary == (
        "据霍尼韦尔官网消息，5月24日，霍尼韦尔宣布为蔚来旗下ET7新能源汽车提供HFO-1234yf(四氟丙烯)"
        "制冷剂。据悉，这也标志着蔚来成为国内首家使用HFO-1234yf制冷剂的汽车企业。（上海证券报）"
    )
    assert parsed.blocks[0].type == "quote"
    assert parsed.blocks[0].text == parsed.summary
    assert parsed.text.startswith(parsed.summary + "\n\n国内首款使用超低GWP")


@pytest.mark.parametrize(
    "word", ["蔚来", "巨化股份", "联创股份", "国新文化", "新能源汽车", "知识产权"]
)
def test_parse_post_eastmoney_spans_do_not_break_words(word):
    parsed = real(EASTMONEY)
    assert word in parsed.text
    assert "旗下ET7新能源汽车提供" in parsed.text
    assert "具备HFO-1234yf的自主知识产权。" in parsed.text


def test_parse_post_eastmoney_hidden_block_and_widget_contribute_nothing():
    parsed = real(EASTMONEY)
    assert parsed.blocks[1].text == "国内首款使用超低GWP(全球变暖潜值)制冷剂的新能源汽车来了！"
    assert "K图" not in parsed.text
    assert all("webquoteklinepic" not in (b.src or "") for b in parsed.blocks)


def test_parse_post_eastmoney_images_are_img_blocks():
    parsed = real(EASTMONEY)
    images = [(b.src, b.alt) for b in parsed.blocks if b.type == "img"]
    assert images == [
        ("https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg", "Image"),
        ("https://dfscdn.dfcfw.com/download/D25494894506139150182_w800h343.jpg", "Image"),
        ("https://dfscdn.dfcfw.com/download/D25183467508852035766_w800h192.jpg", "Image"),
    ]


def test_parse_post_eastmoney_strong_paragraphs_are_headings():
    assert texts(real(EASTMONEY), "h") == ["什么是HFO-1234yf", "这些公司有HFO-1234yf产品"]


def test_parse_post_eastmoney_entities_decoded():
    parsed = real(EASTMONEY)
    assert "据了解，《<蒙特利尔议定书>基加利修正案》(以下简称" in parsed.text
    assert "&lt;" not in parsed.text


def test_parse_post_eastmoney_paragraphs_never_glued():
    parsed = real(EASTMONEY)
    assert block_types(parsed).count("p") == 16
    assert "汽车来了！\n\n据霍尼韦尔官网消息" in parsed.text
    assert "汽车来了！据霍尼韦尔" not in parsed.text
    assert_not_glued(parsed)


def test_parse_post_eastmoney_source_and_no_back_links():
    parsed = real(EASTMONEY)
    assert parsed.source == "上海证券报"
    assert parsed.text.endswith("主要应用于空调领域。\n\n（文章来源：上海证券报）")
    assert "返回" not in parsed.text
    assert "<>" not in parsed.text


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


def test_parse_post_media_post_body():
    parsed = real(MEDIA)
    assert texts(parsed, "h") == ["划定重点领域", "央企领军", "畅通产业链"]
    assert block_types(parsed).count("p") == 24
    assert parsed.text.startswith(
        "为了突破“卡脖子”的关键核心技术，国资委已经连续两个月召开专项会议"
    )
    assert parsed.text.endswith("激发科技型中小企业创新活力。”\n\n（文章来源：中国经营网）")
    assert "返回" not in parsed.text
    assert "finews" not in parsed.text
    assert "创新联合体" in parsed.text
    assert_not_glued(parsed)


# -- short emnews posts ---------------------------------------------------------------------------


def test_parse_post_emnews_trailing_link_gives_url_and_id():
    parsed = real("2021-12-08-202112082206672930.md")
    assert parsed.url == "http://finance.eastmoney.com/news/11060,202112082206672930.html"
    assert parsed.external_id == "202112082206672930"
    assert parsed.title == "离岸人民币兑美元升至2018年以来最高水平"
    assert parsed.date == dt.datetime(2021, 12, 8, 10, 46, 18, tzinfo=CST)
    assert parsed.text == "离岸人民币兑美元升至6.3512，为2018年以来最高水平。"
    assert block_types(parsed) == ["p"]


def test_parse_post_emnews_empty_link():
    parsed = real("2021-12-08-202112082206870651.md")
    assert parsed.url is None
    assert parsed.external_id == "202112082206870651"
    assert parsed.text == (
        "2021年12月8日讯，财政部2年期续发国债中标利率为2.4576%，边际利率为2.4823%，"
        "全场倍数为3.7，边际倍数为2.2。(东方财富Choice数据)"
    )
    assert parsed.source == "东方财富Choice数据"


def test_parse_post_emnews_raw_less_than_kept():
    parsed = real("2021-12-08-202112082206796814.md")
    assert "且精度满足<1%，视场角达到120度以上" in parsed.text
    assert parsed.text.startswith("欧菲光(002456)消息")


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


def test_parse_post_emnews_stock_codes_in_text():
    assert "白酒股龙头贵州茅台(600519)盘中涨逾2%" in real("2021-12-08-202112082206736335.md").text
    assert "融信中国(03301.HK)：" in real("2021-12-08-202112082206885265.md").text


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
    assert len(corpus_files(POSTS)) == 81, f"the shared corpus is missing at {CORPUS}"
    assert len(corpus_files(VERSIONS)) == 57


@pytest.mark.parametrize("path", corpus_files(POSTS), ids=lambda p: p.name)
def test_parse_post_every_corpus_post(path):
    parsed = parse_post(path.read_bytes().decode("utf-8"), path)
    assert parsed.text
    assert_well_formed(parsed)
    assert "返回" not in parsed.text  # back-links in every variant are stripped
    assert not re.search(r"\]\(|<https?:", parsed.text)
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


def test_parse_post_control_characters_removed():
    parsed = parse_post('---\ntitle: "a\x00b\x07"\n---\n<p>x\x00y\x1b\ud800z\ufffe</p>', NAME)
    assert parsed.title == "ab"
    assert parsed.text == "xyz"


def test_parse_post_control_characters_in_markdown():
    assert post('title: "x"', "一\x00二\x0c三").text == "一二三"


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
        {"type": "p", "text": "要点一\n要点二"},
        {"type": "p", "text": "填写______年。"},
    ]
    assert parsed.text == (
        "摘要：创新联合体建设提速。\n\n划定重点领域\n\n正文第一段，含加粗、链接文字与代码。\n"
        "第二行紧跟<标记>，AT&T 与 a&para 照原样。\n\n引用一段话。\n\n指标\t数值\n增速\t14.4%\n"
        "投资\t42.7%\n\n要点一\n要点二\n\n填写______年。"
    )
    assert parsed.warnings == []


@pytest.mark.parametrize(
    ("body", "blocks"),
    [
        ("## 标题\n正文", [("h", "标题"), ("p", "正文")]),
        ("# 标题 #\n\n正文", [("h", "标题"), ("p", "正文")]),
        ("## C#", [("h", "C#")]),
        ("#话题 不是标题", [("p", "#话题 不是标题")]),
        ("标题\n===\n\n正文", [("h", "标题"), ("p", "正文")]),
        ("上\n\n***\n\n下", [("p", "上"), ("p", "下")]),
        ("```\n代码\n```", [("p", "代码")]),
        ("* 甲\n+ 乙\n1. 丙", [("p", "甲\n乙\n1. 丙")]),
        ("**粗体**与 __粗体__", [("p", "粗体与 粗体")]),
        ("与__粗体__", [("p", "与__粗体__")]),  # CommonMark: intraword __ is no emphasis
        ("5**2 与 a__b__c", [("p", "5**2 与 a__b__c")]),
        ("[文字](http://x/(a)) [空]() [a [b](c)", [("p", "文字 空 [a b")]),
        ("**5*3** 与 *** 与 **", [("p", "**5*3** 与 *** 与 **")]),
        ("&#20013;&#x6587;&amp;&nbsp;!", [("p", "中文& !")]),
        ("| a | b |\n| - | - |\n| 1 | 2 |", [("table", [["a", "b"], ["1", "2"]])]),
    ],
)
def test_parse_post_markdown_blocks(body, blocks):
    parsed = post('title: "x"', body)
    assert [(b.type, b.rows if b.type == "table" else b.text) for b in parsed.blocks] == blocks


def test_parse_post_markdown_comments_dropped():
    parsed = post('title: "x"', "摘要<!--more-->\n\n## 标题\n\n正文<!-- 注释\n跨行 -->")
    assert [(b.type, b.text) for b in parsed.blocks] == [
        ("p", "摘要"),
        ("h", "标题"),
        ("p", "正文"),
    ]


def test_parse_post_markdown_block_scalar_title():
    parsed = post("title: |\n  第一行\n  第二行\ncategories: x")
    assert parsed.title == "第一行 第二行"
    assert parsed.warnings == []


def test_parse_post_markdown_image_alone():
    parsed = post('title: "x"', "前文\n\n![](http://x/a.png)\n\n后文")
    assert [b.to_dict() for b in parsed.blocks] == [
        {"type": "p", "text": "前文"},
        {"type": "img", "src": "http://x/a.png"},
        {"type": "p", "text": "后文"},
    ]
    assert parsed.text == "前文\n\n后文"


def test_parse_post_markdown_lines_kept():
    """A single line break in Markdown stays a line break: Chinese posts often separate
    paragraphs that way, and joining the lines would glue them together."""
    assert post('title: "x"', "第一部分\n正文开始").text == "第一部分\n正文开始"


def test_parse_post_leading_quote_is_summary():
    parsed = post('title: "x"', "> 第一行\n> **第二行**\n\n正文")
    assert parsed.summary == "第一行\n第二行"
    assert [b.to_dict() for b in parsed.blocks] == [
        {"type": "quote", "text": "第一行\n第二行"},
        {"type": "p", "text": "正文"},
    ]


def test_parse_post_quote_later_is_no_summary():
    parsed = post('title: "x"', "正文\n\n> 引用")
    assert parsed.summary is None
    assert block_types(parsed) == ["p", "quote"]


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


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<p>中国<span>经营</span><a href='#'>网</a></p>", "中国经营网"),
        ("<p>中国\n  经营网</p>", "中国经营网"),
        ("<p>Hello\nworld</p>", "Hello world"),
        ("<p>第一行<br>第二行</p>", "第一行\n第二行"),
        ("<p>甲</p><p>乙</p><div>丙<div>丁</div>戊</div>", "甲\n\n乙\n\n丙\n\n丁\n\n戊"),
        ("<p>一</p>\n\n<p>二</p>", "一\n\n二"),
        ("文字\n\n<p>段</p>\n\n更多文字", "文字\n\n段\n\n更多文字"),
        ("<p>a &amp; b &lt;c&gt; &yen;1</p>", "a & b <c> ¥1"),
        ("<p>价格<市场价</p>", "价格<市场价"),
        ("<html><body><p>一</p><p>二</p></body></html>", "一\n\n二"),
        ('<?xml version="1.0" encoding="utf-8"?><p>一</p><p>二</p>', "一\n\n二"),
        ("<p>x<!-- c -->y</p><script>z</script><style>w</style><noscript>v</noscript>", "xy"),
        ('<p style="DISPLAY : none">藏</p><p hidden>藏</p><p style="visibility:hidden">藏</p>', ""),
        ("<ul><li>甲</li><li>乙</li></ul>", "甲\n\n乙"),
        ("<p>前<img src='a.jpg'>后</p>", "前\n\n后"),
        ("这是<i>斜体</i>和<sup>2</sup>", "这是斜体和2"),  # any HTML tag makes the body HTML
        ("x<script>alert(1)</script>y", "xy"),
        ("<iframe src=x></iframe>正文", "正文"),
        ("A<B股 x<p值很小 <1%", "A<B股 x<p值很小 <1%"),  # no tag: raw "<" in Markdown text
    ],
)
def test_parse_post_html_text(body, text):
    assert post('title: "x"', body).text == text


def test_parse_post_html_widget_without_end_keeps_text():
    parsed = post('title: "x"', "<p>一</p><!-- restart --><!-- Ad_Start --><p>二</p>")
    assert parsed.text == "一\n\n二"


def test_parse_post_html_img_data_src_and_no_src():
    parsed = post('title: "x"', '<p><img data-src="http://x/a.png"><img alt="无"></p>')
    assert [b.to_dict() for b in parsed.blocks] == [{"type": "img", "src": "http://x/a.png"}]


def test_parse_post_html_heading_tags():
    parsed = post('title: "x"', "<h2>小标题</h2><p><b>加粗段落</b>和正文</p>")
    assert [(b.type, b.text) for b in parsed.blocks] == [("h", "小标题"), ("p", "加粗段落和正文")]


def test_parse_post_html_table_cells():
    body = "<table><tr><td>a<br>b</td><td><p>c</p></td></tr><tr><td></td><td></td></tr></table>"
    parsed = post('title: "x"', body)
    assert [b.rows for b in parsed.blocks] == [[["a b", "c"]]]
    assert parsed.text == "a b\tc"


def test_parse_post_html_nested_table_is_text_of_its_cell():
    body = (
        "<table><tr><td>A<table><tr><td>B</td><td>C<span style='display:none'>藏</span></td>"
        "</tr></table></td><td><p>D</p>E<script>x</script></td></tr></table>"
    )
    parsed = post('title: "x"', body)
    assert [b.rows for b in parsed.blocks] == [[["A B C", "D E"]]]


def test_parse_post_html_nested_tables_not_repeated():
    """Each level's text once: rows of nested tables were taken again at every level (n²)."""
    body = "<table><tr><td>格" * 500 + "深" + "</td></tr></table>" * 500
    start = time.perf_counter()
    parsed = post('title: "x"', body)
    assert time.perf_counter() - start < 1
    assert parsed.text == " ".join("格" * 499) + " 格深"


def test_parse_post_html_many_widget_markers_fast():
    body = "<!-- W_Start --><p>x</p>" * 10_000 + "<!-- EM_Start --><p>图</p><!-- EM_End --><p>y</p>"
    start = time.perf_counter()
    parsed = post('title: "x"', body)
    assert time.perf_counter() - start < 1
    assert parsed.text == "\n\n".join(["x"] * 10_000 + ["y"])


def test_parse_post_deeply_nested_html():
    """libxml2 silently drops everything nested deeper than its limit: the text must survive."""
    body = "<div>" * 5000 + "深处<span>文字</span>" + "</div>" * 5000 + "<p>后文</p>"
    start = time.perf_counter()
    parsed = post('title: "x"', body)
    assert time.perf_counter() - start < 2
    assert parsed.text == "深处文字\n\n后文"


@pytest.mark.parametrize("tag", ["span", "table", "blockquote"])
def test_parse_post_deeply_nested_html_other_tags(tag):
    body = f"<p>前文</p><{tag}>" * 3000 + "深处" + f"</{tag}>" * 3000
    parsed = post('title: "x"', body)
    assert parsed.text.startswith("前文")
    assert "深处" in parsed.text


def test_parse_post_huge_markdown_body():
    paragraph = "国资委将创新联合体作为推动科技创新的重要抓手，构建形成了有效机制。" * 10
    body = "\n\n".join([paragraph] * 5100)  # ~5 MB of UTF-8
    assert len(body.encode()) > 5_000_000
    start = time.perf_counter()
    parsed = post('title: "x"', body)
    assert time.perf_counter() - start < 10
    assert len(parsed.blocks) == 5100
    assert parsed.text == body


def test_parse_post_huge_html_body():
    paragraph = "<p>国资委将<span>创新联合体</span>作为推动科技创新的重要抓手。</p>\n"
    body = paragraph * 60_000  # ~5 MB
    start = time.perf_counter()
    parsed = post('title: "x"', body)
    assert time.perf_counter() - start < 15
    assert len(parsed.blocks) == 60_000
    assert parsed.blocks[-1].text == "国资委将创新联合体作为推动科技创新的重要抓手。"


@pytest.mark.parametrize(
    "unit", ["**甲 ", "__甲 ", "[甲", "![甲", "[甲](x", "`甲", "（甲", "<p甲 "]
)
def test_parse_post_long_line_of_unclosed_markup_is_fast(unit):
    """Every unclosed opener must not rescan the rest of the line (that was quadratic: a
    160 kB line of "**甲 " took a minute)."""
    start = time.perf_counter()
    parsed = post('title: "x"', unit * 40_000)
    assert time.perf_counter() - start < 1
    assert len(parsed.text) >= 40_000


def test_parse_post_huge_single_paragraph():
    body = "<p>" + "长" * 3_000_000 + "</p>"
    assert post('title: "x"', body).text == "长" * 3_000_000


# -- trailing boilerplate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trailer",
    [
        "[返回东财滚动新闻](../emnews/)\n[返回首页](../)",
        "[返回东财滚动新闻](./emnews/)｜[返回首页](./)",
        "[返回东财滚动新闻](//finews.zning.me/emnews/)\n\n[返回首页](//finews.zning.me/)",
        "[返回中国经营网新闻](//finews.withounder.com/category/zhongguojingyingwang.html)"
        "｜[返回首页](//finews.withounder.com/)",
        "[返回东财滚动新闻](../emnews/) | [返回首页](../)  ",
        "[Back to news](../) · [Home](/)",
    ],
)
def test_parse_post_back_links_stripped(trailer):
    body = f"正文。\n\n<http://finance.eastmoney.com/news/1,202204092337358965.html>\n\n{trailer}"
    parsed = post('title: "x"', body)
    assert parsed.text == "正文。"
    assert parsed.url == "http://finance.eastmoney.com/news/1,202204092337358965.html"


def test_parse_post_back_links_before_original_link():
    parsed = post(
        'title: "x"', "正文。\n\n[返回首页](../)\n\n<https://example.com/a,202204092337358966.html>"
    )
    assert (parsed.text, parsed.external_id) == ("正文。", "202204092337358966")


def test_parse_post_links_that_are_not_back_links_kept():
    parsed = post('title: "x"', "正文。\n\n[相关阅读](http://x/1)｜[更多](http://x/2)")
    assert parsed.text == "正文。\n\n相关阅读｜更多"


def test_parse_post_back_links_line_is_fast():
    line = "[返回](x)  " * 40 + "x"
    start = time.perf_counter()
    parsed = post('title: "x"', "正文\n\n" + line)
    assert time.perf_counter() - start < 1
    assert parsed.text.startswith("正文\n\n返回 返回")


def test_parse_post_autolink_mid_text_kept():
    parsed = post('title: "x"', "<http://a.example/1>\n\n正文")
    assert parsed.url is None
    assert parsed.text == "<http://a.example/1>\n\n正文"


def test_parse_post_trailing_tag_is_not_a_url():
    parsed = post('title: "x"', "<p>正文</p>\n<o:p>")
    assert parsed.url is None
    assert parsed.text == "正文"


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


@pytest.mark.parametrize(
    ("body", "source"),
    [
        ("<p>正文。</p><p>（文章来源：中国经营网）</p>", "中国经营网"),
        ("<p>正文。</p><p>(来源: 新华社)</p>", "新华社"),
        ("<p>数据（来源：国家统计局）显示增长。</p><p>（文章来源：中国经营网）</p>", "中国经营网"),
        ("<p>数据（来源：国家统计局）显示增长。</p>", None),
        ("正文。（新华社）", "新华社"),
        ("正文。(e公司)", "e公司"),
        ("正文。（12-08）", None),
        ("正文。（记者 王梦）", None),
        ("正文（明年）还有。", None),
    ],
)
def test_parse_post_source(body, source):
    assert post('title: "x"', body).source == source


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
    assert "not valid YAML" in parsed.warnings[0]


def test_parse_post_yaml_alias_anywhere_refused():
    parsed = post('base: &base {x: 1}\ntitle: "x"\nother:\n  <<: *base')
    assert parsed.title == "x"
    assert "aliases are not allowed" in parsed.warnings[0]


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
    assert_well_formed(parsed)


HTML_SOUP = st.lists(
    st.one_of(
        st.text(alphabet="中文<>/&;\"' =pdivspanbrimgtable!-", max_size=12),
        st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<br>", "<table>", "<tr><td>",
                         "<!--", "-->", "<script>", "<img src=x>", "&amp;", "&#0;", "<![CDATA["]),
    ),
    max_size=30,
).map("".join)  # fmt: skip


MARKDOWN_SOUP = st.lists(
    st.sampled_from(["> ", "&#10;", "&#9;", "&#0;", "| a | b |\n", "|---|---|\n", "| ", "\n",
                     "\n\n", "# ", "**", "中", "x", " ", "\t", "\u3000", "\xa0", "![a](b)",
                     "[t](u)", "---", "```", "- ", "<>", "<http://x/1,202204092337358966.html>"]),
    max_size=40,
).map("".join)  # fmt: skip


def assert_well_formed(parsed) -> None:
    """The contract the store relies on: text is the text blocks joined by blank lines; a block
    has no blank line, no edge white space, no empty line; a table cell is one line."""
    assert parsed.text == blocks_text(parsed.blocks)
    for block in parsed.blocks:
        if block.type == "img":
            assert block.src
        elif block.type == "table":
            assert all("\t" not in cell and "\n" not in cell for row in block.rows for cell in row)
        else:
            lines = block.text.split("\n")
            assert all(line and line == line.strip() for line in lines), block


@settings(max_examples=300, deadline=None)
@given(HTML_SOUP)
def test_parse_post_property_html_soup_never_crashes(body):
    parsed = post('title: "x"', "<p>" + body)
    assert_well_formed(parsed)


@settings(max_examples=300, deadline=None)
@given(MARKDOWN_SOUP)
def test_parse_post_property_markdown_soup_well_formed(body):
    assert_well_formed(post('title: "x"', body))


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


WORD_PART = st.text(alphabet="中国经营网蔚来巨化股份ABCxyz0123", min_size=1, max_size=6)
INLINE = st.recursive(
    WORD_PART,
    lambda inner: (
        st.tuples(st.sampled_from(["span", "a", "strong", "em", "font", "b"]), inner).map(
            lambda t: f"<{t[0]}>{t[1]}</{t[0]}>"
        )
        | st.lists(inner, min_size=1, max_size=3).map("".join)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(INLINE, min_size=1, max_size=6))
def test_parse_post_property_inline_tags_never_break_words(paragraphs):
    """Inline markup inside a paragraph adds nothing; paragraphs are separated by a blank line."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    expected = [re.sub(r"<[^>]+>", "", p) for p in paragraphs]
    parsed = post('title: "x"', body)
    assert parsed.text == "\n\n".join(expected)


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
