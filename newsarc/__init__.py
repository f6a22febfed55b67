"""newsarc: a command-line archive manager for Jekyll-style news posts.

The library is usable without the CLI::

    from newsarc import Store, Importer
    from newsarc.search import search
    with Store.open("archive.db") as store:
        Importer(store).run([Path("posts/")])
        for hit in search(store, "创新联合体").hits:
            print(hit.post.id, hit.post.title)

Heavy modules (lxml, Rich, the importer) are imported on first use, keeping start-up fast.
"""

from __future__ import annotations

from typing import Any

#: the one place the version is written: pyproject.toml reads it (setuptools dynamic version)
__version__ = "0.1.0"

_LAZY = {
    "Store": "store",
    "Filters": "queries",
    "Importer": "ingest",
    "ImportResult": "ingest",
    "parse_post": "parse",
    "Post": "models",
    "ParsedPost": "models",
    "Block": "models",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'newsarc' has no attribute {name!r}")
