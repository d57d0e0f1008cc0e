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

from functools import cache

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


@cache
def forecast_drivers(report: ReportData | None = None) -> dict[str, dict[str, float]]:
    """Per-year driver base values: {driver: {column: value}} for the forecast columns."""
    p = Printed(report or load_report())
    days = float((report or load_report()).valuation["days_per_year"])
    out: dict[str, dict[str, float]] = {}

    def put(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        out[name] = {c: float(fn(c)) for c in FCST}

    for key, label in SEGMENTS:
        put(f"{key}_growth", lambda c, lab=label: p.seg(lab, c) / p.seg(lab, _prev(c)) - 1)
    put("gross_margin", lambda c: p.IS("Gross Profit", c) / p.revenue(c))
    put(
        "opex_ratio",
        lambda c: (-p.IS("Other Opng (Exp)/Inc", c) - p.CF("Dep. & Amort.", c)) / p.revenue(c),
    )
    for name, label in (
        ("other_non_opg", "Other Non Opg (Exp)/Inc"),
        ("associates", "Associates & JV Inc"),
        ("net_interest", "Net Interest (Exp)/Inc"),
        ("dividend_income", "Dividend Income"),
        ("exceptional", "Exceptional Gain/(Loss)"),
        ("tax", "Tax"),
        ("minority_interest", "Minority Interest"),
        ("preference_dividend", "Preference Dividend"),
    ):
        put(name, lambda c, lab=label: p.IS(lab, c))
    put("dep_amort", lambda c: p.CF("Dep. & Amort.", c))
    put("capex", lambda c: -p.CF("Capital Exp.(net)", c))
    put("debtor_days", lambda c: p.BS("Debtors", c) / p.revenue(c) * days)
    put("inventory_days", lambda c: p.BS("Inventory", c) / -p.cogs(c) * days)
    put("creditor_days", lambda c: p.BS("Creditors", c) / -p.cogs(c) * days)
    for name, label in (
        ("other_current_assets", "Other Current Assets"),
        ("other_current_liab", "Other Current Liab"),
        ("short_term_debt", "ST Debt"),
        ("long_term_debt", "LT Debt"),
    ):
        put(name, lambda c, lab=label: p.BS(lab, c))
    put("capital_issues", lambda c: p.CF("Capital Issues", c))
    return out


@cache
def adjustments(report: ReportData | None = None) -> dict[str, dict[str, float]]:
    """Fixed per-year adjustments: {name: {column: amount}}."""
    p = Printed(report or load_report())
    out: dict[str, dict[str, float]] = {}

    def put(name: str, fn, cols: tuple[str, ...] = FCST) -> None:  # type: ignore[no-untyped-def]
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
        put(name, lambda c, lab=label: p.CF(lab, c))
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
        put(name, lambda c, lab=label: p.BS(lab, c))
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
