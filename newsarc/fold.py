"""Search folding and the n-gram encoding behind exact substring search.

Folding maps every character on its own (so that "q is a substring of text" survives folding,
and a match in the folded text maps back to exact characters of the original for highlighting):

- NFKC (full-width ``ＧＤＰ５．２％`` → ``GDP5.2%``), then case folding (``GDP`` → ``gdp``);
- traditional → simplified Chinese with OpenCC's single-character table (``國資委`` → ``国资委``);
- every kind of white space → one space; control and format characters (zero-width spaces,
  soft hyphens) → nothing.

The index stores each folded field as overlapping bigrams plus the last character alone, as FTS5
tokens. A query of two or more characters is the FTS5 phrase of its bigrams, which matches exactly
where the folded query is a substring of the folded field. A one-character query is a prefix query
on the first character of the tokens. Characters that FTS5's unicode61 tokenizer would treat as
separators (punctuation, symbols, spaces) are first moved to private-use code points, which
unicode61 keeps as token characters, so ``350km/h`` and ``HFO-1234yf`` are searchable too.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from functools import lru_cache
from importlib import resources

_SPACE_RUN = re.compile(r" {2,}")


def _load_t2s() -> dict[str, str]:
    text = resources.files("newsarc").joinpath("data/t2s.txt").read_text(encoding="utf-8")
    return {line[0]: line[1] for line in text.splitlines() if len(line) == 2}


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table computing each character's folding the first time it is seen."""

    def __init__(self) -> None:
        super().__init__()
        self.t2s = _load_t2s()

    def __missing__(self, code: int) -> str:
        folded = self.fold_char(chr(code))
        self[code] = folded
        return folded

    def fold_char(self, char: str) -> str:
        if char.isspace():
            return " "
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            return ""
        out = unicodedata.normalize("NFKC", char).casefold()
        out = unicodedata.normalize("NFKC", out)
        out = "".join(self.t2s.get(c, c) for c in out)
        # NFKC can expand to white space or controls (e.g. U+3000); fold those the same way
        return "".join(" " if c.isspace() else c for c in out if unicodedata.category(c)[0] != "C")


@lru_cache(maxsize=1)
def _table() -> _FoldTable:
    return _FoldTable()


def fold_chars(text: str) -> str:
    """Fold each character of ``text``; white space runs are NOT collapsed (see ``fold``)."""
    return text.translate(_table())


def fold(text: str) -> str:
    """The search form of ``text``: folded, white space runs collapsed, ends stripped."""
    return _SPACE_RUN.sub(" ", fold_chars(text)).strip()


def _is_token_char(char: str) -> bool:
    # unicode61's default token characters are the categories L*, N* and Co
    cat = unicodedata.category(char)
    return cat[0] in "LN" or cat == "Co"


class _EncodeTable(dict[int, str]):
    """Moves every non-token character to a private-use code point unicode61 keeps in tokens.

    BMP characters go to plane 15 (U+F0000 + code); the few non-BMP symbols (emoji) become two
    plane-16 characters, a lead from U+100000–U+1003FF and a trail from U+100400–U+1007FF, so the
    code stays prefix-free and a one-character query can still be a token prefix.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if _is_token_char(char) and not 0xF0000 <= code:
            out = char
        elif code < 0x10000:
            out = chr(0xF0000 + code)
        else:
            offset = code - 0x10000
            out = chr(0x100000 + (offset >> 10)) + chr(0x100400 + (offset & 0x3FF))
        self[code] = out
        return out


_ENCODE = _EncodeTable()


def encode_char(char: str) -> str:
    """The token form of one folded character."""
    return _ENCODE[ord(char)]


def grams(folded: str) -> list[str]:
    """Overlapping bigrams of a folded string plus its last character, in token form."""
    if not folded:
        return []
    enc: str | list[str] = folded.translate(_ENCODE)
    if len(enc) != len(folded):  # some character took two code points: pair per character
        enc = [_ENCODE[ord(c)] for c in folded]
    out = list(map(operator.add, enc, enc[1:]))
    out.append(enc[-1])
    return out


def index_form(text: str) -> str:
    """What goes into the FTS5 table for one field: space-separated grams of the folded text."""
    return " ".join(grams(fold(text)))


def match_phrase(folded_term: str) -> str:
    """An FTS5 expression matching fields containing ``folded_term`` (folded, non-empty)."""
    if len(folded_term) == 1:
        return f'"{encode_char(folded_term)}" *'
    return '"' + " ".join(grams(folded_term)[:-1]) + '"'
