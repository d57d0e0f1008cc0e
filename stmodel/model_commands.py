"""Commands that evaluate the model: value, drivers, errata, reconcile."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

import engine
from engine.drivers import KINDS, expand

from .app import (
    BasisOption,
    Format,
    FormatOption,
    ModelOption,
    OverwriteOption,
    ScenarioOption,
    SetOption,
    fail,
    json_text,
    load_model_file,
    out,
    overrides_from,
    run_with,
    warn,
    write_atomic,
)
from .views import echo, print_page, table_titles, tidy_csv


class ValueFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def value(
    sets: SetOption = None,
    format: Annotated[
        ValueFormat,
        typer.Option("--format", "-f", help="table for people; json (with what produced it) or csv (tidy rows)."),
    ] = ValueFormat.table,
    tables: Annotated[
        str,
        typer.Option(
            "--tables",
            metavar="NAMES",
            help="The full tables to show: all, or forecasts, segments, income, balance, cash-flow, peers "
            "(comma-separated); default: one page of the headline, key forecasts and the peers' P/S. "
            "With --format csv: the tables to write (default all).",
        ),
    ] = "",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the json or csv here instead of stdout.")
    ] = None,
    overwrite: OverwriteOption = False,
    scenario: ScenarioOption = None,
    basis: BasisOption = None,
    model: ModelOption = None,
) -> None:
    """Target price, rating, key forecasts and the peers' P/S for the base case, your model file or your
    overrides; --tables all for every table of the report.

    A value outside its driver's plausible range, or cash below zero, prints a warning on stderr
    (exit code 0); a value outside its hard bounds is an error (exit code 2). With --model, a year
    holding actuals is headed 2022A and its lines take the reported figures (docs/actuals.md).
    --format json adds what produced the figures (overrides, scenario, basis, model file, market
    date, version); --format csv gives one row per figure: table, line, year, value.
    """
    titles = table_titles(tables)
    if output is not None and format is ValueFormat.table:
        fail("--output writes json or csv: add --format json or --format csv")
    mf = load_model_file(model)
    pairs = overrides_from(sets, scenario, basis)
    result = run_with(pairs, mf)
    if format is ValueFormat.table:
        print_page(out, result, titles)
        return
    if format is ValueFormat.json:
        text = json_text({"inputs": echo(result, pairs, scenario, mf), **result.to_json()}) + "\n"
    else:
        text = tidy_csv(result, titles)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(output, text.encode(), overwrite=overwrite, inputs=tuple(p for p in (model,) if p))
        typer.echo(f"wrote {output}", err=True)


def driver_record(d: engine.Driver) -> dict[str, object]:
    """One driver as `stmodel drivers --format json` gives it."""
    low_exclusive = bool(d.positive or d.above is not None) and d.bounds is not None and d.bounds[0] != d.minimum
    return {
        "name": d.name,
        "group": d.group,
        "year": d.column,
        "unit": d.unit,
        "meaning": d.meaning,
        "base": d.base,
        "bounds": list(d.bounds) if d.bounds is not None else None,
        "low_exclusive": low_exclusive if d.bounds is not None else None,
        "choices": list(d.choices) or None,
        "plausible": list(d.plausible) if d.plausible is not None else None,
        "kind": d.kind,
        "source": d.source,
        "posts": list(d.posts),
    }


def drivers(
    format: FormatOption = Format.table,
    kind: Annotated[str | None, typer.Option(help=f"Only this kind: {', '.join(KINDS[:-1])} or {KINDS[-1]}.")] = None,
    model: ModelOption = None,
) -> None:
    """Every driver: name, unit, base value and meaning; --format json adds year, hard bounds, plausible
    range, kind, source and the lines it posts to.

    Base values are the same on either basis (they are implied from the printed figures), so this
    command takes no --basis. With --model, a "model" column (json: "value" and "set") gives each
    driver's value in your model file, blank where the file leaves it at the base value.
    """
    mf = load_model_file(model)
    years = mf.years if mf is not None else None
    items = [d for d in engine.drivers(None, years).values() if kind is None or d.kind == kind]
    if kind is not None and not items:
        fail(f"--kind {kind!r}: expected {', '.join(KINDS[:-1])} or {KINDS[-1]}")
    if mf is not None:
        warn(mf.warnings)
        values = dict(engine.resolve(mf.overrides(), None, years))
        given = {d.name for name, _ in mf.overrides() for d in expand(name, None, years)}
    if format is Format.json:
        records = [driver_record(d) for d in items]
        if mf is not None:
            for record in records:
                record["value"] = values[str(record["name"])]
                record["set"] = record["name"] in given
        typer.echo(json_text(records))
        return
    # Fits 80 columns: names in full, no vertical rules, the meaning wrapped in what is left.
    table = Table(title=f"Drivers ({len(items)})", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("name", no_wrap=True)
    if mf is None:
        table.add_column("unit", max_width=11)
    table.add_column("base", justify="right", no_wrap=True)
    if mf is not None:  # the file's values in place of the unit, so that the meaning keeps its room
        table.add_column("model", justify="right", no_wrap=True)
        table.caption = f"model: the value {mf.where} sets (blank: the base value); units: --format json"
    table.add_column("meaning", ratio=1, min_width=20)
    for d in items:
        base = d.base if isinstance(d.base, str) else f"{d.base:.4g}" if d.base == d.base else "-"
        if mf is None:
            table.add_row(d.name, d.unit, base, d.meaning)
            continue
        mine = values[d.name]
        shown = "" if d.name not in given else mine if isinstance(mine, str) else f"{mine:.4g}"
        table.add_row(d.name, base, shown, d.meaning)
    out.print(table)


def errata(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the Markdown here (e.g. docs/errata.md).")
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Render the report's inconsistencies (engine/data/errata.toml) as Markdown."""
    from engine.errata import ERRATA_FILE

    text = engine.render_markdown()
    if output is None:
        typer.echo(text, nl=False)
        return
    write_atomic(output, text.encode(), overwrite=overwrite, inputs=(ERRATA_FILE,))
    typer.echo(f"wrote {output}", err=True)


