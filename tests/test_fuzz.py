"""Hostile and malformed input: fuzzing the query language and the file reader + parser, the
importer on a folder of hostile files (bounded time and memory per file), and post content that
tries to reach the terminal (control sequences, Rich markup) through every command.

tests/test_parse.py already feeds random text and front matter to the parser, deep nesting and
YAML bombs; the tests here start from bytes (what the importer reads) and from real posts.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path, PurePath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from newsarc.cli import app
from newsarc.cli import options as cli_options
from newsarc.dates import DEFAULT_TZ
from newsarc.errors import PostError, QueryError
from newsarc.fold import fold
from newsarc.ingest import Importer
from newsarc.models import Block
from newsarc.parse import MAX_FRONT_MATTER, parse_post
from newsarc.queries import Filters, post_texts
from newsarc.read import MAX_BYTES, decode
from newsarc.search import count, search
from newsarc.store import Store

from conftest import add_post

REPO = Path(__file__).resolve().parents[1]
#: the vendored real posts, listed at collection time for ``sampled_from`` (see the corpus fixture)
POSTS = sorted((Path(__file__).resolve().parent / "corpus" / "posts").iterdir())
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))

pytestmark = pytest.mark.slow  # about two minutes; CI runs them


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Store:
    """The real corpus, imported once for this module."""
    db = tmp_path_factory.mktemp("fuzz") / "archive.db"
    store = Store.open(db)
    assert not Importer(store, workers=0).run([corpus / "posts"]).failed
    return store


# -- the query language ---------------------------------------------------------------------------

#: FTS5's own syntax, newsarc's, and text that folding or SQLite could trip on
SYNTAX = [
    "OR", "AND", "NOT", "NEAR", "NEAR(", "or", "not", "(", ")", '"', '""', "-", "--", "*", "^",
    ":", "{", "}", "[", "]", "+", ",", ".", "'", "\\", "title:", "text:", "tag:", "tags:",
    "source:", "category:", "TITLE:", "-title:", "foo:", "rowid:", "posts_fts:", "{title text}:",
    "央企", "芯片", "國資委", "gdp", "ＧＤＰ", "5G", "350km/h", "😀", "\u200b", "\x00", "\x1b[31m",
    "\u202e", "\udcff", "\ud800", "\u3000", "\t", "\n", " ", "ß", "İ", "ﬁ", "e\u0301", "%", "_",
    "?", "$1", "\x7f", "\u0085",
]  # fmt: skip
PIECE = st.one_of(st.sampled_from(SYNTAX), st.text(max_size=3))
QUERY = st.one_of(
    st.lists(PIECE, max_size=10).map(" ".join),
    st.lists(PIECE, max_size=10).map("".join),
    st.text(max_size=30),
)


@FUZZ
@given(query=QUERY, sort=st.sampled_from(["rank", "date", "-date"]), filtered=st.booleans())
def test_query_fuzz_results_or_query_error(archive: Store, query: str, sort, filtered: bool):
    filters = Filters(category="emnews", since=0) if filtered else None
    try:
        result = search(archive, query, filters, sort=sort, limit=5)
    except QueryError as exc:
        assert "\n" not in str(exc)
        return
    assert count(archive, query, filters) == result.total
    for hit in result.hits:
        for start, end in hit.highlights:
            assert 0 <= start < end <= len(hit.snippet)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=QUERY, fmt=st.sampled_from([[], ["-f", "json"], ["-f", "tsv"], ["-c"]]))
def test_query_fuzz_through_the_cli(archive: Store, runner: CliRunner, query: str, fmt):
    """Exit 0 (matches), 1 (none) or 2 (bad query, one line); never a traceback."""
    words = query.split(" ")
    result = runner.invoke(app, ["--db", str(archive.path), "search", *fmt, "--", *words])
    assert result.exit_code in (0, 1, 2), (result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        assert result.stderr.startswith("newsarc: error: ")
        assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_query_fuzz_through_the_cli_with_a_leading_dash(archive: Store, runner: CliRunner):
    """Without ``--`` a query that starts with '-' is read as an option: a usage error."""
    for query in ["-国资委", "--x", "-"]:
        result = runner.invoke(app, ["--db", str(archive.path), "search", query])
        assert result.exit_code in (0, 1, 2) and "Traceback" not in result.stderr


# boolean queries against set algebra on the oracle ------------------------------------------------

WORDS = ["港股", "涨", "公司", "央企", "芯片", "的", "中国", "国资委", "A股", "市场"]


def _oracle(docs: dict[int, tuple[str, str]], word: str) -> set[int]:
    folded = fold(word)
    return {i for i, (title, text) in docs.items() if folded in title or folded in text}


@st.composite
def boolean_query(draw, depth: int = 0) -> tuple[str, object]:
    """(query text, tree) where the tree uses only what the language defines: AND of positive
    parts with optional exclusions, OR of positive parts, parentheses."""
    if depth >= 2 or draw(st.booleans()):
        return '"' + (word := draw(st.sampled_from(WORDS))) + '"', ("term", word)
    kind = draw(st.sampled_from(["and", "or"]))
    parts = draw(st.lists(boolean_query(depth + 1), min_size=2, max_size=3))
    if kind == "or":
        return "(" + " OR ".join(p[0] for p in parts) + ")", ("or", [p[1] for p in parts])
    excluded = draw(st.lists(st.sampled_from(WORDS), max_size=2))
    glue = draw(st.sampled_from([" ", " AND "]))
    text = glue.join(p[0] for p in parts) + "".join(f" -{w}" for w in excluded)
    return "(" + text + ")", ("and", [p[1] for p in parts], excluded)


def _evaluate(tree, docs) -> set[int]:
    if tree[0] == "term":
        return _oracle(docs, tree[1])
    children = [_evaluate(child, docs) for child in tree[1]]
    if tree[0] == "or":
        return set().union(*children)
    found = set.intersection(*children)
    for word in tree[2]:
        found -= _oracle(docs, word)
    return found


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=boolean_query())
def test_boolean_queries_equal_set_algebra(archive: Store, query):
    text, tree = query
    docs = {i: (fold(title), fold(body)) for i, title, body in post_texts(archive)}
    found = {h.post.id for h in search(archive, text, limit=None, snippets=False).hits}
    assert found == _evaluate(tree, docs), text


# -- bytes through the reader and the parser ------------------------------------------------------

NAME = "2022-04-09-202204091234567890.md"
#: seconds one file may take to read and parse (the importer's timeout is far longer; this
#: catches super-linear behaviour on small inputs)
SECONDS = 2.0


def read_and_parse(data: bytes, name: str = NAME) -> None:
    """What a parser worker does, without its safety net (``prepare`` reports any exception
    as an internal error): only ``PostError`` may come out, quickly."""
    started = time.perf_counter()
    try:
        decoded = decode(data, name)
        post = parse_post(decoded.text, PurePath(name), DEFAULT_TZ)
    except PostError as exc:
        assert "\n" not in str(exc)
        return
    finally:
        assert time.perf_counter() - started < SECONDS
    for value in (post.title, post.text, post.summary or "", *post.tags):
        assert "\x00" not in value
    Store.fts_values(post.title, post.text, post.categories, post.tags, post.source)
    json.dumps(post.meta, ensure_ascii=False)


@FUZZ
@given(st.binary(max_size=4000))
def test_read_parse_random_bytes(data: bytes):
    read_and_parse(data)


@FUZZ
@given(front=st.binary(max_size=600), body=st.binary(max_size=2000), crlf=st.booleans())
def test_read_parse_random_bytes_in_post_shape(front: bytes, body: bytes, crlf: bool):
    data = b"---\n" + front + b"\n---\n" + body
    read_and_parse(data.replace(b"\n", b"\r\n") if crlf else data)


ENCODINGS = ["utf-8", "gb18030", "big5", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-16",
             "latin-1", "shift_jis", "euc-kr", "cp1252", "utf-32"]  # fmt: skip
TEXT = st.lists(
    st.sampled_from([*"国资委创新联合体標題新聞abc:- \n\"'#<>&;=/", "---\n", "title: "]),
    max_size=60,
).map("".join)


@FUZZ
@given(st.lists(st.tuples(TEXT, st.sampled_from(ENCODINGS)), min_size=1, max_size=6))
def test_read_parse_every_encoding_mixed(pieces):
    """A file glued together from pieces in different encodings (a copy-paste accident)."""
    data = b"".join(text.encode(encoding, "replace") for text, encoding in pieces)
    read_and_parse(b"---\ntitle: x\n---\n" + data)
    read_and_parse(data)


@FUZZ
@given(post=st.sampled_from(POSTS), cuts=st.lists(st.floats(0, 1), min_size=1, max_size=3))
def test_read_parse_truncated_real_posts(post: Path, cuts):
    """A file cut short anywhere (a full disk, a copy interrupted), even inside a character."""
    data = post.read_bytes()
    for cut in cuts:
        read_and_parse(data[: int(len(data) * cut)], post.name)


@FUZZ
@given(post=st.sampled_from(POSTS), places=st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_read_parse_nul_bytes_in_real_posts(post: Path, places):
    data = bytearray(post.read_bytes())
    for place in sorted(places, reverse=True):
        data[int(len(data) * place) : int(len(data) * place)] = b"\x00"
    read_and_parse(bytes(data), post.name)


SURROGATES = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xb3\xbf"]  # surrogates encoded as UTF-8


@FUZZ
@given(
    post=st.sampled_from(POSTS),
    place=st.floats(0, 1),
    bad=st.sampled_from(SURROGATES),
    utf16=st.booleans(),
)
def test_read_parse_invalid_surrogates(post: Path, place: float, bad: bytes, utf16: bool):
    """Surrogates encoded as UTF-8 (CESU-8, from Java or JavaScript), and a lone surrogate in
    UTF-16: never valid text; the file is reported, never crashes the reader."""
    text = post.read_text(encoding="utf-8")
    at = int(len(text) * place)
    if utf16:
        data = text[:at].encode("utf-16-le") + b"\x00\xd8" + text[at:].encode("utf-16-le")
        read_and_parse(data, post.name)
        read_and_parse(b"\xff\xfe" + data, post.name)
    else:
        data = post.read_bytes()
        read_and_parse(data[:at] + bad + data[at:], post.name)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3))
def test_parse_post_text_with_lone_surrogates(surrogates: str):
    """parse_post called directly (the Python API) with text no decoder would produce."""
    parsed = parse_post(f"---\ntitle: a{surrogates}b\n---\n\n正文{surrogates}。\n", PurePath(NAME))
    assert "正文" in parsed.text
    Store.fts_values(parsed.title, parsed.text, parsed.categories, parsed.tags, parsed.source)


#: front matter shapes: (first line, the i-th of the lines repeated after it)
HUGE_FRONT_MATTER = {
    "many keys": ("", lambda i: f"key{i}: 值{i}\n"),
    "one long title": ('title: "', lambda i: "长"),
    "long flow list": ("tags: [", lambda i: f"标签{i}, "),
    "long block list": ("tags:\n", lambda i: f"  - 标签{i}\n"),
    "block scalar": ("summary: |\n", lambda i: "  摘要的一行\n"),
    "nested maps": ("x:\n", lambda i: f"  k{i}:\n    v: {i}\n"),
    "many anchors": ("", lambda i: f"a{i}: &x{i} v\nb{i}: *x{i}\n"),
}


def huge_front_matter(shape: str, size: int) -> str:
    """Front matter of about ``size`` characters (less) in one of the shapes above."""
    first, line = HUGE_FRONT_MATTER[shape]
    parts, length, i = [first], len(first), 0
    while length + len(line(i)) < size - 8:
        parts.append(line(i))
        length += len(parts[-1])
        i += 1
    closing = {"one long title": '"\n', "long flow list": "x]\n"}.get(shape, "")
    return "".join(parts) + closing


@pytest.mark.parametrize("shape", HUGE_FRONT_MATTER)
def test_read_parse_huge_front_matter(shape: str):
    """Front matter just under the limit, in every shape YAML has: parsed quickly; just over
    it: refused."""
    under = huge_front_matter(shape, MAX_FRONT_MATTER - 100)
    assert MAX_FRONT_MATTER - 200 < len(under) < MAX_FRONT_MATTER, len(under)
    started = time.process_time()  # CPU seconds: other jobs on a busy machine do not count
    parsed = parse_post(f"---\ntitle: t\n{under}---\n\n正文。\n", PurePath(NAME))
    assert time.process_time() - started < 5
    assert parsed.text == "正文。"
    over = huge_front_matter(shape, MAX_FRONT_MATTER + 100)
    with pytest.raises(PostError, match="limit"):
        parse_post(f"---\n{over}---\n\n正文。\n", PurePath(NAME))


def _peak_rss_of(code: str, *args: str) -> tuple[float, int]:
    """(CPU seconds, peak RSS in MB) of running ``code`` in a fresh interpreter (CPU time, not
    wall-clock: other jobs on a busy machine do not count)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stderr[-2000:]
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return cpu, int(result.stdout.split()[-1])


