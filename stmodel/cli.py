"""`stmodel`: the command line. A front door onto the engine and the workbook; it holds no model logic.

The commands live in one module per group (model, workbook, add-in, scenarios) and are registered
here, in the order `stmodel --help` lists them. Bad input ends with one line on
stderr naming what was wrong and exit code 2, never a traceback (see `stmodel.app`).
"""

from __future__ import annotations

import signal
import sys

import typer

from . import actuals_commands, addin_commands, market_commands, model_commands, scenario_commands, workbook_commands
from .app import app

# The commands, in the order `stmodel --help` lists them.
for command in (
    model_commands.value,
    model_commands.drivers,
    model_commands.errata,
    model_commands.reconcile,
    actuals_commands.init,
    actuals_commands.lines,
    actuals_commands.variance,
    market_commands.extend,
    market_commands.market,
    workbook_commands.build,
    workbook_commands.recalc,
    workbook_commands.audit,
    workbook_commands.refresh,
    workbook_commands.export,
    workbook_commands.pdf,
    scenario_commands.sensitivity,
    scenario_commands.simulate,
    addin_commands.doctor,
):
    app.command()(command)
addin_app = typer.Typer(help="The SenseTime Excel add-in (.xlam).", no_args_is_help=True)
addin_app.command("build")(addin_commands.addin_build)
app.add_typer(addin_app, name="addin")
app.add_typer(actuals_commands.actuals_app, name="actuals")


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C does: by an exception, so every `finally` removes its
    temporary files and ends LibreOffice's process group (docs/files.md)."""
    signal.signal(signum, signal.SIG_IGN)  # once: the clean-up is not interrupted by a second one
    typer.echo("stmodel: terminated", err=True)
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("stmodel: interrupted", err=True)
        sys.exit(130)


__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
