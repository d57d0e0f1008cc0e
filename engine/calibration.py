"""Base values implied from the report's printed tables.

Drivers are ratios where the economics are ratios (growth, margins, days) and amounts where the
report gives amounts. Each base value is the inverse of its line's definition applied to the
printed figures, so the base case reproduces the report. Ratios are taken on the model's own
revenue (the sum of the printed segments) so that the amounts they drive come out as printed.

Fixed adjustments are the report's figures that do not follow from its other figures (cash flow
lines not tied to the balance sheet, an EBITDA that no formula gives): each is a named, per-year
amount, recorded with its evidence in `engine/data/errata.toml`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from functools import cache, reduce
from typing import Any

from .expr import INPUT
from .lines import FCST, HIST, SEGMENTS, YEARS
from .report import ReportData, load_report

SEG = "Segmental Breakdown"
IS = "Income Statement"
BS = "Balance Sheet"
CF = "Cash Flow Statement"


class Printed:
    """Shorthand reader of printed figures: `p.IS("Revenue", "2022F")`."""

    def __init__(self, report: ReportData) -> None:
        self.report = report

    def get(self, table: str, label: str, col: str) -> float:
        return self.report.table(table).value(label, col)

    def seg(self, label: str, col: str) -> float:
        return self.get(SEG, label, col)

    def IS(self, label: str, col: str) -> float:  # noqa: N802 - the report's table name
        return self.get(IS, label, col)

    def BS(self, label: str, col: str) -> float:  # noqa: N802
        return self.get(BS, label, col)

    def CF(self, label: str, col: str) -> float:  # noqa: N802
        return self.get(CF, label, col)

    def revenue(self, col: str) -> float:
        """Revenue as the model computes it: the sum of the printed segments."""
        return sum(self.seg(label, col) for _, label in SEGMENTS)

    def cogs(self, col: str) -> float:
        return self.IS("Gross Profit", col) - self.revenue(col)

    def non_cash_wc(self, col: str) -> float:
        b = self.BS
        return (
            b("Inventory", col)
            + b("Debtors", col)
            + b("Other Current Assets", col)
            - b("Creditors", col)
            - b("Other Current Liab", col)
        )

    def gross_debt(self, col: str) -> float:
        return self.BS("ST Debt", col) + self.BS("LT Debt", col)


def _prev(col: str) -> str:
    return YEARS[YEARS.index(col) - 1]


# How a forecast driver's base is implied (`implied` of engine/data/drivers.toml): one function per
# kind, each the inverse of its line's definition applied to the printed figures of one column.
SOURCE = "implied from the report's forecast tables (engine/calibration.py)"
DENOMINATORS = ("revenue", "cost_of_sales")
TABLE_KINDS: dict[str, tuple[str, ...]] = {  # kind -> its keys besides `kind` (`sign` may be left out)
    "growth": ("table", "row"),
    "ratio": ("numerator", "denominator"),
    "days": ("table", "row", "sign", "denominator"),
    "printed": ("table", "row", "sign"),
}


def _cell(p: Printed, cell: Mapping[str, Any], col: str) -> float:
    value = p.get(cell["table"], cell["row"], col)
    return -value if cell.get("sign", 1) == -1 else value


def _denominator(p: Printed, spec: Mapping[str, Any], col: str) -> float:
    return p.revenue(col) if spec["denominator"] == "revenue" else -p.cogs(col)


def _growth(p: Printed, spec: Mapping[str, Any], col: str) -> float:
    return p.get(spec["table"], spec["row"], col) / p.get(spec["table"], spec["row"], _prev(col)) - 1


def _ratio(p: Printed, spec: Mapping[str, Any], col: str) -> float:
    return reduce(operator.add, (_cell(p, c, col) for c in spec["numerator"])) / _denominator(p, spec, col)


def _days(p: Printed, spec: Mapping[str, Any], col: str) -> float:
    return _cell(p, spec, col) / _denominator(p, spec, col) * float(p.report.valuation["days_per_year"])


def _printed(p: Printed, spec: Mapping[str, Any], col: str) -> float:
    return _cell(p, spec, col)


_KIND_FUNCTIONS = {"growth": _growth, "ratio": _ratio, "days": _days, "printed": _printed}


def table_spec_problem(spec: Mapping[str, Any]) -> str | None:
    """What is wrong with a table-implied spec (None if nothing), so a bad record fails on load."""
    if spec["kind"] == "ratio":
        cells = spec["numerator"]
        if not isinstance(cells, list) or not cells:
            return "numerator: expected a list of { table, row } cells"
    else:
        cells = [{k: v for k, v in spec.items() if k in ("table", "row", "sign")}]
    for cell in cells:
        if not isinstance(cell, dict) or not all(isinstance(cell.get(k), str) for k in ("table", "row")):
            return f"expected text 'table' and 'row', got {cell!r}"
        sign = cell.get("sign", 1)
        if set(cell) - {"table", "row", "sign"} or isinstance(sign, bool) or sign not in (1, -1):
            return f"a cell has a table, a row and an optional sign of 1 or -1, got {cell!r}"
    if "denominator" in spec and spec["denominator"] not in DENOMINATORS:
        return f"denominator: expected one of {', '.join(DENOMINATORS)}, got {spec['denominator']!r}"
    return None


def implied_by_tables(spec: Mapping[str, Any], report: ReportData) -> dict[str, float]:
    """A forecast driver's base value per forecast column, from its `implied` spec."""
    for cell in spec.get("numerator", [spec]):
        if cell["table"] not in report.tables:
            raise KeyError(f"the report has no table '{cell['table']}'")
    p = Printed(report)
    fn = _KIND_FUNCTIONS[spec["kind"]]
    return {c: float(fn(p, spec, c)) for c in FCST}


