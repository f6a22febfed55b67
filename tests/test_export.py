"""Export: selection, every format's shape, the Jekyll round trip (examples, odd posts, and a
property test against the parser), folder safety and overwrite refusal, and streaming."""

from __future__ import annotations

import csv
import hashlib
import html.parser
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarc import export as ex
from newsarc import queries
from newsarc.dates import format_date
from newsarc.errors import UsageError
from newsarc.ingest import Importer
from newsarc.models import Block, Post
from newsarc.parse import parse_post
from newsarc.queries import Filters, count_posts, iter_posts, posts_by_ids
from newsarc.store import Store

from conftest import add_post

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def importer_run(store: Store, *paths: Path):
    result = Importer(store, workers=1).run(list(paths))
    assert not result.failed, result.failed
    return result


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Store]:
    """The repository's examples imported into a fresh archive."""
    store = Store.open(tmp_path / "examples.db")
    importer_run(store, EXAMPLES)
    yield store
    store.close()


def records(store: Store) -> dict[str, dict]:
    """Each post's record and blocks by article id, minus what an import decides (id, paths;
    the story by its first post's article id)."""
    out = {}
    posts = list(iter_posts(store, full=True, raw=True))
    article = {post.id: post.external_id for post in posts}
    for post in posts:
        record = post.to_record()
        del record["id"], record["paths"]
        record["story"] = article[record["story"]]
        record["blocks"] = [b.to_dict() for b in post.blocks or []]
        out[post.external_id] = record
    return out


def export_text(
    store: Store, fmt: ex.ExportFormat, selection: ex.Selection | None = None, **kw
) -> str:
    out = io.StringIO()
    ex.write_export(store, selection or ex.select(), fmt, out, **kw)
    return out.getvalue()


# -- selection --------------------------------------------------------------------------------


def test_select_filters_and_sort(archive: Store):
    selection = ex.select(Filters(category="emnews"), sort="-date")
    dates = [p.date for p in selection.posts(archive)]
    assert len(dates) == selection.count(archive) == 10
    assert None not in dates
    assert dates == sorted(dates, key=str, reverse=True)


def test_select_query_uses_search_semantics(archive: Store):
    from newsarc.search import search

    expected = {h.post.id for h in search(archive, "人民币 OR 苹果", limit=None).hits}
    got = {p.id for p in ex.select(query="人民币 OR 苹果").posts(archive)}
    assert got == expected and got
    excluded = {p.id for p in ex.select(query="-苹果").posts(archive)}
    assert excluded == {p.id for p in iter_posts(archive)} - {
        h.post.id for h in search(archive, "苹果", limit=None).hits
    }


def test_select_ids_keep_their_order(archive: Store):
    assert [p.id for p in ex.select(ids=[5, 2, 9]).posts(archive)] == [5, 2, 9]


def test_select_bad_sort_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown sort"):
        ex.select(sort="popularity")


def test_selection_streams_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = Store.open(tmp_path / "many.db")
    for n in range(1, 1201):
        add_post(store, external_id=f"id{n}", title=f"post {n}")
    batches: list[int] = []
    original = queries.posts_by_ids

    def spy(store, ids, **kw):
        batches.append(len(ids))
        return original(store, ids, **kw)

    monkeypatch.setattr(queries, "posts_by_ids", spy)
    posts = ex.select().posts(store)
    next(posts)
    assert batches == [queries.BATCH]  # lazy: the first post needs only the first batch
    out = io.StringIO()
    assert ex.write_export(store, ex.select(), ex.ExportFormat.jsonl, out) == 1200
    assert max(batches) <= queries.BATCH


# -- stream formats ---------------------------------------------------------------------------


def test_export_jsonl_is_the_record_shape(archive: Store):
    lines = export_text(archive, ex.ExportFormat.jsonl).splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [r["id"] for r in parsed] == sorted(r["id"] for r in parsed)
    assert parsed == [p.to_record() for p in iter_posts(archive)]
    assert list(parsed[0]) == ["id", "external_id", "title", "date", "category", "categories",
                               "tags", "source", "url", "summary", "story", "text", "paths",
                               "missing_paths"]  # fmt: skip


