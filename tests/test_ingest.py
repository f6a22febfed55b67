"""The importer: counts, incremental re-import, duplicates, skips and failures, interruption."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path, PurePath

import pytest

from newsarc.errors import NotAPost, PostError, UsageError
from newsarc.ingest import Importer, iter_files
from newsarc.parse import parse_post
from newsarc.queries import count_posts, file_state, posts_by_ids, similar_posts
from newsarc.read import read_file
from newsarc.store import Store, read_digest


def expected_ids(folder: Path) -> set[str]:
    """Article ids of the posts in a folder, worked out file by file with the parser."""
    found = set()
    for path in iter_files([folder]):
        try:
            found.add(parse_post(read_file(path)[1].text, PurePath(path)).external_id)
        except (NotAPost, PostError):
            pass
    return found


def stored(store: Store) -> dict[str, dict]:
    """Each post's columns, and the file its content came from: its files row with status
    'post' (the hex digest as the store reads it back)."""
    rows = store.conn.execute(
        "SELECT p.external_id, p.title, p.text, p.hash, f.path FROM posts p "
        "LEFT JOIN files f ON f.post_id = p.id AND f.status = 'post'"
    )
    return {
        r[0]: {"title": r[1], "text": r[2], "hash": read_digest(r[3]), "source_path": r[4]}
        for r in rows
    }


def integrity(store: Store) -> None:
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.conn.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)")


def run(store: Store, *paths: Path, workers: int = 1):
    return Importer(store, workers=workers).run(list(paths))


def test_import_corpus_one_post_per_article(tmp_path: Path, corpus: Path):
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, corpus / "posts", corpus / "versions", workers=2)
        ids = expected_ids(corpus / "posts") | expected_ids(corpus / "versions")
        files = sum(1 for _ in iter_files([corpus / "posts", corpus / "versions"]))
        assert not result.failed
        assert result.imported == len(ids) == count_posts(store)
        assert result.imported + result.duplicates == files
        assert set(stored(store)) == ids
        integrity(store)


def test_import_reimport_unchanged_is_skipped(tmp_path: Path, posts_dir: Path):
    with Store.open(tmp_path / "a.db") as store:
        first = run(store, posts_dir)
        again = run(store, posts_dir)
        assert again.imported == again.updated == again.duplicates == 0
        assert again.unchanged == first.imported
        assert count_posts(store) == first.imported


def test_import_changed_file_is_updated(tmp_path: Path, posts_dir: Path):
    with Store.open(tmp_path / "a.db") as store:
        run(store, posts_dir)
        target = posts_dir / "2021-12-08-202112082206703990.md"
        target.write_text(
            target.read_text(encoding="utf-8").replace("FF表示", "FF再次表示"), encoding="utf-8"
        )
        os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
        result = run(store, posts_dir)
        assert result.updated == 1
        assert result.unchanged == count_posts(store) - 1
        assert "FF再次表示" in stored(store)["202112082206703990"]["text"]
        integrity(store)


def test_import_touched_file_same_content_is_unchanged(tmp_path: Path, posts_dir: Path):
    with Store.open(tmp_path / "a.db") as store:
        run(store, posts_dir)
        target = posts_dir / "2021-12-01-init.md"
        os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
        result = run(store, posts_dir)
        assert result.updated == 0 and result.unchanged == count_posts(store)
        state = file_state(store, str(target))
        assert state is not None
        assert state.mtime_ns == target.stat().st_mtime_ns


def _copy_with_mtime(src: Path, dst: Path, mtime: int) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    os.utime(dst, (mtime, mtime))
    return dst


def test_import_duplicate_newest_copy_wins(tmp_path: Path, corpus: Path):
    post = corpus / "posts" / "2021-12-08-202112082206672930.md"
    version = corpus / "versions" / "2021-12-08-202112082206672930@cfbae483017a.md"
    old = _copy_with_mtime(version, tmp_path / "in" / "old" / version.name, 1_600_000_000)
    new = _copy_with_mtime(post, tmp_path / "in" / "new" / post.name, 1_700_000_000)
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, tmp_path / "in")
        assert result.imported == 1 and result.duplicates == 1
        row = stored(store)["202112082206672930"]
        assert row["source_path"] == str(new)
        paths = posts_by_ids(store, [1])[0].paths
        assert sorted(paths) == sorted([str(old), str(new)])
        assert paths[0] == str(new)  # the file whose content is stored comes first


def test_import_newer_duplicate_replaces_older(tmp_path: Path, corpus: Path):
    post = corpus / "posts" / "2021-12-08-202112082206672930.md"
    version = corpus / "versions" / "2021-12-08-202112082206672930@cfbae483017a.md"
    with Store.open(tmp_path / "a.db") as store:
        old = _copy_with_mtime(post, tmp_path / "a" / post.name, 1_600_000_000)
        run(store, tmp_path / "a")
        # another content under a canonical name, modified later (a saved ``@commit`` version
        # never replaces a canonical copy, whatever its time: see copy_rank)
        newer = _copy_with_mtime(version, tmp_path / "b" / post.name, 1_700_000_000)
        result = run(store, tmp_path / "b")
        assert result.duplicates == 1 and result.newer_copies == 1
        row = stored(store)["202112082206672930"]
        assert row["source_path"] == str(newer)
        assert row["text"] == parse_post(version.read_text(encoding="utf-8"), version).text
        assert sorted(posts_by_ids(store, [1])[0].paths) == sorted([str(old), str(newer)])
        integrity(store)


def test_import_skips_non_posts_and_reports_failures(tmp_path: Path, corpus: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corpus / "posts" / "2021-12-01-init.md", folder)
    (folder / "README.md").write_text("# just notes\n", encoding="utf-8")
    (folder / "empty.md").write_bytes(b"")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "unclosed.md").write_text(
        "---\ntitle: x\n\nbody without a closing line\n", encoding="utf-8"
    )
    (folder / ".hidden.md").write_text("---\ntitle: hidden\n---\nx\n", encoding="utf-8")
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, folder)
        assert result.imported == 1
        assert {Path(p).name for p, _ in result.skipped} == {"README.md", "empty.md", "image.png"}
        assert sorted(result.skipped_reasons) == ["binary", "empty", "no front matter"]
        assert [Path(p).name for p, _ in result.failed] == ["unclosed.md"]
        assert all(message.startswith(str(folder)) for _, message in result.failed + result.skipped)
        # skipped files are remembered (not read again) and counted with their reason, so the
        # counts add up to the files seen on every run
        again = run(store, folder)
        assert again.skipped == result.skipped and again.skipped_reasons == result.skipped_reasons
        assert [Path(p).name for p, _ in again.failed] == ["unclosed.md"]
        assert again.unchanged + again.n_skipped + again.n_failed == again.files == 5


def test_import_broken_yaml_title_is_recovered(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "2022-04-09-202204091234567890.md").write_text(
        '---\nlayout: post\ntitle: "央行："降准"落地"\ndate: 2022-04-09 14:22:44 +0800\n'
        "categories: emnews\ntags: 东财滚动新闻\n---\n\n正文。\n", encoding="utf-8"
    )  # fmt: skip
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, folder)
        assert result.imported == 1 and not result.failed
        assert stored(store)["202204091234567890"]["title"] == '央行："降准"落地'
        assert any("front matter" in message for _, message in result.warnings)


def test_import_encodings_are_decoded(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    text = '---\ntitle: "国资委力推组建创新联合体"\ndate: 2022-04-09\n---\n\n中央企业联合攻关。\n'
    (folder / "gbk-1000000000001.md").write_bytes(text.encode("gb18030"))
    (folder / "bom-1000000000002.md").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (folder / "u16-1000000000003.md").write_bytes(text.encode("utf-16"))
    (folder / "crlf-1000000000004.md").write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, folder)
        assert result.imported == 4, result.failed
        rows = store.conn.execute("SELECT title, text, raw FROM posts").fetchall()
        assert {r[0] for r in rows} == {"国资委力推组建创新联合体"}
        assert {r[1] for r in rows} == {"中央企业联合攻关。"}
        assert any("\r\n" in r[2] for r in rows)  # raw keeps the file's own line ends


def test_import_missing_path_is_usage_error(tmp_path: Path):
    with Store.open(tmp_path / "a.db") as store, pytest.raises(UsageError):
        run(store, tmp_path / "nope")


def test_import_interrupted_leaves_consistent_archive(tmp_path: Path, corpus: Path, monkeypatch):
    import newsarc.ingest as ingest

    monkeypatch.setattr(ingest, "CHUNK", 10)
    calls = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with Store.open(tmp_path / "a.db") as store:
        result = Importer(store, workers=1, progress=interrupt).run([corpus / "posts"])
        assert result.interrupted
        partial = count_posts(store)
        assert 0 < partial < len(expected_ids(corpus / "posts"))
        integrity(store)
        # every stored post is complete: it has its file, its text and its index entry
        orphans = store.conn.execute(
            "SELECT count(*) FROM posts WHERE id NOT IN (SELECT post_id FROM files WHERE post_id IS NOT NULL)"
        ).fetchone()[0]
        assert orphans == 0
        again = Importer(store, workers=1).run([corpus / "posts"])
        assert not again.interrupted
        assert count_posts(store) == len(expected_ids(corpus / "posts"))
        assert again.imported == count_posts(store) - partial
        integrity(store)


def test_import_link_loop_does_not_hang(tmp_path: Path, corpus: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corpus / "posts" / "2021-12-01-init.md", folder)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "link.md").symlink_to(folder / "2021-12-01-init.md")
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, folder)
        # the link is read, and is the same post (its id comes from the target's name)
        assert result.imported == 1 and result.duplicates == 1


def test_import_records_json_fields(tmp_path: Path, corpus: Path):
    with Store.open(tmp_path / "a.db") as store:
        run(store, corpus / "posts" / "000_da33c2ea1906ec2c.txt")
        row = store.conn.execute("SELECT tags, body, meta, date, date_utc FROM posts").fetchone()
        assert json.loads(row[0]) == ["中国经营网新闻"]
        assert {b["type"] for b in json.loads(row[1])} == {"p", "h"}
        assert json.loads(row[2]) == {"layout": "post"}
        assert row[3] == "2022-04-09T14:22:44+08:00" and row[4] == 1649485364


def _sabotage(monkeypatch, name: str, action) -> None:
    """Make the parser misbehave on one file (worker processes are forked, so they inherit it)."""
    import newsarc.ingest as ingest

    real = ingest.parse_post

    def parse(text, path, tz):
        if PurePath(path).name == name:
            action()
        return real(text, path, tz)

    monkeypatch.setattr(ingest, "parse_post", parse)


def test_import_survives_a_crashing_parser(tmp_path: Path, posts_dir: Path, monkeypatch):
    _sabotage(monkeypatch, "2021-12-01-init.md", lambda: os._exit(139))
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, posts_dir, workers=2)
        assert [(Path(p).name) for p, _ in result.failed] == ["2021-12-01-init.md"]
        assert result.failed_reasons == {"parser crashed": 1}
        assert count_posts(store) == len(expected_ids(posts_dir)) - 1
        integrity(store)


@pytest.mark.slow
def test_import_survives_a_hanging_parser(tmp_path: Path, posts_dir: Path, monkeypatch):
    import time as time_module

    import newsarc.ingest as ingest

    monkeypatch.setattr(ingest, "BATCH_TIMEOUT", 3.0)
    _sabotage(monkeypatch, "2021-12-01-init.md", lambda: time_module.sleep(60))
    with Store.open(tmp_path / "a.db") as store:
        started = time_module.monotonic()
        result = run(store, posts_dir, workers=2)
        assert time_module.monotonic() - started < 30
        assert result.failed_reasons == {"timed out": 1}
        assert count_posts(store) == len(expected_ids(posts_dir)) - 1


def test_import_messages_are_capped_but_counted(tmp_path: Path, monkeypatch):
    import newsarc.ingest as ingest

    monkeypatch.setattr(ingest, "MAX_LISTED", 3)
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(7):
        (folder / f"note{n}.txt").write_text("no front matter here", encoding="utf-8")
        (folder / f"bad{n}.md").write_text("---\ntitle: x\n", encoding="utf-8")
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, folder)
    assert result.n_skipped == 7 and len(result.skipped) == 3
    assert result.n_failed == 7 and len(result.failed) == 3
    assert result.failed_reasons == {"bad front matter": 7}


# -- fidelity (issue 15) ---------------------------------------------------------------------------


def write_post(
    path: Path, title: str, *, front: str = "", body: str = "正文。", mtime_ns: int | None = None
) -> Path:
    """A hand-made post file; ``mtime_ns`` sets its modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\n{front}---\n\n{body}\n", encoding="utf-8")
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def counts_add_up(result) -> bool:
    return (
        result.imported + result.updated + result.unchanged + result.duplicates
        + result.n_skipped + result.n_failed
    ) == result.files  # fmt: skip


