"""Rendering for people: the list table, the post view, stats bars, the pager, and untrusted text
(markup printed literally, control characters made visible) in every one of them."""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from newsarc import render
from newsarc.models import Block, Post
from newsarc.queries import ArchiveStats, Count
from newsarc.search import parse_query

SGR = re.compile(r"\x1b\[[0-9;]*m")
BOX = re.compile(r"[\u2500-\u257f]")


def screen(width: int = 80, *, color: bool = True, height: int = 25) -> Console:
    return Console(
        file=io.StringIO(), width=width, height=height, force_terminal=color,
        color_system="standard" if color else None, highlight=False, markup=False, emoji=False,
    )  # fmt: skip


def output(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined]


def make_post(**fields) -> Post:
    values = dict(
        id=7, external_id="NW1", title="标题", date="2022-04-09T14:22:44+08:00",
        category="emnews", tags=["东财滚动新闻"], source="中国经营网",
        url="http://example.com/a.html", summary=None, text="正文。", paths=["/p/a.md"],
        blocks=None,
    )  # fmt: skip
    values.update(fields)
    return Post(**values)  # type: ignore[arg-type]


# -- safe text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("[bold red]x[/]", "[bold red]x[/]"),
        ("[link=file:///etc/passwd]y[/link]", "[link=file:///etc/passwd]y[/link]"),
        ("\x1b[31mred", "␛[31mred"),
        ("\x1b]8;;http://evil\x1b\\", "␛]8;;http://evil␛\\"),
        ("a\rb", "a␍b"),
        ("c1\x9b2J", "c1\ufffd2J"),
        ("bidi\u202eabc", "bidi\ufffdabc"),
        ("tab\tand\nnewline", "tab     and\nnewline"),  # Rich expands tabs
    ],
)
def test_safe_text_is_literal_and_visible(raw, shown):
    console = screen()
    console.print(render.safe_text(raw), end="")
    assert SGR.sub("", output(console)) == shown


def test_marked_highlights_folded_matches():
    terms = [parse_query("創新")]  # traditional folds to simplified
    text = render.marked("推进创新，再创新", terms)  # type: ignore[arg-type]
    assert [(s.start, s.end) for s in text.spans if s.style == render.HIGHLIGHT] == [(2, 4), (6, 8)]


def test_marked_keeps_spans_aligned_after_cleaning():
    terms = [parse_query("央企")]
    text = render.marked("\x1b[1m央企", terms)  # type: ignore[arg-type]
    (span,) = [s for s in text.spans if s.style == render.HIGHLIGHT]
    assert text.plain[span.start : span.end] == "央企"


# -- list -------------------------------------------------------------------------------------


def test_posts_table_fits_the_width():
    posts = [make_post(id=n, title="很长的标题" * 20) for n in (1, 22, 333)]
    for width in (50, 80, 120):
        console = screen(width)
        render.print_posts(posts, 999, 10, out=console)
        lines = SGR.sub("", output(console)).splitlines()
        assert all(cell_len(line) <= width for line in lines), width
        assert any("…" in line for line in lines)
        assert "11–13 of 999 posts" in lines[-1]
        assert "333" in output(console)


def test_posts_table_plain_has_no_boxes_or_codes():
    console = screen(80, color=False)
    render.print_posts([make_post(title="")], 1, plain=True, out=console)
    text = output(console)
    assert "\x1b" not in text and not BOX.search(text) and "(no title)" in text


def test_print_posts_empty_goes_to_stderr(capsys):
    console = screen()
    render.print_posts([], 5, out=console)
    assert output(console) == ""
    assert "No posts (of 5)." in capsys.readouterr().err


# -- show -------------------------------------------------------------------------------------

BLOCKS = [
    Block("quote", "摘要第一行"),
    Block("p", "第一段。"),
    Block("h", "小标题"),
    Block("p", "第二段\n换行"),
    Block("img", src="https://img.example/a.png", alt="图一"),
    Block("img", src="https://img.example/b.png"),
    Block("table", rows=[["指标", "数值"], ["GDP", "5.2%"]]),
    Block("quote", "引用"),
]


def view(post: Post, *, width: int = 60, plain: bool = False, terms=()) -> str:
    console = screen(width, color=not plain)
    render.print_posts_full([post], terms, plain=plain, pager=False, out=console)
    return output(console)


