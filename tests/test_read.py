"""newsarc.read: bytes → text (BOMs, UTF-16, GB18030 vs Big5, binary, empty, limits)."""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
import random
import re
from pathlib import Path

import pytest

from newsarc import read
from newsarc.errors import NotAPost, PostError
from newsarc.read import Decoded, decode, looks_like_post, read_file

REPO = Path(__file__).resolve().parents[1]
POSTS = Path(__file__).resolve().parent / "corpus" / "posts"
LONG = "000_da33c2ea1906ec2c.txt"  # about 3,000 characters, HTML body
SHORT = "2021-12-08-202112082206672930.md"  # about 200 characters, one line of Markdown
TRADITIONAL = "國資委力推組建創新聯合體，多領域技術攻關獲成效。"


def post_text(name: str) -> str:
    return (POSTS / name).read_text(encoding="utf-8")


def corpus_texts() -> list[tuple[str, str]]:
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(POSTS.iterdir())]


def body_start(text: str, length: int) -> str:
    """The first ``length`` characters of a post's body, markup and white space left out."""
    body = text.split("---", 2)[2]
    return re.sub(r"<[^>]+>|\s+", "", body)[:length]


def to_traditional(text: str) -> str:
    """Simplified → traditional, good enough for encoding tests: the inverse of the project's
    traditional→simplified table, keeping a character that Big5 already has."""
    inverse: dict[str, str] = {}
    table = (REPO / "newsarc" / "data" / "t2s.txt").read_text(encoding="utf-8")
    for line in table.splitlines():
        if len(line) == 2:
            inverse.setdefault(line[1], line[0])
    out = []
    for char in text:
        try:
            char.encode("big5")
        except UnicodeEncodeError:
            char = inverse.get(char, char)
        out.append(char)
    return "".join(out)


def big5_bytes(text: str) -> bytes:
    """``text`` in Big5, characters Big5 does not have left out."""
    return text.encode("big5", "ignore")


# --- UTF-8, BOMs, UTF-16 --------------------------------------------------------------------


def test_utf8_without_bom_is_the_text_as_is() -> None:
    text = post_text(LONG)
    assert decode(text.encode("utf-8")) == Decoded(text, "utf-8")


def test_utf8_bom_is_removed_and_reported() -> None:
    text = post_text(SHORT)
    data = codecs.BOM_UTF8 + text.encode("utf-8")
    decoded = decode(data)
    assert decoded == Decoded(text, "utf-8-sig")
    assert decoded.text.encode(decoded.encoding) == data  # `show -f raw` re-encodes like this


@pytest.mark.parametrize(
    "bom, codec, label",
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    ],
)
def test_utf16_and_utf32_with_bom(bom: bytes, codec: str, label: str) -> None:
    text = post_text(LONG)
    assert decode(bom + text.encode(codec)) == Decoded(text, label)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_by_its_nuls(codec: str) -> None:
    for name in (LONG, SHORT):
        text = post_text(name)
        data = text.encode(codec)
        decoded = decode(data)
        assert decoded == Decoded(text, codec)
        assert decoded.text.encode(decoded.encoding) == data


def test_python_utf16_with_bom_round_trips() -> None:
    text = "---\r\ntitle: 编码测试\r\n---\r\n\r\n中文正文。\r\n"
    data = text.encode("utf-16")  # BOM + native order
    decoded = decode(data)
    assert decoded == Decoded(text, "utf-16")
    assert decoded.text.encode(decoded.encoding) == data


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "big5"])
def test_line_ends_are_kept(codec: str) -> None:
    text = "---\r\ntitle: 國資委\r\n---\r\n\r\n第一行。\r\n第二行\r舊式\n混合\r\n"
    decoded = decode(text.encode(codec))
    assert decoded == Decoded(text, codec)
    assert decoded.text.count("\r\n") == 6 and "\r舊式\n" in decoded.text


# --- GB18030 / GBK and Big5 -----------------------------------------------------------------


