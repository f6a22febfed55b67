"""Tests for ``newsarc.body``: the body of real posts from the shared corpus, and written bodies
for every odd case (HTML and Markdown, widgets, trailing links, sources, hostile markup)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.body import blocks_text, find_source, parse_body
from newsarc.models import Block
from newsarc.parse import normalise_newlines, split_front_matter

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
POSTS = CORPUS / "posts"
EASTMONEY = "-202205262391921712.md"
MEDIA = "000_da33c2ea1906ec2c.txt"


@dataclass
class Body:
    """What the body reader makes of a body: ``parse_post`` stores exactly these."""

    blocks: list[Block]
    summary: str | None
    url: str | None
    text: str
    source: str | None


def read(body: str) -> Body:
    blocks, summary, url = parse_body(body)
    text = blocks_text(blocks)
    return Body(blocks, summary, url, text, find_source(text))


def real_body(name: str) -> Body:
    """The body of a corpus file, as parse_post hands it over."""
    text = (POSTS / name).read_bytes().decode("utf-8")
    return read(split_front_matter(normalise_newlines(text))[1])


def block_types(parsed: Body) -> list[str]:
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


def test_parse_body_eastmoney_digest_is_summary():
    parsed = real_body(EASTMONEY)
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
def test_parse_body_eastmoney_spans_do_not_break_words(word):
    parsed = real_body(EASTMONEY)
    assert word in parsed.text
    assert "旗下ET7新能源汽车提供" in parsed.text
    assert "具备HFO-1234yf的自主知识产权。" in parsed.text


def test_parse_body_eastmoney_hidden_block_and_widget_contribute_nothing():
    parsed = real_body(EASTMONEY)
    assert parsed.blocks[1].text == "国内首款使用超低GWP(全球变暖潜值)制冷剂的新能源汽车来了！"
    assert "K图" not in parsed.text
    assert all("webquoteklinepic" not in (b.src or "") for b in parsed.blocks)


def test_parse_body_eastmoney_images_are_img_blocks():
    parsed = real_body(EASTMONEY)
    images = [(b.src, b.alt) for b in parsed.blocks if b.type == "img"]
    assert images == [
        ("https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg", "Image"),
        ("https://dfscdn.dfcfw.com/download/D25494894506139150182_w800h343.jpg", "Image"),
        ("https://dfscdn.dfcfw.com/download/D25183467508852035766_w800h192.jpg", "Image"),
    ]


def test_parse_body_eastmoney_strong_paragraphs_are_headings():
    assert texts(real_body(EASTMONEY), "h") == ["什么是HFO-1234yf", "这些公司有HFO-1234yf产品"]


def test_parse_body_eastmoney_entities_decoded():
    parsed = real_body(EASTMONEY)
    assert "据了解，《<蒙特利尔议定书>基加利修正案》(以下简称" in parsed.text
    assert "&lt;" not in parsed.text


def test_parse_body_eastmoney_paragraphs_never_glued():
    parsed = real_body(EASTMONEY)
    assert block_types(parsed).count("p") == 16
    assert "汽车来了！\n\n据霍尼韦尔官网消息" in parsed.text
    assert "汽车来了！据霍尼韦尔" not in parsed.text
    assert_not_glued(parsed)


def test_parse_body_eastmoney_source_and_no_back_links():
    parsed = real_body(EASTMONEY)
    assert parsed.source == "上海证券报"
    assert parsed.text.endswith("主要应用于空调领域。\n\n（文章来源：上海证券报）")
    assert "返回" not in parsed.text
    assert "<>" not in parsed.text


# -- the media post and short emnews posts --------------------------------------------------------


def test_parse_body_media_post_body():
    parsed = real_body(MEDIA)
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


def test_parse_body_emnews_raw_less_than_kept():
    parsed = real_body("2021-12-08-202112082206796814.md")
    assert "且精度满足<1%，视场角达到120度以上" in parsed.text
    assert parsed.text.startswith("欧菲光(002456)消息")


def test_parse_body_emnews_stock_codes_in_text():
    assert (
        "白酒股龙头贵州茅台(600519)盘中涨逾2%" in real_body("2021-12-08-202112082206736335.md").text
    )
    assert "融信中国(03301.HK)：" in real_body("2021-12-08-202112082206885265.md").text


def corpus_files(folder: Path) -> list[Path]:
    """Files of a corpus folder; none when it is missing (test_parse_corpus_present says so)."""
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


@pytest.mark.parametrize("path", corpus_files(POSTS), ids=lambda p: p.name)
def test_parse_body_every_corpus_post(path):
    parsed = real_body(path.name)
    assert parsed.text
    assert_well_formed(parsed)
    assert "返回" not in parsed.text  # back-links in every variant are stripped
    assert not re.search(r"\]\(|<https?:", parsed.text)


# -- Markdown bodies ------------------------------------------------------------------------------


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
        ("* 甲\n+ 乙\n1. 丙", [("p", "• 甲\n• 乙\n1. 丙")]),  # marks kept, as in <ul>/<ol>
        ("**粗体**与 __粗体__", [("p", "粗体与 粗体")]),
        ("与__粗体__", [("p", "与__粗体__")]),  # CommonMark: intraword __ is no emphasis
        ("5**2 与 a__b__c", [("p", "5**2 与 a__b__c")]),
        ("[文字](http://x/(a)) [空]() [a [b](c)", [("p", "文字 空 [a b")]),
        ("**5*3** 与 *** 与 **", [("p", "**5*3** 与 *** 与 **")]),
        ("&#20013;&#x6587;&amp;&nbsp;!", [("p", "中文& !")]),
        ("| a | b |\n| - | - |\n| 1 | 2 |", [("table", [["a", "b"], ["1", "2"]])]),
    ],
)
def test_parse_body_markdown_blocks(body, blocks):
    parsed = read(body)
    assert [(b.type, b.rows if b.type == "table" else b.text) for b in parsed.blocks] == blocks


def test_parse_body_markdown_comments_dropped():
    parsed = read("摘要<!--more-->\n\n## 标题\n\n正文<!-- 注释\n跨行 -->")
    assert [(b.type, b.text) for b in parsed.blocks] == [
        ("p", "摘要"),
        ("h", "标题"),
        ("p", "正文"),
    ]


def test_parse_body_markdown_image_alone():
    parsed = read("前文\n\n![](http://x/a.png)\n\n后文")
    assert [b.to_dict() for b in parsed.blocks] == [
        {"type": "p", "text": "前文"},
        {"type": "img", "src": "http://x/a.png"},
        {"type": "p", "text": "后文"},
    ]
    assert parsed.text == "前文\n\n后文"


def test_parse_body_markdown_lines_kept():
    """A single line break in Markdown stays a line break: Chinese posts often separate
    paragraphs that way, and joining the lines would glue them together."""
    assert read("第一部分\n正文开始").text == "第一部分\n正文开始"


def test_parse_body_leading_quote_is_summary():
    parsed = read("> 第一行\n> **第二行**\n\n正文")
    assert parsed.summary == "第一行\n第二行"
    assert [b.to_dict() for b in parsed.blocks] == [
        {"type": "quote", "text": "第一行\n第二行"},
        {"type": "p", "text": "正文"},
    ]


def test_parse_body_quote_later_is_no_summary():
    parsed = read("正文\n\n> 引用")
    assert parsed.summary is None
    assert block_types(parsed) == ["p", "quote"]


# -- HTML bodies ----------------------------------------------------------------------------------


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
        ("<ul><li>甲</li><li>乙</li></ul>", "• 甲\n\n• 乙"),
        ("<p>前<img src='a.jpg'>后</p>", "前\n\n后"),
        ("这是<i>斜体</i>和<sup>2</sup>", "这是斜体和2"),  # any HTML tag makes the body HTML
        ("x<script>alert(1)</script>y", "xy"),
        ("<iframe src=x></iframe>正文", "正文"),
        ("A<B股 x<p值很小 <1%", "A<B股 x<p值很小 <1%"),  # no tag: raw "<" in Markdown text
    ],
)
def test_parse_body_html_text(body, text):
    assert read(body).text == text


def test_parse_body_html_widget_without_end_keeps_text():
    parsed = read("<p>一</p><!-- restart --><!-- Ad_Start --><p>二</p>")
    assert parsed.text == "一\n\n二"


def test_parse_body_html_img_data_src_and_no_src():
    parsed = read('<p><img data-src="http://x/a.png"><img alt="无"></p>')
    assert [b.to_dict() for b in parsed.blocks] == [{"type": "img", "src": "http://x/a.png"}]


def test_parse_body_html_heading_tags():
    parsed = read("<h2>小标题</h2><p><b>加粗段落</b>和正文</p>")
    assert [(b.type, b.text) for b in parsed.blocks] == [("h", "小标题"), ("p", "加粗段落和正文")]


def test_parse_body_html_table_cells():
    body = "<table><tr><td>a<br>b</td><td><p>c</p></td></tr><tr><td></td><td></td></tr></table>"
    parsed = read(body)
    assert [b.rows for b in parsed.blocks] == [[["a b", "c"]]]
    assert parsed.text == "a b\tc"


def test_parse_body_html_nested_table_is_text_of_its_cell():
    body = (
        "<table><tr><td>A<table><tr><td>B</td><td>C<span style='display:none'>藏</span></td>"
        "</tr></table></td><td><p>D</p>E<script>x</script></td></tr></table>"
    )
    parsed = read(body)
    assert [b.rows for b in parsed.blocks] == [[["A B C", "D E"]]]


def test_parse_body_html_nested_tables_not_repeated():
    """Each level's text once: rows of nested tables were taken again at every level (n²)."""
    body = "<table><tr><td>格" * 500 + "深" + "</td></tr></table>" * 500
    start = time.perf_counter()
    parsed = read(body)
    assert time.perf_counter() - start < 1
    assert parsed.text == " ".join("格" * 499) + " 格深"