def test_post_view_layout():
    post = make_post(summary="摘要第一行", blocks=BLOCKS, text="x" * 1234, paths=["/a.md", "/b.md"])
    text = SGR.sub("", view(post))
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == "标题"
    assert "id        7 (NW1)" in lines and "date      2022-04-09 14:22:44 +08:00" in lines
    assert "tags      东财滚动新闻" in lines and "source    中国经营网" in lines
    assert "url       http://example.com/a.html" in lines
    assert "file      /a.md" in lines and "file      /b.md" in lines
    assert "length    1,234 characters" in lines
    assert "▌ 摘要第一行" in lines and "▌ 引用" in lines
    assert "小标题" in lines and "第二段" in lines and "换行" in lines
    assert "[image: 图一] https://img.example/a.png" in lines
    assert "[image] https://img.example/b.png" in lines
    assert any("指标" in line and "│" in line for line in lines)


def test_post_view_plain():
    text = view(make_post(summary="摘要第一行", blocks=BLOCKS), plain=True)
    assert "\x1b" not in text and not BOX.search(text) and "▌" not in text
    assert "> 摘要第一行" in text and "| GDP  | 5.2% |" in text


def test_post_view_quote_bar_on_every_wrapped_line():
    long = "很长的引用" * 30
    lines = [
        line for line in SGR.sub("", view(make_post(blocks=[Block("quote", long)]))).splitlines()
        if line.startswith("▌")
    ]  # fmt: skip
    assert len(lines) > 2 and "".join(line[2:].rstrip() for line in lines) == long


def test_post_view_without_blocks_uses_paragraphs():
    text = SGR.sub("", view(make_post(text="一\n\n二", blocks=None)))
    assert "\n一\n\n二\n" in text


def test_post_view_highlight():
    terms = [parse_query("小标题"), parse_query("GDP")]
    out = view(make_post(blocks=BLOCKS), terms=terms)
    assert re.search(r"\x1b\[[0-9;]*43m小标题", out) and re.search(r"\x1b\[[0-9;]*43mGDP", out)


def test_post_view_hostile():
    post = make_post(
        title="[bold]t[/bold]\x1b[31m",
        tags=["\x1b]8;;x\x1b\\"],
        url="http://x/\x9b",
        paths=["/tmp/\rfile"],
        blocks=[Block("p", "[link=file:///etc/passwd]y[/link]\x1b[2J"),
                Block("img", src="\x1b[5mhttp://i", alt="[i]a\r"),
                Block("table", rows=[["\x1b[7m", "[u]c[/u]"]])],
    )  # fmt: skip
    out = view(post)
    rest = SGR.sub("", out)
    assert "\x1b" not in rest and "\r" not in rest and "\x9b" not in rest
    for literal in ("[bold]t[/bold]␛[31m", "[link=file:///etc/passwd]y[/link]␛[2J", "[i]a␍",
                    "␛[5mhttp://i", "[u]c[/u]", "/tmp/␍file"):  # fmt: skip
        assert literal in rest, literal


def test_several_posts_are_separated():
    console = screen(40)
    render.print_posts_full([make_post(id=1), make_post(id=2)], pager=False, out=console)
    text = SGR.sub("", output(console))
    assert text.count("标题\n") == 2 and "─" * 40 in text


def test_long_post_is_paged(monkeypatch):
    pages: list[str] = []
    monkeypatch.setattr(render, "page", lambda text, fallback: pages.append(text))
    long = make_post(blocks=[Block("p", f"段落{n}") for n in range(40)])
    console = screen(60, height=20)
    render.print_posts_full([long], out=console)
    assert len(pages) == 1 and "段落39" in pages[0] and output(console) == ""
    render.print_posts_full([make_post()], out=console)  # short: printed
    assert len(pages) == 1 and "正文。" in output(console)


def test_page_falls_back_when_the_pager_is_missing(monkeypatch):
    monkeypatch.setenv("PAGER", "/nonexistent/pager")
    stream = io.StringIO()
    render.page("text\n", stream)
    assert stream.getvalue() == "text\n"


def test_page_sets_less_options(monkeypatch, tmp_path):
    seen = tmp_path / "env"
    monkeypatch.delenv("LESS", raising=False)
    monkeypatch.setenv("PAGER", f"sh -c 'echo $LESS > {seen}; cat > /dev/null'")
    render.page("x\n", io.StringIO())
    assert seen.read_text().strip() == "FRX"


