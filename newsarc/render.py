"""Everything Rich: tables, highlighted snippets, progress bars and summaries for people.

This is the only module that imports Rich, and the CLI imports it lazily, only for output meant
for a terminal. Post content always goes in as ``rich.text.Text`` built from cleaned strings
(``output.clean``), never as markup, so ``[bold]`` or ``[link=…]`` in a title prints literally
and control characters cannot reach the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .output import clean

if TYPE_CHECKING:
    from .ingest import ImportResult
    from .models import Post
    from .search import SearchResult

HIGHLIGHT = "bold black on yellow"


def console(file: TextIO | None = None, *, plain: bool = False) -> Console:
    """A console on ``file`` (stdout by default); no colour with NO_COLOR or ``plain``."""
    no_color = plain or bool(os.environ.get("NO_COLOR"))
    return Console(
        file=file or sys.stdout,
        highlight=False,
        emoji=False,
        markup=False,
        no_color=no_color,
        color_system=None if no_color else "auto",
    )


def safe_text(value: str | None, style: str = "") -> Text:
    """Untrusted text as a Rich Text: literal, control characters made visible."""
    return Text(clean(value or ""), style=style)


def _date(post: Post) -> str:
    return (post.date or "")[:16].replace("T", " ")


def _where(post: Post) -> str:
    return post.source or post.category or ""


def _title(post: Post) -> Text:
    return safe_text(post.title) if post.title else Text("(no title)", style="dim italic")


def posts_table(posts: Sequence[Post], footer: str, *, box_style: Any = "default") -> Table:
    """The table of list: id, date, source or category, title (truncated to the width)."""
    from rich import box

    table = Table(
        box=box.SIMPLE_HEAD if box_style == "default" else box_style,
        caption=footer,
        caption_justify="left",
        expand=False,
        pad_edge=False,
    )
    table.add_column("id", justify="right", style="cyan", no_wrap=True)
    table.add_column("date", style="green", no_wrap=True)
    table.add_column("source", style="magenta", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("title", no_wrap=True, overflow="ellipsis", ratio=1)
    for post in posts:
        table.add_row(str(post.id), _date(post), safe_text(_where(post)), _title(post))
    return table


def print_posts(posts: Sequence[Post], total: int, offset: int = 0, *, plain: bool = False) -> None:
    """``newsarc list`` on a terminal."""
    out = console(plain=plain)
    if not posts:
        out.print(Text(f"No posts (of {total:,}).", style="yellow"))
        return
    first, last = offset + 1, offset + len(posts)
    footer = f"{first:,}–{last:,} of {total:,} posts"
    out.print(posts_table(posts, footer))


def snippet_text(snippet: str, spans: Sequence[tuple[int, int]]) -> Text:
    """A snippet with its matched characters highlighted."""
    text = safe_text(snippet, style="dim")
    for start, end in spans:
        text.stylize(HIGHLIGHT, start, end)
    return text


def print_search(result: SearchResult, query: str, offset: int = 0, *, plain: bool = False) -> None:
    """``newsarc search`` on a terminal: a numbered list with titles, metadata and snippets."""
    out = console(plain=plain)
    if not result.hits:
        out.print(Text(f"No posts match {clean(query)!r}.", style="yellow"))
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
        head.append(title)
        out.print(head, no_wrap=True, overflow="ellipsis")
        if hit.snippet:
            line = Text("       ")
            line.append(snippet_text(hit.snippet, hit.highlights))
            out.print(line, no_wrap=True, overflow="ellipsis")
    shown_to = offset + len(result.hits)
    out.print(
        Text(f"\n{result.total:,} posts match; showing {offset + 1:,}–{shown_to:,}.", style="bold")
    )


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
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = progress.add_task("import", total=None, rate="")
    import time

    started = time.monotonic()

    def update(done: int, total: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        progress.update(task, completed=done, total=total or None, rate=f"{done / elapsed:,.0f} files/s")

    with progress:
        yield update


def print_import_summary(result: ImportResult, *, verbose: bool, limit: int = 10) -> None:
    """The end-of-import summary, on stderr (stdout stays free for data)."""
    err = console(sys.stderr)
    parts = [
        f"{result.imported:,} imported",
        f"{result.updated:,} updated",
        f"{result.unchanged:,} unchanged",
        f"{result.duplicates:,} duplicates",
        f"{len(result.skipped):,} skipped",
        f"{len(result.failed):,} failed",
    ]
    rate = result.files / result.seconds if result.seconds else 0.0
    head = Text(", ".join(parts), style="bold")
    head.append(f"  ({result.files:,} files in {result.seconds:.1f}s, {rate:,.0f} files/s)", style="dim")
    err.print(head)
    if result.newer_copies:
        err.print(
            Text(
                f"{result.newer_copies:,} duplicates were newer copies of a stored post and replaced it "
                "(the most recently modified file wins)."
            )
        )
    for label, reasons, items, style in (
        ("skipped", result.skipped_reasons, result.skipped, "yellow"),
        ("failed", result.failed_reasons, result.failed, "red"),
    ):
        if not items:
            continue
        summary = ", ".join(f"{n:,} {reason}" for reason, n in reasons.most_common())
        err.print(Text(f"{label}: {summary}", style=style))
        shown = items if verbose or label == "failed" and len(items) <= limit else items[:limit]
        if label == "skipped" and not verbose:
            shown = []
        for _, message in shown:
            err.print(Text("  " + clean(message), style=style))
        if len(shown) < len(items) and (label == "failed" or verbose):
            err.print(Text(f"  … and {len(items) - len(shown):,} more (--verbose lists all)", style="dim"))
    if result.warnings:
        if verbose:
            for _, message in result.warnings:
                err.print(Text("warning: " + clean(message), style="dim"))
        else:
            err.print(
                Text(f"{len(result.warnings):,} warnings (recovered front matter, missing dates…); "
                     "--verbose lists them", style="dim")  # fmt: skip
            )
    if result.interrupted:
        err.print(
            Text("Interrupted: every post written so far is complete; run the same import again "
                 "to finish.", style="bold yellow")  # fmt: skip
        )
