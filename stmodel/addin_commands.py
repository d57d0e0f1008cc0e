"""`stmodel addin ...`: the Excel add-in (.xlam)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import fail


def addin_build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the add-in.")] = Path("SenseTime.xlam"),
) -> None:
    """Write SenseTime.xlam: ribbon tab with Refresh forecasts, Audit model, Export analyst copy, and the ST_* UDFs."""
    from addin.build import build_addin

    if output.suffix.lower() != ".xlam":
        fail(f"{output}: expected a .xlam file name")
    build_addin(output)
    typer.echo(f"wrote {output}", err=True)
