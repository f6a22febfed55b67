"""``python -m newsarc.cli``: the same as the ``newsarc`` command."""

from . import main

main()
