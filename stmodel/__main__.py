"""`python -m stmodel`: the same as the `stmodel` command."""

from stmodel.cli import main

main()
