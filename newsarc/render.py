"""Everything Rich: tables, highlighted snippets, progress bars and summaries for people.

This is the only module that imports Rich, and the CLI imports it lazily, only for output meant
for a terminal. Post content always goes in as ``rich.text.Text`` built from cleaned strings
(``output.clean``), never as markup, so ``[bold]`` or ``[link=…]`` in a title prints literally
and control characters cannot reach the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.containers import Lines
from rich.table import Table
from rich.text import Text

from .models import count_of
from .output import clean

if TYPE_CHECKING:
    from .ingest import ImportResult
    from .models import Post
    from .queries import ArchiveStats, StoryStats
    from .search import SearchResult, Term
    from .trends import Trend

HIGHLIGHT = "bold black on yellow"
#: the fewest cells list's title column gets before the other columns give up room
TITLE_MIN = 24


def console(file: TextIO | None = None, *, plain: bool = False) -> Console:
    """A console on ``file`` (stdout by default); no colour with NO_COLOR or ``plain``."""
    no_color = plain or bool(os.environ.get("NO_COLOR"))
    file = file or sys.stdout
    return Console(
        file=file,
        # piped, Rich would hard-wrap at 80 columns; lines stay whole instead
        soft_wrap=not _isatty(file),
        highlight=False,
        emoji=False,
        markup=False,
        no_color=no_color,
        color_system=None if no_color else "auto",
    )


def _isatty(file: TextIO) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):
        return False


def safe_text(value: str | None, style: str = "") -> Text:
    """Untrusted text as a Rich Text: literal, control characters made visible, wrapped by the
    rules of Chinese line breaking (``KinsokuText``)."""
    return KinsokuText(clean(value or ""), style=style)


#: characters a line may not start with (closing brackets and quotes, sentence and clause
#: punctuation, the ellipsis) ...
NO_LINE_START = frozenset("。，、．・：；！？）」』】〕〉》〗〙〛”’…‥%‰)]},.:;!?")
#: ... and characters a line may not end with (opening brackets and quotes)
NO_LINE_END = frozenset("（「『【〔〈《〖〘〚“‘([{")
#: letters, digits and the marks inside a number (``1525.5``, ``3,000``, ``12%``): a line folded
#: in Chinese text (which has no spaces to break at) does not split such a run either
_WORD = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,%")
#: how far a break moves back to obey them before the rule gives way (a line of punctuation,
#: a long number or Latin word)
_MAX_PULL_BACK = 8


def _bad_break(text: str, at: int) -> bool:
    return (
        text[at] in NO_LINE_START
        or text[at - 1] in NO_LINE_END
        or (text[at - 1] in _WORD and text[at] in _WORD and text[at - 1] != " ")
    )


def line_breaks(text: str, width: int, *, fold: bool = True) -> list[int]:
    """Where to break ``text`` (one line, no newline) into lines of at most ``width`` cells:
    Rich's word wrapping, with each break moved back a character or a few where it would start
    a line with ``。，、）」`` and the like, or end one with ``（「`` and the like (kinsoku
    shori, as Chinese and Japanese typesetting does). The next line then takes the character
    along and the rest is wrapped again from there."""
    from rich._wrap import divide_line

    breaks: list[int] = []
    start = 0
    while True:
        for offset in divide_line(text[start:], width, fold=fold):
            wanted = start + offset
            at, previous = wanted, breaks[-1] if breaks else 0
            while _bad_break(text, at) and at - 1 > previous and wanted - at < _MAX_PULL_BACK:
                at -= 1
            if _bad_break(text, at):
                at = wanted  # nothing better near: the rule gives way
            breaks.append(at)
            if at != wanted:
                start = at
                break
        else:
            return breaks


class KinsokuText(Text):
    """Rich Text whose word wrapping obeys the Chinese line-breaking rules (``line_breaks``)."""

    def wrap(
        self, console: Console, width: int, *, justify: Any = None, overflow: Any = None,
        tab_size: int = 8, no_wrap: bool | None = None,
    ) -> Lines:  # fmt: skip
        from rich.text import DEFAULT_JUSTIFY, DEFAULT_OVERFLOW

        wrap_overflow = overflow or self.overflow or DEFAULT_OVERFLOW
        plain = self.plain
        if (
            no_wrap or (no_wrap is None and self.no_wrap) or overflow == "ignore"
            or plain.isascii()  # Rich breaks at spaces; the rules are for Chinese text
        ):  # fmt: skip
            return super().wrap(
                console, width, justify=justify, overflow=overflow, tab_size=tab_size,
                no_wrap=no_wrap,
            )  # fmt: skip
        wrap_justify = justify or self.justify or DEFAULT_JUSTIFY
        lines = Lines()
        for line in self.split(allow_blank=True):
            if "\t" in line:
                line.expand_tabs(tab_size)
            new_lines = line.divide(line_breaks(line.plain, width, fold=wrap_overflow == "fold"))
            for piece in new_lines:
                piece.rstrip_end(width)
            if wrap_justify:
                new_lines.justify(console, width, justify=wrap_justify, overflow=wrap_overflow)
            for piece in new_lines:
                piece.truncate(width, overflow=wrap_overflow)
            lines.extend(new_lines)
        return lines


def _date(post: Post) -> str:
    return (post.date or "")[:16].replace("T", " ")


def _where(post: Post) -> str:
    return post.source or post.category or ""


def _title(post: Post, *, preview: bool = True) -> Text:
    """The title, or for an untitled post a marker and (in lists) the start of its summary or
    text, so that it can be told from other untitled posts."""
    if post.title:
        return safe_text(post.title)
    title = Text("(no title)", style="dim italic")
    if not preview:
        return title
    opening = (post.summary or post.text or "").split("\n", 1)[0][:40]
    if opening:
        title.append(" ")
        title.append(safe_text(opening + "…", style="dim"))
    return title


def posts_table(
    posts: Sequence[Post], footer: str, *, plain: bool = False, width: int = 100,
    stories: dict[int, tuple[int, list[str]]] | None = None,
) -> Table:  # fmt: skip
    """The table of list: id, date, source or category, title (cut to fit ``width``).
    ``plain``: no box drawing at all (the header is not underlined)."""
    from rich import box
    from rich.cells import cell_len

    table = Table(
        box=None if plain else box.SIMPLE_HEAD,
        caption=footer,
        caption_justify="left",
        expand=False,
        pad_edge=False,
    )
    id_width = max([2, *(len(str(post.id)) for post in posts)])
    where_width = min(16, max([6, *(cell_len(clean(_where(post))) for post in posts)]))
    # The title comes first: on a narrow terminal the source column goes, then the time of day,
    # before the title gets fewer than TITLE_MIN cells. Rich shrinks every column alike when a
    # no-wrap table is too wide (the id column would vanish first), so the title gets exactly
    # the room that is left.
    date_width, gap = 16, 3
    if width - id_width - date_width - where_width - 3 * gap < TITLE_MIN:
        where_width = 0
    if width - id_width - date_width - 2 * gap < TITLE_MIN and not where_width:
        date_width = 10
    columns = 4 if where_width else 3
    title_width = max(8, width - id_width - date_width - where_width - (columns - 1) * gap)
    table.add_column("id", justify="right", style="cyan", no_wrap=True, min_width=id_width)
    table.add_column("date", style="green", no_wrap=True, min_width=date_width)
    if where_width:
        table.add_column(
            "source", style="magenta", no_wrap=True, max_width=where_width, overflow="ellipsis"
        )
    table.add_column("title", no_wrap=True, overflow="ellipsis", max_width=title_width)
    for post in posts:
        title = _title(post)
        n, sources = (stories or {}).get(post.id, (1, []))
        if n > 1:  # collapsed: the copies' count first, so the cut title never hides it
            title = Text.assemble((f"+{n - 1:,} ", "yellow"), title)
            source = ", ".join(sources) or _where(post)
        else:
            source = _where(post)
        where = [safe_text(source)] if where_width else []
        table.add_row(str(post.id), _date(post)[:date_width], *where, title)
    return table


def _copies(posts: int, sources: Sequence[str]) -> Text:
    """``+3 copies · 财联社, 澎湃新闻`` under a collapsed result (outlets are post content)."""
    line = Text("       ")
    line.append("+" + count_of(posts - 1, "copy", "copies"), style="yellow")
    if sources:
        line.append(" · ", style="dim")
        line.append(safe_text(", ".join(sources), style="magenta"))
    return line


def print_posts(
    posts: Sequence[Post], total: int, offset: int = 0, *, plain: bool = False,
    out: Console | None = None, stories: dict[int, tuple[int, list[str]]] | None = None,
    pager: bool = False, story_posts: int | None = None,
) -> None:  # fmt: skip
    """``newsarc list`` on a terminal: the table, with a footer giving the count and total.
    ``stories`` (collapsed): post id → (posts of its story, their outlets); ``total`` then
    counts stories, and ``story_posts`` (when known) their posts: equal, the footer counts posts.
    ``pager``: through ``$PAGER`` when longer than the screen, as ``show`` (``list --all``)."""
    out = out or console(plain=plain)
    noun = "stories" if stories is not None else "posts"
    if not posts:
        console(sys.stderr, plain=plain).print(Text(f"No {noun} (of {total:,}).", style="yellow"))
        return
    first, last = offset + 1, offset + len(posts)
    if stories is None or story_posts == total:  # no copies among them: posts it is
        counted = count_of(total, "post")
    else:
        counted = count_of(total, "story", "stories")
        if story_posts is not None:
            counted += f" ({count_of(story_posts, 'post')})"
    footer = f"{first:,}–{last:,} of {counted}"
    table = posts_table(posts, footer, plain=plain, width=out.width, stories=stories)
    _print_paged(out, [table], pager=pager)


def _print_paged(out: Console, parts: Iterable[Any], *, pager: bool) -> None:
    """Print renderables; through ``page`` when ``pager`` and on a terminal they are longer
    than the screen."""
    with out.capture() as captured:
        for part in parts:
            out.print(part)
    rendered = captured.get()
    if pager and rendered.count("\n") > out.height and out.is_terminal:
        page(rendered, out.file)
    else:
        out.file.write(rendered)
        out.file.flush()


def snippet_text(snippet: str, spans: Sequence[tuple[int, int]]) -> Text:
    """A snippet with its matched characters highlighted."""
    text = safe_text(snippet, style="dim")
    for start, end in spans:
        text.stylize(HIGHLIGHT, start, end)
    return text


def print_search(
    result: SearchResult, query: str, offset: int = 0, *, plain: bool = False,
    out: Console | None = None,
) -> None:  # fmt: skip
    """``newsarc search`` on a terminal: a numbered list with titles, metadata and snippets;
    every match in the title and the snippet highlighted."""
    out = out or console(plain=plain)
    if not result.hits:
        if result.total or result.posts:
            message = (
                f"No posts after the first {offset:,} "
                f"(of {result.total or result.posts or 0:,} matching {clean(query)!r})."
            )
        else:
            message = f"No posts match {clean(query)!r}."
        out.print(Text(message, style="yellow"))
        return
    for hit in result.hits:
        post = hit.post
        head = Text()
        head.append(f"{post.id:>6} ", style="cyan")
        head.append(_date(post), style="green")
        where = _where(post)
        if where:
            head.append("  ")
            head.append(safe_text(where, style="magenta"))
        head.append("  ")
        title = _title(post)
        title.stylize("bold")
        if post.title:  # clean() keeps one character per character: the spans fit
            for start, end in hit.title_highlights:
                title.stylize(HIGHLIGHT, start, end)
        head.append(title)
        out.print(head, no_wrap=True, overflow="ellipsis")
        if hit.story_posts > 1:
            out.print(
                _copies(hit.story_posts, hit.story_sources), no_wrap=True, overflow="ellipsis"
            )
        if hit.snippet:
            line = Text("       ")
            line.append(snippet_text(hit.snippet, hit.highlights))
            out.print(line, no_wrap=True, overflow="ellipsis")
    shown_to = offset + len(result.hits)
    if result.total is None:  # collapsed, stories not counted (too many matches)
        matched = count_of(result.posts or 0, "post matches", "posts match")
        matched += ", each story once"
    elif not result.collapsed or result.posts == result.total:  # no copies: posts it is
        matched = count_of(result.total, "post matches", "posts match")
    else:
        matched = count_of(result.total, "story matches", "stories match")
        if result.posts is not None:
            matched += f" ({count_of(result.posts, 'post')})"
    out.print(
        Text(
            f"\n{matched}; showing {offset + 1:,}–{shown_to:,}.",
            style="bold",
        )
    )


def print_similar(
    target: Post, records: Sequence[dict[str, Any]], threshold: float, *, plain: bool = False
) -> None:
    """``newsarc similar`` on a terminal: the post, then its story's posts and the nearest
    others, each with its score."""
    out = console(plain=plain)
    head = Text()
    head.append(f"{target.id} ", style="cyan")
    head.append(_title(target, preview=False))
    out.print(head, no_wrap=True, overflow="ellipsis")
    if not records:
        out.print(Text("No similar posts.", style="yellow"))
        return
    for same in (True, False):
        rows = [r for r in records if r["same_story"] is same]
        if not rows:
            continue
        label = "same story" if same else f"nearest below the threshold ({threshold:g})"
        out.print(Text(f"\n{label}", style="bold"))
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(justify="right", style="cyan", no_wrap=True)
        table.add_column(justify="right", style="yellow", no_wrap=True)
        table.add_column(style="green", no_wrap=True)
        table.add_column(style="magenta", no_wrap=True, max_width=12, overflow="ellipsis")
        rest = max(8, out.width - 8 - 6 - 16 - 12 - 4 * 3)
        table.add_column(no_wrap=True, overflow="ellipsis", max_width=rest)
        for r in rows:
            table.add_row(
                str(r["id"]), f"{r['score']:.2f}", (r["date"] or "")[:16].replace("T", " "),
                safe_text(r["source"] or r["category"] or ""), safe_text(r["title"]),
            )  # fmt: skip
        out.print(table)


# -- show -----------------------------------------------------------------------------------------

QUOTE_BAR = "▌ "


class _Quote:
    """A quote with a bar in front of every wrapped line (``> `` when plain)."""

    def __init__(self, text: Text, bar: str):
        self.text = text
        self.bar = bar

    def __rich_console__(self, console: Console, options: Any) -> Iterator[Any]:
        from rich.segment import Segment

        width = max(1, options.max_width - len(self.bar))
        for line in console.render_lines(self.text, options.update(width=width), pad=False):
            yield Segment(self.bar, console.get_style("dim"))
            yield from line
            yield Segment.line()


def marked(
    value: str | None, terms: Sequence[Term] = (), style: str = "", field: str = "text"
) -> Text:
    """Untrusted text made safe, with every match of ``terms`` highlighted (search's folding);
    ``field``: which terms apply (``title:`` terms in the title, ``text:`` ones in the body)."""
    from .search import find_spans

    text = safe_text(value, style)
    if terms and value:
        # clean() maps each character to one character, so spans of the original fit the text
        for start, end in find_spans(value, list(terms), field):
            text.stylize(HIGHLIGHT, start, end)
    return text


def post_view(post: Post, terms: Sequence[Term] = (), *, plain: bool = False) -> list[Any]:
    """Renderables for one post: heading, metadata table, then the body block by block."""
    from rich import box

    from .export import HEADING_MARK, body_blocks, metadata

    title = (
        marked(post.title, terms, "bold", "title") if post.title else _title(post, preview=False)
    )
    parts: list[Any] = [Kinsoku(title), Text()]
    meta = Table.grid(padding=(0, 2))
    meta.add_column(style="dim", no_wrap=True)
    meta.add_column(overflow="fold")
    for label, value in metadata(post):
        meta.add_row(label, safe_text(value))
    parts += [meta, Text()]
    for block in body_blocks(post):
        if block.type == "h":
            heading = marked(block.text, terms, "bold cyan")
            if plain:  # without style, a sub-heading would read as a paragraph
                heading = KinsokuText(HEADING_MARK, style="bold cyan").append(heading)
            parts.append(Kinsoku(heading))
        elif block.type == "quote":
            parts.append(_Quote(marked(block.text, terms, "italic"), "> " if plain else QUOTE_BAR))
        elif block.type == "img":
            placeholder = Text("[image" + (": " if block.alt else ""), style="magenta")
            placeholder.append(safe_text(block.alt, "magenta"))
            placeholder.append("] ", style="magenta")
            placeholder.append(safe_text(block.src, "dim"))
            parts.append(placeholder)
        elif block.type == "table" and block.rows:
            table = Table(box=box.ASCII if plain else box.ROUNDED, show_header=False)
            for row in block.rows:
                table.add_row(*(marked(cell, terms) for cell in row))
            parts.append(table)
        else:
            parts.append(Kinsoku(marked(block.text, terms)))
        parts.append(Text())
    return parts


def print_posts_full(
    posts: Iterable[Post],
    terms: Sequence[Term] = (),
    *,
    plain: bool = False,
    pager: bool = True,
    out: Console | None = None,
) -> None:
    """``newsarc show`` on a terminal: each post in full; through a pager when it is longer
    than the screen (``pager=False`` prints directly)."""
    from rich.rule import Rule

    out = out or console(plain=plain)

    def parts() -> Iterator[Any]:
        for n, post in enumerate(posts):
            if n:
                yield Rule(characters="-" if plain else "─", style="dim")
            yield from post_view(post, terms, plain=plain)

    _print_paged(out, parts(), pager=pager)


def page(rendered: str, fallback: IO[str]) -> None:
    """Show text in ``$PAGER`` (default ``less``; ``LESS=FRX`` unless set, as git does, so
    colours pass through and a short text just prints). Without a pager, print it."""
    import shlex
    import subprocess

    command = shlex.split(os.environ.get("PAGER") or "less")
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    encoding = getattr(fallback, "encoding", None) or "utf-8"
    try:
        subprocess.run(command, input=rendered.encode(encoding, "replace"), env=env, check=False)
    except (OSError, ValueError):
        fallback.write(rendered)
        fallback.flush()


# -- stats ----------------------------------------------------------------------------------------

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: int, largest: int, width: int, *, plain: bool = False) -> str:
    """A horizontal bar ``value / largest`` of ``width`` cells (``#`` when plain)."""
    if largest <= 0 or width <= 0:
        return ""
    if plain:
        return "#" * max(1 if value else 0, round(value / largest * width))
    eighths = max(1 if value else 0, round(value / largest * width * 8))
    return "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return count_of(n, "byte") if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _counts_table(
    title: str, rows: Sequence[tuple[str | None, int]], total: int | None, *,
    plain: bool, width: int,
) -> Table:  # fmt: skip
    shown = f"{title} ({total:,})" if total is not None and total > len(rows) else title
    table = Table(
        title=shown, title_justify="left", title_style="bold", box=None, show_header=False,
        pad_edge=False, expand=False,
    )  # fmt: skip
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=28)
    table.add_column(justify="right", no_wrap=True, style="cyan")
    table.add_column(no_wrap=True, style="green")
    largest = max((n for _, n in rows), default=0)
    bar_width = max(10, min(50, width - 28 - 12))
    for name, n in rows:
        label = safe_text(name) if name else Text("(none)", style="dim italic")
        table.add_row(label, f"{n:,}", bar(n, largest, bar_width, plain=plain))
    return table