# -- stats ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, largest, width, plain, expected",
    [
        (10, 10, 8, False, "████████"),
        (5, 10, 8, False, "████"),
        (1, 10, 4, False, "▍"),  # 3.2 eighths → 3
        (1, 1000, 10, False, "▏"),  # never invisible
        (0, 10, 10, False, ""),
        (5, 10, 8, True, "####"),
        (1, 1000, 10, True, "#"),
        (3, 0, 10, False, ""),
    ],
)
def test_bar(value, largest, width, plain, expected):
    assert render.bar(value, largest, width, plain=plain) == expected


STATS = ArchiveStats(
    posts=12, first_date="2021-12-01T13:33:50+08:00", last_date="2022-05-26T00:00:00+08:00",
    undated=2, files=13, archive_bytes=180224,
    categories=[Count("emnews", 10), Count(None, 2)], sources=[Count("[red]s\x1b[0m", 1)],
    tags=[Count("东财滚动新闻", 10)], months=[Count("2021-12", 10)],
    distinct={"categories": 2, "sources": 5, "tags": 1},
)  # fmt: skip


def test_print_stats():
    console = screen(80)
    render.print_stats(STATS, out=console)
    text = SGR.sub("", output(console))
    assert text.startswith(
        "12 posts  2021-12-01 → 2022-05-26  (2 undated)\n13 files, archive 176.0 KB\n"
    )
    assert re.search(r"emnews\s+10\s+█+", text) and re.search(r"\(none\)\s+2\s+█", text)
    assert "sources (5)" in text  # cut to the top: the distinct count is shown
    assert "[red]s␛[0m" in text and "\x1b[0m" not in SGR.sub("", output(console)).replace("␛", "")
    assert all(cell_len(line) <= 80 for line in text.splitlines())


def test_print_stats_plain_and_empty():
    console = screen(80, color=False)
    render.print_stats(STATS, plain=True, out=console)
    text = output(console)
    assert "\x1b" not in text and "█" not in text and re.search(r"emnews\s+10\s+#+", text)
    empty = screen(80, color=False)
    render.print_stats(
        ArchiveStats(0, None, None, 0, 0, 4096, [], [], [], [], {"categories": 0, "sources": 0,
                                                                   "tags": 0}),
        plain=True, out=empty,
    )  # fmt: skip
    assert output(empty) == "0 posts\n0 files, archive 4.0 KB\n"


def test_console_soft_wraps_when_piped():
    stream = io.StringIO()
    console = render.console(stream)
    console.print(render.safe_text("x" * 300))
    assert stream.getvalue() == "x" * 300 + "\n"


# -- trend chart ----------------------------------------------------------------------------------


def make_trend(kind: str | None, names: list[str | None], counts: list[list[int]]):
    import datetime as dt

    from newsarc.trends import By, Series, Trend, period_of

    spans = [period_of(dt.date(2022, m, 1), By.month) for m in range(1, len(counts[0]) + 1)]
    series = [Series(n, c) for n, c in zip(names, counts, strict=True)]
    total = sum(sum(c) for c in counts)
    return Trend(By.month, spans, series, kind, 0, total, ["芯片"])


@pytest.mark.parametrize("width", [80, 40])
@pytest.mark.parametrize(
    ("kind", "names", "counts"),
    [
        (None, [None], [[3, 0, 12345, 7]]),
        (
            "group",
            ["上海证券报" * 4, "[bold]x", "other"],
            [[1, 2, 3, 4], [0, 5, 0, 1], [9, 9, 9, 9]],
        ),
        ("query", ["芯片", "半导体" * 6], [[10, 0, 5, 1], [2, 2, 2, 30]]),
    ],
)
def test_print_trend_fits_the_width(width, kind, names, counts):
    out = screen(width)
    render.print_trend(make_trend(kind, names, counts), out=out)
    lines = SGR.sub("", output(out)).splitlines()
    assert all(cell_len(line) <= width for line in lines), lines
    rows = [line for line in lines if re.match(r"2022-\d\d ", line)]
    assert len(rows) == 4
    assert "[bold]x" in output(out) or "[bold]x" not in names


def test_print_trend_colours_stacked_segments_and_marks_the_peak():
    out = screen(60)
    render.print_trend(make_trend("group", ["甲", "乙"], [[1, 4], [1, 0]]), out=out)
    text = output(out)
    assert "\x1b[36m" in text and "\x1b[35m" in text  # one colour per group
    lines = SGR.sub("", text).splitlines()
    peak = [line for line in lines if line.endswith("◆")]
    assert len(peak) == 1 and peak[0].startswith("2022-02 4")
    first = next(line for line in lines if line.startswith("2022-01"))
    assert first.count("█") * 2 == peak[0].count("█")  # 2 of 4: half the bar


