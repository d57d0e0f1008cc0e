"""`stmodel`: the command line. A front door onto the engine; it holds no model logic.

Bad input ends with one line on stderr naming what was wrong and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

import engine
from engine.drivers import DriverError, parse_assignment
from engine.report import ReportDataError

app = typer.Typer(
    name="stmodel",
    help="SenseTime (20 HK) model after DBS Group Research's initiation of 13 Jan 2023 (BUY, TP HK$2.70).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)


class Format(StrEnum):
    table = "table"
    json = "json"


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and a non-zero exit: the CLI's answer to bad input."""
    typer.echo(f"stmodel: error: {message}", err=True)
    raise typer.Exit(code)


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="NAME=VALUE",
        help="Override a driver, e.g. --set premium=0.5; a per-year group (smart_auto_growth) sets every "
        "forecast year. Repeat for several. `stmodel drivers` lists the names.",
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table for people, json for programs.")]


ScenarioOption = Annotated[
    str | None,
    typer.Option(
        "--scenario", help="Start from a named scenario: base, bear or bull (illustrative; --set applies after)."
    ),
]


def overrides_from(sets: list[str] | None, scenario: str | None = None) -> list[tuple[str, object]]:
    """Scenario overrides first, then each --set NAME=VALUE; raises DriverError on bad input."""
    from engine.scenarios import scenario as named_scenario

    pairs: list[tuple[str, object]] = []
    if scenario:
        pairs += list(named_scenario(scenario).overrides.items())
    pairs += [parse_assignment(s) for s in sets or []]
    return pairs


def run_with(sets: list[str] | None, scenario: str | None = None) -> engine.Result:
    try:
        return engine.run(overrides_from(sets, scenario))
    except (DriverError, ReportDataError) as e:
        fail(str(e))


def fmt_number(v: Any, decimals: int) -> str:
    """The report's style: thousands separators, parentheses for negatives."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    text = f"{abs(v):,.{decimals}f}"
    return f"({text})" if round(v, decimals) < 0 else text


def _decimals(result: engine.Result, title: str, label: str, column: str) -> int:
    try:
        return result.model.report.table(title).row(label).decimals.get(column, 1)
    except KeyError:
        return 1


@app.command()
def value(sets: SetOption = None, format: FormatOption = Format.table, scenario: ScenarioOption = None) -> None:
    """Target price, rating and the report's tables for the base case or your overrides."""
    result = run_with(sets, scenario)
    if format is Format.json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    v = result.valuation()
    summary = Table(title="Valuation", show_header=False)
    summary.add_column("item")
    summary.add_column("value", justify="right")
    for label, text in (
        ("12-month target price (HK$)", f"{v['target_price']:.2f}"),
        ("  unrounded (HK$)", f"{v['target_price_unrounded']:.4f}"),
        ("Last price (HK$)", f"{v['last_price']:.2f}"),
        ("Upside", fmt_number(v["upside_pct"], 1) + "%"),
        ("Rating", v["rating"]),
        ("Target P/S multiple (x)", f"{v['target_multiple']:.2f}"),
        ("Valuation (US$ m)", fmt_number(v["valuation_usd_m"], 0)),
        *((f"Peer average P/S {k} (x)", f"{x:.2f}") for k, x in v["peer_average_ps"].items()),
    ):
        summary.add_row(label, text)
    out.print(summary)
    for title, rows in result.tables().items():
        if title == engine.PEERS_TITLE:
            columns = list(next(iter(rows.values())).keys())
        else:
            columns = list(result.model.report.table(title).columns)
        table = Table(title=title)
        table.add_column("")
        for c in columns:
            table.add_column(c, justify="right")
        for label, cells in rows.items():
            if title == engine.PEERS_TITLE:
                table.add_row(label, *(fmt_number(cells.get(c), 2) for c in columns))
            else:
                table.add_row(label, *(fmt_number(cells.get(c), _decimals(result, title, label, c)) for c in columns))
        out.print(table)


@app.command()
def drivers(
    format: FormatOption = Format.table,
    kind: Annotated[str | None, typer.Option(help="Only this kind: forecast, market, valuation, peer.")] = None,
) -> None:
    """Every driver: name, unit, meaning and base value."""
    try:
        items = [d for d in engine.drivers().values() if kind is None or d.kind == kind]
    except ReportDataError as e:
        fail(str(e))
    if kind is not None and not items:
        fail(f"--kind {kind!r}: expected forecast, market, valuation or peer")
    if format is Format.json:
        rows = [
            {"name": d.name, "unit": d.unit, "meaning": d.meaning, "base": d.base, "kind": d.kind, "source": d.source}
            for d in items
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Drivers ({len(items)})")
    for col in ("name", "unit", "meaning", "base value"):
        table.add_column(col, justify="right" if col == "base value" else "left")
    for d in items:
        base = d.base if isinstance(d.base, str) else f"{d.base:.6g}"
        table.add_row(d.name, d.unit, d.meaning, base)
    out.print(table)


@app.command()
def errata(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the Markdown here (e.g. docs/errata.md).")
    ] = None,
) -> None:
    """Render the report's inconsistencies (engine/data/errata.toml) as Markdown."""
    try:
        text = engine.render_markdown()
    except ReportDataError as e:
        fail(str(e))
    if output is None:
        typer.echo(text, nl=False)
        return
    write_atomic(output, text.encode())
    typer.echo(f"wrote {output}", err=True)


