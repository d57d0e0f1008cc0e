"""Running `stmodel` in-process for the tests: Click's runner on the app, arguments as text."""

from pathlib import Path

from typer.testing import CliRunner, Result

from stmodel.cli import app

runner = CliRunner()


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def ok(*args: str | Path) -> Result:
    """The command's result; it must have succeeded."""
    result = invoke(*args)
    assert result.exit_code == 0, (args, result.output)
    return result
