"""Commands over many driver sets: sensitivity grids and Monte Carlo simulation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import engine
from engine.simulate import MAX_SCENARIOS

from .app import (
    BasisOption,
    Format,
    FormatOption,
    ModelOption,
    OverwriteOption,
    ScenarioOption,
    SetOption,
    json_text,
    load_model_file,
    out,
    overrides_from,
    warn,
    working,
)


def model_of(mf: engine.ModelFile | None, overrides: dict[str, object]) -> engine.Model:
    """The compiled model a scenario command runs: the model file's (its years and actuals), with the
    peer sales years the overrides name (`--set palantir_sales_FY2025E=...`)."""
    from engine.result import with_peer_sales

    return with_peer_sales(mf.compiled() if mf else engine.compile_model(), list(overrides))


def sensitivity(
    rows: Annotated[str, typer.Option("--rows", help="Row axis: NAME=START:STOP:STEP (stop included) or NAME=V1,V2.")],
    cols: Annotated[str, typer.Option("--cols", help="Column axis, same form, e.g. usdcny=6.45:7.05:0.1.")],
    sets: SetOption = None,
    scenario: ScenarioOption = None,
    format: FormatOption = Format.table,
    basis: BasisOption = None,
    model: ModelOption = None,
) -> None:
    """Target-price grid (HK$, rounded) over two drivers; each axis must contain the current value.

    The fixed drivers (--model, --set, --scenario, --basis) outside their plausible range print a warning
    on stderr. With --model the grid runs on the file's drivers and actuals (later years grow from them).
    """
    from engine.sensitivity import grid, parse_axis

    mf = load_model_file(model)
    overrides = dict([*(mf.overrides() if mf else []), *overrides_from(sets, scenario, basis)])
    compiled = model_of(mf, overrides)
    warn([*(mf.warnings if mf else []), *engine.run(overrides, model=compiled).warnings()])
    row_axis, col_axis = parse_axis(rows, overrides, compiled.years), parse_axis(cols, overrides, compiled.years)
    with working(f"{len(row_axis.values) * len(col_axis.values):,} target prices"):
        table = grid(row_axis, col_axis, overrides, model=compiled)
    if format is Format.json:
        payload = {
            "rows": {"driver": row_axis.driver, "values": list(row_axis.values)},
            "cols": {"driver": col_axis.driver, "values": list(col_axis.values)},
            "target_price": [[float(x) for x in r] for r in table],
        }
        typer.echo(json_text(payload))
        return
    grid_table = Table(title=f"Target price (HK$): {row_axis.driver} down, {col_axis.driver} across")
    grid_table.add_column(f"{row_axis.driver} \\ {col_axis.driver}")
    for v in col_axis.values:
        grid_table.add_column(f"{v:g}", justify="right")
    for v, r in zip(row_axis.values, table, strict=True):
        grid_table.add_row(f"{v:g}", *(f"{x:.2f}" for x in r))
    out.print(grid_table)


def simulate(
    n: Annotated[int, typer.Option("-n", help=f"Number of scenarios (1 to {MAX_SCENARIOS:,}).")] = 100_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed, 0 or more: the same seed gives the same result.")
    ] = 0,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="Driver distributions (TOML); default engine/data/simulation.toml.")
    ] = None,
    sets: SetOption = None,
    scenario: ScenarioOption = None,
    format: FormatOption = Format.table,
    basis: BasisOption = None,
    histogram: Annotated[
        Path | None, typer.Option("--histogram", help="Write a histogram of the target price (PNG).")
    ] = None,
    workbook: Annotated[
        Path | None, typer.Option("--workbook", help="Write the summary into this model workbook (Simulation sheet).")
    ] = None,
    overwrite: OverwriteOption = False,
    model: ModelOption = None,
) -> None:
    """Monte Carlo: percentiles of the target price and the probability of each rating.

    With --model the scenarios start from the file's drivers and actuals (the spec's drivers are drawn over them).
    """
    from rich.progress import Progress

    from engine.files import check_target
    from engine.simulate import load_spec
    from engine.simulate import simulate as run_simulation

    if histogram is not None:  # before the simulation runs
        check_target(histogram, [p for p in (spec, workbook) if p is not None], overwrite)

    if workbook is not None:  # the model, or one line and exit 2, before the simulation runs
        from workbook.audit import check_model_file

        check_model_file(workbook)
    mf = load_model_file(model)
    overrides = dict([*(mf.overrides() if mf else []), *overrides_from(sets, scenario, basis)])
    compiled = model_of(mf, overrides)
    # the fixed drivers give a usable result before any scenario is drawn
    warn([*(mf.warnings if mf else []), *engine.run(overrides, model=compiled).warnings()])
    distributions = load_spec(spec, compiled.years)
    if n >= 200_000:
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("simulating", total=n)
            result = run_simulation(n, seed, distributions, overrides, lambda k: bar.advance(task, k), model=compiled)
    else:
        result = run_simulation(n, seed, distributions, overrides, model=compiled)
    summary = result.summary()
    if histogram is not None:
        from workbook.charts import write_histogram

        write_histogram(result, histogram, overwrite=overwrite)
    if workbook is not None:
        from workbook.simulation import write_simulation

        write_simulation(workbook, summary, spec.name if spec else "engine/data/simulation.toml")
    if format is Format.json:
        typer.echo(json_text(summary))
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
