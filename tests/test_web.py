"""The Datasette plugin over HTTP (Datasette's own test client): ``posts?_search=`` and its JSON
and CSV select exactly what ``newsarc.search`` finds, the search and post pages, hostile content
escaped, one-line errors for bad queries, and no way to write."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import random
import re
import shutil
from html import unescape
from html.parser import HTMLParser
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import quote

import pytest

from newsarc import web
from newsarc.errors import StoreError
from newsarc.ingest import Importer
from newsarc.models import Block
from newsarc.queries import Filters, count_posts, posts_by_ids, resolve
from newsarc.search import search
from newsarc.store import Store

from conftest import add_post

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DATA = REPO / "tests" / "data"

HOSTILE_TITLE = (
    '<script>alert(1)</script>[bold red]恶意[/] \x1b[31m红 <img src=x onerror=alert(2)> & "q"'
)
HOSTILE_TEXT = (
    "正文 [link=file:///etc/passwd]链接[/link] \x1b[2J清屏 <script>alert(3)</script> 恶意结尾"
)
#: posts sharing a term, for pagination: more than two pages of 20
PAGED = 45


def write_paged_posts(folder: Path) -> None:
    """Posts that all contain 分页测试, one a day, so date order is known."""
    folder.mkdir()
    for i in range(PAGED):
        day = f"2023-01-{i % 28 + 1:02d}"
        (folder / f"{day}-page{i}.md").write_text(
            f"---\ntitle: 第{i}篇分页测试文章\ndate: {day} 10:{i:02d}:00 +08:00\n"
            f"categories: [paged]\ntags: [标签{i % 3}]\n---\n\n分页测试的正文，编号 {i}。\n",
            encoding="utf-8",
        )


#: one wire story carried by three outlets, and a later post on the same event (similar, not a copy)
STORY = (
    "某市地铁三号线延长段今日开通运营，全长21公里，设站12座，预计日均客流十万人次，沿线居民出行更加便利。"
    * 2
)
LATER = "某市地铁三号线延长段今日开通运营，全长21公里，设站12座。市交通委表示，下一步将加快四号线建设，年底前完成主体工程。"


def write_story_posts(folder: Path) -> None:
    folder.mkdir()
    posts = [("财联社", STORY), ("澎湃新闻", STORY), ("<i>某报</i>", STORY), ("财联社", LATER)]
    for i, (outlet, body) in enumerate(posts):
        (folder / f"2022-04-1{i}-story{i}.md").write_text(
            f"---\ntitle: 地铁通车{i}\ndate: 2022-04-1{i} 09:00:00 +08:00\nsource: {outlet}\n---\n\n"
            f"{body}\n",
            encoding="utf-8",
        )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples, the parser's feature files, paged posts and one hostile post."""
    folder = tmp_path_factory.mktemp("web")
    posts = folder / "posts"
    shutil.copytree(EXAMPLES, posts)
    shutil.copytree(DATA, posts / "data")
    write_paged_posts(posts / "paged")
    write_story_posts(posts / "story")
    db = folder / "web.db"
    with Store.open(db) as store:
        Importer(store).run([posts])
        add_post(
            store, external_id="hostile1", title=HOSTILE_TITLE, text=HOSTILE_TEXT,
            source="<b>源</b>", tags=["<i>t</i>"], url="javascript:alert(4)",
            blocks=[Block("p", HOSTILE_TEXT), Block("img", src='http://e.example/x.png"><script>', alt="<i>")],
        )  # fmt: skip
    return db


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def ds(archive: Path, loop):
    datasette = web.datasette_for(archive)
    loop.run_until_complete(datasette.invoke_startup())
    return datasette


@pytest.fixture
def get(ds, loop):
    def get(path: str, **kw):
        return loop.run_until_complete(ds.client.get(path, **kw))

    return get


@pytest.fixture(scope="module")
def store(archive: Path):
    with Store.open(archive, readonly=True) as store:
        yield store


def cli_ids(store: Store, query: str, filters: Filters | None = None, **kw) -> list[int]:
    return [hit.post.id for hit in search(store, query, filters, limit=None, **kw).hits]


