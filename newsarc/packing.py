"""A post's bulky columns (``raw``, ``text``, ``body``) packed into one zstd frame, compressed
with a dictionary trained on the archive's own posts.

Posts of one site share most of their bytes (front-matter keys, links, markup), and each is
only a kilobyte or two: too little for a compressor to learn from on its own, which is what a
trained dictionary is for. Packing the three together lets the plain text, which repeats the
file's paragraphs, be stored as references into ``raw`` in the same frame. Measured on posts
whose text never recurs: the three columns shrink to about half of ``raw`` alone.

A frame is a standard zstd frame: its header names the dictionary it needs (the id of its row
in the ``dictionaries`` table; a retrain adds a row and never changes one), records the content
size, and ends with a checksum, so a damaged value is found, never read as wrong text. The
content is a format byte, the byte lengths of ``raw`` and ``text``, then the three UTF-8 texts.
No SQL here: the store reads and writes the dictionaries.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

#: the first byte of every frame's content; another layout would get another number
FORMAT = 1
_HEADER = struct.Struct("<BII")
#: zstd level, for training the dictionary and packing with it (the two must agree: a
#: dictionary trained at 3 gives frames 19 % larger at 12). Measured on 4,000 posts whose text
#: never recurs, each with a dictionary trained at its level: 3 → 415 bytes a post, 9 → 377,
#: 12 → 365 (−12 %) for 54 µs a post in the parser processes, where an import has time to
#: spare (its writer paces it); 15 → 360 for twice that. Unpacking is as quick at any level.
LEVEL = 12
#: bytes of a trained dictionary: zstd's recommended size, and enough for a site's boilerplate
DICT_SIZE = 100 << 10
#: a dictionary is trained once the archive has this many posts (fewer teach it too little)
TRAIN_MIN_POSTS = 1000
#: posts sampled for training: zstd wants samples of about 100 times the dictionary's size
TRAIN_SAMPLE = 8000
#: a frame claiming more content than this is damaged (posts are read up to far less), and
#: must not make the reader allocate what its header claims
MAX_CONTENT = 1 << 30


class Content(NamedTuple):
    """What a packed value holds: the columns it stands for."""

    raw: str
    text: str
    body: str


class DamagedValue(Exception):
    """A packed value that cannot be unpacked; ``str()`` says why, in a few words."""


_ZSTD: Any = None


def _zstd() -> Any:
    """The ``zstandard`` module: a compiled module, loaded only by commands that read or
    write posts (and kept, as this runs for every post unpacked)."""
    global _ZSTD
    if _ZSTD is None:
        import zstandard

        _ZSTD = zstandard
    return _ZSTD


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DamagedValue(f"not UTF-8 ({exc.reason})") from None


def content_bytes(raw: str, text: str, body: str) -> bytes:
    """The uncompressed content of a frame (also what a dictionary is trained on)."""
    r, t, b = raw.encode("utf-8"), text.encode("utf-8"), body.encode("utf-8")
    return _HEADER.pack(FORMAT, len(r), len(t)) + r + t + b


def train(samples: Sequence[bytes], dict_id: int) -> bytes | None:
    """A dictionary trained on ``samples`` (``content_bytes`` of stored posts) that frames
    will name as ``dict_id``; None when zstd finds too little to learn from."""
    zstd = _zstd()
    total = sum(len(s) for s in samples)
    # a dictionary much larger than a tenth of its samples only learns their accidents
    size = min(DICT_SIZE, total // 10)
    if size < 1024:
        return None
    try:
        trained = zstd.train_dictionary(size, list(samples), dict_id=dict_id, level=LEVEL)
    except zstd.ZstdError:
        return None
    return bytes(trained.as_bytes())


class Packer:
    """Packs posts with one dictionary (the newest). Keep one per process: building it
    prepares the dictionary's tables once, and every post after that is cheap."""

    def __init__(self, dict_id: int, data: bytes):
        zstd = _zstd()
        self.dict_id = dict_id
        dictionary = zstd.ZstdCompressionDict(data)
        self._compressor = zstd.ZstdCompressor(
            level=LEVEL, dict_data=dictionary, write_checksum=True, write_content_size=True
        )

    def pack(self, raw: str, text: str, body: str) -> bytes:
        """One frame holding the three columns."""
        return bytes(self._compressor.compress(content_bytes(raw, text, body)))


class Unpacker:
    """Unpacks frames made with any of an archive's dictionaries, loading each the first time
    a frame names it (``load`` returns its bytes, or None when there is no such dictionary)."""

    def __init__(self, load: Callable[[int], bytes | None]):
        self._load = load
        self._decompressors: dict[int, Any] = {}

    def unpack(self, value: bytes, *, raw: bool = True) -> Content:
        """The columns a frame holds; ``DamagedValue`` when it cannot be read exactly. Without
        ``raw``, the raw file (the largest part) is not decoded, and ``Content.raw`` is ''."""
        data, n_raw, n_text = self._content(value)
        end = _HEADER.size + n_raw
        text, body = _decode(data[end : end + n_text]), _decode(data[end + n_text :])
        return Content(_decode(data[_HEADER.size : end]) if raw else "", text, body)

    def unpack_text(self, value: bytes) -> str:
        """The plain text a frame holds, alone (what search results, exports and the story
        signatures read: the raw file and body are not decoded)."""
        data, n_raw, n_text = self._content(value)
        start = _HEADER.size + n_raw
        return _decode(data[start : start + n_text])

    def _content(self, value: bytes) -> tuple[bytes, int, int]:
        """A frame's content and the lengths of ``raw`` and ``text`` (the texts start at
        ``_HEADER.size``). Runs for every post an export reads: kept to a few calls (2.7 µs a
        post with the decompression, of which zstd is 2)."""
        zstd = _ZSTD or _zstd()
        try:
            params = zstd.get_frame_parameters(value)
            if not 0 <= params.content_size <= MAX_CONTENT:
                raise DamagedValue(f"its header claims {params.content_size} bytes")
            decompressor = self._decompressors.get(params.dict_id)
            if decompressor is None:
                decompressor = self._decompressor(params.dict_id)
            data = decompressor.decompress(value)
        except zstd.ZstdError as exc:
            raise DamagedValue(f"not a readable zstd frame: {exc}") from None
        try:
            fmt, n_raw, n_text = _HEADER.unpack_from(data)
        except struct.error:
            raise DamagedValue("the packed value is too short") from None
        if fmt != FORMAT:
            raise DamagedValue(f"unknown packing format {fmt}")
        if _HEADER.size + n_raw + n_text > len(data):
            raise DamagedValue("the packed lengths exceed the value")
        return data, n_raw, n_text

    def _decompressor(self, dict_id: int) -> Any:
        found = self._decompressors.get(dict_id)
        if found is None:
            zstd = _zstd()
            data = self._load(dict_id) if dict_id else None
            if data is None:
                raise DamagedValue(f"it needs dictionary {dict_id}, which the archive lacks")
            found = zstd.ZstdDecompressor(dict_data=zstd.ZstdCompressionDict(data))
            self._decompressors[dict_id] = found
        return found
