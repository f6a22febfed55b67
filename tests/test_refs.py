"""refs.py: post references (ids, article ids, paths, ``-`` for stdin) and the not-found message."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from newsarc.errors import ExitStatus, NotFoundError
from newsarc.ingest import Importer
from newsarc.refs import PostRefs, expand_stdin, not_found_message
from newsarc.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def store(isolated_archive: Path):
    with Store.open(isolated_archive, create=True) as store:
        Importer(store, workers=1).run([EXAMPLES])
        yield store


def test_expand_stdin_takes_the_first_field_of_each_line():
    stdin = io.StringIO("4\tdate\ttitle\n\n  \nNW2022\n 7 \n")
    assert list(expand_stdin(["1", "-", "9"], stdin)) == ["1", "4", "NW2022", "7", "9"]


def test_expand_stdin_reads_lazily():
    class Endless(io.StringIO):
        def __iter__(self):
            n = 0
            while True:
                n += 1
                yield f"{n}\n"

    refs = expand_stdin(["-"], Endless())
    assert [next(refs) for _ in range(3)] == ["1", "2", "3"]


def test_post_refs_resolve_every_kind_of_reference(store: Store):
    path = EXAMPLES / "2021-12-08-202112082206672930.md"
    external = store.conn.execute("SELECT external_id FROM posts WHERE id = 2").fetchone()[0]
    refs = PostRefs(store, ["4", external, str(path), "-"], io.StringIO("2\tx\n"))
    assert list(refs) == [4, 2, 4, 2]  # the path is a copy of post 4
    assert refs.given == 4 and refs.missing == []
    refs.check()  # nothing to say


def test_post_refs_collect_the_missing_and_keep_going(store: Store):
    refs = PostRefs(store, ["nope", "4", "999999"], io.StringIO())
    assert list(refs) == [4] and refs.missing == ["nope", "999999"]
    with pytest.raises(NotFoundError) as raised:
        refs.check()
    assert str(raised.value) == not_found_message(["nope", "999999"])
    assert raised.value.exit_status is ExitStatus.NOT_FOUND


def test_post_refs_empty_stdin(store: Store):
    refs = PostRefs(store, ["-"], io.StringIO("\n\n"))
    assert list(refs) == []
    with pytest.raises(NotFoundError, match="^no post ids on stdin$"):
        refs.check()


@pytest.mark.parametrize(
    "missing, expected",
    [
        (["x"], "no post 'x': "),
        (["a", "b"], "no post 'a', 'b': "),
        ([str(n) for n in range(5)], "no post '0', '1', '2', '3', '4': "),
        ([str(n) for n in range(1006)], "no post '0', '1', '2', '3', '4' and 1,001 more: "),
    ],
)
def test_not_found_message(missing, expected):
    message = not_found_message(missing)
    assert message.startswith(expected) and "\n" not in message
    assert message.endswith(
        "give a post id, an article id or an imported file's path (newsarc list shows ids)"
    )
