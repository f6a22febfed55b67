"""The query language, its translation to FTS5 expressions, and snippets with exact highlights.
The SQL that runs those expressions (MATCH, bm25 ranking) is in ``queries``.

Query language::

    创新 联合体            both terms (AND)
    芯片 OR 半导体          either
    央企 -国资委            exclude (also: NOT 国资委)
    "federal reserve"     a phrase: spaces are part of the term
    (芯片 OR 半导体) 央企    grouping
    title:央企 category:emnews tag:东财滚动新闻 source:上海证券报
                          a term in one field (``text:`` too)

Every term matches where it occurs as a substring of the folded field (see ``fold``): there is no
wildcard and no word boundary, and FTS5 syntax characters in a term are plain characters.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import QueryError
from .fold import fold, fold_chars, match_phrase
from .models import Post
from .queries import (
    BATCH,
    Filters,
    Match,
    count_matches,
    count_stories,
    iter_matches,
    posts_by_ids,
    story_page,
)
from .store import Store

FIELDS = {"title": "title", "text": "text", "category": "category", "tag": "tags",
          "tags": "tags", "source": "source"}  # fmt: skip
DEFAULT_COLUMNS = "{title text}"

Sort = Literal["rank", "date", "-date"]


# -- parsing --------------------------------------------------------------------------------------


@dataclass
class Term:
    text: str  # as typed
    folded: str
    field: str | None = None  # FTS column, None for title+text


@dataclass
class Not:
    child: Node


@dataclass
class And:
    children: list[Node]


@dataclass
class Or:
    children: list[Node]


Node = Term | Not | And | Or

_FIELD_PREFIX = re.compile(r"(\w+):(?=\S)")

Token = tuple[str, str, "str | None", bool]


def _closes_group(query: str, i: int) -> bool:
    """Whether the ``)`` at ``i`` can end a group: it is followed by whitespace, the end of the
    query or another ``)``. Any other ``)`` is part of a word (``港交所(0388.HK)的``)."""
    return i + 1 == len(query) or query[i + 1].isspace() or query[i + 1] == ")"


def _opens_group(query: str, i: int) -> bool:
    """Whether the ``(`` at ``i``, where a term could begin, opens a group: its matching ``)``
    can end a group, or it has none (then the parser reports the missing ``)``)."""
    depth, n = 0, len(query)
    while i < n:
        char = query[i]
        if char == '"':
            end = query.find('"', i + 1)
            while end != -1 and query.startswith('""', end):
                end = query.find('"', end + 2)
            if end == -1:
                return True
            i = end
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return _closes_group(query, i)
        i += 1
    return True


def _lex(query: str) -> list[Token]:
    """Tokens: (kind, text, field, negated); kind is '(', ')', 'OR', 'AND', 'NOT' or 'term'.

    A term runs to the next space. Parentheses group only where they stand apart from words: a
    ``(`` opens a group where a term could begin (at the start, after a space, ``(``, ``-`` or a
    ``field:``) and its matching ``)`` is followed by a space, the end or another ``)``. Every
    other parenthesis is text, so stock codes as users paste them (``贵州茅台(600519)``,
    ``港交所(0388.HK)``, ``HFC)制冷剂``) are single terms; a ``(`` or ``)`` inside a term is
    balanced within the term first (``(茅台(重回))`` is the group of ``茅台(重回)``).
    A leading ``-`` excludes a term or the group it opens (``-(a OR b)``); ``field:`` names a
    field for a term or for every term of the group it opens (``title:(茅台 OR 港交所)``);
    ``"…"`` is a phrase in which spaces and parentheses are plain (``""`` is a quote).
    """
    tokens: list[Token] = []
    fields: list[str | None] = []  # the field of each open group (None: as its parent)
    i, n = 0, len(query)

    def group_field() -> str | None:
        return next((f for f in reversed(fields) if f is not None), None)

    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
            continue
        if char == ")" and (fields or _closes_group(query, i)):
            # a `)` standing alone with no group open is the parser's "unbalanced" error
            if fields:
                fields.pop()
            tokens.append((")", ")", None, False))
            i += 1
            continue
        negated = char == "-" and i + 1 < n and not query[i + 1].isspace()
        j = i + 1 if negated else i
        field = None
        m = _FIELD_PREFIX.match(query, j)
        if m and m.group(1).lower() in FIELDS:
            field = FIELDS[m.group(1).lower()]
            j = m.end()
        if j < n and query[j] == "(" and _opens_group(query, j):
            if negated:
                tokens.append(("NOT", "-", None, False))
            fields.append(field)
            tokens.append(("(", "(", None, False))
            i = j + 1
            continue
        if negated and field is None and j < n and query[j] == ")":
            negated, j = False, i  # `-)`: a term that starts with a dash
        i = j
        explicit, field = field, field or group_field()
        if i < n and query[i] == '"':
            chars, i = [], i + 1
            while True:
                if i >= n:
                    raise QueryError(
                        f'unbalanced quote in {query!r}: close the phrase with " or remove it'
                    )
                if query[i] == '"':
                    if query.startswith('""', i):
                        chars.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                chars.append(query[i])
                i += 1
            word, kind = "".join(chars), "term"
        else:
            start, depth = i, 0
            while i < n and not query[i].isspace():
                if query[i] == "(":
                    depth += 1
                elif query[i] == ")":
                    if depth:
                        depth -= 1
                    elif fields and _closes_group(query, i):
                        break
                i += 1
            word = query[start:i]
            keyword = not negated and explicit is None and word in ("OR", "AND", "NOT")
            kind = word if keyword else "term"
        tokens.append((kind, word, field, negated))
    return tokens


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.tokens: list[Token] = _lex(query)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("empty query: give at least one term")
        node = self.or_expr()
        if self.pos < len(self.tokens):
            raise QueryError(f"unexpected {self.tokens[self.pos][1]!r} in {self.query!r}")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.pos += 1
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError('OR needs a term on both sides (quote it to search for "OR")')
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(children)

    def and_expr(self) -> Node:
        children = [self.unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.pos += 1
                if self.peek() in (None, ")", "OR", "AND"):
                    raise QueryError("AND needs a term on both sides")
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(children)

    def unary(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise QueryError(f"the query {self.query!r} ends too early")
        if kind == "NOT":
            self.pos += 1
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError("NOT needs a term after it")
            return Not(self.unary())
        if kind == "(":
            self.pos += 1
            if self.peek() == ")":
                raise QueryError("empty parentheses in the query")
            node = self.or_expr()
            if self.peek() != ")":
                raise QueryError(f"unbalanced parenthesis in {self.query!r}: add ')'")
            self.pos += 1
            return node
        if kind == ")":
            raise QueryError(f"unbalanced parenthesis in {self.query!r}: remove ')' or add '('")
        if kind in ("OR", "AND"):
            raise QueryError(f'{kind} needs a term on both sides (quote it to search for "{kind}")')
        _, word, fieldname, negated = self.tokens[self.pos]
        self.pos += 1
        folded = fold(word)
        if not folded:
            raise QueryError(f"the term {word!r} has no searchable characters")
        term = Term(word, folded, fieldname)
        return Not(term) if negated else term


def parse_query(query: str) -> Node:
    """Parse a query into a tree; raises ``QueryError`` with a one-line explanation."""
    return _Parser(query).parse()


# -- compiling to FTS5 ------------------------------------------------------------------------


def _compile(node: Node) -> str:
    """FTS5 expression for a node that has at least one positive term (else QueryError)."""
    if isinstance(node, Term):
        columns = "{" + node.field + "}" if node.field else DEFAULT_COLUMNS
        return f"{columns} : ({match_phrase(node.folded)})"
    if isinstance(node, Or):
        return "(" + " OR ".join(_compile(c) for c in node.children) + ")"
    if isinstance(node, Not):
        raise QueryError("a group cannot only exclude: add a term to look for")
    children = _flatten_and(node)
    positives = [c for c in children if not isinstance(c, Not)]
    negatives = [c.child for c in children if isinstance(c, Not)]
    if not positives:
        raise QueryError("a group cannot only exclude: add a term to look for")
    expr = "(" + " AND ".join(_compile(c) for c in positives) + ")"
    if negatives:
        expr += " NOT (" + " OR ".join(_compile(c) for c in negatives) + ")"
    return "(" + expr + ")"


def _flatten_and(node: And) -> list[Node]:
    out: list[Node] = []
    for child in node.children:
        out.extend(_flatten_and(child) if isinstance(child, And) else [child])
    return out


@dataclass
class Compiled:
    """A query as FTS5 MATCH expressions: posts matching ``include`` (all posts when None) and
    not matching ``exclude``."""

    include: str | None
    exclude: str | None
    terms: list[Term]


def compile_query(query: str) -> Compiled:
    """Parse and translate a query. A query that only excludes (``-广告``) selects all others."""
    node = parse_query(query)
    terms = _positive_terms(node)
    top = _flatten_and(node) if isinstance(node, And) else [node]
    if all(isinstance(c, Not) for c in top):
        negatives = [c.child for c in top if isinstance(c, Not)]
        return Compiled(None, "(" + " OR ".join(_compile(c) for c in negatives) + ")", terms)
    return Compiled(_compile(node), None, terms)


def match_expressions(query: str) -> tuple[str | None, str | None]:
    """The FTS5 expressions ``(include, exclude)`` of a query, for the read queries that take
    them (stats, trends); ``(None, None)``, every post, for an empty query."""
    if not query.strip():
        return None, None
    compiled = compile_query(query)
    return compiled.include, compiled.exclude


def title_expressions(terms: list[Term]) -> list[str]:
    """One FTS5 expression per distinct term that can match a title (no field, or ``title:``),
    restricted to the title: ranking puts posts with more of them in the title first."""
    folded = dict.fromkeys(t.folded for t in terms if t.field in (None, "title"))
    return [f"{{title}} : ({match_phrase(f)})" for f in folded]


def _positive_terms(node: Node, negated: bool = False) -> list[Term]:
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return _positive_terms(node.child, not negated)
    return [t for c in node.children for t in _positive_terms(c, negated)]


# -- running ------------------------------------------------------------------------------------


@dataclass
class Hit:
    post: Post
    score: float | None
    snippet: str
    #: (start, end) character spans of matched text inside ``snippet``
    highlights: list[tuple[int, int]] = field(default_factory=list)
    #: (start, end) character spans of matched text inside the post's title
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    #: collapsed results: how many matching posts the hit's story has, and their outlets
    story_posts: int = 1
    story_sources: list[str] = field(default_factory=list)

    def to_record(self, with_text: bool = False, *, collapsed: bool = False) -> dict[str, Any]:
        """The post's record with the score and snippet (and, collapsed, its story's count and
        outlets): the one shape of search results in every data format."""
        record = {**self.post.to_record(with_text=with_text), "score": self.score}
        record["snippet"] = self.snippet
        if collapsed:
            record["story_posts"] = self.story_posts
            record["story_sources"] = self.story_sources
        return record


@dataclass
class SearchResult:
    """``total``: matching posts, or stories when ``collapsed`` (each story one hit; None when
    they were not counted, see ``queries.STORY_COUNT_MAX``: ``posts`` has the posts)."""

    total: int | None
    hits: list[Hit]
    collapsed: bool = False
    #: collapsed: how many posts those stories hold in the selection (None: not counted)
    posts: int | None = None


def count(
    store: Store, query: str, filters: Filters | None = None, *, stories: bool = False
) -> int:
    """How many posts match (with ``stories``: how many stories have a matching post)."""
    compiled = compile_query(query)
    if stories:
        return count_stories(store, compiled.include, compiled.exclude, filters)
    return count_matches(store, compiled.include, compiled.exclude, filters)


def search(
    store: Store,
    query: str,
    filters: Filters | None = None,
    *,
    sort: Sort = "rank",
    limit: int | None = 20,
    offset: int = 0,
    text: bool = True,
    snippets: bool = True,
    collapse: bool = False,
) -> SearchResult:
    """Posts matching ``query``: by relevance (posts with more of the query's terms in their
    title first, then BM25 with a title match weighing 10× a body match) or by date. With
    ``collapse``, each story once (its best-ranked matching post), and ``total`` counts stories."""
    found = iter_search(
        store, query, filters, sort=sort, limit=limit, offset=offset, text=text,
        snippets=snippets, collapse=collapse,
    )  # fmt: skip
    return SearchResult(found.total, list(found.hits), collapsed=collapse, posts=found.posts)


@dataclass
class SearchStream:
    total: int | None
    hits: Iterator[Hit]
    #: collapsed: the posts of the matching stories (see ``SearchResult.posts``)
    posts: int | None = None


def iter_search(
    store: Store,
    query: str,
    filters: Filters | None = None,
    *,
    sort: Sort = "rank",
    limit: int | None = None,
    offset: int = 0,
    text: bool = True,
    snippets: bool = True,
    collapse: bool = False,
) -> SearchStream:
    """``search``, streamed: the hits are made a batch of posts at a time as they are consumed,
    so printing every match of a common term keeps memory flat (``search 的 | …``). Collapsed
    (``collapse``), the stories of the page are gathered first and ``total`` counts stories."""
    compiled = compile_query(query)
    if not collapse:
        found = iter_matches(
            store, compiled.include, compiled.exclude, filters, sort=sort, limit=limit,
            offset=offset, title_terms=title_expressions(compiled.terms),
        )  # fmt: skip
        return SearchStream(found.total, _hits(store, found.matches, compiled, text, snippets))
    stories = story_page(
        store, compiled.include, compiled.exclude, filters, sort=sort, limit=limit,
        offset=offset, title_terms=title_expressions(compiled.terms),
    )  # fmt: skip
    rows = {r.id: r for r in stories.rows}
    matches = iter([Match(r.id, r.score) for r in stories.rows])

    def hits() -> Iterator[Hit]:
        for hit in _hits(store, matches, compiled, text, snippets):
            row = rows[hit.post.id]
            hit.story_posts, hit.story_sources = row.posts, row.sources
            yield hit

    return SearchStream(stories.total, hits(), stories.posts)


def _hits(
    store: Store, matches: Iterator[Match], compiled: Compiled, text: bool, snippets: bool
) -> Iterator[Hit]:
    while batch := list(itertools.islice(matches, BATCH)):
        scores = {m.id: m.score for m in batch}
        for post in posts_by_ids(store, list(scores), text=True):
            snippet, spans = make_snippet(post.text or "", compiled.terms) if snippets else ("", [])
            score = scores[post.id]
            if not text:
                post.text = None
            in_title = find_spans(post.title or "", compiled.terms, "title") if snippets else []
            yield Hit(post, None if score is None else -float(score), snippet, spans, in_title)


# -- snippets -----------------------------------------------------------------------------------


def _term_pattern(folded: str) -> re.Pattern[str]:
    return re.compile(" +".join(re.escape(part) for part in folded.split(" ")))


def find_spans(text: str, terms: list[Term], field: str = "text") -> list[tuple[int, int]]:
    """Spans of ``text`` (original characters) where any term that can match ``field`` (the
    FTS column: ``text`` or ``title``) matches after folding, sorted and merged."""
    wanted = [t for t in terms if t.field in (None, field)]
    if not wanted or not text:
        return []
    folded = fold_chars(text)
    offsets = None
    if len(folded) != len(text):
        # a character folded to more or fewer characters: map folded positions back
        offsets = []
        for i, char in enumerate(text):
            offsets.extend([i] * len(fold_chars(char)))
    spans = []
    for term in wanted:
        for m in _term_pattern(term.folded).finditer(folded):
            if offsets is None:
                spans.append((m.start(), m.end()))
            else:
                spans.append((offsets[m.start()], offsets[m.end() - 1] + 1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def make_snippet(
    text: str, terms: list[Term], before: int = 30, width: int = 120
) -> tuple[str, list[tuple[int, int]]]:
    """A one-line excerpt around the first match, and the highlight spans inside it."""
    spans = find_spans(text, terms)
    start = max(0, spans[0][0] - before) if spans else 0
    end = min(len(text), start + width)
    if spans:
        # do not cut the first match in half
        end = max(end, min(len(text), spans[0][1]))
    piece = text[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    flat = prefix + re.sub(r"\s", " ", piece) + suffix
    first = bisect.bisect_left(spans, (start, start))
    inside = []
    for s, e in spans[max(0, first - 1) :]:
        if s >= end:
            break
        if e > start:
            inside.append((max(s, start) - start + len(prefix), min(e, end) - start + len(prefix)))
    return flat, inside
