"""Commands on model workbooks: build, recalc, audit, refresh, export, pdf.

What each may write, and how (never over its input, an existing output only with --overwrite, modes,
links and macros kept, one writer at a time): docs/files.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

import engine

from .app import (
    Basis,
    BasisOption,
    Format,
    FormatOption,
    ModelOption,
    OverwriteOption,
    fail,
    load_model_file,
    out,
    warn,
    working,
)


def build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the workbook.")] = Path(
        "SenseTime_model.xlsx"
    ),
    overwrite: OverwriteOption = False,
    basis: BasisOption = None,
    model: ModelOption = None,
) -> None:
    """Write the model workbook (.xlsx): live native formulas from the engine's line definitions.

    The same model gives the same bytes (timestamps fixed: SOURCE_DATE_EPOCH, else the report's date).
    --basis clean types "clean" into the workbook's `basis` input (Assumptions), which an analyst can switch back.
    --model writes your model file into the workbook: its drivers into Assumptions, its actuals into the
    Actuals sheet (years with actuals headed 2022A), and a Variance sheet (docs/actuals.md).
    """
    from engine.files import check_target
    from workbook.build import build_timestamp, build_workbook, save_atomic

    if output.suffix.lower() != ".xlsx":
        fail(f"{output}: expected a .xlsx file name")
    mf = load_model_file(model)
    check_target(output, overwrite=overwrite, inputs=(model,) if model is not None else ())
    if mf is not None:  # restated figures, a balance sheet of actuals that does not balance
        warn([*mf.warnings, *engine.run(model_file=mf).warnings()])
    book = build_workbook(model_file=mf)
    if basis is not None and basis is not Basis.printed:
        _set_named_input(book, "basis", str(basis))
    save_atomic(book, output, overwrite=overwrite, timestamp=build_timestamp())
    typer.echo(f"wrote {output}", err=True)


def _set_named_input(book: Any, name: str, value: str) -> None:
    """Type `value` into the one cell the defined name `name` points at."""
    defined = book.defined_names.get(name)
    destinations = list(defined.destinations) if defined is not None else []
    if len(destinations) != 1:
        fail(f"the workbook has no input cell named '{name}'")
    sheet, ref = destinations[0]
    book[sheet][ref.replace("$", "")].value = value


def recalc(
    file: Annotated[Path, typer.Argument(help="Workbook to recalculate (.xlsx).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the recalculated copy.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for LibreOffice.")] = 120.0,
    overwrite: OverwriteOption = False,
) -> None:
    """Recalculate a workbook with headless LibreOffice so that every formula carries its value."""
    from workbook.audit import check_model_file
    from workbook.recalc import recalculate

    if not timeout > 0:
        fail(f"--timeout {timeout:g}: expected seconds above 0")
    check_model_file(file)  # the model, or one line and exit 2, before LibreOffice starts
    with working(f"recalculating {file.name} with LibreOffice"):
        recalculate(file, output, timeout, overwrite=overwrite)
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

    with working(f"auditing {file.name}" + (" (recalculating with LibreOffice)" if recalc else "")):
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
    overwrite: OverwriteOption = False,
    model: ModelOption = None,
) -> None:
    """Run the engine on the workbook's inputs and write its results to the Engine sheet (values only).

    The basis is the workbook's own `basis` input (Assumptions), so this command takes no --basis.
    In place (its purpose) the workbook keeps its mode, links and macros; it is locked while refreshed.
    --model first writes your model file into the workbook (drivers into Assumptions, actuals into the
    Actuals sheet), then refreshes (docs/actuals.md).
    """
    from workbook.refresh import refresh_file

    mf = load_model_file(model)
    shown: list[str] = []
    if mf is not None:
        shown = [*mf.warnings, *engine.run(model_file=mf).warnings()]
        warn(shown)
        v = refresh_file(file, output, overwrite=overwrite, model_file=mf)
    else:
        v = refresh_file(file, output, overwrite=overwrite)
    # the workbook's own: implausible inputs, negative balances, actual years that do not balance
    warn([w for w in v.get("warnings", []) if w not in shown])
    if v.get("replaced"):  # --model: the inputs the model file wrote over, so none changes unseen
        typer.echo(f"{model} replaced {len(v['replaced'])} input(s): {'; '.join(v['replaced'])}", err=True)
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
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write the copy even if its audit finds errors (an existing file needs --overwrite)."
        ),
    ] = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Write the analyst copy: native formulas only, no add-in, no macros, cached values, inputs unlocked.

    The copy is audited before it is written; with audit errors it is refused (exit code 1) unless --force.
    """
    from workbook.export import ExportRefused, export_analyst_copy

    try:
        with working(f"exporting {file.name} (recalculating with LibreOffice)"):
            exported = export_analyst_copy(file, output, password=password, force=force, overwrite=overwrite)
    except ExportRefused as e:
        for f in e.findings:
            if f.severity == "error":
                out.print(str(f), markup=False, soft_wrap=True)
        typer.echo(f"stmodel: error: {e} (use --force to write it)", err=True)
        raise typer.Exit(1) from None
    for what in exported.removed:  # macros and formulas that reach outside the workbook: never in a copy
        typer.echo(f"removed {what}", err=True)
    errors = sum(f.severity == "error" for f in exported.findings)
    typer.echo(f"wrote {output} ({errors} audit errors)", err=True)


def pdf(
    file: Annotated[Path, typer.Argument(help="Workbook to print (.xlsx).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the PDF (default: FILE with .pdf).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for LibreOffice.")] = 120.0,
    overwrite: OverwriteOption = False,
) -> None:
    """Print the workbook to PDF with headless LibreOffice, every sheet as its page setup says.

    A4 landscape, each sheet one page wide, the company, sheet and page number in the margins.
    Formulas are recalculated first; the PDF appears whole or not at all (docs/workbook.md, "Printing").
    """
    from workbook.audit import check_model_file
    from workbook.recalc import print_pdf

    target = output if output is not None else file.with_suffix(".pdf")
    if target.suffix.lower() != ".pdf":
        fail(f"{target}: expected a .pdf file name")
    if not timeout > 0:
        fail(f"--timeout {timeout:g}: expected seconds above 0")
    check_model_file(file)  # the model, or one line and exit 2, before LibreOffice starts
    with working(f"printing {file.name} to PDF with LibreOffice"):
        print_pdf(file, target, timeout, overwrite=overwrite)
    typer.echo(f"wrote {target}", err=True)