@app.command()
def reconcile(format: FormatOption = Format.table, show_all: bool = typer.Option(False, "--all")) -> None:
    """Count the report's printed cells the model reproduces (within one unit of the last digit)."""
    from engine.reconcile import check_cells, check_peers

    cells = check_cells()
    peers = check_peers()
    ok = sum(c.ok for c in cells)
    if format is Format.json:
        payload = {
            "cells": len(cells),
            "reproduced": ok,
            "share": ok / len(cells),
            "peer_checks": len(peers),
            "peer_reproduced": sum(c.ok for c in peers),
            "misses": [c.__dict__ | {"ok": c.ok} for c in cells + peers if not c.ok],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    out.print(f"Reproduced {ok} of {len(cells)} printed numeric cells ({ok / len(cells):.1%}) in the five tables")
    out.print(f"Peer table: {sum(c.ok for c in peers)} of {len(peers)} checks")
    table = Table(title="All cells" if show_all else "Cells not reproduced")
    for col in ("table", "row", "column", "printed", "model", "line"):
        table.add_column(col)
    for c in cells + peers:
        if show_all or not c.ok:
            model = c.model if isinstance(c.model, str) else f"{c.model:,.4f}"
            table.add_row(c.table, c.label, c.column, f"{c.printed:,}", model, str(c.line))
    out.print(table)


@app.command()
def build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the workbook.")] = Path(
        "SenseTime_model.xlsx"
    ),
) -> None:
    """Write the model workbook (.xlsx): live native formulas from the engine's line definitions."""
    from workbook.build import BuildError, build_workbook, save_atomic

    if output.suffix.lower() != ".xlsx":
        fail(f"{output}: expected a .xlsx file name")
    try:
        save_atomic(build_workbook(), output)
    except (BuildError, ReportDataError) as e:
        fail(str(e))
    typer.echo(f"wrote {output}", err=True)


@app.command()
def recalc(
    file: Annotated[Path, typer.Argument(help="Workbook to recalculate (.xlsx).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the recalculated copy.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for LibreOffice.")] = 120.0,
) -> None:
    """Recalculate a workbook with headless LibreOffice so that every formula carries its value."""
    from workbook.recalc import RecalcError, recalculate

    try:
        recalculate(file, output, timeout)
    except RecalcError as e:
        fail(str(e))
    typer.echo(f"wrote {output}", err=True)


@app.command()
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
    from workbook.audit import AuditError, summary, to_json
    from workbook.audit import audit as run_audit

    try:
        findings = run_audit(file, recalc=recalc)
    except AuditError as e:
        fail(str(e))
    counts = summary(findings)
    if format is Format.json:
        typer.echo(json.dumps(to_json(findings, file), indent=2))
    else:
        for f in findings:
            out.print(str(f), markup=False, soft_wrap=True)
        out.print(f"{file}: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")
    if counts["error"]:
        raise typer.Exit(1)


@app.command()
def refresh(
    file: Annotated[Path, typer.Argument(help="Model workbook to refresh (.xlsx).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the refreshed workbook here (default: in place).")
    ] = None,
) -> None:
    """Run the engine on the workbook's inputs and write its results to the Engine sheet (values only)."""
    from addin.refresh import RefreshError, refresh_file
    from workbook.build import BuildError

    try:
        v = refresh_file(file, output)
    except (RefreshError, BuildError, ReportDataError) as e:
        fail(str(e))
    typer.echo(
        f"refreshed {output or file}: target price HK${v['target_price']:.2f}, upside {v['upside_pct']:.1f}%, "
        f"{v['rating']}",
        err=True,
    )


@app.command()
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
    from workbook.export import ExportError, ExportRefused, export_analyst_copy

    try:
        findings = export_analyst_copy(file, output, password=password, force=force)
    except ExportRefused as e:
        for f in e.findings:
            if f.severity == "error":
                out.print(str(f), markup=False, soft_wrap=True)
        typer.echo(f"stmodel: error: {e}", err=True)
        raise typer.Exit(1) from None
    except ExportError as e:
        fail(str(e))
    errors = sum(f.severity == "error" for f in findings)
    typer.echo(f"wrote {output} ({errors} audit errors)", err=True)