PREPARE_ONE = """
import resource, sys
from newsarc.dates import DEFAULT_TZ
from newsarc.ingest import prepare
import newsarc.parse, newsarc.fold, lxml.html  # loaded before the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
path = sys.argv[1]
p = prepare(path, 0, 0, None, DEFAULT_TZ)
assert p.status == "post" or p.reason != "internal error", p.message
print(p.status, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
"""

PARAGRAPH = "国资委力推组建创新联合体，多领域技术攻关获成效。中央企业牵头组建。" * 8


@pytest.mark.parametrize(
    "kind, body",
    [
        ("markdown", lambda n: "\n\n".join([PARAGRAPH] * (n // len(PARAGRAPH.encode())))),
        ("html", lambda n: f"<p>{PARAGRAPH}</p>" * (n // len(PARAGRAPH.encode()))),
        ("nested html", lambda n: "<div><p>段落" * (n // 18) + "</p></div>" * (n // 18)),
        ("one line", lambda n: "字" * (n // 3)),
    ],
)
def test_prepare_big_file_bounded_time_and_memory(tmp_path: Path, kind, body):
    """A 4 MB post (news posts are 1–10 KB): parsed within seconds, in memory proportional to
    its size. Most of it is the index form (fold.index_form builds a list with one string per
    bigram, ~100 bytes per character) — measured here so that it cannot grow unnoticed."""
    size = 4 << 20
    path = tmp_path / NAME
    path.write_text("---\ntitle: 大文件\ndate: 2022-04-09\n---\n\n" + body(size), encoding="utf-8")
    seconds, megabytes = _peak_rss_of(PREPARE_ONE, str(path))
    assert seconds < 30, seconds
    assert megabytes < 120 * path.stat().st_size / 2**20, megabytes


# -- the importer on a folder of hostile files ----------------------------------------------------


def _hostile_folder(folder: Path) -> int:
    """Every kind of bad file next to two good ones; returns the number of files."""
    rng = random.Random(7)
    good = POSTS[3].read_bytes()
    files: dict[str, bytes] = {
        "2022-01-01-good.md": b"---\ntitle: good\ndate: 2022-01-01\n---\n\nok\n",
        POSTS[3].name: good,
        "random.bin": rng.randbytes(5000),
        "random-post.md": b"---\n" + rng.randbytes(300) + b"\n---\n" + rng.randbytes(3000),
        "truncated.md": good[: len(good) // 2 - 1],
        "cut-in-char.md": "---\ntitle: 标题\n---\n\n正文".encode()[:-1],
        "nul.md": good.replace(b"\n", b"\n\x00", 5),
        "cesu.md": b"---\ntitle: \xed\xa0\x80\n---\n\nx\n",
        "utf16-lone.md": "---\ntitle: x\n---\n\n".encode("utf-16-le") + b"\x00\xd8",
        "mixed.md": "---\ntitle: 国\n---\n\n".encode()
        + "國".encode("big5")
        + "国".encode("gb18030"),
        "bom-only.md": b"\xef\xbb\xbf",
        "empty.md": b"",
        "unclosed.md": b"---\ntitle: x\n\nbody\n",
        "yaml-bomb.md": (
            b'---\ntitle: "lol"\na: &a ["lol","lol"]\nb: &b [*a,*a,*a]\nc: &c [*b,*b,*b]\n'
            b"---\n\nx\n"
        ),
        "deep-yaml.md": b"---\ntitle: x\nx: " + b"[" * 50_000 + b"]" * 50_000 + b"\n---\n\nx\n",
        "huge-front.md": b"---\ntitle: x\nnote: "
        + b"x" * (MAX_FRONT_MATTER + 10)
        + b"\n---\n\nx\n",
        "deep-html.md": b"---\ntitle: x\n---\n\n" + b"<div>" * 100_000 + b"x",
        "\x1b[31mred\x07\r\n.md": b"---\ntitle: [bold]x[/bold]\n---\n\n\x1b[2Jbody\n",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with open(folder / "too-big.md", "wb") as sparse:  # refused by size, never read
        sparse.truncate(MAX_BYTES + 1)
    (folder / ("bad-name-\udcff.md")).write_bytes(b"---\ntitle: n\n---\n\nx\n")
    return len(files) + 2


def test_import_of_a_hostile_folder_reports_every_file(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    n = _hostile_folder(folder)
    db = tmp_path / "archive.db"
    code = (
        "import resource, sys\n"
        "from newsarc.cli import main\n"
        "try:\n    main()\n"
        "finally:\n"
        "    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
        "    print(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, child))\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code, "--db", str(db), "import", "-v", str(folder)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert time.monotonic() - started < 120
    assert result.returncode == 4, result.stderr  # some files failed, reported
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert int(result.stdout.split()[-1]) < 1024, "peak memory of one process, MB"
    summary = result.stderr.splitlines()[0]
    counts = {
        kind.rstrip("s") if kind.startswith("duplicate") else kind: int(number.replace(",", ""))
        for number, kind in re.findall(r"(\d[\d,]*) (\w+)", summary.split("  (")[0])
    }
    kinds = ("imported", "updated", "unchanged", "duplicate", "skipped", "failed")
    assert sum(counts[k] for k in kinds) == n, summary
    assert counts["imported"] >= 3
    for line in result.stderr.splitlines():
        assert "\x1b" not in line and "\r" not in line and "\x07" not in line
    again = subprocess.run(
        [sys.executable, "-m", "newsarc.cli", "--db", str(db), "maintenance", "--check"],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr


# -- hostile content through every command --------------------------------------------------------

SGR = re.compile(r"\x1b\[[0-9;]*m")
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MARKUP = "[bold red]x[/] [link=file:///etc/passwd]y[/link]"
#: what a post may hold to attack a terminal: colours, erase screen, OSC 8 hyperlink, window
#: title (OSC 0, also via C1), cursor moves, carriage return, bell, CSI as one C1 byte, bidi
ATTACK = (
    f"{MARKUP} \x1b[31mred\x1b[0m \x1b[2J\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ "
    "\x1b]0;pwned\x07\x9d0;pwned\x9c\x1b[10A\rover\x08\x9b2J\u202eabc\u2066"
)


def hostile_file(folder: Path) -> None:
    """A post file full of attacks as the parser sees them: the archive keeps them exactly
    (C0 and C1 controls, escape sequences, markup, bidi overrides), the views make them inert."""
    c1 = "\x9b31m\x9d0;t\x9c\u202e"
    (folder / "2022-05-01-\x1b[31m\x07\u202ename\r.md").write_text(
        f'---\ntitle: "{MARKUP} 芯片 {c1}"\ndate: 2022-05-01\ncategories: "[red]c{c1}"\n'
        f'tags: ["[b]t{c1}"]\n---\n\n'
        f"<p>芯片 {MARKUP} {c1} 正文</p>\n<p><strong>[i]小标题{c1}</strong></p>\n"
        f"<p>{ATTACK} <script>alert(1)</script>尾</p>\n"
        f"<blockquote>[u]引用 芯片{c1}</blockquote>\n"
        f'<img src="http://e/\u202e.png" alt="[b]图{c1}">\n'
        f"<table><tr><td>[b]格{c1}</td><td>芯片</td></tr></table>\n"
        f"（文章来源：[red]来源{c1}）\n",
        encoding="utf-8",
    )


@pytest.fixture
def hostile_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "hostile.db"
    monkeypatch.setenv("NEWSARC_DB", str(db))
    folder = tmp_path / "posts"
    folder.mkdir()
    hostile_file(folder)
    assert CliRunner().invoke(app, ["import", "-q", str(folder)]).exit_code == 0
    with Store.open(db) as store:
        add_post(
            store, external_id="evil\x1b[31m", title=ATTACK + " 芯片",
            text=f"芯片 {ATTACK}\n\n{ATTACK}",
            source=f"[red]src{ATTACK}", category=f"cat{ATTACK}", tags=[f"[b]t{ATTACK}"],
            url=f"http://e.example/\x1b[31m{ATTACK}", summary=ATTACK,
            blocks=[Block("p", f"芯片 {ATTACK}"), Block("p", ATTACK)],
            raw=f"---\ntitle: x\n---\n{ATTACK}\n", meta={"k": ATTACK},
        )  # fmt: skip
    return db


def assert_terminal_safe(output: str, what: object) -> None:
    """Nothing reaches the terminal but Rich's own colour codes and plain text."""
    rest = SGR.sub("", output)
    assert not UNSAFE.search(rest), (what, repr(UNSAFE.search(rest)), rest[:3000])


EVERY_COMMAND = [
    ["search", "芯片"], ["search", "芯片", "--sort", "-date"], ["search", "芯片", "-f", "tsv"],
    ["search", "芯片", "-f", "csv"], ["search", "芯片", "-f", "json"],
    ["search", "芯片", "-f", "jsonl"], ["search", "芯片", "-f", "ids"],
    ["search", "芯片", "--text", "-f", "csv"], ["search", "-c", "芯片"],
    ["search", "无此词"], ["search", ATTACK.replace('"', "")], ["list"], ["list", "-f", "tsv"],
    ["list", "-f", "csv", "--text"], ["list", "-f", "json", "--text"], ["list", "-f", "jsonl"],
    ["list", "--tag", f"[b]t{ATTACK}"], ["show", "1", "--no-pager"], ["show", "2", "--no-pager"],
    ["show", "1", "2", "--no-pager", "-H", "芯片"], ["show", "1", "2", "-f", "text"],
    ["show", "1", "2", "-f", "markdown"], ["show", "1", "2", "-f", "raw"],
    ["show", "1", "2", "-f", "json"],
    ["show", "no\x1b[31mpost"], ["stats"], ["stats", "-f", "tsv"], ["stats", "-f", "csv"],
    ["stats", "-f", "json"], ["stats", "-f", "jsonl"], ["export"], ["export", "-f", "json"],
    ["export", "-f", "csv"], ["export", "-f", "markdown"], ["export", "-f", "html"],
    ["export", "-f", "es-bulk"], ["export", "2", "evil\x1b[31m"], ["maintenance", "--check"],
]  # fmt: skip


@pytest.mark.parametrize("plain", [[], ["--plain"]], ids=["colour", "plain"])
def test_hostile_archive_every_command_on_a_terminal(hostile_archive, monkeypatch, plain):
    """Every command and format, on a (simulated) colour terminal: post content never moves the
    cursor, clears, retitles, links, rings or reorders the terminal, and Rich markup in it
    prints literally."""
    monkeypatch.setattr(cli_options, "is_tty", lambda stream=None: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("LINES", "500")
    runner = CliRunner()
    for args in EVERY_COMMAND:
        result = runner.invoke(app, [*plain, *args])
        assert result.exit_code in (0, 1, 4), (args, result.stderr, result.exception)
        assert_terminal_safe(result.stdout, args)
        assert_terminal_safe(result.stderr, args)
    for args in (
        ["list"],
        ["search", "芯片"],
        ["show", "1", "--no-pager"],
        ["show", "2", "--no-pager"],
    ):
        shown = SGR.sub("", runner.invoke(app, [*plain, *args]).stdout)
        assert "[bold red]x[/] [link=file:///etc/passwd]y[/link]" in shown, args


def test_hostile_file_names_in_the_import_summary(tmp_path: Path, monkeypatch):
    """File names are content too: the summary lists them on one line each, made visible."""
    monkeypatch.setattr(
        cli_options, "is_tty", lambda stream=None: stream is None
    )  # no progress bar
    monkeypatch.setenv("FORCE_COLOR", "1")
    folder = tmp_path / "posts"
    folder.mkdir()
    hostile_file(folder)
    (folder / "unclosed-\x1b]8;;https:evil\x07[bold red]x\u202e\nfake line.md").write_text(
        "---\ntitle: x\n", encoding="utf-8"
    )
    (folder / "bad-\udcff-\x9b.md").write_text("---\ntitle: x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "a.db"), "import", "-v", str(folder)])
    assert result.exit_code == 4, result.stderr
    assert_terminal_safe(result.stderr, "import")
    lines = SGR.sub("", result.stderr).splitlines()
    failed = [line for line in lines if line.startswith("  ")]
    assert len(failed) == 2, lines
    assert any("[bold red]x" in line and "\\nfake line.md" in line for line in failed)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) <= 1


def test_hostile_archive_data_formats_keep_content_exact(hostile_archive):
    """Escaping is for terminals; piped data is exact (json escapes, the text is the same)."""
    runner = CliRunner()
    imported = json.loads(runner.invoke(app, ["show", "1", "-f", "json"]).stdout)
    # the imported file's escape sequences are kept whole, not cut to residue such as `[31m`
    for sequence in ("\x1b[31mred\x1b[0m", "\x1b]8;;http://evil\x1b\\link", "pwned\x07", "\x08"):
        assert sequence in imported["text"], sequence
    html = runner.invoke(app, ["export", "-f", "html"]).stdout
    assert "<script>" not in html and "[bold red]x[/]" in html
    assert "\x1b" not in html and "␛[31mred␛[0m" in html
    record = json.loads(runner.invoke(app, ["show", "2", "-f", "json"]).stdout)
    assert record["title"] == ATTACK + " 芯片" and record["url"].endswith(ATTACK)
    raw = runner.invoke(app, ["show", "2", "-f", "raw"]).stdout_bytes
    assert raw.decode() == f"---\ntitle: x\n---\n{ATTACK}\n"
    assert hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("query", ["芯片", "-芯片", "title:芯片", "芯片 OR [bold]", '"[link=x]"'])
def test_hostile_archive_search_highlights_stay_inside_snippets(hostile_archive, query):
    with Store.open(hostile_archive) as store:
        for hit in search(store, query, limit=None).hits:
            assert "\n" not in hit.snippet
            for start, end in hit.highlights:
                assert 0 <= start < end <= len(hit.snippet)