@pytest.mark.parametrize("order", ["walk", "current-then-version", "version-then-current"])
def test_import_equal_mtimes_keep_the_canonical_copy(tmp_path: Path, order: str):
    """Two copies of one article modified at the same instant (as a git checkout leaves them):
    the one without an @commit suffix keeps the content, whichever is walked or imported
    first, and neither is called newer."""
    t = 1_700_000_000_000_000_000
    folder = tmp_path / "in"
    current = write_post(folder / "2021-12-08-202112082206672930.md", "现在", mtime_ns=t)
    version = write_post(
        folder / "older" / "2021-12-08-202112082206672930@cfbae483017a.md", "旧版", mtime_ns=t
    )
    with Store.open(tmp_path / "a.db") as store:
        if order == "walk":
            result = run(store, folder)  # the current copy is walked first, as in examples/
        else:
            first, second = (
                (current, version) if order.startswith("current") else (version, current)
            )
            run(store, first)
            result = run(store, second)
        assert stored(store)["202112082206672930"]["source_path"] == str(current)
        assert stored(store)["202112082206672930"]["title"] == "现在"
        assert result.newer_copies == 0
        assert result.canonical_copies == (1 if order == "version-then-current" else 0)
        [post] = posts_by_ids(store, [1])
        assert post.paths == [str(current), str(version)]


