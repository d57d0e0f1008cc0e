"""The `stmodel` command line: `stmodel.cli.main` is the entry point, `stmodel.cli.app` the Typer app."""
