"""newsarc's exceptions and exit codes.

Library code raises these; the CLI turns them into one line on stderr and an exit code in
one place (``cli.main``). Messages say what is wrong and, where possible, how to fix it.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Exit codes shared by every command."""

    OK = 0
    #: nothing matched / nothing found, or a partial failure (some files could not be imported)
    NOT_FOUND = 1
    PARTIAL = 1
    #: usage or input error: bad option, bad query, no such path, unusable database
    USAGE = 2


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
    """A post that was asked for does not exist."""

    exit_status = ExitStatus.NOT_FOUND


class PostError(NewsarcError):
    """A file cannot be read as a post. ``reason`` is a short category for summaries."""

    exit_status = ExitStatus.PARTIAL

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


class NotAPost(PostError):
    """A file that is not a post at all (no front matter, empty, binary): skipped, not failed."""