def test_import_a_saved_version_never_replaces_the_current_copy(tmp_path: Path):
    """A checkout writes files in any order: the @commit copy may be a few ms newer."""
    t = 1_700_000_000_000_000_000
    current = write_post(tmp_path / "2021-12-08-202112082206672930.md", "现在", mtime_ns=t)
    write_post(tmp_path / "older" / "2021-12-08-202112082206672930@cfbae483017a.md", "旧版",
               mtime_ns=t + 3_000_000)  # fmt: skip
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, tmp_path)
        assert stored(store)["202112082206672930"]["source_path"] == str(current)
        assert result.newer_copies == 0


def test_import_equal_mtimes_same_kind_prefers_shorter_path_in_any_order(tmp_path: Path):
    t = 1_700_000_000_000_000_000
    short = write_post(tmp_path / "z" / "x-202201010000000001.md", "短", mtime_ns=t)
    long = write_post(tmp_path / "aa" / "x-202201010000000001.md", "长", mtime_ns=t)
    for order in ([long.parent, short.parent], [short.parent, long.parent]):
        with Store.open(tmp_path / f"{order[0].name}.db") as store:
            for folder in order:
                run(store, folder)
            assert stored(store)["202201010000000001"]["title"] == "短"


def test_import_a_newer_copy_still_wins(tmp_path: Path):
    t = 1_700_000_000_000_000_000
    write_post(tmp_path / "a" / "x-202201010000000001.md", "旧", mtime_ns=t)
    write_post(tmp_path / "b" / "x-202201010000000001.md", "新", mtime_ns=t + 1)
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, tmp_path / "a", tmp_path / "b")
        assert stored(store)["202201010000000001"]["title"] == "新"
        assert result.newer_copies == 1 and result.canonical_copies == 0