def print_stats(
    stats: ArchiveStats, *, plain: bool = False, out: Console | None = None,
    stories: StoryStats | None = None,
) -> None:  # fmt: skip
    """``newsarc stats`` on a terminal: totals, then bar charts per category, source, tag, month
    (with ``stories``: the stories of each, and the largest stories)."""
    out = out or console(plain=plain)
    head = Text(count_of(stats.posts, "post"), style="bold")
    if stories is not None:
        head.append(f" · {count_of(stories.stories, 'story', 'stories')}", style="bold")
    if stats.first_date and stats.last_date:
        head.append(f"  {stats.first_date[:10]} → {stats.last_date[:10]}")
    if stats.undated:
        head.append(f"  ({stats.undated:,} undated)", style="yellow")
    out.print(head)
    files = count_of(stats.files, "file")
    out.print(Text(f"{files}, archive {_size(stats.archive_bytes)}", style="dim"))
    if not stats.posts:
        return
    for title, rows, key in (
        ("categories", stats.categories, "categories"),
        ("sources", stats.sources, "sources"),
        ("tags", stats.tags, "tags"),
    ):
        out.print()
        out.print(_counts_table(title, rows, stats.distinct[key], plain=plain, width=out.width))
    if stats.months:
        out.print()
        months: list[tuple[str | None, int]] = list(stats.months)
        out.print(_counts_table("months", months, None, plain=plain, width=out.width))
    if stories is not None and stories.stories < stories.posts:  # some posts are copies
        _print_stories(stories, out)


