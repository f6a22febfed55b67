"""Packed posts: raw, text and body in one zstd frame with a dictionary trained on the archive
(``newsarc.packing``), how the store trains, packs, converts older rows and reads them back,
and what a damaged value gives."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc import packing
from newsarc.cli import app
from newsarc.errors import DamagedPostError
from newsarc.ingest import Importer
from newsarc.packing import Content, DamagedValue, Packer, Unpacker, content_bytes
from newsarc.queries import posts_by_ids, raw_source, resolve
from newsarc.search import count, search
from newsarc.store import Store

#: common and rare characters, so that generated posts differ and share like real ones
HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动" + (
    "港股央企钛涨跌资本市场银行基金证券投资公司经济增长政策数据指数板块利率债券"
)


def _post(i: int, rng: random.Random) -> str:
    words = "".join(rng.choice(HAN) for _ in range(rng.randrange(40, 400)))
    paragraphs = [words[j : j + 90] for j in range(0, len(words), 90)]
    title = "".join(rng.choice(HAN) for _ in range(rng.randrange(6, 20)))
    body = "\n\n".join(f"<p>{p}</p>" if i % 3 == 0 else p for p in paragraphs)
    return (
        f'---\nlayout: post\ntitle: "{title} {i}"\ndate: 2022-0{1 + i % 9}-1{i % 10} 08:00:00 '
        f"+0800\ncategories: emnews\ntags: 东财滚动新闻\n---\n\n{body}\n\n"
        f"<http://finance.eastmoney.com/news/1354,2022{i:012d}.html>\n\n"
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)"
    )


def _write_posts(folder: Path, n: int, seed: int = 1, start: int = 0) -> dict[Path, bytes]:
    """``n`` posts, with a few byte-exactness cases: CRLF, a BOM, GBK, UTF-16, NUL."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for i in range(start, start + n):
        text = _post(i, rng)
        data = text.encode("utf-8")
        if i % 17 == 1:
            data = text.replace("\n", "\r\n").encode("utf-8")
        elif i % 17 == 2:
            data = b"\xef\xbb\xbf" + data
        elif i % 17 == 3:
            data = text.encode("gbk")
        elif i % 17 == 4:
            data = text.encode("utf-16")
        elif i % 17 == 5:
            data = data.replace("。".encode(), b"\x00", 1) + b"\x00tail"
        path = folder / f"2022-01-01-{i:04d}.md"
        path.write_bytes(data)
        files[path] = data
    return files


