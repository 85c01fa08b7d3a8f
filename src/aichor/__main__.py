"""`python -m aichor` runs the command-line interface."""

from aichor.cli import main

main()
