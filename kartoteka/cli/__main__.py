"""`python -m kartoteka.cli`: the same as the `kartoteka` command."""

from kartoteka.cli import main

main()
