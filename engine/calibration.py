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


# The balance-sheet rows the model's totals add up (Invt in Associates is inside Other LT Assets).
ASSET_ROWS = (
    "Net Fixed Assets",
    "Other LT Assets",
    "Cash & ST Invt",
    "Inventory",
    "Debtors",
    "Other Current Assets",
)
LIABILITY_ROWS = (
    "ST Debt",
    "Creditors",
    "Other Current Liab",
    "LT Debt",
    "Other LT Liabilities",
    "Shareholder's Equity",
    "Minority Interests",
)


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

    def taxable_profit(self, col: str) -> float:
        """Pre-tax Profit less the associates' share (taxed already), as the model computes it: the sum
        of its printed lines (the printed subtotal is rounded on its own and is one unit off in 2023F)."""
        rows = (
            "Gross Profit",
            "Other Opng (Exp)/Inc",
            "Other Non Opg (Exp)/Inc",
            "Net Interest (Exp)/Inc",
            "Dividend Income",
            "Exceptional Gain/(Loss)",
        )
        return sum(self.IS(row, col) for row in rows)

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

    def sum_bs(self, rows: tuple[str, ...], col: str) -> float:
        return sum(self.BS(row, col) for row in rows)

    def gross_debt(self, col: str) -> float:
        return self.BS("ST Debt", col) + self.BS("LT Debt", col)


# Balances rolled forward from their flows (line key, printed row, the adjustment that carries its
# difference from the printed balance). engine/model.py measures each adjustment on the model's own
# flows, so the base case prints the report's balance sheet line by line.
CLOSING = (
    ("nfa", "Net Fixed Assets", "nfa_other"),
    ("invt_in_associates", "Invt in Associates & JVs", "invt_in_associates_other"),
    ("other_lt_assets", "Other LT Assets", "other_lt_assets_other"),
    ("other_lt_liab", "Other LT Liabilities", "other_lt_liab_other"),
    ("minority_interests", "Minority Interests", "mi_other"),
    ("equity", "Shareholder's Equity", "equity_other"),
    ("cash", "Cash & ST Invt", "cash_unreconciled"),
)


def _prev(col: str) -> str:
    return YEARS[YEARS.index(col) - 1]


# How a forecast driver's base is implied (`implied` of engine/data/drivers.toml): one function per
# kind, each the inverse of its line's definition applied to the printed figures of one column.
SOURCE = "implied from the report's forecast tables (engine/calibration.py)"
DENOMINATORS = ("revenue", "cost_of_sales", "taxable_profit")
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
    d = spec["denominator"]
    if isinstance(d, Mapping):  # a cell, `lag = 1` for the opening balance
        return _cell(p, d, _prev(col) if d.get("lag", 0) == 1 else col)
    return {"revenue": p.revenue, "cost_of_sales": lambda c: -p.cogs(c), "taxable_profit": p.taxable_profit}[d](col)


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
    d = spec.get("denominator")
    if isinstance(d, dict):
        if not all(isinstance(d.get(k), str) for k in ("table", "row")) or set(d) - {"table", "row", "sign", "lag"}:
            return f"denominator: a cell has a table, a row, an optional sign and lag, got {d!r}"
        if d.get("sign", 1) not in (1, -1) or d.get("lag", 0) not in (0, 1):
            return f"denominator: sign is 1 or -1 and lag 0 or 1, got {d!r}"
    elif "denominator" in spec and d not in DENOMINATORS:
        return f"denominator: expected one of {', '.join(DENOMINATORS)} or a cell, got {d!r}"
    return None


def _opex(p: Printed, col: str) -> float:
    """Cash operating expenses, as a positive amount: Other Opng less the non-cash charges the cash flow
    adds back (D&A, the loss on disposals, Other Operating CF)."""
    non_cash = sum(p.CF(row, col) for row in ("Dep. & Amort.", "(Pft)/ Loss on disposal of FAs", "Other Operating CF"))
    return -p.IS("Other Opng (Exp)/Inc", col) - non_cash


# The operating-leverage split (docs/model.md): the report's last two forecast years, after 2022's
# restructuring, say what one more RMB of revenue costs in operating expenses; that share of revenue
# is variable in every year and the rest of each year's expenses is fixed.
def variable_opex_ratio(p: Printed, col: str, bases: Mapping[str, Any]) -> float:
    a, b = FCST[-2], FCST[-1]
    return (_opex(p, b) - _opex(p, a)) / (p.revenue(b) - p.revenue(a))


def fixed_opex(p: Printed, col: str, bases: Mapping[str, Any]) -> float:
    return _opex(p, col) - bases[f"variable_opex_ratio_{col}"] * p.revenue(col)


def cash_yield(p: Printed, col: str, bases: Mapping[str, Any]) -> float:
    """Interest income implied by the printed net interest, given the cost of debt, over opening cash."""
    expense = bases[f"cost_of_debt_{col}"] * p.gross_debt(_prev(col))
    return (p.IS("Net Interest (Exp)/Inc", col) + expense) / p.BS("Cash & ST Invt", _prev(col))


RULES: dict[str, Callable[[Printed, str, Mapping[str, Any]], float]] = {
    "variable_opex_ratio": variable_opex_ratio,
    "fixed_opex": fixed_opex,
    "cash_yield": cash_yield,
}


# The driver that converts a peer's local currency to US$ (none for US$).
FX_DRIVER = {"HKD": "hkdusd", "CNY": "usdcny", "USD": ""}


def peer_shares(peer: Any, bases: Mapping[str, Any]) -> float:
    """A peer's shares in issue (m) implied by its printed market cap and its price, converted as the
    model converts it, so that price x shares gives the printed market cap exactly."""
    fx = FX_DRIVER[peer.currency]
    price_usd = peer.price_local / float(bases[fx]) if fx else peer.price_local
    return float(peer.mkt_cap_usd_m / price_usd)


def implied_by_rule(rule: str, report: ReportData, bases: Mapping[str, Any]) -> dict[str, float]:
    """A forecast driver's base per forecast column from a named rule; `bases` are the drivers before it."""
    p = Printed(report)
    return {c: float(RULES[rule](p, c, bases)) for c in FCST}


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
    # The forecast cash flow leaves the share of associates' profit in (its line is 0): the reversal
    # the model makes is carried back.
    put("assoc_cf_unreversed", lambda c: p.CF("Assoc. & JV Inc/(loss)", c) + p.IS("Associates & JV Inc", c))
    put(
        "wc_unlinked",
        lambda c: p.CF("Chg in Wkg.Cap.", c) - (p.non_cash_wc(_prev(c)) - p.non_cash_wc(c)),
    )
    put("debt_unlinked", lambda c: p.CF("Chg in Gross Debt", c) - (p.gross_debt(c) - p.gross_debt(_prev(c))))
    # The reported balance sheet of the last reported year is not balanced as printed (rounding); the
    # first forecast year's equity takes the difference, on every basis, so the forecast balances.
    last = HIST[-1]
    put(
        "opening_balance_difference",
        lambda c: p.sum_bs(ASSET_ROWS, last) - p.sum_bs(LIABILITY_ROWS, last) if c == FCST[0] else 0.0,
    )
    # Balances rolled forward from their flows: what each needs to land on the printed balance is
    # measured on the model's own flows when the model is compiled (engine/model.py, CLOSING).
    for _, _, name in CLOSING:
        put(name, lambda c: 0.0)
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