def test_parse_body_html_many_widget_markers_fast():
    body = "<!-- W_Start --><p>x</p>" * 10_000 + "<!-- EM_Start --><p>图</p><!-- EM_End --><p>y</p>"
    start = time.perf_counter()
    parsed = read(body)
    assert time.perf_counter() - start < 1
    assert parsed.text == "\n\n".join(["x"] * 10_000 + ["y"])


def test_parse_body_deeply_nested_html():
    """libxml2 silently drops everything nested deeper than its limit: the text must survive."""
    body = "<div>" * 5000 + "深处<span>文字</span>" + "</div>" * 5000 + "<p>后文</p>"
    start = time.perf_counter()
    parsed = read(body)
    assert time.perf_counter() - start < 2
    assert parsed.text == "深处文字\n\n后文"


@pytest.mark.parametrize("tag", ["span", "table", "blockquote"])
def test_parse_body_deeply_nested_html_other_tags(tag):
    body = f"<p>前文</p><{tag}>" * 3000 + "深处" + f"</{tag}>" * 3000
    parsed = read(body)
    assert parsed.text.startswith("前文")
    assert "深处" in parsed.text


def test_parse_body_huge_markdown_body():
    paragraph = "国资委将创新联合体作为推动科技创新的重要抓手，构建形成了有效机制。" * 10
    body = "\n\n".join([paragraph] * 5100)  # ~5 MB of UTF-8
    assert len(body.encode()) > 5_000_000
    start = time.perf_counter()
    parsed = read(body)
    assert time.perf_counter() - start < 10
    assert len(parsed.blocks) == 5100
    assert parsed.text == body