def reconcile(
    format: FormatOption = Format.table,
    show_all: bool = typer.Option(False, "--all"),
    model: ModelOption = None,
) -> None:
    """Count the report's printed cells the model reproduces (within one unit of the last digit).

    Always on the printed basis (no --basis): the cells compared are the report's, and the clean
    basis sets aside, on purpose, the adjustments that carry the report's own inconsistencies.
    Always the report's model, too: with --model the file is checked but its drivers and actuals are
    not used (a note on stderr says so); `stmodel variance --model FILE` compares actuals with the report.
    """
    from engine.reconcile import check_cells, check_peers

    mf = load_model_file(model)
    if mf is not None:
        warn(mf.warnings)
        typer.echo(
            f"note: reconcile compares the report's printed cells with the report's model; the drivers and"
            f" actuals of {mf.where} are not used (stmodel variance --model {mf.where} compares its actuals"
            " with the report)",
            err=True,
        )

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
        typer.echo(json_text(payload))
        return
    out.print(f"Reproduced {ok} of {len(cells)} printed numeric cells ({ok / len(cells):.1%}) in the five tables")
    out.print(f"Peer table: {sum(c.ok for c in peers)} of {len(peers)} checks")
    table = Table(title="All cells" if show_all else "Cells not reproduced")
    for col in ("table", "row", "column", "printed", "model", "line"):
        table.add_column(col)
    for c in cells + peers:
        if show_all or not c.ok:
            figure = c.model if isinstance(c.model, str) else f"{c.model:,.4f}"
            table.add_row(c.table, c.label, c.column, f"{c.printed:,}", figure, str(c.line))
    out.print(table)
