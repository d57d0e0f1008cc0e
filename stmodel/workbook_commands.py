"""Commands on model workbooks: build, recalc, audit, refresh, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import Format, FormatOption, fail, out


def build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the workbook.")] = Path(
        "SenseTime_model.xlsx"
    ),
) -> None:
    """Write the model workbook (.xlsx): live native formulas from the engine's line definitions."""
    from workbook.build import build_workbook, save_atomic

    if output.suffix.lower() != ".xlsx":
        fail(f"{output}: expected a .xlsx file name")
    save_atomic(build_workbook(), output)
    typer.echo(f"wrote {output}", err=True)


def recalc(
    file: Annotated[Path, typer.Argument(help="Workbook to recalculate (.xlsx).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the recalculated copy.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for LibreOffice.")] = 120.0,
) -> None:
    """Recalculate a workbook with headless LibreOffice so that every formula carries its value."""
    from workbook.recalc import recalculate

    recalculate(file, output, timeout)
    typer.echo(f"wrote {output}", err=True)


def audit(
    file: Annotated[Path, typer.Argument(help="Workbook to audit (.xlsx).")],
    recalc: Annotated[
        bool, typer.Option("--recalc", help="Recalculate with LibreOffice first (fresh values).")
    ] = False,
    format: FormatOption = Format.table,
) -> None:
    """Find what an edit broke: hardcodes, changed formulas, broken links, errors, failed checks.

    Exit code 0 when there are no errors, 1 when there are, 2 when the file cannot be audited.
    """
    from workbook.audit import audit as run_audit
    from workbook.audit import summary, to_json

    findings = run_audit(file, recalc=recalc)
    counts = summary(findings)
    if format is Format.json:
        typer.echo(json.dumps(to_json(findings, file), indent=2))
    else:
        for f in findings:
            out.print(str(f), markup=False, soft_wrap=True)
        out.print(f"{file}: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")
    if counts["error"]:
        raise typer.Exit(1)


def refresh(
    file: Annotated[Path, typer.Argument(help="Model workbook to refresh (.xlsx).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the refreshed workbook here (default: in place).")
    ] = None,
) -> None:
    """Run the engine on the workbook's inputs and write its results to the Engine sheet (values only)."""
    from workbook.refresh import refresh_file

    v = refresh_file(file, output)
    typer.echo(
        f"refreshed {output or file}: target price HK${v['target_price']:.2f}, upside {v['upside_pct']:.1f}%, "
        f"{v['rating']}",
        err=True,
    )


def export(
    file: Annotated[Path, typer.Argument(help="Model workbook to export (.xlsx).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the analyst copy (.xlsx).")],
    password: Annotated[
        str | None, typer.Option(help="Protect the sheets with this password (default: protected, no password).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Write the copy even if its audit finds errors.")] = False,
) -> None:
    """Write the analyst copy: native formulas only, no add-in, no macros, cached values, inputs unlocked.

    The copy is audited before it is written; with audit errors it is refused (exit code 1) unless --force.
    """
    from workbook.export import ExportRefused, export_analyst_copy

    try:
        findings = export_analyst_copy(file, output, password=password, force=force)
    except ExportRefused as e:
        for f in e.findings:
            if f.severity == "error":
                out.print(str(f), markup=False, soft_wrap=True)
        typer.echo(f"stmodel: error: {e} (use --force to write it)", err=True)
        raise typer.Exit(1) from None
    errors = sum(f.severity == "error" for f in findings)
    typer.echo(f"wrote {output} ({errors} audit errors)", err=True)
