"""A finished model run and the ways to read it: valuation, tables, DataFrames, JSON."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .actuals import restatements
from .calibration import ASSET_ROWS, LIABILITY_ROWS, Printed
from .drivers import DriverError, DriverValue, ImplausibleResultError, base_values, resolve, warnings
from .expr import Env
from .lines import HIST
from .model import Model, Node, compile_model, evaluate
from .model_file import ModelFile
from .model_file import load as load_model_file
from .tables import PEERS_TITLE, TABLE_TITLES, display, peers_dict, table_dict, table_frame

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Result:
    model: Model
    drivers: dict[str, DriverValue]
    env: Env
    as_of: str = ""  # the date of the market data (prices, FX) the valuation used

    @property
    def market_as_of(self) -> str:
        """The as-of date of the prices used: the model file's [market], else the report's last price."""
        return self.as_of or self.model.report.market["last_price"].date

    def value(self, key: str, column: str | None = None) -> float | str | None:
        """One line's value as the report prints it (percent lines x 100); `column` as named (2022F)
        or as headed (2022A once it holds actuals)."""
        column = self.model.column_named(column) if column else column
        return display(self.model, key, self.env.get((key, column)))

    def raw(self, key: str, column: str | None = None) -> Any:
        """One line's value as the model holds it (percent lines as fractions)."""
        column = self.model.column_named(column) if column else column
        return self.env[(key, column)]

    @property
    def columns(self) -> dict[str, str]:
        """Each column's name and its heading (`2022F` -> `2022A` once it holds actuals)."""
        return {c: self.model.column_label(c) for c in self.model.years.years}

    @property
    def target_price(self) -> float:
        return float(self.raw("target_price"))

    @property
    def rating(self) -> str:
        return str(self.raw("rating").item() if hasattr(self.raw("rating"), "item") else self.raw("rating"))

    def valuation(self) -> dict[str, Any]:
        cols = self.model.ps_columns
        return {
            "target_price": self.target_price,
            "target_price_unrounded": float(self.raw("target_price_unrounded")),
            "last_price": float(self.drivers["last_price"]),
            "upside_pct": float(self.raw("upside")) * 100,
            "rating": self.rating,
            "target_multiple": float(self.raw("target_multiple")),
            "valuation_usd_m": float(self.raw("valuation_usd_m")),
            "peer_average_ps": {c: float(self.raw(f"peer_average_ps_{c}")) for c in cols},
            "as_of": self.market_as_of,
            "target_year": int(float(self.drivers["target_year"])),
        }

    def tables(self) -> dict[str, dict[str, dict[str, float | str]]]:
        """Every table as {title: {row: {column: value}}}: a fresh copy of what is built once per result."""
        return {title: {row: dict(cells) for row, cells in rows.items()} for title, rows in self._tables.items()}

    def peers(self) -> dict[str, dict[str, float | str]]:
        """The peer table alone (a fresh copy; built once per result)."""
        return {row: dict(cells) for row, cells in self._peers.items()}

    @cached_property
    def _peers(self) -> dict[str, dict[str, float | str]]:
        return peers_dict(self.model, self.env)

    @cached_property
    def _tables(self) -> dict[str, dict[str, dict[str, float | str]]]:
        out = {title: table_dict(self.model, self.env, title) for title in TABLE_TITLES}
        out[PEERS_TITLE] = self._peers
        return out

    def frame(self, title: str) -> pd.DataFrame:
        """A report table as a DataFrame (rows = line items, columns = years)."""
        if title not in (*TABLE_TITLES, PEERS_TITLE):
            raise KeyError(f"unknown table '{title}'; tables are: {', '.join((*TABLE_TITLES, PEERS_TITLE))}")
        return table_frame(self.model, self.env, title)

    def warnings(self) -> list[str]:
        """What an analyst should look at: drivers outside their plausible range, and negative cash
        (possible only with the revolver off)."""
        out = warnings(self.drivers, self.model.report, self.model.years)
        out += restatements(self.model, self.model.actuals.items())
        out += self._balance_warnings()
        for col in self.model.forecast:
            label = self.model.column_label(col)
            cash = float(np.min(np.asarray(self.raw("cash", col), dtype=float)))
            if cash < -1e-6:
                out.append(f"Cash & ST Invt {label} is negative ({cash:,.0f} RMB m): the revolver is off")
            for key in NON_NEGATIVE:
                value = float(np.min(np.asarray(self.raw(key, col), dtype=float)))
                if value < -1e-6:
                    line = self.model.lines[key].label
                    out.append(f"{line} {label} is negative ({value:,.0f} RMB m): more leaves it than it holds")
            rate = self.drivers.get(f"tax_rate_{col}")
            taxable = float(np.asarray(self.raw("pbt", col) - self.raw("associates", col)).flat[0])
            if isinstance(rate, float) and rate < 0 and taxable > 0:
                out.append(f"tax_rate_{col}={rate:g} on a profit ({taxable:,.0f} RMB m) makes the tax a credit")
        return out

    def _balance_warnings(self) -> list[str]:
        """Actuals are never plugged: from the first year that holds one, a balance sheet that does not
        balance (beyond the report's own rounding in its reported years) is said, with its gap."""
        if not self.model.actuals:
            return []
        printed = Printed(self.model.report)
        years = self.model.years.years
        first = min(years.index(c) for _, c in self.model.actuals if c is not None)
        gaps = []
        for col in years[first:]:
            difference = float(np.asarray(self.raw("total_assets", col) - self.raw("total_cap_liab", col)).flat[0])
            expected = printed.sum_bs(ASSET_ROWS, col) - printed.sum_bs(LIABILITY_ROWS, col) if col in HIST else 0.0
            if abs(difference - expected) > 1e-6:
                gaps.append(f"{self.model.column_label(col)} {difference:,.1f}")
        if not gaps:
            return []
        lines = self.model.lines
        given = [f"{k} {c[:4]}" for k, c in self.model.actuals if c and lines[k].source == "Balance Sheet"]
        return [
            "Balance sheet does not balance (Total Assets - Total Cap. & Liab., RMB m): "
            f"{', '.join(gaps)}; the balance-sheet actuals given: {', '.join(given) or 'none'}"
        ]

    def to_json(self) -> dict[str, Any]:
        return {"valuation": self.valuation(), "tables": self.tables()}