def test_parse_body_huge_html_body():
    paragraph = "<p>国资委将<span>创新联合体</span>作为推动科技创新的重要抓手。</p>\n"
    body = paragraph * 60_000  # ~5 MB
    start = time.perf_counter()
    parsed = read(body)
    assert time.perf_counter() - start < 15
    assert len(parsed.blocks) == 60_000
    assert parsed.blocks[-1].text == "国资委将创新联合体作为推动科技创新的重要抓手。"


@pytest.mark.parametrize(
    "unit", ["**甲 ", "__甲 ", "[甲", "![甲", "[甲](x", "`甲", "（甲", "<p甲 "]
)
def test_parse_body_long_line_of_unclosed_markup_is_fast(unit):
    """Every unclosed opener must not rescan the rest of the line (that was quadratic: a
    160 kB line of "**甲 " took a minute)."""
    start = time.perf_counter()
    parsed = read(unit * 40_000)
    assert time.perf_counter() - start < 1
    assert len(parsed.text) >= 40_000


def test_parse_body_huge_single_paragraph():
    body = "<p>" + "长" * 3_000_000 + "</p>"
    assert read(body).text == "长" * 3_000_000


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
def test_parse_body_back_links_stripped(trailer):
    body = f"正文。\n\n<http://finance.eastmoney.com/news/1,202204092337358965.html>\n\n{trailer}"
    parsed = read(body)
    assert parsed.text == "正文。"
    assert parsed.url == "http://finance.eastmoney.com/news/1,202204092337358965.html"


def test_parse_body_back_links_before_original_link():
    parsed = read("正文。\n\n[返回首页](../)\n\n<https://example.com/a,202204092337358966.html>")
    assert (parsed.text, parsed.url) == ("正文。", "https://example.com/a,202204092337358966.html")


def test_parse_body_links_that_are_not_back_links_kept():
    parsed = read("正文。\n\n[相关阅读](http://x/1)｜[更多](http://x/2)")
    assert parsed.text == "正文。\n\n相关阅读｜更多"


