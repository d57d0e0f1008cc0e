"""Segmental Breakdown and Income Statement lines, with the report's growth, margin and return rows."""

from __future__ import annotations

from ..expr import avg, if_, total
from .base import IS, SEG, SEGMENTS, A, D, Line, R, both, growth, growth_abs, typed

INCOME_LINES: tuple[Line, ...] = (
    *(typed(key, label, "RMB m", R(key).prev + R(key).prev * D(f"{key}_growth"), SEG) for key, label in SEGMENTS),
    both("revenue", "Revenue", "RMB m", total(*(R(k) for k, _ in SEGMENTS)), y2019=True),
    typed("cogs", "Cost of Goods Sold", "RMB m", R("revenue") * D("gross_margin") - R("revenue"), IS),
    both("gross_profit", "Gross Profit", "RMB m", R("revenue") + R("cogs")),
    typed(
        "other_opng",
        "Other Opng (Exp)/Inc",
        "RMB m",
        -(D("fixed_opex") + R("revenue") * D("variable_opex_ratio"))
        - R("dep_amort")
        - R("disposal_loss")
        - R("other_operating_cf"),
        IS,
        meaning="Operating expenses: fixed opex plus variable_opex_ratio of revenue, plus the non-cash charges"
        " (D&A, loss on disposals, Other Operating CF: share-based payments) the cash flow adds back",
    ),
    both("operating_profit", "Operating Profit", "RMB m", R("gross_profit") + R("other_opng"), y2019=True),
    typed("other_non_opg", "Other Non Opg (Exp)/Inc", "RMB m", D("other_non_opg"), IS),
    typed("associates", "Associates & JV Inc", "RMB m", D("associates"), IS),
    typed(
        "net_interest",
        "Net Interest (Exp)/Inc",
        "RMB m",
        D("cash_yield") * R("cash").prev - D("cost_of_debt") * (R("short_term_debt").prev + R("long_term_debt").prev),
        IS,
        meaning="Interest on opening balances: cash_yield on cash less cost_of_debt on ST and LT debt",
    ),
    typed("dividend_income", "Dividend Income", "RMB m", D("dividend_income"), IS),
    typed("exceptional", "Exceptional Gain/(Loss)", "RMB m", D("exceptional"), IS),
    both(
        "pbt",
        "Pre-tax Profit",
        "RMB m",
        total(
            R("operating_profit"),
            R("other_non_opg"),
            R("associates"),
            R("net_interest"),
            R("dividend_income"),
            R("exceptional"),
        ),
    ),
    typed(
        "tax",
        "Tax",
        "RMB m",
        -((R("pbt") - R("associates")) * D("tax_rate")),
        IS,
        meaning="Tax = -tax_rate x (Pre-tax Profit less the associates' share, taxed already): a charge on a"
        " profit, a credit on a loss (a negative rate: a charge on a loss)",
    ),
    typed("minority_interest", "Minority Interest", "RMB m", D("minority_interest"), IS),
    typed("preference_dividend", "Preference Dividend", "RMB m", D("preference_dividend"), IS),
    both(
        "net_profit",
        "Net Profit",
        "RMB m",
        R("pbt") + R("tax") - R("minority_interest") - R("preference_dividend"),
        y2019=True,
    ),
    both(
        "net_profit_pre_ex",
        "Net Profit before Except.",
        "RMB m",
        R("net_profit") - R("exceptional") + A("np_pre_ex_adjustment"),
    ),
    both(
        "ebitda",
        "EBITDA",
        "RMB m",
        R("operating_profit") + R("other_non_opg") + R("dep_amort") + A("ebitda_adjustment"),
        y2019=True,
    ),
    both("revenue_growth", "Revenue Gth (%)", "%", growth("revenue")),
    both("ebitda_growth", "EBITDA Gth (%)", "%", growth_abs("ebitda")),
    both("opg_profit_growth", "Opg Profit Gth (%)", "%", growth("operating_profit")),
    both("net_profit_growth", "Net Profit Gth (%)", "%", growth_abs("net_profit")),
    both("gross_margin_pct", "Gross Margins (%)", "%", R("gross_profit") / R("revenue")),
    both("opg_margin", "Opg Profit Margin (%)", "%", (R("ebitda") - R("dep_amort")) / R("revenue")),
    both("net_margin", "Net Profit Margin (%)", "%", R("net_profit") / R("revenue")),
    both("roae", "ROAE (%)", "%", R("net_profit") / avg(R("equity").prev, R("equity"))),
    both("roa", "ROA (%)", "%", R("net_profit") / avg(R("total_assets").prev, R("total_assets"))),
    both(
        "roce",
        "ROCE (%)",
        "%",
        R("net_profit") / avg(R("capital_employed").prev, R("capital_employed")),
    ),
    both(
        "div_payout",
        "Div Payout Ratio (%)",
        "%",
        if_(R("net_profit") > 0, -R("dividend_paid") / R("net_profit"), "N/A"),
        meaning="Dividends paid over net profit; N/A while the company makes a loss",
    ),
    both(
        "interest_cover",
        "Net Interest Cover (x)",
        "x",
        if_(
            R("net_interest") < 0,
            (R("pbt") - R("net_interest")) / -R("net_interest"),
            "NM",
        ),
        meaning="Profit before interest over net interest expense; NM when interest is a net income",
    ),
)