def run(
    overrides: Mapping[str, object] | Iterable[tuple[str, object]] | None = None,
    model: Model | None = None,
    basis: str | None = None,
    model_file: str | Path | ModelFile | None = None,
    scalar: bool = False,
) -> Result:
    """Run the model on the base case with `overrides` (driver name or group -> value); `basis="clean"`
    sets every fixed report adjustment to zero (the `basis` driver); `model_file` (a path or a
    ModelFile) brings an analyst's drivers and actuals, `overrides` apply on top of it. Raises
    DriverError for a bad value, and ImplausibleResultError when the values give no usable result.
    `scalar=True` evaluates with the generated scalar code (engine/scalar.py): the same figures on
    Python floats, several times faster for one driver set (what a worksheet function asks for)."""
    items: list[tuple[str, object]] = []
    as_of = ""
    if model_file is not None:
        mf = load_model_file(model_file)
        model = mf.compiled(model.report if model else None)
        items += mf.overrides()
        as_of = mf.as_of or ""
    model = model or compile_model()
    items += list(overrides.items() if isinstance(overrides, Mapping) else overrides or [])
    if basis is not None:
        items.append(("basis", basis))
    model = with_peer_sales(model, [name for name, _ in items])
    values = resolve(items, model.report, model.years)
    if scalar:
        return Result(model, values, _scalar_evaluation(values, model), as_of)
    return Result(model, values, checked_evaluation(values, model), as_of)


def _scalar_evaluation(values: Mapping[str, DriverValue], model: Model) -> Env:
    """The scalar code's results, checked as `checked_evaluation` checks (which names the culprits
    when there is a problem)."""
    from .scalar import compile_scalar

    if model.target_problem(values["target_year"]) is None:
        env: Env = compile_scalar(model).run(values)
        if _problem(env, model) is None:
            return env
    return checked_evaluation(values, model)  # raises, naming the drivers that cause it