def test_print_trend_plain_without_colour_has_ascii_series():
    out = screen(60, color=False)
    render.print_trend(make_trend("query", ["芯片", "港股"], [[1, 4], [2, 0]]), out=out, plain=True)
    text = output(out)
    assert not SGR.search(text) and "█" not in text
    assert "## 芯片 5  == 港股 2" in text


# -- search -----------------------------------------------------------------------------------


def test_print_search_highlights_title_matches():
    from newsarc.search import Hit, SearchResult

    hit = Hit(
        make_post(title="央企改革：央企", text="无关的正文"),
        1.0,
        "无关的正文",
        [],
        [(0, 2), (5, 7)],
    )
    console = screen(80)
    render.print_search(SearchResult(1, [hit]), "央企", out=console)
    out = output(console)
    assert len(re.findall(r"\x1b\[[0-9;]*43m央企", out)) == 2
    assert "1 post matches" in SGR.sub("", out)


def test_post_view_highlights_title_terms_in_the_title_only():
    post = make_post(title="央企新闻", blocks=[Block("p", "央企正文")])
    mark = re.compile(r"\x1b\[[0-9;]*43m央企")
    title, body = view(post, terms=[parse_query("title:央企")]).split("\n", 1)
    assert mark.search(title) and not mark.search(body)
    title, body = view(post, terms=[parse_query("text:央企")]).split("\n", 1)
    assert not mark.search(title) and mark.search(body)
    title, body = view(post, terms=[parse_query("央企")]).split("\n", 1)
    assert mark.search(title) and mark.search(body)


def test_counts_in_list_and_stats_are_singular_for_one():
    console = screen(80)
    render.print_posts([make_post()], 1, out=console)
    assert SGR.sub("", output(console)).splitlines()[-1].strip() == "1–1 of 1 post"
    one = ArchiveStats(1, "2022-01-01", "2022-01-01", 0, 1, 4096, [("a", 1)], [], [], [],
                       {"categories": 1, "sources": 0, "tags": 0})  # fmt: skip
    console = screen(80, color=False)
    render.print_stats(one, plain=True, out=console)
    assert output(console).startswith("1 post  2022-01-01 → 2022-01-01\n1 file, archive 4.0 KB\n")


@pytest.mark.parametrize("width", [30, 40, 60])
def test_posts_table_gives_the_title_room_first_when_narrow(width):
    title = "央企改革深化提升行动取得新进展" * 3
    console = screen(width)
    render.print_posts([make_post(id=123, title=title)], 1, out=console)
    (row,) = [line for line in SGR.sub("", output(console)).splitlines() if "123" in line]
    assert cell_len(row) <= width
    shown = row.split("2022-04-09", 1)[1].replace("…", "").split()[-1]
    assert title.startswith(shown) and cell_len(shown) >= min(24, width - 22), row


# -- import -----------------------------------------------------------------------------------


def test_import_summary_never_breaks_inside_the_parentheses():
    from newsarc.ingest import ImportResult

    result = ImportResult(imported=12_345, updated=1_234, unchanged=123_456, duplicates=2)
    result.files, result.seconds = 137_037, 61.2
    result.skipped_reasons["not a post"] = 12
    for width in (60, 80, 100, 200):
        console = screen(width, color=False)
        render.print_import_summary(result, verbose=False, err=console)
        lines = output(console).splitlines()
        assert all(line.count("(") == line.count(")") for line in lines), lines
        assert "(137,037 files in 61.2s, 2,239 files/s)" in output(console)


@pytest.mark.parametrize("seconds, named", [(41.23, True), (0.2, False)])
def test_import_summary_names_a_compaction_worth_waiting_for(seconds, named):
    from newsarc.ingest import ImportResult

    result = ImportResult(imported=1_000_000, compacted=True, compact_seconds=seconds)
    result.files, result.seconds = 1_000_000, 677.0
    console = screen(200, color=False)
    render.print_import_summary(result, verbose=False, err=console)
    assert ("1,477 files/s, compacted in 41.2s)" in output(console)) is named
    assert "1,477 files/s" in output(console)


def test_import_summary_after_ctrl_c_shows_no_rate():
    from newsarc.ingest import ImportResult

    result = ImportResult(imported=3, interrupted=True)
    result.files, result.seconds = 2_000, 0.01  # looked up ahead, never finished
    console = screen(100, color=False)
    render.print_import_summary(result, verbose=False, err=console)
    text = output(console)
    assert "files/s" not in text and "2,000" not in text
    assert "(3 files done, stopped after 0.01s)" in text and "Interrupted" in text


