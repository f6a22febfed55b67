"""Typed records that cross module borders: a parsed post, a body block, a stored post."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

BlockType = Literal["p", "h", "quote", "img", "table"]


@dataclass
class Block:
    """One block of an article body: paragraph, sub-heading, quote, image or table."""

    type: BlockType
    text: str = ""
    src: str | None = None
    alt: str | None = None
    rows: list[list[str]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.text:
            out["text"] = self.text
        if self.src is not None:
            out["src"] = self.src
        if self.alt:
            out["alt"] = self.alt
        if self.rows is not None:
            out["rows"] = self.rows
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Block:
        return cls(
            type=data["type"],
            text=data.get("text", ""),
            src=data.get("src"),
            alt=data.get("alt"),
            rows=data.get("rows"),
        )


#: block types whose text is a paragraph of the post's plain text
TEXT_BLOCKS = ("p", "h", "quote")


def body_skeleton(blocks: list[Block], text: str) -> list[dict[str, Any]]:
    """The stored form of a body: each block without the words that ``text`` already holds.

    A post's plain text is its text blocks joined by blank lines, so storing the words twice
    would only double the archive's size. Where the blocks cannot be rebuilt exactly from the
    text (a paragraph that itself holds a blank line), the blocks are stored whole instead.
    """
    skeleton = []
    for block in blocks:
        data = block.to_dict()
        if block.type in TEXT_BLOCKS:
            data.pop("text", None)
        skeleton.append(data)
    if body_blocks(skeleton, text) != blocks:
        return [block.to_dict() for block in blocks]
    return skeleton


def body_blocks(stored: list[dict[str, Any]], text: str) -> list[Block]:
    """Blocks rebuilt from the stored body and the post's plain text."""
    paragraphs = iter(text.split("\n\n") if text else [])
    blocks = []
    for data in stored:
        block = Block.from_dict(data)
        if block.type in TEXT_BLOCKS and "text" not in data:
            block.text = next(paragraphs, "")
        elif block.type == "table" and block.rows:
            next(paragraphs, None)  # the table's rows stand in the text as one paragraph
        blocks.append(block)
    return blocks


@dataclass
class ParsedPost:
    """What ``parse.parse_post`` makes of one file's text."""

    external_id: str
    title: str
    date: dt.datetime | None
    category: str | None
    tags: list[str]
    source: str | None
    url: str | None
    summary: str | None
    text: str
    blocks: list[Block]
    meta: dict[str, Any] = field(default_factory=dict)
    #: non-fatal problems worth telling the user (recovered YAML, date taken from the file name)
    warnings: list[str] = field(default_factory=list)
    #: every category, in Jekyll's order; ``category`` is the first
    categories: list[str] = field(default_factory=list)


@dataclass
class Post:
    """A post as stored in the archive. ``to_record`` gives the one JSON shape of every output."""

    id: int
    external_id: str
    title: str
    date: str | None
    category: str | None
    tags: list[str]
    source: str | None
    url: str | None
    summary: str | None
    text: str | None
    paths: list[str]
    blocks: list[Block] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None
    #: every category (``category`` is the first)
    categories: list[str] = field(default_factory=list)
    #: recorded paths of the post that the last import of their folder did not find
    missing_paths: list[str] = field(default_factory=list)
    #: the id of the earliest post of its story (its own id when it has no copies)
    story: int | None = None

    def to_record(self, with_text: bool = True) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "external_id": self.external_id,
            "title": self.title,
            "date": self.date,
            "category": self.category,
            "categories": self.categories,
            "tags": self.tags,
            "source": self.source,
            "url": self.url,
            "summary": self.summary,
            "story": self.story if self.story is not None else self.id,
        }
        if with_text:
            record["text"] = self.text
        record["paths"] = self.paths
        # every path gone: the archive's copy is the only one left, and records say so
        record["missing_paths"] = self.missing_paths
        return record


def count_of(n: int, one: str, many: str | None = None) -> str:
    """``n`` with the noun in the right number: ``1 post``, ``2 posts``, ``1,024 copies``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