def test_parse_body_back_links_line_is_fast():
    line = "[返回](x)  " * 40 + "x"
    start = time.perf_counter()
    parsed = read("正文\n\n" + line)
    assert time.perf_counter() - start < 1
    assert parsed.text.startswith("正文\n\n返回 返回")


def test_parse_body_autolink_mid_text_kept():
    """An autolink that is not the trailing original link reads as its URL, as on the site."""
    parsed = read("<http://a.example/1>\n\n正文")
    assert parsed.url is None
    assert parsed.text == "http://a.example/1\n\n正文"


def test_parse_body_trailing_tag_is_not_a_url():
    parsed = read("<p>正文</p>\n<o:p>")
    assert parsed.url is None
    assert parsed.text == "正文"


# -- source ---------------------------------------------------------------------------------------


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
def test_parse_body_source(body, source):
    assert read(body).source == source


# -- properties -----------------------------------------------------------------------------------


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
def test_parse_body_property_html_soup_never_crashes(body):
    parsed = read("<p>" + body)
    assert_well_formed(parsed)


@settings(max_examples=300, deadline=None)
@given(MARKDOWN_SOUP)
def test_parse_body_property_markdown_soup_well_formed(body):
    assert_well_formed(read(body))


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
def test_parse_body_property_inline_tags_never_break_words(paragraphs):
    """Inline markup inside a paragraph adds nothing; paragraphs are separated by a blank line."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    expected = [re.sub(r"<[^>]+>", "", p) for p in paragraphs]
    parsed = read(body)
    assert parsed.text == "\n\n".join(expected)


# -- widgets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        # an end before its start: the start opens nothing, the rest of the post is text
        ("<p>一<!-- EM_StockImg_End --></p><p>二</p><!-- EM_StockImg_Start --><p>三</p><p>四</p>",
         "一\n\n二\n\n三\n\n四"),
        # a pair, then a second start without an end after it
        ("<!-- EM_Start --><p>图</p><!-- EM_End --><p>一</p><!-- EM_Start --><p>二</p>",
         "一\n\n二"),
        # a start whose end belongs to another widget
        ("<!-- A_Start --><p>一</p><!-- B_End --><p>二</p>", "一\n\n二"),
        # two pairs: both hidden
        ("<!-- A_Start --><p>图</p><!-- A_End --><p>一</p><!-- A_Start --><p>图</p><!-- A_End -->",
         "一"),
    ],
)  # fmt: skip
def test_parse_body_widget_start_counts_only_with_an_end_after_it(body, text):
    assert read(body).text == text


# -- Markdown with inline HTML, as Jekyll (kramdown) reads it ------------------------------------
# Each expectation was checked against the page Debian's jekyll 4.3 builds from the same body.


def blocks_of(parsed: Body) -> list[tuple[str, object]]:
    return [(b.type, b.rows if b.type == "table" else b.text or b.src) for b in parsed.blocks]


@pytest.mark.parametrize(
    ("body", "blocks"),
    [
        # paragraphs stay apart: no word made across them
        ("第一段结尾是央\n企开头<span>x</span>\n\n第二段", [("p", "第一段结尾是央\n企开头x"), ("p", "第二段")]),
        # a <br> ending a line is that line break, not a second one
        ("甲<br>\n乙<br/>\n丙\n\n丁", [("p", "甲\n乙\n丙"), ("p", "丁")]),
        ("甲<br><br>乙", [("p", "甲"), ("p", "乙")]),
        ("## 标题<span>一</span>\n\n正文<br>", [("h", "标题一"), ("p", "正文")]),
        ("标题<b>二</b>\n===\n正文", [("h", "标题二"), ("p", "正文")]),
        ("| a | b |\n|---|---|\n| 1<br>2 | <b>3</b> |", [("table", [["a", "b"], ["1 2", "3"]])]),
        ("- 甲<b>粗</b>\n- 乙", [("p", "• 甲粗\n• 乙")]),
        ("1. 甲<b>粗</b>\n2. 乙", [("p", "1. 甲粗\n2. 乙")]),
        ("```\n<p>代码</p>\n\n<b>x</b>\n```\n\n正文<span>s</span>",
         [("p", "<p>代码</p>"), ("p", "<b>x</b>"), ("p", "正文s")]),
        ("![图](http://x/a.png) 说明<span>s</span>", [("img", "http://x/a.png"), ("p", "说明s")]),
        ("见 <http://example.com/x> 与 <a@b.cn> 后文<span>s</span>",
         [("p", "见 http://example.com/x 与 a@b.cn 后文s")]),
        ("甲<span style='display:none'>藏\n藏</span>乙", [("p", "甲乙")]),
        ("**粗<span>体</span>** [链<i>接</i>](http://x)", [("p", "粗体 链接")]),
        ("用 `<span>` 标签<br>", [("p", "用 <span> 标签")]),
        ("x<script>alert(1)</script>y <1% 与 AT&T", [("p", "xy <1% 与 AT&T")]),
        ("正文\n\n> 引<b>用</b>\n> 第二行", [("p", "正文"), ("quote", "引用\n第二行")]),
        ("甲<img src='http://x/b.png' alt='图'>乙", [("p", "甲"), ("img", "http://x/b.png"), ("p", "乙")]),
    ],
)  # fmt: skip
def test_parse_body_markdown_with_inline_html(body, blocks):
    assert blocks_of(read(body)) == blocks


def test_parse_body_inline_html_makes_no_word_across_paragraphs():
    parsed = read("第一段结尾是央\n\n企开头<span>x</span>")
    assert parsed.text == "第一段结尾是央\n\n企开头x"
    assert "央企" not in parsed.text


@pytest.mark.parametrize(
    ("body", "blocks"),
    [
        # an HTML block in Markdown: read as HTML, the Markdown around it as Markdown
        ("## 标题\n\n<div>块\n内容</div>\n## 紧跟\n\n- 甲",
         [("h", "标题"), ("p", "块内容"), ("h", "紧跟"), ("p", "• 甲")]),
        # inside an HTML block, Markdown is not read (kramdown's default)
        ("<div>\n正文第一段。\n\n**不是粗体**\n</div>\n\n**粗体**",
         [("p", "正文第一段。"), ("p", "**不是粗体**"), ("p", "粗体")]),
        # a block tag interrupts a paragraph
        ("导语<span>x</span>\n<p>一</p>\n\n正文", [("p", "导语x"), ("p", "一"), ("p", "正文")]),
        # a start tag without its end: the block ends at the blank line
        ("<p>无结束\n文字\n\n**粗体**", [("p", "无结束文字"), ("p", "粗体")]),
        # markup lines right after a block go with it
        ("<p>正文</p>\n<o:p></o:p>\n</div>", [("p", "正文")]),
        # widget markers pair up across HTML blocks separated by blank lines
        ("<p>一</p>\n\n<!-- EM_Start -->\n\n<p>图</p>\n\n<!-- EM_End -->\n\n<p>二</p>",
         [("p", "一"), ("p", "二")]),
    ],
)  # fmt: skip
def test_parse_body_html_blocks_in_markdown(body, blocks):
    assert blocks_of(read(body)) == blocks


def test_parse_body_html_post_with_indented_lines_is_html():
    body = "<div class='a'>\n  <p>中国\n  经营网</p>\n    <p>第二段</p>\n</div>"
    assert blocks_of(read(body)) == [("p", "中国经营网"), ("p", "第二段")]


# -- text that a reader sees: lists, <pre>, links ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<ol><li>甲</li><li>乙</li></ol>", "1. 甲\n\n2. 乙"),
        ("<ol start='3'><li>甲<ul><li>子</li></ul></li><li>乙</li></ol>", "3. 甲\n\n• 子\n\n4. 乙"),
        ("<ul><li><p>甲</p><p>续</p></li><li></li><li>乙</li></ul>", "• 甲\n\n续\n\n• 乙"),
        ("<pre>第一行\n  第二行\n第三行</pre><p>后</p>", "第一行\n第二行\n第三行\n\n后"),
        ("<p>x</p><pre><code>a = 1\nb = 2</code>\n尾</pre>", "x\n\na = 1\nb = 2\n尾"),
        ("- 甲\n* 乙\n  + 子\n3. 丙", "• 甲\n• 乙\n• 子\n3. 丙"),
    ],
)
def test_parse_body_lists_and_pre_as_a_reader_sees_them(body, text):
    assert read(body).text == text


def test_parse_body_two_trailing_links_both_kept():
    body = "正文。\n\n<http://a.example/first>\n\n<http://b.example/news/1,202204092337358966.html>"
    parsed = read(body + "\n\n[返回首页](../)\n")
    assert parsed.url == "http://b.example/news/1,202204092337358966.html"
    assert parsed.text == "正文。\n\nhttp://a.example/first"


def test_parse_body_empty_link_before_the_original_is_dropped():
    parsed = read("正文。\n\n<>\n<http://b.example/2>")
    assert (parsed.text, parsed.url) == ("正文。", "http://b.example/2")