addin_app = typer.Typer(help="The SenseTime Excel add-in (.xlam).", no_args_is_help=True)
app.add_typer(addin_app, name="addin")


@addin_app.command("build")
def addin_build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the add-in.")] = Path("SenseTime.xlam"),
) -> None:
    """Write SenseTime.xlam: ribbon tab with Refresh forecasts, Audit model, Export analyst copy, and the ST_* UDFs."""
    from addin.build import AddinBuildError, build_addin

    if output.suffix.lower() != ".xlam":
        fail(f"{output}: expected a .xlam file name")
    try:
        build_addin(output)
    except AddinBuildError as e:
        fail(str(e))
    typer.echo(f"wrote {output}", err=True)


@app.command()
def sensitivity(
    rows: Annotated[str, typer.Option("--rows", help="Row axis: NAME=START:STOP:STEP (stop included) or NAME=V1,V2.")],
    cols: Annotated[str, typer.Option("--cols", help="Column axis, same form, e.g. usdcny=6.45:7.05:0.1.")],
    sets: SetOption = None,
    scenario: ScenarioOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Target-price grid (HK$, rounded) over two drivers; each axis must contain the current value."""
    from engine.sensitivity import grid, parse_axis

    try:
        overrides = dict(overrides_from(sets, scenario))
        engine.resolve(overrides)
        row_axis, col_axis = parse_axis(rows, overrides), parse_axis(cols, overrides)
        table = grid(row_axis, col_axis, overrides)
    except (DriverError, ReportDataError) as e:
        fail(str(e))
    if format is Format.json:
        payload = {
            "rows": {"driver": row_axis.driver, "values": list(row_axis.values)},
            "cols": {"driver": col_axis.driver, "values": list(col_axis.values)},
            "target_price": [[float(x) for x in r] for r in table],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    grid_table = Table(title=f"Target price (HK$): {row_axis.driver} down, {col_axis.driver} across")
    grid_table.add_column(f"{row_axis.driver} \\ {col_axis.driver}")
    for v in col_axis.values:
        grid_table.add_column(f"{v:g}", justify="right")
    for v, r in zip(row_axis.values, table, strict=True):
        grid_table.add_row(f"{v:g}", *(f"{x:.2f}" for x in r))
    out.print(grid_table)


@app.command()
def simulate(
    n: Annotated[int, typer.Option("-n", help="Number of scenarios.")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same result.")] = 0,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="Driver distributions (TOML); default engine/data/simulation.toml.")
    ] = None,
    sets: SetOption = None,
    scenario: ScenarioOption = None,
    format: FormatOption = Format.table,
    histogram: Annotated[
        Path | None, typer.Option("--histogram", help="Write a histogram of the target price (PNG).")
    ] = None,
    workbook: Annotated[
        Path | None, typer.Option("--workbook", help="Write the summary into this model workbook (Simulation sheet).")
    ] = None,
) -> None:
    """Monte Carlo: percentiles of the target price and the probability of each rating."""
    from rich.progress import Progress

    from engine.simulate import SpecError, load_spec
    from engine.simulate import simulate as run_simulation

    try:
        overrides = dict(overrides_from(sets, scenario))
        engine.resolve(overrides)
        distributions = load_spec(spec)
        if n >= 200_000:
            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("simulating", total=n)
                result = run_simulation(n, seed, distributions, overrides, lambda k: bar.advance(task, k))
        else:
            result = run_simulation(n, seed, distributions, overrides)
    except (SpecError, DriverError, ReportDataError) as e:
        fail(str(e))
    summary = result.summary()
    if histogram is not None:
        from addin.charts import ChartError, write_histogram

        try:
            write_histogram(result, histogram)
        except ChartError as e:
            fail(str(e))
    if workbook is not None:
        from addin.refresh import RefreshError, write_simulation

        try:
            write_simulation(workbook, summary, spec.name if spec else "engine/data/simulation.toml")
        except RefreshError as e:
            fail(str(e))
    if format is Format.json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"Target price over {n:,} scenarios (seed {seed})")
    table.add_column("")
    table.add_column("HK$", justify="right")
    table.add_row("mean", f"{summary['target_price_mean']:.2f}")
    for k, v in summary["target_price_percentiles"].items():
        table.add_row(k, f"{v:.2f}")
    out.print(table)
    ratings = Table(title="Rating probability")
    ratings.add_column("rating")
    ratings.add_column("probability", justify="right")
    for k, v in summary["rating_probabilities"].items():
        ratings.add_row(k, f"{v:.1%}")
    out.print(ratings)


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then rename: never a half-written file."""
    from workbook.files import WriteError, replacing

    try:
        with replacing(path) as tmp:
            tmp.write_bytes(data)
    except WriteError as e:
        fail(str(e))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("stmodel: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
