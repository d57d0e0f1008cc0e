"""The report's tables, laid out from a model result: the presentation layer.

Rows follow the printed tables of `engine/data/report.toml` in order and with their labels, so the
model's tables can be held next to the report. Percent lines are stored as fractions in the model
and shown as the report prints them (13.9 for 13.9%). pandas appears only here, imported when a
DataFrame is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from .expr import Env, Value
from .model import Model
from .report import PrintedTable, ReportData

if TYPE_CHECKING:
    import pandas as pd

TABLE_TITLES = (
    "Forecasts and Valuation",
    "Segmental Breakdown",
    "Income Statement",
    "Balance Sheet",
    "Cash Flow Statement",
)
PEERS_TITLE = "Valuation & Peers comparison"

# Printed labels that differ from the line's own label: (table, printed label) -> line key.
ALIASES: dict[tuple[str, str], str] = {
    ("Forecasts and Valuation", "Turnover"): "revenue",
    ("Forecasts and Valuation", "Pre-tax Profit"): "pbt",
    ("Forecasts and Valuation", "Net Pft (Pre Ex) (core profit)"): "net_profit_pre_ex",
    ("Segmental Breakdown", "Total"): "revenue",
    ("Cash Flow Statement", "Pre-Tax Profit"): "cf_pbt",
}


@dataclass(frozen=True)
class TableRow:
    label: str
    key: str | None  # None for a section heading
    section: str | None


def _line_key(model: Model, table: str, label: str) -> str:
    if (table, label) in ALIASES:
        return ALIASES[(table, label)]
    matches = [k for k, line in model.lines.items() if line.label == label and line.by_year]
    if len(matches) != 1:
        raise ValueError(f"{table}: printed row '{label}' matches {len(matches)} model lines")
    return matches[0]


@cache
def table_rows(model: Model, title: str) -> tuple[TableRow, ...]:
    """The rows of a report table, each with the model line that fills it."""
    printed: PrintedTable = model.report.table(title)
    rows: list[TableRow] = []
    section = None
    for r in printed.rows:
        if r.section != section and r.section is not None:
            rows.append(TableRow(r.section, None, None))
        section = r.section
        rows.append(TableRow(r.label, _line_key(model, title, r.label), r.section))
    return tuple(rows)


def display(model: Model, key: str, value: Value | None) -> float | str | None:
    """A model value as the report prints it: percent lines x 100, text as text, NaN as blank."""
    if isinstance(value, np.ndarray):
        if value.ndim and value.size != 1:
            raise ValueError(f"{key}: display() takes one scenario, got {value.shape}")
        value = value.reshape(()).item() if value.ndim else value.item()
    if isinstance(value, str):
        return value if value != "" else None
    if value is None:
        return None
    number = float(value)
    if not np.isfinite(number):
        return None
    number = number * 100 if model.lines[key].unit == "%" else number
    return number + 0.0  # no negative zero in a table


def table_columns(model: Model, title: str) -> tuple[str, ...]:
    """The columns of a report table in this model: the printed ones, then the years an analyst added."""
    printed = model.report.table(title).columns
    return (*printed, *(c for c in model.years.added if c not in printed))


def table_dict(model: Model, env: Env, title: str) -> dict[str, dict[str, float | str]]:
    """{row label: {column: value}} for one report table, blanks and headings left out."""
    out: dict[str, dict[str, float | str]] = {}
    for row in table_rows(model, title):
        if row.key is None:
            continue
        cells = {}
        for col in table_columns(model, title):
            v = display(model, row.key, env.get((row.key, col)))
            if v is not None:
                cells[model.column_label(col)] = v
        out[row.label] = cells
    return out


def peers_dict(model: Model, env: Env) -> dict[str, dict[str, float | str]]:
    """The peer table as the model computes it: live prices, market caps (price x shares) and sales."""
    report: ReportData = model.report
    sales, ps_columns = model.sales_columns, model.ps_columns
    out: dict[str, dict[str, float | str]] = {}
    for p in report.peers:
        row: dict[str, float | str] = {
            "Ticker": p.ticker,
            "Price (Local)": float(env[(f"{p.key}_price_local", None)]),
            "Price (USD)": float(env[(f"{p.key}_price_usd", None)]),
            "Mkt cap (USD mn)": float(env[(f"{p.key}_mkt_cap_usd", None)]),
        }
        for col in sales[p.key]:
            row[f"Sales {col}"] = float(env[(f"{p.key}_sales_{col}", None)])
        for col in ps_columns:
            row[f"P/S {col}"] = float(env[(f"{p.key}_ps_{col}", None)])
        out[p.name] = row
    out["Average"] = {f"P/S {c}": float(env[(f"peer_average_ps_{c}", None)]) for c in ps_columns}
    return out


def table_frame(model: Model, env: Env, title: str) -> pd.DataFrame:
    """A report table as a DataFrame: rows = line items (report labels), columns = years. pandas is
    imported here, the one place it is used, so that the engine starts without it."""
    import pandas as pd

    if title == PEERS_TITLE:
        return pd.DataFrame.from_dict(peers_dict(model, env), orient="index")
    data = table_dict(model, env, title)
    labels = [model.column_label(c) for c in table_columns(model, title)]
    frame = pd.DataFrame.from_dict(data, orient="index", columns=labels)
    frame.index.name = title
    return frame
