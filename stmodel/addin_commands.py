"""`stmodel addin ...`: the Excel add-in (.xlam)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import OverwriteOption, fail


def addin_build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the add-in.")] = Path("SenseTime.xlam"),
    interpreter: Annotated[
        str | None,
        typer.Option(
            help="Python for Excel to run, e.g. C:\\envs\\st\\Scripts\\pythonw.exe. Written into the add-in, "
            "where it wins over the SenseTime.conf files; leave it out to use them or python on PATH."
        ),
    ] = None,
    pythonpath: Annotated[
        str | None, typer.Option(help="Folders added to Python's path (xlwings' PYTHONPATH).")
    ] = None,
    conda_path: Annotated[str | None, typer.Option(help="Conda installation folder, with --conda-env.")] = None,
    conda_env: Annotated[str | None, typer.Option(help="Conda environment name, with --conda-path.")] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Write SenseTime.xlam: ribbon tab with Refresh forecasts, Audit model, Export analyst copy, and the ST_* UDFs.

    Settings given here win over the SenseTime.conf files; leave them out to use those (docs/install-windows.md).
    """
    from addin.build import build_addin

    if output.suffix.lower() != ".xlam":
        fail(f"{output}: expected a .xlam file name")
    if (conda_path is None) != (conda_env is None):
        fail("--conda-path and --conda-env go together: give both or neither")
    if interpreter is not None and conda_path is not None:
        # xlwings' UDFs ignore conda when an interpreter is set while its RunPython still activates it
        fail("--interpreter and --conda-path/--conda-env choose Python two ways: give one of them")
    settings = {"interpreter": interpreter, "pythonpath": pythonpath, "conda_path": conda_path, "conda_env": conda_env}
    build_addin(output, settings, overwrite=overwrite)
    typer.echo(f"wrote {output}", err=True)


def doctor(
    addin: Annotated[
        Path | None, typer.Option("--addin", help="A built SenseTime.xlam: checks its xlwings against Python's.")
    ] = None,
    workbook: Annotated[Path | None, typer.Option("--workbook", help="A model workbook to audit.")] = None,
) -> None:
    """Check this machine for the add-in: Python, xlwings against the add-in's, udfs, and a workbook's audit.

    One line per check: ok, problem with its fix, or info. Exit 0 when every check is ok, 1 otherwise.

    LibreOffice (used to recalculate on Linux, never by Excel) is listed for information and does not count.
    """
    from addin.doctor import PROBLEM, run_checks

    checks = run_checks(addin, workbook)
    for check in checks:
        typer.echo(str(check))
    problems = sum(check.status == PROBLEM for check in checks)
    typer.echo(f"{problems} problem{'s' if problems != 1 else ''}" if problems else "all checks ok")
    raise typer.Exit(1 if problems else 0)
