"""`stmodel addin ...`: the Excel add-in (.xlam)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import fail


def addin_build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the add-in.")] = Path("SenseTime.xlam"),
    interpreter: Annotated[
        str | None,
        typer.Option(
            help="Python for Excel to run, e.g. C:\\envs\\st\\Scripts\\pythonw.exe. Written into the add-in, "
            "where it wins over every config file; leave it out to use %USERPROFILE%\\.SenseTime\\SenseTime.conf "
            "or python on PATH."
        ),
    ] = None,
    pythonpath: Annotated[
        str | None, typer.Option(help="Folders added to Python's path (xlwings' PYTHONPATH).")
    ] = None,
    conda_path: Annotated[str | None, typer.Option(help="Conda installation folder, with --conda-env.")] = None,
    conda_env: Annotated[str | None, typer.Option(help="Conda environment name, with --conda-path.")] = None,
) -> None:
    """Write SenseTime.xlam: ribbon tab with Refresh forecasts, Audit model, Export analyst copy, and the ST_* UDFs.

    Interpreter settings given here are built into the add-in's config sheet; without them the add-in
    reads the user's and the workbook folder's SenseTime.conf files, as xlwings does.
    """
    from addin.build import build_addin

    if output.suffix.lower() != ".xlam":
        fail(f"{output}: expected a .xlam file name")
    if (conda_path is None) != (conda_env is None):
        fail("--conda-path and --conda-env go together: give both or neither")
    settings = {"interpreter": interpreter, "pythonpath": pythonpath, "conda_path": conda_path, "conda_env": conda_env}
    build_addin(output, settings)
    typer.echo(f"wrote {output}", err=True)


def doctor(
    addin: Annotated[
        Path | None, typer.Option("--addin", help="A built SenseTime.xlam: checks its xlwings against Python's.")
    ] = None,
    workbook: Annotated[Path | None, typer.Option("--workbook", help="A model workbook to audit.")] = None,
) -> None:
    """Check this machine for the add-in: Python, xlwings against the add-in's, udfs, and a workbook's audit.

    One line per check (ok, problem with its fix, or info). Exit 0 when every check is ok, 1 otherwise;
    LibreOffice (recalculation on Linux only) is reported for information and does not count.
    """
    from addin.doctor import PROBLEM, run_checks

    checks = run_checks(addin, workbook)
    for check in checks:
        typer.echo(str(check))
    problems = sum(check.status == PROBLEM for check in checks)
    typer.echo(f"{problems} problem{'s' if problems != 1 else ''}" if problems else "all checks ok")
    raise typer.Exit(1 if problems else 0)