def _print_stories(stories: StoryStats, out: Console) -> None:
    """Stories per category, source and month (posts → stories), and the largest stories."""
    for title, counts in (
        ("stories per category", stories.categories),
        ("stories per source", stories.sources),
        ("stories per month", stories.months),
    ):
        if not counts:
            continue
        out.print()
        out.print(Text(f"{title} (posts → stories)", style="bold"))
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(no_wrap=True, overflow="ellipsis", max_width=28)
        table.add_column(justify="right", style="cyan", no_wrap=True)
        table.add_column(justify="right", style="green", no_wrap=True)
        for c in counts:
            label = safe_text(c.value) if c.value else Text("(none)", style="dim italic")
            table.add_row(label, f"{c.posts:,}", f"→ {c.stories:,}")
        out.print(table)
    if stories.largest:
        out.print()
        out.print(Text("largest stories (id, posts, title, outlets)", style="bold"))
        table = Table(box=None, show_header=False, pad_edge=False)
        id_width = max(len(str(s.story)) for s in stories.largest)
        table.add_column(justify="right", style="cyan", no_wrap=True, min_width=id_width)
        table.add_column(justify="right", style="yellow", no_wrap=True, min_width=9)
        # the title gets the room left, or Rich shrinks the id column away first
        rest = max(8, out.width - id_width - 9 - 2 * 3)
        table.add_column(no_wrap=True, overflow="ellipsis", max_width=rest)
        for s in stories.largest:
            line = safe_text(s.title or "(no title)")
            if s.sources:
                line.append("  " + clean(", ".join(s.sources)), style="magenta")
            table.add_row(str(s.story), f"{s.posts:,} posts", line)
        out.print(table)