def table_ids(get, query: str, extra: str = "") -> list[int]:
    response = get(f"/web/posts.json?_search={quote(query)}&_shape=array&_col=id&_size=max{extra}")
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


class Links(HTMLParser):
    """Every ``href`` and every tag name of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def result_ids(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'class="newsarc-title" href="/-/newsarc/web/(\d+)"', html)]


# -- the plugin is found -----------------------------------------------------------------------


def test_web_entry_point_names_the_plugin():
    """``pip install newsarc[web]`` registers the plugin, so a plain ``datasette x.db`` has it."""
    found = {ep.name: ep.value for ep in entry_points(group="datasette")}
    assert found.get("newsarc") == "newsarc.web"


def test_web_plugin_is_registered(get):
    plugins = {p["name"] for p in get("/-/plugins.json").json()}
    assert "newsarc" in plugins


def test_web_only_archives_get_the_plugin(tmp_path, loop):
    other = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)")
    from datasette.app import Datasette

    datasette = Datasette([str(other)])
    assert not web.is_archive(datasette, "other")
    response = loop.run_until_complete(datasette.client.get("/-/newsarc/other?q=x"))
    assert response.status_code == 404


def test_web_datasette_for_refuses_a_missing_archive(tmp_path):
    with pytest.raises(StoreError, match="no archive here yet"):
        web.datasette_for(tmp_path / "missing.db")


# -- ?_search= on the posts table is newsarc search ------------------------------------------

QUERIES = [
    "國資委", "国资委", "创新联合体", "創新聯合體", "ＧＤＰ", "gdp", "GDP", "600519", "６００５１９",
    "央企 OR 茅台", "创新 联合体", "央企 -国资委", "央企 NOT 国资委", "-国资委", "title:港股",
    '"苹果概念股"', "(芯片 OR 半导体) 央企", "tag:东财滚动新闻", "source:澎湃新闻",
    "category:emnews", "的", "钛", "分页测试", "title:分页", "<script>", "[bold", "alert",
    "*", "NEAR", "text:小标题", "K图", "中国经营网", "Latin", "latin", "%", "14.4%",
]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES)
def test_web_table_search_is_newsarc_search(get, store, query):
    expected = cli_ids(store, query)
    assert sorted(table_ids(get, query)) == sorted(expected)


def test_web_table_search_many_substrings(get, store):
    """Random 1–4 character pieces of stored titles and text, folded or not."""
    rows = store.conn.execute("SELECT title, text FROM posts").fetchall()
    rng = random.Random(13)
    for _ in range(40):
        text = rng.choice([t for row in rows for t in row if t and t.strip()])
        start = rng.randrange(len(text))
        query = text[start : start + rng.randint(1, 4)].strip().replace('"', "")
        if not query or query.upper() in ("OR", "AND", "NOT") or set(query) <= set("()-"):
            continue
        query = f'"{query}"'
        assert sorted(table_ids(get, query)) == sorted(cli_ids(store, query)), query


@pytest.mark.parametrize(
    ("query", "extra", "filters"),
    [
        ("分页测试", "&_tag=标签1", Filters(tag="标签1")),
        ("分页测试", "&category=paged&_since=2023-01-10&_until=2023-01-20",
         Filters(category="paged", since="2023-01-10 00:00:00", until="2023-01-21 00:00:00")),
        ("的", "&_since=2022", Filters(since="2022-01-01 00:00:00")),
        ("的", "&source=中国经营网", Filters(source="中国经营网")),
    ],
)  # fmt: skip
def test_web_table_search_with_filters(get, store, query, extra, filters):
    expected = cli_ids(store, query, filters)
    assert expected and sorted(table_ids(get, query, extra)) == sorted(expected)


def test_web_table_filters_without_a_query(get, store):
    response = get("/web/posts.json?_tag=标签2&_shape=array&_col=id&_size=max")
    expected = [p.id for p in posts_by_ids(store, range(1, 200)) if "标签2" in p.tags]
    assert sorted(r["id"] for r in response.json()) == sorted(expected) and expected


def test_web_table_search_csv(get, store):
    response = get(f"/web/posts.csv?_search={quote('國資委 OR 分页测试')}&_size=max")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(int(r["id"]) for r in rows) == sorted(cli_ids(store, "國資委 OR 分页测试"))


def test_web_table_facets_follow_the_search(get, store):
    response = get(f"/web/posts.json?_search={quote('分页测试 OR 国资委')}&_facet=category")
    data = response.json()
    facet = {r["value"]: r["count"] for r in data["facet_results"]["category"]["results"]}
    assert facet == {"paged": PAGED, "zhongguojingyingwang": 1}
    assert data["filtered_table_rows_count"] == len(cli_ids(store, "分页测试 OR 国资委"))


def test_web_table_search_box_shows_the_query(get):
    html = get(f"/web/posts?_search={quote('國資委')}").text
    assert 'name="_search"' in html and 'value="國資委"' in html


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/web/posts.json?_search=%22abc", "newsarc: error: unbalanced quote"),
        ("/web/posts?_search=(a", "newsarc: error: unbalanced parenthesis"),
        ("/web/posts.json?_search=a%20OR", "newsarc: error: OR needs a term"),
        ("/web/posts.json?_search=x&_since=2022-13", "newsarc: error: invalid date"),
    ],
)
def test_web_table_bad_query_is_a_one_line_error(get, path, message):
    response = get(path)
    assert response.status_code == 400
    assert message in response.text


# -- the search page ---------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["的", "国资委 OR 茅台", "分页测试", "苹果", "-国资委"])
@pytest.mark.parametrize("sort", ["rank", "-date", "date"])
def test_web_search_page_ranks_like_the_cli(get, store, query, sort):
    html = get(f"/-/newsarc/web?q={quote(query)}&sort={sort}").text
    expected = [h.post.id for h in search(store, query, sort=sort, limit=20).hits]
    assert result_ids(html) == expected
    total = search(store, query, limit=1).total
    assert f"{total:,} post{'s' if total != 1 else ''} match" in html


def test_web_search_page_highlights_folded_matches(get):
    html = get(f"/-/newsarc/web?q={quote('國資委')}").text
    assert "<mark>国资委</mark>力推组建" in html  # in the title
    assert html.count("<mark>国资委</mark>") >= 3  # and in the snippet


def test_web_search_page_highlights_only_the_terms(get):
    html = get(f"/-/newsarc/web?q={quote('hfo OR latin')}").text
    marks = re.findall(r"<mark>(.*?)</mark>", html)
    assert {m.casefold() for m in marks} == {"hfo", "latin"}


def test_web_search_page_paginates(get, store):
    first = get(f"/-/newsarc/web?q={quote('分页测试')}").text
    assert f"{PAGED} posts match; showing 1–20." in first
    links = parse(first).hrefs
    nxt = [h for h in links if "page=2" in h]
    assert nxt and not any("page=0" in h for h in links)
    second = get(nxt[0].replace("&amp;", "&")).text
    third = get(f"/-/newsarc/web?q={quote('分页测试')}&page=3").text
    everything = result_ids(first) + result_ids(second) + result_ids(third)
    assert everything == cli_ids(store, "分页测试")
    assert "showing 41–45" in third and 'rel="next"' not in third
    assert "page 3 of 3" in third


def test_web_search_page_filters_are_form_fields(get, store):
    html = get(f"/-/newsarc/web?q={quote('分页测试')}&tag=标签0&since=2023-01-05&sort=-date").text
    expected = search(
        store, "分页测试", Filters(tag="标签0", since="2023-01-05 00:00:00"), sort="-date"
    )
    assert result_ids(html) == [h.post.id for h in expected.hits]
    assert 'name="tag" value="标签0"' in html and 'name="since" value="2023-01-05"' in html
    assert '<option value="-date" selected>' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"abc', "unbalanced quote in &#39;&#34;abc&#39;"),
        ("央企 (-国资委 OR -广告)", "a group cannot only exclude"),
        ("OR", "OR needs a term on both sides"),
    ],
)
def test_web_search_page_bad_query_shows_the_error(get, query, message):
    response = get(f"/-/newsarc/web?q={quote(query)}")
    assert response.status_code == 400
    errors = re.findall(r'<p class="newsarc-error" role="alert">(.*?)</p>', response.text)
    assert len(errors) == 1 and errors[0].startswith("newsarc: error: ") and message in errors[0]


def test_web_search_page_without_a_query_is_a_form(get):
    html = get("/-/newsarc/web").text
    assert 'name="q"' in html
    assert 'class="newsarc-hit"' not in html and 'class="newsarc-error"' not in html


def test_web_search_page_nothing_found(get):
    html = get(f"/-/newsarc/web?q={quote('没有这个词语')}").text
    assert "No posts match." in html


def test_web_pages_link_to_the_search_page(get):
    for path in ("/", "/web", "/web/posts"):
        assert "/-/newsarc/web" in parse(get(path).text).hrefs, path


def test_web_search_page_links_to_the_table(get, store):
    html = get(f"/-/newsarc/web?q={quote('分页测试')}&tag=标签1").text
    table = [h for h in parse(html).hrefs if h.startswith("/web/posts?")][0]
    ids = get(table.replace("/web/posts?", "/web/posts.json?") + "&_shape=array&_size=max").json()
    assert sorted(r["id"] for r in ids) == sorted(cli_ids(store, "分页测试", Filters(tag="标签1")))


# -- the post page -----------------------------------------------------------------------------


def post_id(store: Store, external_id: str) -> int:
    found = resolve(store, external_id)
    assert found is not None
    return found


def test_web_post_page_shows_metadata_and_body(get, store):
    pid = post_id(store, "NW202204092337358965")
    html = get(f"/-/newsarc/web/{pid}").text
    assert "<h1>国资委力推组建创新联合体 多领域技术攻关获成效</h1>" in html
    for label in ("id", "date", "category", "tags", "source", "url", "file", "length"):
        assert f'<th scope="row">{label}</th>' in html
    assert "2022-04-09 14:22:44 +08:00" in html
    post = posts_by_ids(store, [pid])[0]
    assert post.url in parse(html).hrefs
    paragraphs = re.findall(r"<p>(.*?)</p>", html.split('class="newsarc-body"')[1])
    assert len(paragraphs) >= 3


def test_web_post_page_blocks_and_no_remote_images(get, store):
    pid = post_id(store, "2022-04-11-html-features")
    html = get(f"/-/newsarc/web/{pid}").text
    body = html.split('class="newsarc-body"')[1]
    assert "<table><tr><td>指标</td><td>数值</td></tr>" in body
    assert "<blockquote>" in body and "第一行<br>第二行" in body
    assert "img" not in parse(body).tags  # images are links, loaded only when clicked
    assert "http://example.com/d.png" in parse(body).hrefs


def test_web_post_page_missing_post(get):
    assert get("/-/newsarc/web/999999").status_code == 404
    assert get("/-/newsarc/nosuchdb/1").status_code == 404


def test_web_titles_link_to_the_post_page(get, store):
    pid = post_id(store, "NW202204092337358965")
    assert f"/-/newsarc/web/{pid}" in parse(get("/web/posts?_size=max").text).hrefs
    assert f"/-/newsarc/web/{pid}" in parse(get(f"/web/posts/{pid}").text).hrefs


def test_web_long_columns_are_cut_on_table_pages(get, store):
    html = get("/web/posts?_size=max").text
    longest = max(store.conn.execute("SELECT raw FROM posts").fetchall(), key=lambda r: len(r[0]))
    assert len(longest[0]) > web.CELL_CHARS
    for column in web.LONG_COLUMNS:
        cells = re.findall(rf'<td class="col-{column} [^"]*">(.*?)</td>', html, re.S)
        assert len(cells) == count_posts(store), column
        shown = [unescape(cell.strip()) for cell in cells]
        assert max(len(cell) for cell in shown) <= web.CELL_CHARS + 1, column
        if column in ("raw", "text"):
            assert any(cell.endswith("…") for cell in shown)
    # the data formats keep every character
    data = get("/web/posts.json?_shape=array&_size=max&_col=raw").json()
    assert longest[0] in [row["raw"] for row in data]


# -- safety ------------------------------------------------------------------------------------


def hostile_pages(get, store) -> dict[str, str]:
    pid = post_id(store, "hostile1")
    return {
        "search": get(f"/-/newsarc/web?q={quote('恶意')}").text,
        "post": get(f"/-/newsarc/web/{pid}").text,
        "table": get(f"/web/posts?_search={quote('恶意')}").text,
        "row": get(f"/web/posts/{pid}").text,
    }


def test_web_hostile_post_is_shown_as_text(get, store):
    for name, page in hostile_pages(get, store).items():
        html = re.sub("</?mark>", "", page)
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name
        assert "[bold red]恶意[/]" in html, name
        tags = parse(html).tags
        assert "img" not in tags and "b" not in tags and "i" not in tags, name
        assert not any(h.lower().startswith("javascript:") for h in parse(html).hrefs), name


def test_web_hostile_post_page_shows_every_field_as_text(get, store):
    html = hostile_pages(get, store)["post"]
    assert "&lt;b&gt;源&lt;/b&gt;" in html and "&lt;i&gt;t&lt;/i&gt;" in html
    # control characters shown inert, as the HTML export shows them: ESC as ␛
    assert "␛[2J清屏" in html and "[link=file:///etc/passwd]链接[/link]" in html
    assert "javascript:alert(4)" in html  # as text, not as a link
    assert "http://e.example/x.png&quot;&gt;&lt;script&gt;" in html


def test_web_hostile_highlight_escapes_around_marks(get):
    html = get(f"/-/newsarc/web?q={quote('<script>')}").text
    assert "<mark>&lt;script&gt;</mark>alert(1)&lt;/script&gt;" in html


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_web_exposes_no_writes(get, ds, loop, archive, store):
    before = sha(archive), count_posts(store)
    for sql in ("DELETE FROM posts", "UPDATE posts SET title = 'x'", "DROP TABLE posts"):
        response = get(f"/web.json?sql={quote(sql)}")
        assert response.status_code in (400, 403), sql
    posts = [
        ("/web/-/create", {"table": "x", "columns": [{"name": "a"}]}),
        ("/web/posts/-/insert", {"row": {"title": "x"}}),
        ("/web/posts/1/-/delete", {}),
        ("/web/posts/-/drop", {"confirm": True}),
    ]
    for path, body in posts:
        response = loop.run_until_complete(ds.client.post(path, json=body))
        assert response.status_code in (403, 404, 405), path
    assert (sha(archive), count_posts(store)) == before


def test_web_sees_posts_imported_while_it_serves(tmp_path, loop):
    db = tmp_path / "live.db"
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "2022-01-01-a.md").write_text("---\ntitle: 第一篇\n---\n\n早到的文章\n", "utf-8")
    with Store.open(db) as store:
        Importer(store).run([folder])
    datasette = web.datasette_for(db)
    loop.run_until_complete(datasette.invoke_startup())

    def ids(query: str) -> list[int]:
        path = f"/live/posts.json?_search={quote(query)}&_shape=array&_col=id"
        return [r["id"] for r in loop.run_until_complete(datasette.client.get(path)).json()]

    assert ids("文章") == [1]
    (folder / "2022-01-02-b.md").write_text("---\ntitle: 第二篇\n---\n\n晚到的文章\n", "utf-8")
    with Store.open(db) as store:
        Importer(store).run([folder])
    assert sorted(ids("文章")) == [1, 2] and ids("晚到") == [2]


def test_web_month_facet_follows_the_search(get, store):
    query = "的 OR 分页测试"
    data = get(f"/web/posts.json?_search={quote(query)}&_size=1").json()
    months = {r["value"]: r for r in data["facet_results"]["date"]["results"]}
    hits = search(store, query, limit=None).hits
    expected: dict[str, int] = {}
    for hit in hits:
        if hit.post.date:
            expected[hit.post.date[:7]] = expected.get(hit.post.date[:7], 0) + 1
    assert {m: r["count"] for m, r in months.items()} == expected
    assert list(months) == sorted(expected, reverse=True)
    # choosing a month is newsarc's --since/--until for it
    chosen = months["2023-01"]["toggle_url"].replace("http://localhost", "").replace("&_size=1", "")
    ids = [r["id"] for r in get(chosen + "&_shape=array&_size=max&_col=id").json()]
    assert sorted(ids) == sorted(
        cli_ids(store, query, Filters(since="2023-01-01 00:00:00", until="2023-02-01 00:00:00"))
    )


def test_web_pages_show_extra_sections(get, store, monkeypatch):
    """The hook points later work (stories, trends) adds its parts through."""
    from markupsafe import Markup, escape

    def story(store_, post):
        return web.Section(
            "Story <1>", Markup("<p>{}</p>").format(f"{post.id} {count_posts(store_)}")
        )

    def months(store_, query, filters, result):
        return web.Section("Per month", Markup("<p>{}</p>").format(f"{query}: {result.total}"))

    monkeypatch.setattr(web, "POST_SECTIONS", [story, lambda s, p: None])
    monkeypatch.setattr(web, "SEARCH_SECTIONS", [months])
    pid = post_id(store, "NW202204092337358965")
    html = get(f"/-/newsarc/web/{pid}").text
    assert f"<h2>{escape('Story <1>')}</h2><p>{pid} {count_posts(store)}</p>" in html
    html = get(f"/-/newsarc/web?q={quote('分页测试')}").text
    assert f"<h2>Per month</h2><p>分页测试: {PAGED}</p>" in html


def test_web_address_names_the_search_page(archive, get):
    url = web.address(archive, "127.0.0.1", 8123)
    assert url == "http://127.0.0.1:8123/-/newsarc/web"
    assert get(url.removeprefix("http://127.0.0.1:8123")).status_code == 200
    assert web.address(Path("/x/my archive.db"), "::1") == "http://[::1]:8001/-/newsarc/my+archive"


# -- stories and trends on the pages ----------------------------------------------------------


def test_web_post_page_shows_its_story_and_similar_posts(get, store):
    """The story section lists every post of the story (the same as ``newsarc similar``'s
    members), linking the others; the update with other figures is a similar post, not a copy."""
    from newsarc.queries import similar_posts, story_members

    pid = post_id(store, "2022-04-11-story1")
    members = [p.id for p in story_members(store, pid)]
    assert len(members) == 3 and pid in members
    html = get(f"/-/newsarc/web/{pid}").text
    story = html.split("Story ")[1].split("</section>")[0]
    assert {int(h) for h in parse(story).hrefs} == set(members) - {pid}
    assert "(this post)" in story and "&lt;i&gt;某报&lt;/i&gt;" in story and "<i>" not in story
    near = [s.id for s in similar_posts(store, pid) if not s.same_story]
    update = post_id(store, "2022-04-13-story3")
    assert update in near
    similar = html.split("Similar posts")[1].split("</section>")[0]
    assert str(update) in parse(similar).hrefs
    alone = get(f"/-/newsarc/web/{post_id(store, 'NW202204092337358965')}").text
    assert "Story " not in alone


def test_web_search_page_charts_matches_per_month(get, store):
    """The month chart above the results counts what ``trend --by month`` counts."""
    from newsarc.trends import By, trend

    html = get("/-/newsarc/web?q=的").text
    chart = html.split("Matches per month")[1].split("</section>")[0]
    rows = re.findall(
        r'<th scope="row">([0-9-]+)</th><td class="newsarc-count">([0-9,]+)</td>', chart
    )
    expected = trend(store, ["的"], by=By.month)
    assert rows == [
        (p.label, f"{n:,}")
        for p, n in zip(expected.periods, expected.series[0].counts, strict=True)
    ]
    assert any(n != "0" for _, n in rows)
    assert "Matches per month" not in get("/-/newsarc/web?q=没有这个词").text