def test_import_deleted_files_are_reported_marked_and_pruned(tmp_path: Path):
    folder = tmp_path / "in"
    only = write_post(folder / "2022-01-01-202201010000000001.md", "独份")
    write_post(folder / "2022-01-02-202201020000000002.md", "两份")
    copy_b = write_post(folder / "old" / "2022-01-02-202201020000000002.md", "两份")
    write_post(folder / "2022-01-03-202201030000000003.md", "留下")
    with Store.open(tmp_path / "a.db") as store:
        run(store, folder)
        only.unlink()
        copy_b.unlink()
        again = run(store, folder)
        assert again.gone == 2 and again.files == 2 and counts_add_up(again)
        assert count_posts(store) == 3  # an archive keeps what it has
        by_title = {p.title: p for p in posts_by_ids(store, [1, 2, 3])}
        assert by_title["独份"].missing_paths == [str(only)]
        assert by_title["独份"].to_record()["missing_paths"] == [str(only)]
        assert by_title["两份"].missing_paths == [str(copy_b)]
        assert by_title["留下"].missing_paths == []
        # a file that comes back is no longer gone
        write_post(only, "独份")
        back = run(store, folder)
        assert back.gone == 1
        assert posts_by_ids(store, [by_title["独份"].id])[0].missing_paths == []
        only.unlink()
        pruned = Importer(store, workers=1, prune=True).run([folder])
        assert (pruned.gone, pruned.pruned_files, pruned.pruned_posts) == (2, 2, 1)
        assert count_posts(store) == 2
        assert file_state(store, str(only)) is None and file_state(store, str(copy_b)) is None
        assert store.check() == []
        assert run(store, folder).gone == 0