def test_export_json_is_one_array(archive: Store):
    data = json.loads(export_text(archive, ex.ExportFormat.json))
    assert isinstance(data, list) and len(data) == 12
    assert data[1]["external_id"] == "NW202204092337358965"


def test_export_csv_round_trips_text(archive: Store):
    rows = list(csv.DictReader(io.StringIO(export_text(archive, ex.ExportFormat.csv))))
    by_id = {int(r["id"]): r for r in rows}
    post = posts_by_ids(archive, [2])[0]
    assert by_id[2]["text"] == post.text
    assert json.loads(by_id[2]["tags"]) == post.tags


def test_export_es_bulk_shape(archive: Store):
    lines = export_text(archive, ex.ExportFormat.es_bulk, index="news-2022").splitlines()
    assert len(lines) == 24
    posts = list(iter_posts(archive))
    for n, post in enumerate(posts):
        action, source = json.loads(lines[2 * n]), json.loads(lines[2 * n + 1])
        assert action == {"index": {"_index": "news-2022", "_id": post.external_id}}
        assert source == post.to_record()
    assert export_text(archive, ex.ExportFormat.es_bulk).endswith("\n")  # _bulk needs it


def test_export_markdown_document(archive: Store):
    text = export_text(archive, ex.ExportFormat.markdown, ex.select(ids=[2, 1]))
    first, second = text.split("\n---\n\n")
    assert first.startswith("# 国资委力推组建创新联合体 多领域技术攻关获成效\n")
    assert "\n## 划定重点领域\n" in first
    assert (
        "- url: <http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202204092337358965>"
        in first
    )
    assert second.startswith("# (no title)\n")
    assert "\n> 据霍尼韦尔官网消息" in second
    assert (
        "![Image](<https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg>)" in second
    )


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v for k, v in attrs if k in ("href", "src")]

    def handle_data(self, data):
        self.text.append(data)


HOSTILE_TITLE = '</title><script>alert(1)</script>[bold red]x[/] <img src=x onerror=alert(2)> & "q"'


def test_export_html_escapes_everything(tmp_path: Path):
    store = Store.open(tmp_path / "h.db")
    add_post(
        store,
        title=HOSTILE_TITLE,
        text="<b>not bold</b>\n\n<!-- comment -->",
        url="javascript:alert(3)",
        blocks=[
            Block("p", "<b>not bold</b>"),
            Block("img", src='javascript:alert(4)"><script>', alt="<i>"),
            Block("img", src="https://example.com/a.png", alt="ok"),
            Block("table", rows=[["<td>", "&amp;"]]),
            Block("p", "<!-- comment -->"),
        ],
    )
    page = export_text(store, ex.ExportFormat.html)
    collector = _Collector()
    collector.feed(page)
    assert (
        "script" not in collector.tags and "b" not in collector.tags and "i" not in collector.tags
    )
    assert collector.tags.count("img") == 0  # images are labelled links, nothing is fetched
    assert all(h.startswith(("#", "https://")) for h in collector.hrefs), collector.hrefs
    text = "".join(collector.text)
    assert HOSTILE_TITLE in text and "<b>not bold</b>" in text and "<!-- comment -->" in text
    assert "javascript:alert(3)" in text  # shown as text, never linked
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_export_html_is_one_page_with_contents(archive: Store):
    page = export_text(archive, ex.ExportFormat.html)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<article") == 12 and page.count('<li><a href="#post-') == 12
    assert "<link" not in page and "<script" not in page


def test_export_to_terminal_cleans_control_characters(tmp_path: Path):
    store = Store.open(tmp_path / "t.db")
    add_post(store, title="a\x1b[31mred\x9bb", text="x\x1b]8;;http://evil\x1b\\y")
    for fmt in (ex.ExportFormat.markdown, ex.ExportFormat.html, ex.ExportFormat.csv):
        shown = export_text(store, fmt, tty=True)
        assert "\x1b" not in shown and "\x9b" not in shown, fmt
    assert "a\x1b\\[31mred\x9bb" in export_text(store, ex.ExportFormat.markdown)  # files keep it