def adjustments(report: ReportData | None = None) -> dict[str, dict[str, float]]:
    """Fixed per-year adjustments: {name: {column: amount}} (a copy: the computed amounts are cached)."""
    return {name: dict(amounts) for name, amounts in _adjustments(report).items()}


@cache
def _adjustments(report: ReportData | None = None) -> dict[str, dict[str, float]]:
    p = Printed(report or load_report())
    out: dict[str, dict[str, float]] = {}

    def put(name: str, fn: Callable[[str], float], cols: tuple[str, ...] = FCST) -> None:
        out[name] = {c: float(fn(c)) for c in cols}

    # EBITDA: no combination of printed lines gives it; the residual is carried, every year.
    put(
        "ebitda_adjustment",
        lambda c: (
            p.IS("EBITDA", c)
            - (p.IS("Operating Profit", c) + p.IS("Other Non Opg (Exp)/Inc", c) + p.CF("Dep. & Amort.", c))
        ),
        YEARS,
    )
    # Net Profit before Except. 2021A is the loss before minorities' share.
    put(
        "np_pre_ex_adjustment",
        lambda c: p.IS("Net Profit before Except.", c) - (p.IS("Net Profit", c) - p.IS("Exceptional Gain/(Loss)", c)),
        YEARS,
    )
    put("tax_timing", lambda c: p.CF("Tax Paid", c) - p.IS("Tax", c))
    for name, label in (
        ("assoc_cf", "Assoc. & JV Inc/(loss)"),
        ("disposal_loss", "(Pft)/ Loss on disposal of FAs"),
        ("other_operating_cf", "Other Operating CF"),
        ("other_invt", "Other Invt.(net)"),
        ("invt_in_assoc_cf", "Invt in Assoc. & JV"),
        ("div_from_assoc", "Div from Assoc & JV"),
        ("other_investing_cf", "Other Investing CF"),
        ("other_financing_cf", "Other Financing CF"),
        ("currency_adj", "Currency Adjustments"),
    ):
        put(name, functools.partial(p.CF, label))
    put(
        "wc_unlinked",
        lambda c: p.CF("Chg in Wkg.Cap.", c) - (p.non_cash_wc(_prev(c)) - p.non_cash_wc(c)),
    )
    put("debt_unlinked", lambda c: p.CF("Chg in Gross Debt", c) - (p.gross_debt(c) - p.gross_debt(_prev(c))))
    put(
        "cash_unreconciled",
        lambda c: p.BS("Cash & ST Invt", c) - p.BS("Cash & ST Invt", _prev(c)) - p.CF("Chg in Cash", c),
    )
    put(
        "nfa_other",
        lambda c: (
            p.BS("Net Fixed Assets", c)
            - (p.BS("Net Fixed Assets", _prev(c)) - p.CF("Capital Exp.(net)", c) - p.CF("Dep. & Amort.", c))
        ),
    )
    put(
        "equity_other",
        lambda c: (
            p.BS("Shareholder's Equity", c)
            - (p.BS("Shareholder's Equity", _prev(c)) + p.IS("Net Profit", c) + p.CF("Capital Issues", c))
        ),
    )
    put(
        "mi_other",
        lambda c: p.BS("Minority Interests", c) - (p.BS("Minority Interests", _prev(c)) + p.IS("Minority Interest", c)),
    )
    for name, label in (
        ("invt_in_associates", "Invt in Associates & JVs"),
        ("other_lt_assets", "Other LT Assets"),
        ("other_lt_liab", "Other LT Liabilities"),
    ):
        put(name, functools.partial(p.BS, label))
    return out


def historical_inputs(report: ReportData | None = None) -> dict[tuple[str, str], float | str]:
    """Typed figures of the reported columns, keyed by (line key, column), 2019 included."""
    from .lines import LINES, PRIOR

    report = report or load_report()
    out: dict[tuple[str, str], float | str] = {}
    for line in LINES:
        for col in (*HIST, *FCST):
            if line.definition(col) is INPUT:
                table = report.table(line.source or "")
                if col not in table.columns:
                    continue
                value = table.row(line.label).values[col]
                out[(line.key, col)] = value
        if line.y2019:
            out[(line.key, PRIOR)] = report.implied_2019[line.key][0]
    return out
