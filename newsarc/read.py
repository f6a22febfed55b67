"""Reading files: bytes → text, robustly and cheaply.

The common case (valid UTF-8 without a BOM) costs one strict decode and one bounded ``memchr``
for NUL; no detector runs. Everything else is tried in a fixed order: byte-order marks (UTF-8,
UTF-16, UTF-32), UTF-16 without a BOM, binary data, then the legacy Chinese encodings GB18030
(a superset of GBK/GB2312) and Big5, chosen between by plausibility (see ``_legacy``).
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import itertools
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import NotAPost, PostError

#: files larger than this are refused: no post is anywhere near it, and decoding a huge file
#: (several copies of it in memory) in every worker could exhaust memory
MAX_BYTES = 64 * 1024 * 1024

#: how much of the start of a file the binary and UTF-16 heuristics look at (as git does)
_HEAD = 8192
#: (mark, codec, label): UTF-32 LE first, as its mark starts with UTF-16 LE's. The codecs remove
#: the mark themselves; ``show -f raw`` gives back the original bytes by encoding the text in
#: ``label`` (for UTF-16/32 in either byte order), checked against the file's hash.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
_BOM_FIRST_BYTES = frozenset(bom[0] for bom, _, _ in _BOMS)
#: C0 control characters that do not occur in text (all but \t \n \v \f \r and ESC)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
#: how many non-ASCII characters the legacy plausibility score looks at: plenty to decide, and
#: it keeps the cost bounded for big files
_SAMPLE = 2000
#: a front matter opener, as ``parse.split_front_matter`` accepts it: after a BOM and blank
#: space, a line of three or more dashes (line ends not yet normalised: CRLF, CR or LF)
_OPENER = re.compile(r"\ufeff?[ \t\r\n]*-{3,}[ \t]*(?:\r\n?|\n|\Z)")
#: O_NONBLOCK: opening a FIFO must not hang waiting for a writer (no effect on files)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
#: characters that would break a one-line message (file names can hold any of them)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


@dataclass(frozen=True)
class Decoded:
    """A file's text, exactly as in the file but for the BOM (line ends are kept), and the
    encoding it was read in: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``utf-16-le``/``-be`` (no
    BOM), ``utf-32``, ``gb18030`` or ``big5``."""

    text: str
    encoding: str


def decode(data: bytes, name: str = "<bytes>") -> Decoded:
    """Decode one file's bytes (``name`` is only used in messages).

    Raises ``NotAPost`` for an empty (or blank) or binary file, ``PostError`` for one that is
    too large or cannot be decoded; messages are one line and name the file.
    """
    if len(data) > MAX_BYTES:
        raise _too_large(name, len(data))
    decoded = _decode(data, name)
    if not decoded.text or decoded.text.isspace():
        raise _error(NotAPost, name, "empty file", "empty")
    return decoded


def read_file(path: Path) -> tuple[bytes, Decoded]:
    """A file's bytes and their decoding. A file that cannot be read (missing, a folder, not a
    regular file, no permission) raises ``PostError`` with reason ``unreadable``; see ``decode``
    for the rest."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except IsADirectoryError:
        raise _unreadable(path, "is a folder, not a file") from None
    except OSError as exc:
        raise _unreadable(path, f"cannot read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _unreadable(path, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):  # a device such as /dev/zero would never end
            raise _unreadable(path, "is not a regular file")
        if info.st_size > MAX_BYTES:  # refused before reading it
            raise _too_large(str(path), info.st_size)
        with open(fd, "rb", buffering=0, closefd=False) as file:
            data = file.read()  # reads to the end, even if the file grew since fstat
    except OSError as exc:
        raise _unreadable(path, f"cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    return data, decode(data, str(path))


def encode(text: str, encoding: str | None, sha256: str | None) -> bytes:
    """The inverse of ``decode``: the bytes of the file that ``text`` was read from, given the
    encoding it was read in and the SHA-256 (hex) of the original bytes. Each encoding the file
    may have had is tried and checked against the hash; when none reproduces it (the stored text
    was changed, or an encoder is not its decoder's inverse), the text is returned as UTF-8.
    Without a hash (the file is no longer recorded), the most likely bytes: in ``encoding``."""
    candidates = _encodings_of(text, encoding or "utf-8")
    if sha256 is None:
        return next(candidates, None) or text.encode("utf-8")
    for data in candidates:
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
    return text.encode("utf-8")


def _encodings_of(text: str, encoding: str) -> Iterator[bytes]:
    """The bytes ``text`` may have had in its file, most likely first: in ``encoding``, or for a
    UTF-16/32 file with a byte-order mark, in either byte order (Python writes the machine's)."""
    candidates = [(text, encoding), (text, "utf-8-sig"), (text, "utf-8")]
    if encoding in ("utf-16", "utf-32"):
        candidates += [("\ufeff" + text, f"{encoding}-{order}") for order in ("be", "le")]
    for candidate, codec in candidates:
        try:
            yield candidate.encode(codec)
        except (LookupError, UnicodeError):
            continue


def looks_like_post(text: str) -> bool:
    """Whether ``text`` starts, after an optional BOM, white space and blank lines, with a
    ``---`` line (three or more dashes, nothing else but trailing blanks): a front matter opener,
    as the parser accepts it. ``--- x`` and ``----x`` are not openers."""
    return _OPENER.match(text) is not None


def _decode(data: bytes, name: str) -> Decoded:
    if data and data[0] in _BOM_FIRST_BYTES:
        for bom, codec, label in _BOMS:
            if data.startswith(bom):
                try:
                    return Decoded(data.decode(codec), label)
                except UnicodeDecodeError as exc:  # a BOM is a promise: no guessing after it
                    what = f"invalid {label} at byte {exc.start} ({exc.reason})"
                    raise _error(PostError, name, what, "undecodable") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = exc
    else:
        if data.find(b"\x00", 0, _HEAD) < 0:
            return Decoded(text, "utf-8")  # the common case ends here
        # UTF-16 of ASCII-heavy text is valid UTF-8 full of NULs; so is some binary data. A
        # text with a stray NUL is still a text (the parser drops control characters).
        decoded = _utf16_without_bom(data)
        if decoded is not None:
            return decoded
        if _mostly_controls(data[:_HEAD]):
            raise _error(NotAPost, name, "binary file", "binary")
        return Decoded(text, "utf-8")
    head = data[:_HEAD]
    if b"\x00" in head:  # Chinese text in legacy encodings never has NULs
        decoded = _utf16_without_bom(data)
        if decoded is None:
            raise _error(NotAPost, name, "binary file", "binary")
        return decoded
    if _mostly_controls(head):
        raise _error(NotAPost, name, "binary file", "binary")
    if _mostly_utf8(data):
        # A UTF-8 file cut short or with a damaged byte: GB18030 or Big5 could still "decode"
        # it, into nonsense. Say what is wrong instead.
        what = f"invalid UTF-8 at byte {error.start} of an otherwise UTF-8 file (damaged or cut?)"
        raise _error(PostError, name, what, "undecodable")
    decoded = _legacy(data)
    if decoded is None:
        what = "cannot decode as UTF-8, UTF-16, GB18030 or Big5"
        raise _error(PostError, name, what, "undecodable")
    return decoded


def _utf16_without_bom(data: bytes) -> Decoded | None:
    """UTF-16 text without a BOM, recognised by its NULs: ASCII characters (front matter, markup)
    put a NUL in every other byte, at odd offsets in little-endian, even ones in big-endian,
    while Chinese characters add few on the other side (U+4E00 一 has one)."""
    if len(data) % 2:
        return None
    head = data[:_HEAD]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= max(2, len(head) // 20) and even * 8 <= odd:
        codec = "utf-16-le"
    elif even >= max(2, len(head) // 20) and odd * 8 <= even:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    # arrays of small integers look the same in bytes; as text they are control characters
    if _mostly_controls(text[: _HEAD // 2]):
        return None
    return Decoded(text, codec)  # no BOM to add back: text.encode(codec) gives the bytes again


def _mostly_controls(chunk: bytes | str) -> bool:
    """Whether more than 2% of ``chunk`` are C0 control characters, which text does not have
    (random bytes have about 11%)."""
    if isinstance(chunk, bytes):
        return len(_CONTROL_BYTES.findall(chunk)) * 50 > len(chunk)
    return len(_CONTROL_CHARS.findall(chunk)) * 50 > len(chunk)


def _mostly_utf8(data: bytes) -> bool:
    """Whether at least 4 in 5 non-ASCII characters are valid UTF-8. GBK and Big5 text is
    almost never valid UTF-8 (Big5 leads are UTF-8 continuation bytes; GBK pairs rarely form
    valid sequences), so this only holds for a damaged UTF-8 file."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = len(_NON_ASCII.findall(text)) - bad
    return good >= 4 * bad


def _legacy(data: bytes) -> Decoded | None:
    """GB18030 or Big5, whichever decodes (strictly) into the more plausible Chinese text.

    Every Big5 byte pair is also a valid GB18030 pair and many GBK texts are valid Big5, so both
    often decode without error. Each reading is scored by the share of its non-ASCII characters
    that are common in that encoding: the frequent hanzi it lists first (GB2312 level 1, Big5's
    5,401 frequent characters) or punctuation. Real text scores about 0.9 or more, while the
    other encoding's reading of the same bytes scatters over rare hanzi, kana, box drawing and
    private-use characters (about 0.4-0.6). ``charset_normalizer`` restricted to these two was
    tried first and rejected: on 8- and 15-character GBK snippets of the corpus it chose Big5
    for 147 of 174 and 35 of 166; this score chose right for all of them, and for all Big5
    snippets of 15 characters or more. Ties go to GB18030, the more common in mainland news.
    """
    best: tuple[float, str, str] | None = None
    for encoding in ("gb18030", "big5"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        common = _common_characters(encoding)
        sample = [m.group() for m in itertools.islice(_NON_ASCII.finditer(text), _SAMPLE)]
        score = sum(char in common for char in sample) / max(1, len(sample))
        if best is None or score > best[0]:
            best = (score, encoding, text)
    return None if best is None else Decoded(best[2], best[1])


@functools.cache
def _common_characters(encoding: str) -> frozenset[str]:
    """The hanzi ``encoding`` lists as most frequent, and punctuation (general, CJK, full-width).
    Built on first use, so the UTF-8 path never pays for it."""
    if encoding == "gb18030":  # GB2312 level 1: rows B0-D7, columns A1-FE
        pairs = ((lead, trail) for lead in range(0xB0, 0xD8) for trail in range(0xA1, 0xFF))
    else:  # Big5 frequent characters: A440-C67E (columns 40-7E and A1-FE)
        trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
        pairs = ((lead, trail) for lead in range(0xA4, 0xC7) for trail in trails)
    hanzi = set()
    for lead, trail in pairs:
        if encoding == "big5" and (lead << 8 | trail) > 0xC67E:
            continue
        char = bytes((lead, trail)).decode(encoding, "ignore")
        if char and "\u4e00" <= char <= "\u9fff":  # leaves out unassigned and private-use codes
            hanzi.add(char)
    punctuation = itertools.chain(
        range(0x2010, 0x2070), range(0x3000, 0x3040), range(0xFF00, 0xFFF0)
    )
    return frozenset(hanzi).union(map(chr, punctuation))


def _too_large(name: str, size: int) -> PostError:
    what = f"file is {size:,} bytes, more than the {MAX_BYTES:,} a post may have"
    return _error(PostError, name, what, "too large")


def _unreadable(path: Path, what: str) -> PostError:
    return _error(PostError, str(path), what, "unreadable")


def one_line(text: str) -> str:
    """``text`` for a one-line message: line breaks, control characters and a file name's
    undecodable bytes (lone surrogates) written as Python escapes (``\\n``, ``\\x1b``)."""
    return _UNPRINTABLE.sub(lambda m: ascii(m.group())[1:-1], text)


def _error(kind: type[PostError], name: str, what: str, reason: str) -> PostError:
    """``kind("<name>: <what>")``, on one line whatever the file name holds."""
    return kind(f"{one_line(name)}: {what}", reason=reason)
