"""newsarc's exceptions and exit codes.

Library code raises these; the CLI turns them into one line on stderr and an exit code in
one place (``newsarc.cli.NewsarcGroup.invoke``). Messages say what is wrong and, where possible,
how to fix it.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Exit codes shared by every command, each with one meaning (the README's table)."""

    OK = 0
    #: nothing found: no post matched or was selected, or a post asked for does not exist (the
    #: others are still shown); stderr says ``newsarc: no …``. As grep's 1: an answer, not an error
    NOT_FOUND = 1
    #: usage or input error: bad option, bad query, no such path, unusable database
    USAGE = 2
    #: a bug: an unexpected exception (one line; ``--traceback`` or NEWSARC_TRACEBACK=1 shows it)
    INTERNAL = 3
    #: the command ran to the end but part of it failed: files that could not be imported, or
    #: problems found by ``maintenance --check``. Its own code, so a script can tell "some files
    #: failed" from "nothing found"
    PARTIAL = 4
    #: interrupted (Ctrl-C, SIGINT): 128 + 2, the shell's convention
    INTERRUPTED = 130


class NewsarcError(Exception):
    """Base class: an error with a message meant for the user."""

    exit_status = ExitStatus.USAGE


class UsageError(NewsarcError):
    """The user asked for something that cannot be done as asked."""


class QueryError(UsageError):
    """A search query that cannot be parsed."""


class StoreError(NewsarcError):
    """The archive database cannot be opened or used."""


class DamagedPostError(StoreError):
    """A post whose stored (packed) content cannot be read back exactly."""


class NotFoundError(NewsarcError):
    """Nothing found: no post matched, or one asked for does not exist. Not an error line: the
    message starts with ``no`` and is printed as ``newsarc: no …`` (exit status 1)."""

    exit_status = ExitStatus.NOT_FOUND


class PostError(NewsarcError):
    """A file cannot be read as a post. ``reason`` is a short category for summaries."""

    exit_status = ExitStatus.PARTIAL

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


class NotAPost(PostError):
    """A file that is not a post at all (no front matter, empty, binary): skipped, not failed."""
