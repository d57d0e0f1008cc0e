"""Commands that move a model file forward in time: more forecast years, and market data with a date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import engine
from engine import market as market_data
from engine.errors import StmodelError
from engine.files import updating
from engine.years import YearError, year_number

from .actuals_commands import ModelRequired, read_rows
from .app import fail, load_model_file, warn


def extend(
    to: Annotated[str, typer.Option("--to", metavar="YEAR", help="The last forecast year: 2026 (or 2026F).")],
    model: ModelRequired,
) -> None:
    """Add forecast years to your model file, up to --to.

    Each new year's per-year drivers are written to the file's drivers table, where you can change them:
    each starts from the last forecast year's value, except the segments' growth rates, which fade in
    a straight line to terminal_growth (set it in the drivers table first to choose the rate). Every table, the
    JSON and a workbook built with --model carry the new years. A year that is not after the last
    column is refused: extend never shortens a model.
    """
    try:
        year = year_number(to, "--to")
    except YearError as e:
        fail(str(e))
    load_model_file(model)  # one line if it is missing or bad
    with updating(model) as since:
        mf = load_model_file(model)
        added = mf.extend(year)
        result = checked_run(mf, model)  # the extended model runs, or the file stays as it was
        mf.save(model, since=since)
    typer.echo(f"{model}: added {', '.join(added)}; forecast now {mf.years.forecast[0]}-{mf.years.forecast[-1]}")
    terminal = result.drivers["terminal_growth"]
    typer.echo(f"segment growth fading to terminal_growth = {terminal:g}:")
    for d in engine.drivers(None, mf.years).values():
        if d.fades and d.column == added[-1]:
            steps = [f"{result.drivers[f'{d.group}_{c}']:.1%}" for c in (mf.years.forecast[-len(added) - 1], *added)]
            typer.echo(f"  {d.group:<24} {' -> '.join(steps)}")
    typer.echo(f"revenue {added[-1]}: {result.value('revenue', added[-1]):,.0f} RMB m")
    warn([*mf.warnings, *result.warnings()])


def checked_run(mf: engine.ModelFile, path: Path) -> engine.Result:
    """The model file, as changed in memory, run; one line and exit 2 (the file on disk unchanged) when
    it gives no usable result."""
    try:
        return engine.run(model_file=mf)
    except StmodelError as e:
        fail(f"{e}; {path} unchanged")


def _is_header(name: str, value: str) -> bool:
    return name.strip().lower() in ("field", "name") and value.strip().lower() in ("value", "values")


def market(
    file: Annotated[Path, typer.Argument(help="CSV of field,value: as_of, last_price, usdcny, hkdusd, <peer>_price.")],
    model: ModelRequired,
) -> None:
    """Write market data (prices and exchange rates with their date) into your model file's market table.

    The CSV has one `field,value` row per field (a `field,value` header is allowed): as_of (an ISO date,
    2024-03-28), last_price (HK$), usdcny, hkdusd and each peer's price in its own currency
    (`stmodel drivers --kind peer` lists them). A field the CSV leaves out keeps its earlier value.
    Prints the target price, upside and rating before and after. An unknown field, a price of zero or
    below, or a date before the end of the model's last actual year is one line and exit code 2, with
    the model file unchanged.
    """
    load_model_file(model)
    rows = read_rows(file, "field", _is_header)
    data: dict[str, str] = {}
    allowed = market_data.fields()
    for row in rows:
        name = row.name.strip()
        if name not in allowed:
            known = ", ".join(allowed)
            fail(f"{file} line {row.line}: unknown field {name!r}; the fields are {known}; {model} unchanged")
        if name in data:
            fail(f"{file} line {row.line}: {name} is given twice; give it once")
        data[name] = row.value
    with updating(model) as since:
        mf = load_model_file(model)
        before = engine.run(model_file=mf)
        old = mf.market
        try:
            mf.set_market(data, str(file))
        except market_data.MarketError as e:
            fail(f"{e}; {model} unchanged")
        after = checked_run(mf, model)
        mf.save(model, since=since)
    typer.echo(f"{model}: market data as of {mf.as_of} from {file}")
    for name in market_data.fields():
        if name in data and name != market_data.AS_OF:
            was = old.get(name, before.drivers[name])
            typer.echo(f"  {name:<20} {after.drivers[name]:>12,.6g}   (was {was:,.6g})")
    if kept := [n for n in market_data.fields() if n not in data and n != market_data.AS_OF]:
        typer.echo(f"  kept as before: {', '.join(kept)}")
    b, a = before.valuation(), after.valuation()
    typer.echo(
        f"target price HK${a['target_price']:.2f} (was {b['target_price']:.2f}), upside {a['upside_pct']:.1f}%"
        f" (was {b['upside_pct']:.1f}%), rating {a['rating']} (was {b['rating']})"
    )
    warn([*mf.warnings, *after.warnings()])