def test_import_gone_only_looks_under_the_imported_paths(tmp_path: Path):
    a = write_post(tmp_path / "a" / "2022-01-01-202201010000000001.md", "甲")
    write_post(tmp_path / "b" / "2022-01-02-202201020000000002.md", "乙")
    with Store.open(tmp_path / "a.db") as store:
        run(store, tmp_path / "a", tmp_path / "b")
        a.unlink()
        assert run(store, tmp_path / "b").gone == 0
        assert run(store, tmp_path / "a").gone == 1


def test_import_warnings_and_skips_are_reported_on_every_run(tmp_path: Path):
    folder = tmp_path / "in"
    write_post(folder / "2022-01-01-202201010000000001.md", "有日期", front="date: 2022-01-01\n")
    write_post(folder / "x-202201020000000002.md", "")  # no date, empty title: 2 warnings
    (folder / "notes.txt").write_text("just notes\n", encoding="utf-8")
    with Store.open(tmp_path / "a.db") as store:
        first = run(store, folder)
        assert first.n_warnings == 2 and first.n_skipped == 1 and counts_add_up(first)
        again = run(store, folder)  # nothing is read again
        assert again.unchanged == 2
        assert again.warnings == first.warnings and again.skipped == first.skipped
        assert counts_add_up(again) and again.files == 3
        # a new mtime with the same content: not parsed again, its warnings still reported
        target = folder / "x-202201020000000002.md"
        os.utime(target, ns=(1_600_000_000_000_000_000,) * 2)
        touched = run(store, folder)
        assert touched.warnings == first.warnings and counts_add_up(touched)
        # fixed: the warnings are gone with the problem
        write_post(target, "有标题", front="date: 2022-01-02\n")
        fixed = run(store, folder)
        assert fixed.n_warnings == 0 and fixed.updated == 1 and counts_add_up(fixed)


def test_import_another_tz_reparses_unchanged_files(tmp_path: Path):
    import datetime as dt

    from newsarc.dates import parse_tz

    folder = tmp_path / "in"
    write_post(folder / "2022-01-01-202201010000000001.md", "甲", front="date: 2022-01-01 08:00\n")
    with Store.open(tmp_path / "a.db") as store:
        run(store, folder)
        [post] = posts_by_ids(store, [1])
        assert post.date == "2022-01-01T08:00:00+08:00"
        result = Importer(store, workers=1, tz=parse_tz("UTC")).run([folder])
        assert result.updated == 1 and result.reparsed == 1 and counts_add_up(result)
        [post] = posts_by_ids(store, [1])
        assert post.date is not None
        assert dt.datetime.fromisoformat(post.date).utcoffset() == dt.timedelta(0)
        # the same options again: nothing to do
        again = Importer(store, workers=1, tz=parse_tz("UTC")).run([folder])
        assert again.unchanged == 1 and again.updated == 0 and again.reparsed == 0


