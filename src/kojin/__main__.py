"""``python -m kojin``: the same command line as ``kojin``, for a checkout run without installing."""

from kojin.entrypoints.cli import main

main()