# -- trend ----------------------------------------------------------------------------------------

#: colours of a trend's series, in order (the rest as ``other`` is always dim)
_SERIES_STYLES = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "white")
#: without colour, series are told apart by their character
_SERIES_MARKS = "#=+*%@o~x"
_PEAK, _PEAK_PLAIN = " ◆", " <"


def _series_style(i: int, name: str | None, colourless: bool) -> tuple[str, str]:
    """The character and style a series is drawn with."""
    from .trends import OTHER

    if colourless:
        return _SERIES_MARKS[i % len(_SERIES_MARKS)], ""
    style = "dim" if name and name.startswith(OTHER) else _SERIES_STYLES[i % len(_SERIES_STYLES)]
    return "█", style


def _stacked(counts: Sequence[int], scale: float, marks: Sequence[tuple[str, str]]) -> Text:
    """One bar of segments, rounded on their running sum so the whole bar keeps its length."""
    text = Text()
    done = 0
    for n, (mark, style) in zip(counts, marks, strict=True):
        cells = round((done + n) * scale) - round(done * scale)
        done += n
        text.append(mark * cells, style=style)
    return text


def print_trend(trend: Trend, *, plain: bool = False, out: Console | None = None) -> None:
    """``newsarc trend`` on a terminal: a bar per period with its count, the peak marked, and a
    footer with the total and the range. A split is drawn stacked (one colour or, plain, one
    character per group, named in a legend); compared queries side by side, a row each."""
    from rich.cells import cell_len

    out = out or console(plain=plain)
    plain = plain or out.no_color
    width = max(20, out.width)
    names = [s.name for s in trend.series]
    # without colour (plain, or piped), series are told apart by their characters
    colourless = plain or out.color_system is None
    marks = [_series_style(i, name, colourless) for i, name in enumerate(names)]
    peak_mark = _PEAK_PLAIN if plain else _PEAK
    label_width = max([len(p.label) for p in trend.periods] or [4])
    side = trend.kind == "query"
    totals = trend.period_totals()
    if side:
        values = [n for s in trend.series for n in s.counts]
    else:
        values = totals
    largest = max(values, default=0)
    count_width = max(1, len(f"{largest:,}"))
    name_width = 0
    if side:
        name_width = min(12, max(cell_len(clean(n or "")) for n in names))
    bar_width = max(4, width - label_width - count_width - name_width - 2 - (1 if side else 0))
    bar_width -= cell_len(peak_mark)
    scale = bar_width / largest if largest else 0.0

    what = " ".join(trend.queries) if trend.kind != "query" else " vs ".join(trend.queries)
    head = Text()
    head.append_text(safe_text(what or "all posts", style="bold"))
    units = "stories" if trend.unit == "story" else "posts"
    head.append(f"  {units} per {trend.by.value}", style="dim")
    out.print(head, overflow="ellipsis", no_wrap=True)
    if trend.kind is not None:
        series_totals = {x.name: x.total for x in trend.series}
        legend = Text()
        for name, (mark, style) in zip(names, marks, strict=True):
            legend.append(mark * 2, style=style)
            legend.append(" ")
            legend.append_text(safe_text(name if name is not None else "(none)"))
            legend.append(f" {series_totals[name]:,}  ", style="dim")
        legend.rstrip()
        out.print(legend, overflow="fold")

    def row(label: str, name: str | None, count: int, bar_text: Text, peak: bool) -> Text:
        line = Text(label.ljust(label_width), style="green")
        if side:
            shown = clean(name or "")
            while cell_len(shown) > name_width:
                shown = shown[:-1]
            line.append(" " + shown + " " * (name_width - cell_len(shown)))
        line.append(" " + f"{count:,}".rjust(count_width) + " ", style="bold" if peak else "")
        line.append_text(bar_text)
        if peak:
            line.append(peak_mark, style="bold red")
        line.rstrip()
        return line

    for i, period in enumerate(trend.periods):
        if side:
            for j, series in enumerate(trend.series):
                n = series.counts[i]
                peak = n > 0 and n == max(series.counts)
                label = period.label if j == 0 else ""
                mark, style = marks[j]
                if colourless:
                    bar_text = Text(mark * max(1 if n else 0, round(n * scale)))
                else:
                    bar_text = Text(bar(n, largest, bar_width), style=style)
                out.print(row(label, series.name, n, bar_text, peak), no_wrap=True, crop=True)
        else:
            n = totals[i]
            peak = n > 0 and n == largest
            if trend.kind == "group":
                bar_text = _stacked([s.counts[i] for s in trend.series], scale, marks)
            else:
                bar_text = Text(bar(n, largest, bar_width, plain=plain), style=marks[0][1])
            out.print(row(period.label, None, n, bar_text, peak), no_wrap=True, crop=True)

    foot = Text(style="dim")
    if not side:  # compared queries have their totals in the legend
        foot.append(count_of(trend.total, trend.unit, units) + (", " if trend.periods else ""))
    if trend.periods:
        first, last = trend.periods[0].start, trend.periods[-1].end
        foot.append(f"{first.isoformat()} → {last.isoformat()}")
    out.print(foot, overflow="fold")
    if trend.undated:  # a line of its own: the footer stays whole at 40 columns
        undated = count_of(trend.undated, f"undated {trend.unit}", f"undated {units}")
        out.print(Text(f"{undated} not shown", style="yellow"))
    if trend.empty:
        message = Text("No posts match", style="yellow")
        if what:
            message.append(" ")
            message.append_text(safe_text(what))
        message.append(".")
        console(sys.stderr, plain=plain).print(message)