def test_import_jekyll_site_root_reads_only_posts(tmp_path: Path):
    site = tmp_path / "site"
    post = write_post(site / "_posts" / "2022-01-01-202201010000000001.md", "文章")
    write_post(site / "_drafts" / "draft-202201020000000002.md", "草稿")
    write_post(site / "about.md", "关于", front="layout: page\n")
    write_post(site / "README.md", "说明")
    write_post(site / "_layouts" / "default.html", "", body="{{ content }}")
    write_post(site / "_includes" / "tags.html", "", body="{% for tag in site.tags %}")
    write_post(site / "_site" / "2022" / "01" / "x.html", "已生成")
    write_post(site / "assets" / "main.md", "样式")
    write_post(site / "_sass" / "x.md", "样式")
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, site)
        assert result.sites == [str(site)]
        assert result.files == 1 and result.imported == 1
        assert [p.paths for p in posts_by_ids(store, [1])] == [[str(post)]]
        drafts = Importer(store, workers=1, drafts=True).run([site])
        assert drafts.imported == 1 and drafts.unchanged == 1
        assert sorted(stored(store)) == ["202201010000000001", "202201020000000002"]
    # pointed at _posts itself, or at a folder of posts without _posts/: every file is read
    assert list(iter_files([site / "_posts"])) == [post]


def test_import_jekyll_site_without_posts_reads_no_page(tmp_path: Path):
    """A site root known by its _config.yml: its pages (a README with Liquid) are not posts."""
    site = tmp_path / "site"
    write_post(site / "README.md", "首页", front="layout: default\npermalink: /\n",
               body="{% for tag in site.tags %}{{ tag[0] }}{% endfor %}")  # fmt: skip
    (site / "_config.yml").write_text("title: 金融消息\n", encoding="utf-8")
    with Store.open(tmp_path / "a.db") as store:
        result = run(store, site)
        assert result.sites == [str(site)] and result.files == 0 and count_posts(store) == 0


def test_import_a_name_that_is_not_utf8_is_not_gone(tmp_path: Path):
    folder = tmp_path / "in"
    name = os.fsdecode(b"2022-01-01-\xd6\xd0\xce\xc4-202201010000000001.md")  # GBK bytes
    post = write_post(folder / name, "中文名")
    with Store.open(tmp_path / "a.db") as store:
        run(store, folder)
        assert run(store, folder).gone == 0
        post.unlink()
        assert run(store, folder).gone == 1


def test_import_prune_passes_a_story_to_its_next_post(tmp_path: Path):
    """Pruning the earliest post of a story (its id) leaves the story to the next earliest,
    with no signature of the deleted post left behind."""
    folder = tmp_path / "in"
    body = "离岸人民币兑美元日内涨超200点，升至6.3512，为2018年以来最高水平。" * 3
    first = write_post(
        folder / "a" / "2022-01-01-202201010000000001.md", "甲社", body=body,
        front="date: 2022-01-01 09:00:00 +0800\n",
    )  # fmt: skip
    for n, outlet in ((2, "乙社"), (3, "丙社")):
        write_post(
            folder / "b" / f"2022-01-0{n}-20220101000000000{n}.md", outlet, body=body,
            front=f"date: 2022-01-0{n} 09:00:00 +0800\n",
        )  # fmt: skip
    with Store.open(tmp_path / "a.db") as store:
        run(store, folder)
        stories = {p.title: p.story for p in posts_by_ids(store, [1, 2, 3])}
        assert stories == {"甲社": 1, "乙社": 1, "丙社": 1}
        first.unlink()
        pruned = Importer(store, workers=1, prune=True).run([folder])
        assert pruned.pruned_posts == 1
        rest = posts_by_ids(store, [2, 3])
        assert [p.story for p in rest] == [2, 2]
        assert store.check() == []
        assert similar_posts(store, 2)[0].id == 3


def test_import_compacts_what_it_wrote_and_finds_the_same(tmp_path: Path, corpus: Path):
    """A new archive is compacted when the import ends: no free pages, and the same posts, text
    and search results as an archive left as the import wrote it."""
    from newsarc.search import search

    paths = [corpus / "posts", corpus / "versions"]
    with Store.open(tmp_path / "plain.db") as plain, Store.open(tmp_path / "c.db") as compact:
        left = Importer(plain, workers=1, compact=False).run(paths)
        done = Importer(compact, workers=1).run(paths)
        assert done.compacted and not left.compacted
        assert compact.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
        assert stored(compact) == stored(plain)
        for term in ("的", "人民币", "美元", "半导体", "-的", "國資委"):
            got = search(compact, term, limit=None, snippets=False)
            want = search(plain, term, limit=None, snippets=False)
            assert got.total == want.total
            assert [h.post.external_id for h in got.hits] == [h.post.external_id for h in want.hits]
        assert compact.check() == []
        integrity(compact)