def test_gbk_long_real_post() -> None:
    text = post_text(LONG)
    assert decode(text.encode("gbk")) == Decoded(text, "gb18030")


def test_gbk_short_real_post() -> None:
    text = post_text(SHORT)
    assert decode(text.encode("gbk")) == Decoded(text, "gb18030")


def test_gbk_short_text_that_is_also_valid_big5() -> None:
    """60 characters whose GBK bytes Big5 decodes without error: chosen by plausibility."""
    text = body_start(post_text(LONG), 60)
    assert len(text) == 60
    data = text.encode("gbk")
    assert data.decode("big5") != text  # both decode: the test is a real choice
    assert decode(data) == Decoded(text, "gb18030")


def test_gb18030_four_byte_sequences() -> None:
    text = "---\ntitle: 罕见字𠀀与表情😀\n---\n正文€"
    assert decode(text.encode("gb18030")) == Decoded(text, "gb18030")


def test_big5_hand_written_traditional_text() -> None:
    data = TRADITIONAL.encode("big5")
    assert data.decode("gb18030") != TRADITIONAL  # GB18030 decodes it too, into nonsense
    assert decode(data) == Decoded(TRADITIONAL, "big5")


def test_big5_post_with_front_matter_and_crlf() -> None:
    text = f'---\r\nlayout: post\r\ntitle: "{TRADITIONAL}"\r\n---\r\n<p>{TRADITIONAL}</p>\r\n'
    assert decode(text.encode("big5")) == Decoded(text, "big5")


def test_big5_real_post_converted_to_traditional() -> None:
    text = to_traditional(post_text(LONG))
    data = big5_bytes(text)
    expected = data.decode("big5")
    assert len(expected) > 2500 and "國資委" in expected
    assert decode(data) == Decoded(expected, "big5")


def test_every_corpus_post_and_snippet_is_told_apart() -> None:
    """Whole posts and 30-character snippets of every corpus post, in GBK and (converted to
    traditional) in Big5, decode in their own encoding."""
    for name, text in corpus_texts():
        samples = [text, body_start(text, 30)]
        for sample in samples:
            if not re.search("[\u4e00-\u9fff]", sample):
                continue
            gbk = sample.encode("gbk", "ignore")
            assert decode(gbk, name) == Decoded(gbk.decode("gbk"), "gb18030"), name
            big5 = big5_bytes(to_traditional(sample))
            assert decode(big5, name) == Decoded(big5.decode("big5"), "big5"), name


def test_utf8_path_runs_no_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object) -> None:
        raise AssertionError("legacy detection ran on valid UTF-8")

    monkeypatch.setattr(read, "_legacy", fail)
    monkeypatch.setattr(read, "_mostly_utf8", fail)
    text = post_text(LONG)
    assert decode(text.encode("utf-8")).text == text


# --- not posts: empty, binary -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b" ",
        b"\n\n\r\n\t  \n",
        codecs.BOM_UTF8,
        codecs.BOM_UTF8 + b" \n",
        "\n \n".encode("utf-16"),
    ],
)
def test_empty_and_blank_files_are_not_posts(data: bytes) -> None:
    with pytest.raises(NotAPost) as caught:
        decode(data, "blank.md")
    assert caught.value.reason == "empty"
    assert str(caught.value) == "blank.md: empty file"


def test_png_is_binary() -> None:
    noise = random.Random(7).randbytes(4000)
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise
    with pytest.raises(NotAPost) as caught:
        decode(data, "image.png")
    assert caught.value.reason == "binary"
    assert str(caught.value) == "image.png: binary file"


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02\x03\xff\xfe\x00abc\x00" * 20,  # NULs, not UTF-8
        b"\x05\x00\x07\x00\x01\x00\x81\x00" * 50,  # NULs in UTF-16 places, but control characters
        bytes(range(128)) * 4,  # valid UTF-8 (ASCII) that is mostly control characters
        bytes(b for b in random.Random(3).randbytes(5000) if b),  # no NULs, 11% control bytes
    ],
)
def test_binary_data_is_not_a_post(data: bytes) -> None:
    with pytest.raises(NotAPost) as caught:
        decode(data, "blob.bin")
    assert caught.value.reason == "binary"


