"""What `stmodel value` shows: a page an analyst reads at once, the full tables on request, and the
same figures as tidy CSV rows for another tool. Presentation only: every number comes from a Result."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

import engine
from engine.drivers import parse_number
from engine.tables import PEERS_TITLE, TABLE_TITLES, table_columns

from .app import fmt_number

# Page one's key forecasts (printed label of "Forecasts and Valuation" -> how the page shows it).
KEY_FORECASTS = {
    "Turnover": "Turnover (RMB m)",
    "EBITDA": "EBITDA (RMB m)",
    "Net Profit": "Net profit (RMB m)",
    "Net Pft (Pre Ex) (core profit)": "Core profit (RMB m)",
    "EPS (HK$)": "EPS (HK$)",
    "P/S (X)": "P/S (x)",
    "BV Per Share (HK$)": "BVPS (HK$)",
    "P/Book Value (X)": "P/B (x)",
    "Net Debt/Equity (X)": "Net debt/equity (x)",
}
PAGE_TITLE = "Forecasts and Valuation"
# Short names a --tables value may give for a table (the titles work too).
SHORT_NAMES = {
    "forecasts": "Forecasts and Valuation",
    "segments": "Segmental Breakdown",
    "income": "Income Statement",
    "balance": "Balance Sheet",
    "cash-flow": "Cash Flow Statement",
    "peers": PEERS_TITLE,
}


def table_titles(text: str) -> list[str]:
    """The tables a --tables value names: "all", or titles / short names separated by commas."""
    every = [*TABLE_TITLES, PEERS_TITLE]
    if text.strip().lower() == "all":
        return every
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        title = SHORT_NAMES.get(part.lower()) or next((t for t in every if t.lower() == part.lower()), None)
        if title is None:
            names = ", ".join(["all", *SHORT_NAMES])
            raise engine.DriverError(f"--tables {part!r}: expected {names} or a table's title")
        out.append(title)
    return out


def _decimals(result: engine.Result, title: str, label: str, column: str) -> int:
    """The decimals the report prints a cell with; an added year takes its last printed year's."""
    try:
        printed = result.model.report.table(title)
        return printed.row(label).decimals.get(column, printed.row(label).decimals.get(printed.columns[-1], 1))
    except KeyError:
        return 1


def headline(result: engine.Result) -> Table:
    """Target price, upside, rating, the multiple and what it stands on."""
    v = result.valuation()
    year = v["target_year"]
    table = Table(title="SenseTime (20 HK): valuation", show_header=False, box=box.SIMPLE, pad_edge=False)
    table.add_column("item")
    table.add_column("value", justify="right")
    ps = [x for c, x in v["peer_average_ps"].items() if c[2:6] == str(year)]
    for label, text in (
        ("12-month target price (HK$)", f"{v['target_price']:.2f}"),
        ("  unrounded (HK$)", f"{v['target_price_unrounded']:.4f}"),
        ("Last price (HK$)", f"{v['last_price']:.2f}"),
        ("Market data as of", v["as_of"]),
        ("Upside", fmt_number(v["upside_pct"], 1) + "%"),
        ("Rating", v["rating"]),
        (f"Peer average P/S FY{year} (x)", f"{ps[0]:.2f}" if ps else ""),
        ("Target P/S multiple (x)", f"{v['target_multiple']:.2f}"),
        (f"Revenue FY{year} (RMB m)", fmt_number(float(result.raw("target_revenue")), 0)),
        ("Valuation (US$ m)", fmt_number(v["valuation_usd_m"], 0)),
    ):
        table.add_row(label, text)
    return table