# -- files ------------------------------------------------------------------------------------


def test_output_file_refuses_existing_without_force(tmp_path: Path):
    target = tmp_path / "out.jsonl"
    target.write_text("keep")
    with pytest.raises(UsageError, match="--force"):
        with ex.output_file(target):
            pass
    assert target.read_text() == "keep"
    with ex.output_file(target, force=True) as stream:
        stream.write("new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_output_file_appears_only_when_complete(tmp_path: Path):
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError):
        with ex.output_file(target) as stream:
            stream.write("half")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_output_file_rejects_a_folder(tmp_path: Path):
    with pytest.raises(UsageError, match="is a folder"):
        with ex.output_file(tmp_path):
            pass


# -- jekyll -----------------------------------------------------------------------------------


def test_jekyll_round_trip_examples(archive: Store, tmp_path: Path):
    out = tmp_path / "site"
    result = ex.export_jekyll(archive, ex.select(), out)
    assert result.written == 12 and result.inexact == []
    names = sorted(p.name for p in out.iterdir())
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+\.md", n) for n in names)
    assert "2022-04-09-NW202204092337358965.md" in names and "2021-12-01-init.md" in names
    with Store.open(tmp_path / "again.db") as again:
        importer_run(again, out)
        assert records(again) == records(archive)


def test_jekyll_round_trip_corpus(tmp_path: Path, corpus: Path):
    with Store.open(tmp_path / "c.db") as store, Store.open(tmp_path / "again.db") as again:
        importer_run(store, corpus / "posts", corpus / "versions")
        result = ex.export_jekyll(store, ex.select(), tmp_path / "site")
        assert result.inexact == []
        importer_run(again, tmp_path / "site")
        assert records(again) == records(store)


def test_jekyll_file_is_plain_jekyll(archive: Store, tmp_path: Path):
    ex.export_jekyll(archive, ex.select(ids=[4]), tmp_path)
    text = (tmp_path / "2021-12-08-202112082206672930.md").read_text(encoding="utf-8")
    assert text == (
        "---\nlayout: post\ntitle: 离岸人民币兑美元升至2018年以来最高水平\n"
        "date: 2021-12-08 10:46:18 +0800\ncategories:\n- emnews\ntags:\n- 东财滚动新闻\n---\n\n"
        "离岸人民币兑美元升至6.3512，为2018年以来最高水平。\n\n"
        "<http://finance.eastmoney.com/news/11060,202112082206672930.html>\n"
    )


ODD_POSTS = {
    "2022-01-02-quotes.md": (
        "---\ntitle: 'He said: \"yes\" # not a comment'\ndate: 2022-01-02 03:04:05 -0500\n"
        "categories: [a b, c]\ntags: [x, 'y: z']\nextra: {nested: [1, 2]}\n---\n\n"
        "> digest with **stars** and [link](http://x) and &amp;\n> second line\n\n"
        "# A heading with # inside\n\n"
        "- dash line\n+ plus\n* star\n1. one\n=== not setext\n\n"
        "A line\nwith a break &lt;b&gt; `code` _under_ | pipe\n\n"
        "| h1 | h2 |\n|---|---|\n| a &#124; b | c |\n\n"
        "![alt text](http://img.example/a.png)\n\n"
        "> a later quote\n\n"
        "Trailing <http://example.com/x> inside\n\n"
        "<http://example.com/news/20220102123456789.html>\n"
    ),
    "2022-01-03-html.md": (
        '---\ntitle: "html post"\ndate: 2022-01-03\n---\n'
        "<blockquote>leading quote, not a digest</blockquote>\n"
        "<p>para <span>one</span><br>second line</p>\n<h3>Sub [heading]</h3>\n"
        '<p><img src="http://i.example/x y.png" alt="a ] b"></p>\n'
        "<table><tr><td>1</td><td>2</td></tr></table>\n<p>（文章来源：测试网）</p>\n"
    ),
    "undated-note.md": "---\ntitle: no date at all\n---\n\nJust text.\n",
    "2022-01-04-empty-title.md": "---\ntitle: ''\ndate: 2022-01-04 00:00:00 +0800\n---\n\n空标题\n",
}