def test_import_compacts_only_after_writing_a_good_share(tmp_path: Path, corpus: Path):
    posts = sorted(p for p in (corpus / "posts").iterdir() if p.is_file())
    few, rest = tmp_path / "few", tmp_path / "rest"
    few.mkdir()
    rest.mkdir()
    for i, path in enumerate(posts):
        shutil.copy2(path, (few if i < 5 else rest) / path.name)
    with Store.open(tmp_path / "a.db") as store:
        assert Importer(store, workers=1).run([rest]).compacted
        added = Importer(store, workers=1).run([few])
        assert added.imported and not added.compacted  # 5 posts: less than a quarter
        assert not Importer(store, workers=1).run([rest]).compacted  # nothing written


def test_import_without_room_does_not_compact(tmp_path: Path, corpus: Path, monkeypatch):
    class Full:
        free = 0

    monkeypatch.setattr("shutil.disk_usage", lambda path: Full)
    with Store.open(tmp_path / "a.db") as store:
        result = Importer(store, workers=1).run([corpus / "posts"])
        assert not result.compacted and result.imported
        assert store.check() == []


def test_import_merges_the_index_once_and_leaves_automatic_merging_on(tmp_path: Path):
    """While an import writes, FTS5's automatic merging is off (its segments are merged when a
    level fills, and compaction merges them all); it is on again afterwards, also after an
    import that wrote nothing and after one stopped by an error in the middle."""
    examples = Path(__file__).resolve().parents[1] / "examples"
    automerge = "SELECT v FROM posts_fts_config WHERE k = 'automerge'"
    with Store.open(tmp_path / "a.db") as store:
        seen: list[object] = []
        write = store.write_post

        def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            seen.append(store.conn.execute(automerge).fetchone()[0])
            return write(*args, **kwargs)

        store.write_post = spy  # type: ignore[method-assign]
        Importer(store, workers=0).run([examples])
        assert seen and set(seen) == {0}
        assert store.conn.execute(automerge).fetchone()[0] == 4
        assert store.check() == []

        def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise RuntimeError("disk on fire")

        store.write_post = broken  # type: ignore[method-assign]
        (tmp_path / "new").mkdir()
        (tmp_path / "new" / "2022-01-01-x.md").write_text(
            "---\ntitle: 新\n---\n正文\n", encoding="utf-8"
        )
        with pytest.raises(RuntimeError):
            Importer(store, workers=0).run([tmp_path / "new"])
        assert store.conn.execute(automerge).fetchone()[0] == 4


def test_import_writes_the_index_in_few_segments(tmp_path: Path):
    """The statements an import runs after a post's full-text insert open no statement
    savepoint (FTS5 writes its pending data to disk at each one): a chunk's index is written as
    one segment, not one per post. Shown against the same import with a multi-row UPDATE of the
    files after each post, which makes a segment per post."""
    folder = tmp_path / "posts"
    folder.mkdir()
    for n in range(60):
        (folder / f"2022-01-01-p{n}.md").write_text(
            f"---\ntitle: 第{n}篇\n---\n正文{n} 港股 中国\n", encoding="utf-8"
        )

    def leaves(db: Path, spoil: bool) -> int:
        with Store.open(db) as store:
            if spoil:
                record = store.record_file

                def spoiled(path, **kwargs):  # noqa: ANN001, ANN003, ANN202
                    record(path, **kwargs)
                    store.conn.execute("UPDATE files SET gone = 0 WHERE post_id >= 0")

                store.record_file = spoiled  # type: ignore[method-assign]
            result = Importer(store, workers=0, compact=False).run([folder])
            assert result.imported == 60
            return store.conn.execute("SELECT count(*) FROM posts_fts_data").fetchone()[0]

    clean, spoiled = leaves(tmp_path / "a.db", spoil=False), leaves(tmp_path / "b.db", spoil=True)
    # one segment: its leaf, the structure and the averages record (FTS5 merges 16 segments
    # when a level fills, so the spoiled import keeps more than 3 times as many, not 60)
    assert clean <= 4 and spoiled > 3 * clean