def with_peer_sales(model: Model, names: list[str]) -> Model:
    """`model` with the peer sales columns `names` give (palantir_sales_FY2025E): a driver set may add
    a year of peer sales to value on."""
    years = model.years.with_peer_sales(names, tuple(p.key for p in model.report.peers))
    if years == model.years:
        return model
    return compile_model(model.report, tuple(model.actuals.items()), years)


# Balances that hold something: below zero they are a warning (cash has its own, with the revolver).
NON_NEGATIVE = ("nfa", "invt_in_associates", "other_lt_assets", "other_lt_liab", "inventory", "debtors", "creditors")
# The results that leave the engine as numbers (`Result.valuation`): always finite.
VALUATION_LINES = ("target_multiple", "valuation_usd_m", "target_price_unrounded", "target_price", "upside")
# Ratio lines: over a zero (or vanishing) balance they are blank, as #DIV/0! is in Excel, and
# `display` shows them empty. Every other number (amounts, per-share figures) must be finite.
RATIO_UNITS = frozenset({"%", "x", "days"})


def checked_evaluation(
    values: Mapping[str, DriverValue], model: Model, typed: Mapping[tuple[str, str], float | str] | None = None
) -> Env:
    """`evaluate`, refusing a driver set whose valuation or any amount is not a finite number (an
    overflow, or an infinity carried on); the error names the drivers, changed from the base case,
    that cause it: each one that does alone, or all of them when only their combination does."""
    if problem := model.target_problem(np.asarray(values["target_year"], dtype=float)):
        raise DriverError(problem)
    env = evaluate(values, model, typed)
    problem = _problem(env, model)
    if problem is None:
        return env
    base = base_values(model.report, model.years)
    changed = [n for n, v in values.items() if n in base and v != base[n]]
    alone = [n for n in changed if _problem(evaluate({**base, n: values[n]}, model, typed), model) is not None]
    culprits = alone or changed
    named = ", ".join(f"{n}={values[n]:g}" if isinstance(values[n], float) else f"{n}={values[n]!r}" for n in culprits)
    raise ImplausibleResultError(
        f"{named or 'the base case'}: {problem}; every result must be a finite number, every share count positive",
        tuple(culprits),
    )


@cache
def _amounts(model: Model) -> tuple[Node, ...]:
    """The nodes that must be finite numbers: every line but ratios and text."""
    return tuple(
        (key, column)
        for key, line in model.lines.items()
        if line.unit not in RATIO_UNITS and line.unit != "text"
        for column in (model.columns if line.by_year else (None,))
    )


def _problem(env: Env, model: Model) -> str | None:
    """The first result that is not a finite number where one must be (the valuation first), or a share
    count that is not positive (a buy-back of more than there is), or None."""
    for col in model.forecast:
        shares = np.asarray(env[("shares_out", col)], dtype=float)
        if np.any(shares <= 0):
            return f"shares outstanding {model.column_label(col)} is not positive ({float(np.min(shares)):,.0f} m)"
    for key in VALUATION_LINES:
        if not np.all(np.isfinite(np.asarray(env[(key, None)], dtype=float))):
            return f"{key} is not a finite number"
    if not any(isinstance(v, np.ndarray | np.generic) for v in env.values()):  # one scenario, scalar path
        for key, column in _amounts(model):
            value = env.get((key, column))
            if isinstance(value, float) and not math.isfinite(value):
                return f"{key}{' ' + column if column else ''} is not a finite number"
        return None
    for (key, column), value in env.items():
        line = model.lines.get(key)
        if line is None or line.unit in RATIO_UNITS or isinstance(value, str):
            continue
        number = np.asarray(value)
        if number.dtype.kind == "f" and not np.all(np.isfinite(number)):
            return f"{key}{' ' + column if column else ''} is not a finite number"
    return None