def test_jekyll_round_trip_odd_posts(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    for name, text in ODD_POSTS.items():
        (src / name).write_text(text, encoding="utf-8")
    with Store.open(tmp_path / "a.db") as store, Store.open(tmp_path / "b.db") as again:
        importer_run(store, src)
        assert count_posts(store) == len(ODD_POSTS)
        result = ex.export_jekyll(store, ex.select(), tmp_path / "out")
        assert result.inexact == []
        importer_run(again, tmp_path / "out")
        assert records(again) == records(store)
        for name in os.listdir(tmp_path / "out"):
            assert re.fullmatch(r"[A-Za-z0-9_-]+\.md", name), name


def test_jekyll_names_never_leave_the_folder(tmp_path: Path):
    store = Store.open(tmp_path / "h.db")
    for n, hostile in enumerate(["../../etc/passwd", "a/b", "..", ".", "", "-rf", "C:\\x", "名字"]):
        add_post(store, external_id=hostile or f"empty{n}", title=f"../../{n}", date_utc=n)
    out = tmp_path / "deep" / "out"
    result = ex.export_jekyll(store, ex.select(), out)
    assert result.written == 8
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix == ".md":
            assert path.parent == out
            assert re.fullmatch(r"[A-Za-z0-9_-]+\.md", path.name), path.name
    assert not (tmp_path / "etc").exists()


def test_jekyll_name_collisions_get_distinct_files(tmp_path: Path):
    store = Store.open(tmp_path / "c.db")
    add_post(store, external_id="a.b", title="one")
    add_post(store, external_id="a_b", title="two")
    add_post(store, external_id="a b", title="three")
    result = ex.export_jekyll(store, ex.select(), tmp_path / "out")
    assert result.written == 3 and len(list((tmp_path / "out").iterdir())) == 3


def test_jekyll_refuses_to_overwrite(archive: Store, tmp_path: Path):
    out = tmp_path / "site"
    out.mkdir()
    existing = out / "2021-12-08-202112082206672930.md"
    existing.write_text("mine")
    with pytest.raises(UsageError, match="already exists; add --force"):
        ex.export_jekyll(archive, ex.select(), out)
    assert existing.read_text() == "mine"
    assert [p.name for p in out.iterdir()] == [existing.name]  # nothing half-written left
    result = ex.export_jekyll(archive, ex.select(), out, force=True)
    assert result.written == 12 and existing.read_text() != "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_jekyll_force_replaces_a_symlink_not_its_target(archive: Store, tmp_path: Path):
    out = tmp_path / "site"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "2021-12-08-202112082206672930.md").symlink_to(victim)
    ex.export_jekyll(archive, ex.select(), out, force=True)
    assert victim.read_text() == "precious"
    assert not (out / "2021-12-08-202112082206672930.md").is_symlink()


def test_jekyll_needs_a_folder(archive: Store, tmp_path: Path):
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(UsageError, match="needs a folder"):
        ex.export_jekyll(archive, ex.select(), target)


@pytest.mark.parametrize("name", ["2022-01-04-中文 名.md", "notes.v2.md"])
def test_jekyll_keeps_ids_no_safe_name_can_carry(tmp_path: Path, name: str):
    """An article id taken from a file name with other characters cannot be carried by the URL
    or a safe file name: the file says it in ``external_id:``, which the importer reads back."""
    src = tmp_path / "src"
    src.mkdir()
    (src / name).write_text("---\ntitle: t\ndate: 2022-01-04\n---\n\nbody\n", encoding="utf-8")
    with Store.open(tmp_path / "x.db") as store, Store.open(tmp_path / "y.db") as again:
        importer_run(store, src)
        result = ex.export_jekyll(store, ex.select(), tmp_path / "out")
        assert result.inexact == []
        (written,) = (tmp_path / "out").iterdir()
        assert f"external_id: {PurePath(name).stem}" in written.read_text(encoding="utf-8")
        importer_run(again, tmp_path / "out")
        (before,), (after,) = records(store).values(), records(again).values()
        assert after == before