def key_forecasts(result: engine.Result) -> Table:
    """Page one's key lines from the last reported year to the last forecast year."""
    model = result.model
    columns = list(table_columns(model, PAGE_TITLE))
    last_reported = max(i for i, c in enumerate(columns) if c.endswith("A") or c in model.actual_columns)
    columns = columns[max(0, min(last_reported, len(columns) - 6)) :]  # six years fit 80 columns
    rows = result.tables()[PAGE_TITLE]
    table = Table(title="Key forecasts", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("FY Dec", ratio=1)
    for c in columns:
        table.add_column(model.column_label(c), justify="right", no_wrap=True)
    for label, shown in KEY_FORECASTS.items():
        cells = rows.get(label, {})
        numbers = (
            fmt_number(cells.get(model.column_label(c)), _decimals(result, PAGE_TITLE, label, c)) for c in columns
        )
        table.add_row(shown, *numbers)
    return table


def peer_ps(result: engine.Result) -> Table:
    """The peers' P/S by year and their average: what the target multiple stands on."""
    peers = result.tables()[PEERS_TITLE]
    columns = [c for c in peers["Average"]]
    table = Table(title="Peers' P/S (x)", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Company", ratio=1)
    for c in columns:
        table.add_column(c.removeprefix("P/S "), justify="right", no_wrap=True)
    for name, row in peers.items():
        table.add_row(name, *(fmt_number(row.get(c), 1) for c in columns))
    return table


def full_table(result: engine.Result, title: str) -> Table:
    """One of the report's tables in full, as printed."""
    rows = result.tables()[title]
    model = result.model
    peers = title == PEERS_TITLE
    columns = list(next(iter(rows.values())).keys()) if peers else list(table_columns(model, title))
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", ratio=1)
    for c in columns:
        table.add_column(c if peers else model.column_label(c), justify="right")
    for label, cells in rows.items():
        if peers:
            table.add_row(label, *(fmt_number(cells.get(c), 2) for c in columns))
        else:  # cells keyed as headed (2022A with actuals), decimals by the column's name
            numbers = (
                fmt_number(cells.get(model.column_label(c)), _decimals(result, title, label, c)) for c in columns
            )
            table.add_row(label, *numbers)
    return table


def print_page(out: Console, result: engine.Result, titles: list[str]) -> None:
    """The page (headline, key forecasts, peers' P/S), or the tables `titles` names."""
    if titles:
        out.print(headline(result))
        for title in titles:
            out.print(full_table(result, title))
        return
    for table in (headline(result), key_forecasts(result), peer_ps(result)):
        out.print(table)
    out.print("Full tables: --tables all, or forecasts/segments/income/balance/cash-flow/peers")


def tidy_csv(result: engine.Result, titles: list[str]) -> str:
    """The valuation and the tables as rows of table, line, year, value (a peer's figure: line
    "Company: measure", year the report's column, FY2024E)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "line", "year", "value"])
    for key, value in result.valuation().items():
        if isinstance(value, dict):
            for column, x in value.items():
                writer.writerow(["Valuation", key, column, _cell(x)])
        else:
            writer.writerow(["Valuation", key, "", _cell(value)])
    tables = result.tables()
    for title in titles or [*TABLE_TITLES, PEERS_TITLE]:
        for line, cells in tables[title].items():
            for column, x in cells.items():
                if title == PEERS_TITLE:
                    measure, _, year = (
                        column.rpartition(" ") if column.startswith(("Sales", "P/S")) else (column, "", "")
                    )
                    writer.writerow([title, f"{line}: {measure}", year, _cell(x)])
                else:
                    writer.writerow([title, line, column, _cell(x)])
    return buffer.getvalue()


def _typed(value: object) -> object:
    """An override as given on the command line, a number where it is one."""
    number = parse_number(value) if isinstance(value, str) else None
    return number if number is not None else value


def _cell(x: Any) -> str:
    return repr(x) if isinstance(x, float) else str(x)


def echo(result: engine.Result, overrides: list[tuple[str, object]], scenario: str | None, model_file: Any) -> dict:
    """What produced a result: the overrides, scenario, basis, model file and its market date, the
    version; `stmodel value --format json` puts it beside the figures."""
    return {
        "version": engine.__version__,
        "overrides": {name: _typed(value) for name, value in overrides},
        "scenario": scenario,
        "basis": result.drivers["basis"],
        "model_file": str(model_file.path) if model_file is not None and model_file.path else None,
        "as_of": result.market_as_of,
        "target_year": int(float(result.drivers["target_year"])),
    }
