"""Reading files: bytes → text, robustly and cheaply.

The common case (UTF-8) costs one strict decode. Everything else is tried in a fixed order:
byte-order marks (UTF-8, UTF-16, UTF-32), then legacy Chinese encodings. GB18030 (a superset of
GBK/GB2312) and Big5 decode many of the same byte strings without error, so the choice between
them is made by plausibility: real text in an encoding is mostly made of that encoding's
"level 1" (most frequent) characters, while the other encoding's reading of the same bytes
scatters over rare characters.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import NotAPost, PostError

MAX_BYTES = 64 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_OPENER = re.compile(r"^[\ufeff\s]*---[ \t]*\r?(\n|$)")


@dataclass(frozen=True)
class Decoded:
    """A file's text, exactly as in the file but for the BOM, and the encoding it was read in."""

    text: str
    encoding: str


_PUNCTUATION = set("，。、；：？！“”‘’（）《》〈〉【】—…·「」『』％　")


def _plausibility(text: str, encoding: str, lead_low: int, lead_high: int) -> float:
    """Share of the non-ASCII characters that are Chinese punctuation or among ``encoding``'s
    level-1 (most frequent) characters. Kana, Cyrillic or rare characters, which a wrong
    encoding's reading produces, count against it."""
    chars = [c for c in text[:20000] if ord(c) > 0x7F][:3000]
    if not chars:
        return 0.0
    hits = 0
    for char in chars:
        if char in _PUNCTUATION:
            hits += 1
        elif _CJK.match(char):
            hits += lead_low <= char.encode(encoding)[0] <= lead_high
    return hits / len(chars)


def _legacy(data: bytes) -> Decoded | None:
    candidates = []
    for encoding, (low, high) in (("gb18030", (0xB0, 0xD7)), ("big5", (0xA4, 0xC6))):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((_plausibility(text, encoding, low, high), encoding, text))
    if not candidates:
        return None
    _, encoding, text = max(candidates, key=lambda c: c[0])  # ties keep GB18030 (listed first)
    return Decoded(text, encoding)


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    return len(_CONTROL_BYTES.findall(head)) > max(8, len(head) // 100)


def decode(data: bytes, name: str = "<bytes>") -> Decoded:
    """Decode one file's bytes. Raises ``NotAPost`` (empty, binary) or ``PostError`` (undecodable,
    too large) with a one-line message that names the file."""
    if len(data) > MAX_BYTES:
        raise PostError(
            f"{name}: file is {len(data):,} bytes, more than the {MAX_BYTES:,} a post may have",
            reason="too large",
        )
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise PostError(f"{name}: invalid {label} ({exc.reason})", reason="undecodable") from None
            if not text.strip():
                raise NotAPost(f"{name}: empty file", reason="empty")
            return Decoded(text, label)
    if not data.strip():
        raise NotAPost(f"{name}: empty file", reason="empty")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if _looks_binary(data):
        raise NotAPost(f"{name}: binary file", reason="binary")
    decoded = _legacy(data)
    if decoded is None:
        raise PostError(
            f"{name}: cannot decode as UTF-8, UTF-16, GB18030 or Big5", reason="undecodable"
        )
    return decoded


def read_file(path: Path) -> tuple[bytes, Decoded]:
    """A file's bytes and their decoding. Unreadable files raise ``PostError``."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PostError(
                f"{path}: file is {size:,} bytes, more than the {MAX_BYTES:,} a post may have",
                reason="too large",
            )
        data = path.read_bytes()
    except IsADirectoryError:
        raise PostError(f"{path}: is a folder, not a file", reason="unreadable") from None
    except OSError as exc:
        raise PostError(f"{path}: cannot read ({exc.strerror or exc})", reason="unreadable") from None
    return data, decode(data, str(path))


def looks_like_post(text: str) -> bool:
    """Whether text starts (after a BOM, white space or blank lines) with a ``---`` line."""
    return bool(_OPENER.match(text))