def test_long_list_is_paged_when_asked(monkeypatch):
    pages: list[str] = []
    monkeypatch.setattr(render, "page", lambda text, fallback: pages.append(text))
    posts = [make_post(id=n, title=f"标题{n}") for n in range(1, 41)]
    console = screen(80, height=20)
    render.print_posts(posts, 40, out=console)  # a page of list: printed
    assert not pages and "标题40" in output(console)
    console = screen(80, height=20)
    render.print_posts(posts, 40, out=console, pager=True)  # list --all
    assert len(pages) == 1 and "标题40" in pages[0] and output(console) == ""
    render.print_posts(posts[:3], 3, out=console, pager=True)  # short: printed
    assert len(pages) == 1 and "标题3" in output(console)


def test_sub_headings_are_marked_in_the_plain_view():
    plain = [line.rstrip() for line in view(make_post(blocks=BLOCKS), plain=True).splitlines()]
    assert "## 小标题" in plain and "第一段。" in plain
    coloured = [line.rstrip() for line in SGR.sub("", view(make_post(blocks=BLOCKS))).splitlines()]
    assert "小标题" in coloured  # bold cyan tells it apart there
    highlighted = view(make_post(blocks=BLOCKS), plain=True, terms=[parse_query("标题")])
    assert "## 小标题" in highlighted


# -- Chinese line breaking ------------------------------------------------------------------------

KINSOKU_TEXT = (
    "国资委表示，要推动中央企业（央企）加快组建创新联合体。“关键核心技术”攻关：集成电路、"
    "工业软件、高端装备……已取得阶段性成效！下一步？将以《意见》为指引【重点】推进「协同」"
    "创新，形成合力。"
)


@pytest.mark.parametrize("width", range(8, 41))
def test_wrapping_obeys_chinese_line_breaking(width):
    console = screen(width, color=False)
    console.print(render.Kinsoku(render.safe_text(KINSOKU_TEXT)))
    lines = output(console).rstrip("\n").split("\n")
    assert "".join(line.rstrip() for line in lines) == KINSOKU_TEXT
    assert all(cell_len(line) <= width for line in lines)
    for line in lines[1:]:
        assert line[0] not in render.NO_LINE_START, (width, lines)
    for line in lines[:-1]:
        assert line.rstrip()[-1] not in render.NO_LINE_END, (width, lines)


def test_line_breaks_give_way_for_a_run_of_punctuation():
    text = "好" + "。" * 20
    breaks = render.line_breaks(text, 6)
    pieces = [text[a:b] for a, b in zip([0, *breaks], [*breaks, len(text)], strict=True)]
    assert "".join(pieces) == text and all(pieces) and all(cell_len(p) <= 6 for p in pieces)


def test_post_view_paragraphs_obey_chinese_line_breaking():
    out = view(make_post(blocks=[Block("p", KINSOKU_TEXT)]), width=23, plain=True)
    body = out.split("length", 1)[1].splitlines()[2:]
    assert "".join(line.rstrip() for line in body) == KINSOKU_TEXT
    assert not any(line and line[0] in render.NO_LINE_START for line in body)


NUMBERS_TEXT = (
    "从8月20日创下的此轮调整最低价1525.5元/股计算，贵州茅台的反弹幅度已超过30%，成交额达3,000亿元。"
)


@pytest.mark.parametrize("width", range(8, 41))
def test_wrapping_keeps_numbers_and_latin_words_whole(width):
    """Folding Chinese text (no spaces) does not split ``1525.5``, ``30%`` or ``3,000``."""
    console = screen(width, color=False)
    console.print(render.Kinsoku(render.safe_text(NUMBERS_TEXT + "GDP增速")))
    lines = output(console).rstrip("\n").split("\n")
    assert "".join(line.rstrip() for line in lines) == NUMBERS_TEXT + "GDP增速"
    assert all(cell_len(line) <= width for line in lines)
    for before, after in zip(lines, lines[1:], strict=False):
        end, start = before.rstrip()[-1], after[0]
        assert not (end in render._WORD and start in render._WORD), (width, lines)


def test_import_progress_says_when_it_goes_on_to_compact(monkeypatch):
    from newsarc.ingest import COMPACTING

    console = screen(100)
    monkeypatch.setattr(render, "Console", lambda **kwargs: console)
    with render.import_progress(True) as update:
        update(10, 100)
        update(COMPACTING, COMPACTING)
    text = output(console)
    assert "importing" in text and "compacting" in text