@pytest.fixture
def few_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Train once an archive has 40 posts, not 1,000, so tests stay small."""
    monkeypatch.setattr(packing, "TRAIN_MIN_POSTS", 40)


def _packed(store: Store) -> tuple[int, int]:
    """(packed posts, plain posts)."""
    row = store.conn.execute("SELECT count(packed), count(*) - count(packed) FROM posts").fetchone()
    return row[0], row[1]


# -- the codec --------------------------------------------------------------------------------


def _dictionary(dict_id: int = 1) -> bytes:
    rng = random.Random(dict_id)
    samples = [content_bytes(_post(i, rng), "text", "[]") for i in range(200)]
    data = packing.train(samples, dict_id)
    assert data is not None
    return data


def test_packing_round_trips_every_column_exactly():
    data = _dictionary()
    packer = Packer(1, data)
    unpacker = Unpacker({1: data}.get)
    cases = [
        Content("", "", ""),
        Content("---\ntitle: x\n---\r\n\x00正文\ufeff", "正文", '[{"type":"p"}]'),
        Content("é" * 5000, "\U0001f600 emoji", "[]"),
    ]
    for content in cases:
        value = packer.pack(*content)
        assert isinstance(value, bytes)
        assert unpacker.unpack(value) == content
        assert unpacker.unpack_text(value) == content.text  # the text alone, as most readers


def test_packing_frame_names_its_dictionary_so_a_retrain_keeps_old_values_readable():
    first, second = _dictionary(1), _dictionary(2)
    old = Packer(1, first).pack("旧的原文", "旧的", "[]")
    new = Packer(2, second).pack("新的原文", "新的", "[]")
    unpacker = Unpacker({1: first, 2: second}.get)
    assert unpacker.unpack(old).raw == "旧的原文"
    assert unpacker.unpack(new).raw == "新的原文"


def test_packing_a_trained_dictionary_beats_compressing_each_post_alone():
    import zstandard

    rng = random.Random(5)
    posts = [_post(i, rng) for i in range(300)]
    data = packing.train([content_bytes(p, "", "") for p in posts[:200]], 1)
    assert data is not None
    packer = Packer(1, data)
    plain = zstandard.ZstdCompressor(level=packing.LEVEL)
    with_dict = sum(len(packer.pack(p, "", "")) for p in posts[200:])
    alone = sum(len(plain.compress(p.encode())) for p in posts[200:])
    assert with_dict < 0.9 * alone


def test_packing_text_that_repeats_raw_costs_little():
    data = _dictionary()
    packer = Packer(1, data)
    rng = random.Random(9)
    raw = _post(1, rng)
    text = raw.split("---\n\n", 1)[1]
    assert len(packer.pack(raw, text, "")) < len(packer.pack(raw, "", "")) + len(text) // 10


@pytest.mark.parametrize(
    "damage",
    [
        lambda v: v[:-1],  # truncated
        lambda v: v[:20] + bytes([v[20] ^ 0x55]) + v[21:],  # a flipped byte
        lambda v: b"not a frame at all",
        lambda v: b"",
    ],
)
def test_packing_damaged_value_is_refused_never_read_wrong(damage):
    data = _dictionary()
    value = Packer(1, data).pack("原文" * 50, "正文" * 50, "[]")
    with pytest.raises(DamagedValue):
        Unpacker({1: data}.get).unpack(damage(value))
    with pytest.raises(DamagedValue):
        Unpacker({1: data}.get).unpack_text(damage(value))


def test_packing_missing_dictionary_is_a_damaged_value():
    data = _dictionary(3)
    value = Packer(3, data).pack("原文", "正文", "[]")
    with pytest.raises(DamagedValue, match="dictionary 3"):
        Unpacker({}.get).unpack(value)


def test_packing_too_few_samples_train_no_dictionary():
    assert packing.train([b"tiny", b"also tiny"], 1) is None


# -- the store ----------------------------------------------------------------------------------


def test_packing_import_packs_posts_and_reads_them_back_exactly(tmp_path, few_posts):
    files = _write_posts(tmp_path / "posts", 120)
    with Store.open(tmp_path / "a.db") as store:
        result = Importer(store, workers=2).run([tmp_path / "posts"])
        assert result.imported == 120 and not result.failed
        assert _packed(store) == (120, 0)
        assert store.conn.execute("SELECT count(*) FROM dictionaries").fetchone()[0] == 1
        for path, data in files.items():
            post_id = resolve(store, str(path))
            assert post_id is not None
            source = raw_source(store, post_id)
            assert source is not None
            assert hashlib.sha256(data).hexdigest() == source.hash
            assert source.raw.encode(source.encoding or "utf-8", "surrogateescape") in (
                data,
                data.removeprefix(b"\xef\xbb\xbf"),
                data.removeprefix(b"\xff\xfe"),
            ) or source.encoding in ("utf-16", "utf-16-le")
        assert store.check() == []


def test_packing_show_raw_gives_the_file_byte_for_byte(tmp_path, few_posts, isolated_archive):
    files = _write_posts(tmp_path / "posts", 60)
    runner = CliRunner()
    assert runner.invoke(app, ["import", "--quiet", str(tmp_path / "posts")]).exit_code == 0
    with Store.open(isolated_archive) as store:
        assert _packed(store) == (60, 0)
    for path, data in files.items():
        shown = runner.invoke(app, ["show", str(path), "-f", "raw"])
        assert shown.exit_code == 0, shown.output
        assert shown.stdout_bytes == data, path.name


def test_packing_packed_and_plain_archives_answer_alike(tmp_path, few_posts, monkeypatch):
    _write_posts(tmp_path / "posts", 80)
    plain_db, packed_db = tmp_path / "plain.db", tmp_path / "packed.db"
    with Store.open(packed_db) as store:
        Importer(store, workers=0).run([tmp_path / "posts"])
        assert _packed(store)[1] == 0
    monkeypatch.setattr(packing, "TRAIN_MIN_POSTS", 10**9)
    with Store.open(plain_db) as store:
        Importer(store, workers=0).run([tmp_path / "posts"])
        assert _packed(store)[0] == 0

    def everything(db: Path) -> tuple:
        with Store.open(db) as store:
            ids = [r[0] for r in store.conn.execute("SELECT id FROM posts ORDER BY id")]
            posts = posts_by_ids(store, ids, full=True, raw=True)
            # without raw (what exports read), the same posts, only the raw file not decoded
            lean = posts_by_ids(store, ids, full=True)
            assert all(p.raw is None for p in lean)
            assert [(p.to_record(), p.blocks, p.meta) for p in lean] == [
                (p.to_record(), p.blocks, p.meta) for p in posts
            ]
            found = search(store, "港股", limit=5)
            return (
                [(p.to_record(), p.raw, [b.to_dict() for b in p.blocks or []]) for p in posts],
                [(h.post.id, h.snippet) for h in found.hits],
                count(store, "钛"),
            )

    assert everything(plain_db) == everything(packed_db)


def test_packing_migration_of_an_old_archive_interrupted_midway_is_usable_and_resumes(
    tmp_path, few_posts, monkeypatch
):
    _write_posts(tmp_path / "posts", 100)
    db = tmp_path / "old.db"
    monkeypatch.setattr(packing, "TRAIN_MIN_POSTS", 10**9)
    with Store.open(db) as store:  # an archive as an older newsarc left it: all plain
        Importer(store, workers=0).run([tmp_path / "posts"])
        expected = {
            p.id: (p.raw, p.text)
            for p in posts_by_ids(store, list(range(1, 101)), full=True, raw=True)
        }
    monkeypatch.setattr(packing, "TRAIN_MIN_POSTS", 40)
    monkeypatch.setattr(Store, "PACK_BATCH", 30)

    calls = 0
    real_pack = Packer.pack

    def pack_then_die(self, raw, text, body):
        nonlocal calls
        calls += 1
        if calls > 45:  # in the second batch: the first one is committed
            raise KeyboardInterrupt
        return real_pack(self, raw, text, body)

    monkeypatch.setattr(Packer, "pack", pack_then_die)
    with Store.open(db) as store, pytest.raises(KeyboardInterrupt):
        store.pack_posts()
    monkeypatch.setattr(Packer, "pack", real_pack)

    with Store.open(db, create=False, readonly=True) as store:
        assert _packed(store) == (30, 70)  # one batch done, the rest as it was
        got = {
            p.id: (p.raw, p.text) for p in posts_by_ids(store, list(expected), full=True, raw=True)
        }
        assert got == expected
        assert count(store, "港股") > 0
    with Store.open(db) as store:
        assert store.check() == []
        assert store.pack_posts() == 70  # resumes where it stopped, same dictionary
        assert _packed(store) == (100, 0)
        assert store.conn.execute("SELECT count(*) FROM dictionaries").fetchone()[0] == 1
        got = {
            p.id: (p.raw, p.text) for p in posts_by_ids(store, list(expected), full=True, raw=True)
        }
        assert got == expected
        assert store.check() == []


def test_packing_retrain_keeps_older_posts_readable(tmp_path, few_posts):
    _write_posts(tmp_path / "posts", 60)
    with Store.open(tmp_path / "a.db") as store:
        Importer(store, workers=0).run([tmp_path / "posts"])
        before = {p.id: p.raw for p in posts_by_ids(store, list(range(1, 61)), full=True, raw=True)}
        assert store.train_dictionary() == 2
        _write_posts(tmp_path / "more", 70, seed=2, start=1000)
        Importer(store, workers=0).run([tmp_path / "more"])
        ids = [r[0] for r in store.conn.execute("SELECT id FROM posts WHERE id > 60")]
        assert ids
        assert {r[0] for r in store.conn.execute("SELECT DISTINCT id FROM dictionaries")} == {1, 2}
        assert {
            p.id: p.raw for p in posts_by_ids(store, list(before), full=True, raw=True)
        } == before
        assert all(p.raw for p in posts_by_ids(store, ids, full=True, raw=True))
        assert store.check() == []


def _damage_post(db: Path, post_id: int) -> None:
    conn = sqlite3.connect(db)
    value = conn.execute("SELECT packed FROM posts WHERE id = ?", (post_id,)).fetchone()[0]
    value = value[:-8] + bytes(b ^ 0xFF for b in value[-8:])
    conn.execute("UPDATE posts SET packed = ? WHERE id = ?", (value, post_id))
    conn.commit()
    conn.close()


def test_packing_damaged_post_is_a_one_line_error_naming_it(tmp_path, few_posts, isolated_archive):
    _write_posts(tmp_path / "posts", 50)
    runner = CliRunner()
    assert runner.invoke(app, ["import", "--quiet", str(tmp_path / "posts")]).exit_code == 0
    _damage_post(isolated_archive, 7)
    with Store.open(isolated_archive) as store:
        external_id = store.conn.execute("SELECT external_id FROM posts WHERE id = 7").fetchone()[0]
        with pytest.raises(DamagedPostError, match=r"post 7 .*damaged"):
            raw_source(store, 7)
        problems = store.check()
        assert len(problems) == 1 and "post 7" in problems[0] and external_id in problems[0]
    for args in (["show", "7", "-f", "raw"], ["show", "7"], ["export", "--format", "jsonl"]):
        result = runner.invoke(app, args)
        assert result.exit_code != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("newsarc: error: "), result.stderr
        assert "post 7" in lines[0] and "damaged" in lines[0]
        assert "Traceback" not in result.output
    shown = runner.invoke(app, ["show", "8", "-f", "json"])  # the others are fine
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == 8
    check = runner.invoke(app, ["maintenance", "--check"])
    assert check.exit_code == 4 and "post 7" in check.stderr and "damaged" in check.stderr


def test_packing_rows_edited_by_another_tool_are_found_and_taken(tmp_path, few_posts):
    """``update posts set text = …`` on a packed post (its columns hold '' once packed): check
    reports it, ``--rebuild-index`` takes the written text over the packed one (search finds
    it, the old text is gone), and the next packing keeps it."""
    import sqlite_utils

    _write_posts(tmp_path / "posts", 60)
    db = tmp_path / "a.db"
    with Store.open(db) as store:
        Importer(store, workers=1).run([tmp_path / "posts"])
        assert _packed(store) == (60, 0)
        [old] = posts_by_ids(store, [7])
        old_raw = raw_source(store, 7)
    assert old.text and "篡改之后" not in old.text and old_raw is not None
    sqlite_utils.Database(db).execute("update posts set text = '篡改之后的正文' where id = 7")
    with Store.open(db) as store:
        [problem] = store.check()
        assert "1 post changed since it was indexed (id 7)" in problem
        store.rebuild_index()
        assert store.check() == []
        assert [h.post.id for h in search(store, "篡改之后", limit=None).hits] == [7]
        assert posts_by_ids(store, [7])[0].text == "篡改之后的正文"
        assert raw_source(store, 7) == old_raw  # the file's text, kept from the packed value
        store.optimize()
        assert _packed(store) == (60, 0)
        assert posts_by_ids(store, [7])[0].text == "篡改之后的正文"
        assert store.check() == []