def test_a_stray_nul_in_utf8_text_is_kept() -> None:
    """A text is not binary for one NUL: the parser drops control characters itself."""
    text = post_text(LONG).replace("国资委", "国资\x00委", 1)
    assert decode(text.encode("utf-8")) == Decoded(text, "utf-8")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"abc \xff\xff\xff def", b"---\ntitle: x\n---\n\x81", b"\xa4\x40\xfa"]
)
def test_undecodable_bytes(data: bytes) -> None:
    with pytest.raises(PostError) as caught:
        decode(data, "bad.md")
    assert not isinstance(caught.value, NotAPost)  # a failure, not a skipped file
    assert caught.value.reason == "undecodable"
    assert str(caught.value) == "bad.md: cannot decode as UTF-8, UTF-16, GB18030 or Big5"


@pytest.mark.parametrize("damage", ["cut short", "bad byte", "byte missing"])
def test_damaged_utf8_is_not_read_as_gb18030_or_big5(damage: str) -> None:
    """A damaged UTF-8 file may well decode as GB18030 or Big5: it is refused instead."""
    data = post_text(LONG).encode("utf-8")
    word = "国资委".encode()
    at = data.rindex(word)  # in the body, after many valid characters
    if damage == "cut short":  # in the middle of a 3-byte character
        damaged = data[: at + 1]
    elif damage == "bad byte":
        damaged = data[:at] + b"\xff" + data[at + 1 :]
    else:
        damaged = data[:at] + word[:-1] + data[at + len(word) :]
    with pytest.raises(PostError) as caught:
        decode(damaged, "cut.md")
    assert caught.value.reason == "undecodable"
    bad = at + 6 if damage == "byte missing" else at
    assert str(caught.value).startswith(f"cut.md: invalid UTF-8 at byte {bad} ")


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + b"ok \xff",
        codecs.BOM_UTF16_LE + b"a\x00\x00\xd8b\x00",
        codecs.BOM_UTF16_LE + b"a",
    ],
)
def test_invalid_text_after_a_bom_is_undecodable(data: bytes) -> None:
    with pytest.raises(PostError) as caught:
        decode(data, "bom.md")
    assert caught.value.reason == "undecodable"
    assert str(caught.value).startswith("bom.md: invalid utf-")


def test_too_large_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(read, "MAX_BYTES", 10)
    assert decode(b"0123456789").text == "0123456789"  # the limit itself is allowed
    with pytest.raises(PostError) as caught:
        decode(b"0123456789a", "big.md")
    assert caught.value.reason == "too large" and str(caught.value).startswith("big.md: ")
    path = tmp_path / "big.md"
    path.write_bytes(b"x" * 11)
    with pytest.raises(PostError) as caught:
        read_file(path)
    assert caught.value.reason == "too large" and str(path) in str(caught.value)


def test_messages_are_one_line_whatever_the_name() -> None:
    with pytest.raises(NotAPost) as caught:
        decode(b"", "evil\nname\r\u2028.md")
    assert str(caught.value) == "evil\\nname\\r\\u2028.md: empty file"


# --- read_file ----------------------------------------------------------------------------------


def test_read_file_returns_bytes_and_text(tmp_path: Path) -> None:
    text = post_text(LONG)
    path = tmp_path / "post.md"
    path.write_bytes(text.encode("gbk"))
    data, decoded = read_file(path)
    assert data == path.read_bytes()
    assert decoded == Decoded(text, "gb18030")