# -- property: whatever the parser stores, the jekyll file reads back the same -----------------

_alphabet = st.sampled_from(
    list("abcXYZ019 ，。：“”《》中文国资委芯片") + list("#>-+*=_~`[]()!|<>&;:'\"\\/")
)
_line = st.text(_alphabet, min_size=1, max_size=30).map(lambda s: " ".join(s.split())).filter(bool)
_paragraph = st.lists(_line, min_size=1, max_size=3).map("\n".join)


def _post_from(parsed, post_id: int = 1) -> Post:
    return Post(
        id=post_id, external_id=parsed.external_id, title=parsed.title,
        date=format_date(parsed.date), category=parsed.category, tags=parsed.tags,
        source=parsed.source, url=parsed.url, summary=parsed.summary, text=parsed.text,
        paths=[], blocks=parsed.blocks, meta=parsed.meta,
    )  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_line,
    paragraphs=st.lists(_paragraph, min_size=1, max_size=4),
    summary=st.one_of(st.none(), _line),
    tags=st.lists(_line, max_size=2),
)
def test_jekyll_post_reads_back_property(title, paragraphs, summary, tags):
    """Build a post the way the importer would (parse a generated file), export it, and parse the
    export: every record field comes back."""
    import yaml

    fm = yaml.safe_dump({"title": title, "date": "2022-01-02 03:04:05 +0800", "tags": tags},
                        allow_unicode=True, width=10**6)  # fmt: skip
    body = (f"> {summary}\n\n" if summary else "") + "\n\n".join(paragraphs)
    source = parse_post(f"---\n{fm}---\n\n{body}\n", PurePath("2022-01-02-202201020304050607.md"))
    post = _post_from(source)
    name, text, exact = ex.jekyll_post(post)
    assert exact
    again = parse_post(text, PurePath(name))
    assert _post_from(again).to_record() == post.to_record()
    assert [b.to_dict() for b in again.blocks] == [b.to_dict() for b in source.blocks]


def test_raw_hash_helper_matches_files(archive: Store):
    """The stored raw text re-encodes to the original bytes for the examples (what show --format
    raw relies on)."""
    from newsarc.queries import raw_source

    for post in iter_posts(archive, text=False):
        source = raw_source(archive, post.id)
        assert source is not None
        raw, encoding, digest = source
        original = Path(post.paths[0]).read_bytes()
        assert hashlib.sha256(original).hexdigest() == digest
        assert raw.encode(encoding or "utf-8") == original or raw.encode("utf-8-sig") == original


def test_output_file_has_ordinary_permissions(tmp_path: Path):
    (tmp_path / "reference").write_text("")
    with ex.output_file(tmp_path / "out.html") as stream:
        stream.write("x")
    mode = (tmp_path / "out.html").stat().st_mode & 0o777
    assert mode == (tmp_path / "reference").stat().st_mode & 0o777


def test_unwritable_target_is_a_clear_error(archive: Store, tmp_path: Path):
    # a path under a regular file cannot be written, even by root (CI runs as root)
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(UsageError, match="is a file, not a folder; cannot write out.jsonl"):
        with ex.output_file(blocker / "out.jsonl"):
            pass
    with pytest.raises(UsageError, match="cannot create the folder"):
        ex.export_jekyll(archive, ex.select(), blocker / "site")
    assert blocker.read_text() == ""


def test_write_failure_is_a_clear_error(archive: Store, tmp_path: Path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ex, "_place", full)
    with pytest.raises(UsageError, match="No space left on device"):
        with ex.output_file(tmp_path / "out.jsonl") as stream:
            stream.write("x")
    with pytest.raises(UsageError, match="No space left on device"):
        ex.export_jekyll(archive, ex.select(), tmp_path / "site")
    assert list(tmp_path.rglob("*.jsonl")) == [] and list(tmp_path.rglob("*.md")) == []
