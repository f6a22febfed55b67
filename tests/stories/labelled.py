"""Load the labelled story set (shared by tests/test_stories.py and bench/stories.py)."""

from __future__ import annotations

from pathlib import Path

from newsarc.parse import parse_post

HERE = Path(__file__).resolve().parent


def load_labelled() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """[(file, text)] in import order (date, then file name), and file → story label."""
    labels = {}
    for line in (HERE / "labels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        name, label = line.split("\t")
        labels[name] = label
    posts = []
    for name in labels:
        post = parse_post((HERE / name).read_text(encoding="utf-8"), HERE / name)
        posts.append((str(post.date), name, post.text))
    posts.sort()
    return [(name, text) for _, name, text in posts], labels