def test_read_file_names_the_file_in_decode_errors(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(b"")
    with pytest.raises(NotAPost) as caught:
        read_file(path)
    assert str(caught.value) == f"{path}: empty file"


def test_read_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "missing.md"
    with pytest.raises(PostError) as caught:
        read_file(path)
    assert caught.value.reason == "unreadable"
    assert str(caught.value) == f"{path}: cannot read (No such file or directory)"


def test_read_file_folder(tmp_path: Path) -> None:
    with pytest.raises(PostError) as caught:
        read_file(tmp_path)
    assert caught.value.reason == "unreadable"
    assert str(caught.value) == f"{tmp_path}: is a folder, not a file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_read_file_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(PostError) as caught:
        read_file(fifo)
    assert caught.value.reason == "unreadable"
    assert str(caught.value) == f"{fifo}: is not a regular file"


def test_read_file_without_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 stops nobody when the tests run as root (as CI does): refuse at the system call
    path = tmp_path / "secret.md"
    path.write_text("---\n", encoding="utf-8")
    real_open = os.open

    def refuse(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PostError) as caught:
        read_file(path)
    assert caught.value.reason == "unreadable"
    assert "Permission denied" in str(caught.value) and str(path) in str(caught.value)


# --- looks_like_post, Decoded ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["---\n", "\ufeff---", "\n\n---\r\n", "---", "---  \nx", "  \t\n---\rtitle", "-----\n"]
)
def test_looks_like_post(text: str) -> None:
    assert looks_like_post(text) is True


@pytest.mark.parametrize(
    "text", ["hello", "--- x", "----x", "", "\n", "--\n", "x\n---\n", "- - -\n", "\ufeff\ufeff---"]
)
def test_does_not_look_like_post(text: str) -> None:
    assert looks_like_post(text) is False


def test_decoded_is_frozen() -> None:
    decoded = decode(b"---\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.text = "x"  # type: ignore[misc]


# -- encode: the inverse of decode (show -f raw) --------------------------------------------------

POST = "---\r\ntitle: 编码测试 ÅÉ\r\ndate: 2022-01-01\r\n---\r\n\r\n中文正文，繁體字。\r\n"


@pytest.mark.parametrize(
    "data",
    [
        POST.encode("utf-8"),
        codecs.BOM_UTF8 + POST.encode("utf-8"),
        POST.encode("utf-16"),  # the machine's byte order, with its mark
        codecs.BOM_UTF16_BE + POST.encode("utf-16-be"),
        codecs.BOM_UTF16_LE + POST.encode("utf-16-le"),
        codecs.BOM_UTF32_BE + POST.encode("utf-32-be"),
        codecs.BOM_UTF32_LE + POST.encode("utf-32-le"),
        POST.encode("utf-16-le"),  # no mark: recognised by its NULs
        POST.encode("utf-16-be"),
        POST.replace("ÅÉ", "").encode("gb18030"),
        POST.replace("ÅÉ", "")
        .replace("编码测试", "編碼測試")
        .replace("中文正文", "中文")
        .encode("big5"),
    ],
)
def test_encode_gives_back_the_bytes_decode_read(data: bytes) -> None:
    decoded = decode(data)
    digest = hashlib.sha256(data).hexdigest()
    assert read.encode(decoded.text, decoded.encoding, digest) == data


@pytest.mark.parametrize("codec", ["gb18030", "utf-8"])
def test_encode_without_a_hash_uses_the_encoding_read(codec: str) -> None:
    """A post whose source file is no longer recorded has no hash to check against: its text
    is written in the encoding it was read in."""
    data = POST.replace("ÅÉ", "").encode(codec)
    decoded = decode(data)
    assert read.encode(decoded.text, decoded.encoding, None) == data


def test_encode_falls_back_to_utf8_when_no_encoding_reproduces_the_hash() -> None:
    """A stored text that no longer matches its file's hash (or an unknown codec) is written as
    UTF-8 rather than guessed at."""
    assert read.encode("中文", "gb18030", "0" * 64) == "中文".encode()
    assert read.encode("中文", "no-such-codec", "0" * 64) == "中文".encode()
    data = "中文".encode("gb18030")
    assert read.encode("中文", None, hashlib.sha256(data).hexdigest()) == "中文".encode()
