"""Post references as users give them (``show``, ``export``): post ids, article ids, imported
files' paths, and ``-`` for a list of them on stdin, such as the output of ``search``.

One reader and one not-found message for every command that takes references.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

from .errors import NotFoundError

if TYPE_CHECKING:
    from .store import Store

#: how many missing references the message names before it only counts the rest
SHOWN_MISSING = 5


def expand_stdin(refs: Iterable[str], stdin: TextIO) -> Iterator[str]:
    """The references given, with ``-`` replaced by the lines of ``stdin`` (read lazily: it may
    hold millions). A line's first tab-separated field is the reference, so the plain lines of
    ``search`` and ``list`` work as well as ``--format ids``; blank lines are skipped."""
    for ref in refs:
        if ref != "-":
            yield ref
            continue
        for line in stdin:
            first = line.strip().split("\t", 1)[0].strip()
            if first:
                yield first


class PostRefs:
    """Iterating yields the post id of each reference in order, reading ``-`` from ``stdin``
    lazily; references that name no post are collected in ``missing``. After iterating,
    ``check()`` raises the one not-found error for what was missing (or for an empty stdin)."""

    def __init__(self, store: Store, refs: Iterable[str], stdin: TextIO) -> None:
        self.store = store
        self.refs = refs
        self.stdin = stdin
        self.given = 0
        self.missing: list[str] = []

    def __iter__(self) -> Iterator[int]:
        from .queries import resolve

        for ref in expand_stdin(self.refs, self.stdin):
            self.given += 1
            post_id = resolve(self.store, ref)
            if post_id is None:
                self.missing.append(ref)
            else:
                yield post_id

    def check(self) -> None:
        """Raise ``NotFoundError`` if no reference was given (``-`` and an empty stdin: an
        empty search upstream, say) or some named no post."""
        if not self.given:
            raise NotFoundError("no post ids on stdin")
        if self.missing:
            raise NotFoundError(not_found_message(self.missing))


def not_found_message(missing: list[str]) -> str:
    """``no post 'a', 'b' and 3 more: …``: the references that named no post, and how to find
    the right ones."""
    listed = ", ".join(repr(ref) for ref in missing[:SHOWN_MISSING])
    rest = len(missing) - SHOWN_MISSING
    more = f" and {rest:,} more" if rest > 0 else ""
    return (
        f"no post {listed}{more}: give a post id, an article id or an imported file's path "
        "(newsarc list shows ids)"
    )