# -- import -------------------------------------------------------------------------------------


@contextmanager
def import_progress(enabled: bool) -> Iterator[Any]:
    """A progress bar on stderr (files, rate, ETA); yields a ``(done, total)`` callback or None."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    err = Console(stderr=True, highlight=False)
    progress = Progress(
        TextColumn("{task.fields[phase]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = progress.add_task("import", total=None, rate="", phase="importing")
    import time

    from .ingest import COMPACTING

    started = time.monotonic()

    def update(done: int, total: int) -> None:
        if done == COMPACTING:
            progress.update(task, phase="compacting", rate="")
            return
        elapsed = max(time.monotonic() - started, 1e-6)
        progress.update(
            task, completed=done, total=total or None, rate=f"{done / elapsed:,.0f} files/s"
        )

    with progress:
        yield update


def print_import_failures(result: ImportResult, *, verbose: bool, limit: int = 10) -> None:
    """``import --quiet``: nothing but the files that could not be imported, one line each."""
    err = console(sys.stderr)
    shown = result.failed if verbose else result.failed[:limit]
    for _, message in shown:
        err.print(Text(clean(message), style="red"))
    if len(shown) < result.n_failed:
        hint = "" if verbose else " (--verbose lists them)"
        err.print(Text(f"… and {count_of(result.n_failed - len(shown), 'more failure')}{hint}"))


def print_import_summary(
    result: ImportResult, *, verbose: bool, limit: int = 10, err: Console | None = None
) -> None:
    """The end-of-import summary, on stderr (stdout stays free for data)."""
    err = err or console(sys.stderr)
    parts = [
        f"{result.imported:,} imported",
        f"{result.updated:,} updated",
        f"{result.unchanged:,} unchanged",
        count_of(result.duplicates, "duplicate"),
        f"{result.n_skipped:,} skipped",
        f"{result.n_failed:,} failed",
    ]
    head = Text(", ".join(parts), style="bold")
    seconds = f"{result.seconds:.2f}" if result.seconds < 1 else f"{result.seconds:,.1f}"
    if result.interrupted:
        # files looked up ahead of the writer were never finished: no rate can be told, only
        # how many files got an outcome
        done = (
            result.imported + result.updated + result.unchanged + result.duplicates
            + result.n_skipped + result.n_failed
        )  # fmt: skip
        timing = f"({count_of(done, 'file')} done, stopped after {seconds}s)"
    else:
        rate = result.files / result.seconds if result.seconds else 0.0
        # compacting a small archive is instant: only a wait worth naming is named
        compacted = (
            f", compacted in {result.compact_seconds:,.1f}s"
            if result.compacted and result.compact_seconds >= 1
            else ""
        )
        timing = f"({count_of(result.files, 'file')} in {seconds}s, {rate:,.0f} files/s{compacted})"
    from rich.cells import cell_len

    if cell_len(head.plain) + 2 + len(timing) <= err.width or err.soft_wrap:
        head.append("  " + timing, style="dim")
        err.print(head)
    else:  # on its own line rather than broken inside the parentheses
        err.print(head)
        err.print(Text(timing, style="dim"))
    if result.newer_copies:
        copies = (
            "1 duplicate was a newer copy of a stored post and replaced it"
            if result.newer_copies == 1
            else f"{result.newer_copies:,} duplicates were newer copies of stored posts "
            "and replaced them"
        )
        err.print(Text(copies + " (the most recently modified file wins)."))
    if result.canonical_copies:
        copies = count_of(result.canonical_copies, "duplicate")
        err.print(
            Text(
                f"{copies} replaced the stored copy by name, not by being newer: a name without "
                "an @commit suffix wins over a saved version, and between copies modified at the "
                "same time the shorter path wins."
            )
        )
    if result.reparsed:
        err.print(
            Text(
                f"{count_of(result.reparsed, 'file')} imported before with another --tz "
                "read again: dates without an offset are now taken in the new time zone."
            )
        )
    for site in result.sites:
        err.print(
            Text(
                clean(f"{site}: a Jekyll site; read only its _posts/ folder")
                + ", not its pages, _layouts, _includes, _site, _sass or assets"
                + ("; and its _drafts/." if result.drafts else " (--drafts adds _drafts/)."),
                style="dim",
            )
        )
    if result.pruned_files or result.pruned_posts:
        err.print(
            Text(
                f"pruned: forgot {count_of(result.pruned_files, 'file')} that "
                f"{'is' if result.pruned_files == 1 else 'are'} gone and "
                f"deleted {count_of(result.pruned_posts, 'post')} left with no file.",
                style="yellow",
            )
        )
    elif result.gone:
        gone = count_of(result.gone, "file")
        err.print(
            Text(
                f"{gone} recorded {'is' if result.gone == 1 else 'are'} gone; their posts are "
                "kept and marked as having no file (--prune forgets them).",
                style="yellow",
            )
        )
    for label, reasons, items, style in (
        ("skipped", result.skipped_reasons, result.skipped, "yellow"),
        ("failed", result.failed_reasons, result.failed, "red"),
    ):
        total = reasons.total()
        if not total:
            continue
        summary = ", ".join(f"{n:,} {reason}" for reason, n in reasons.most_common())
        err.print(Text(f"{label}: {summary}", style=style))
        if label == "skipped" and not verbose:
            continue  # non-posts are normal in a Jekyll folder: counted, named on request
        shown = items if verbose else items[:limit]
        for _, message in shown:
            err.print(Text("  " + clean(message), style=style))
        if len(shown) < total:
            hint = "" if verbose else " (--verbose lists them)"
            err.print(Text(f"  … and {total - len(shown):,} more{hint}", style="dim"))
    if result.n_warnings:
        if verbose:
            for _, message in result.warnings:
                err.print(Text("warning: " + clean(message), style="dim"))
            if len(result.warnings) < result.n_warnings:
                more = result.n_warnings - len(result.warnings)
                err.print(Text(f"  … and {count_of(more, 'more warning')}", style="dim"))
        else:
            err.print(
                Text(
                    f"{count_of(result.n_warnings, 'warning')} (recovered front matter, missing "
                    "dates…); "
                    "--verbose lists them",
                    style="dim",
                )  # fmt: skip
            )
    if result.interrupted:
        err.print(
            Text(
                "Interrupted: every post written so far is complete; run the same import again "
                "to finish.",
                style="bold yellow",
            )  # fmt: skip
        )


class Kinsoku:
    """A text to print on its own, wrapped by the Chinese line-breaking rules. (Rich renders
    a ``KinsokuText`` inside a table or another renderable by its own rules, but
    ``Console.print`` joins the Text objects it is given into one new, plain Text first.)"""

    def __init__(self, text: Text):
        if not isinstance(text, KinsokuText):
            copy = KinsokuText(text.plain, style=text.style, end=text.end)
            copy.spans = list(text.spans)
            text = copy
        self.text = text

    def __rich_console__(self, console: Console, options: Any) -> Any:
        return self.text.__rich_console__(console, options)

    def __rich_measure__(self, console: Console, options: Any) -> Any:
        return self.text.__rich_measure__(console, options)
