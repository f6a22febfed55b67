"""``python -m newsarc``: the same as the ``newsarc`` command."""

from .cli import main

main()
