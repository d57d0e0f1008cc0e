"""Every line item of the model, defined once.

A line has a definition for the reported columns (`hist`, usually INPUT: the printed figure is
typed in) and one for the forecast columns (`fcst`), or a single `value` for lines that are not by
year (valuation). Definitions refer to other lines by key, to per-year inputs (`D`: a driver or a
fixed report adjustment named `<name>_<column>`) and to single inputs (`P`). The report's own row
labels are the labels here; `engine/tables.py` arranges them into the report's tables.

How the forecast stays balanced without a plug: every driver is posted twice. Revenue, costs and
the P&L items move Pre-tax Profit, which the cash flow starts from; working-capital balances move
the cash flow's Chg in Wkg.Cap.; capex and D&A move Net Fixed Assets; debt and capital issues move
the financing lines; the P&L minority share moves the balance-sheet Minority Interests. Where the
report's printed lines do not follow from each other, a fixed, named adjustment (see
`engine/calibration.py` and `docs/errata.md`) carries the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from .expr import INPUT, Const, Drv, Expr, Ref, abs_, avg, if_, mround, total

HIST = ("2020A", "2021A")
FCST = ("2022F", "2023F", "2024F")
YEARS = HIST + FCST
PRIOR = "2019A"  # implied 2019 figures that some 2020A ratios need
COLUMNS = (PRIOR, *YEARS)


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    unit: str  # "RMB m", "%", "x", "days", "RMB", "HK$", "US$ m", "m shares", "text"
    hist: Expr | None = None
    fcst: Expr | None = None
    value: Expr | None = None  # a single-value line (not by year)
    source: str | None = None  # report table whose printed row feeds INPUT cells
    y2019: bool = False  # an implied 2019 figure exists (engine/data/report.toml)
    meaning: str = ""

    @property
    def by_year(self) -> bool:
        return self.value is None

    def definition(self, column: str | None) -> Expr | None:
        if column is None:
            return self.value
        if column == PRIOR:
            return INPUT if self.y2019 else None
        return self.hist if column in HIST else self.fcst


def R(key: str) -> Ref:
    return Ref(key)


def D(name: str) -> Drv:
    """A per-year input: driver or fixed adjustment `<name>_<column>`."""
    return Drv(name)


def P(name: str) -> Drv:
    """A single input (market datum, valuation parameter)."""
    return Drv(name, per_year=False)


def growth(key: str) -> Expr:
    """x / prev - 1, the convention of rows whose sign does not flip."""
    return (R(key) - R(key).prev) / R(key).prev


def growth_abs(key: str) -> Expr:
    """(x - prev) / |prev|: the report's convention for loss-making lines."""
    return (R(key) - R(key).prev) / abs_(R(key).prev)


def both(key: str, label: str, unit: str, expr: Expr, **kw: object) -> Line:
    return Line(key, label, unit, hist=expr, fcst=expr, **kw)  # type: ignore[arg-type]


def typed(key: str, label: str, unit: str, fcst: Expr, source: str, **kw: object) -> Line:
    return Line(key, label, unit, hist=INPUT, fcst=fcst, source=source, **kw)  # type: ignore[arg-type]


SEG = "Segmental Breakdown"
IS = "Income Statement"
BS = "Balance Sheet"
CF = "Cash Flow Statement"
FV = "Forecasts and Valuation"

SEGMENTS = (
    ("smart_business", "Smart Business"),
    ("smart_city", "Smart City"),
    ("smart_life", "Smart Life"),
    ("smart_auto", "Smart Auto"),
)

days = P("days_per_year")
hkd_per_rmb = Ref("hkd_per_rmb", single=True)

LINES: tuple[Line, ...] = (
    # ---- Segmental Breakdown
    *(typed(key, label, "RMB m", R(key).prev + R(key).prev * D(f"{key}_growth"), SEG) for key, label in SEGMENTS),
    both("revenue", "Revenue", "RMB m", total(*(R(k) for k, _ in SEGMENTS)), y2019=True),
    # ---- Income Statement
    typed("cogs", "Cost of Goods Sold", "RMB m", R("revenue") * D("gross_margin") - R("revenue"), IS),
    both("gross_profit", "Gross Profit", "RMB m", R("revenue") + R("cogs")),
    typed(
        "other_opng",
        "Other Opng (Exp)/Inc",
        "RMB m",
        -(R("revenue") * D("opex_ratio")) - R("dep_amort"),
        IS,
        meaning="Operating expenses: cash opex at opex_ratio of revenue, plus D&A",
    ),
    both("operating_profit", "Operating Profit", "RMB m", R("gross_profit") + R("other_opng"), y2019=True),
    typed("other_non_opg", "Other Non Opg (Exp)/Inc", "RMB m", D("other_non_opg"), IS),
    typed("associates", "Associates & JV Inc", "RMB m", D("associates"), IS),
    typed("net_interest", "Net Interest (Exp)/Inc", "RMB m", D("net_interest"), IS),
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
    typed("tax", "Tax", "RMB m", D("tax"), IS),
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
        R("net_profit") - R("exceptional") + D("np_pre_ex_adjustment"),
    ),
    both(
        "ebitda",
        "EBITDA",
        "RMB m",
        R("operating_profit") + R("other_non_opg") + R("dep_amort") + D("ebitda_adjustment"),
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
    # ---- Balance Sheet
    typed(
        "nfa",
        "Net Fixed Assets",
        "RMB m",
        R("nfa").prev - R("capex_cf") - R("dep_amort") + D("nfa_other"),
        BS,
    ),
    typed(
        "invt_in_associates",
        "Invt in Associates & JVs",
        "RMB m",
        D("invt_in_associates"),
        BS,
        meaning="Memo: carried inside Other LT Assets, so not added again to Total Assets",
    ),
    typed("other_lt_assets", "Other LT Assets", "RMB m", D("other_lt_assets"), BS),
    typed(
        "cash",
        "Cash & ST Invt",
        "RMB m",
        R("cash").prev + R("chg_in_cash") + D("cash_unreconciled"),
        BS,
    ),
    typed("inventory", "Inventory", "RMB m", -R("cogs") * D("inventory_days") / days, BS, y2019=True),
    typed("debtors", "Debtors", "RMB m", R("revenue") * D("debtor_days") / days, BS, y2019=True),
    typed("other_current_assets", "Other Current Assets", "RMB m", D("other_current_assets"), BS),
    both(
        "total_assets",
        "Total Assets",
        "RMB m",
        total(
            R("nfa"),
            R("other_lt_assets"),
            R("cash"),
            R("inventory"),
            R("debtors"),
            R("other_current_assets"),
        ),
        y2019=True,
    ),
    typed("short_term_debt", "ST Debt", "RMB m", D("short_term_debt"), BS),
    typed("creditors", "Creditors", "RMB m", -R("cogs") * D("creditor_days") / days, BS, y2019=True),
    typed("other_current_liab", "Other Current Liab", "RMB m", D("other_current_liab"), BS),
    typed("long_term_debt", "LT Debt", "RMB m", D("long_term_debt"), BS),
    typed("other_lt_liab", "Other LT Liabilities", "RMB m", D("other_lt_liab"), BS),
    typed(
        "equity",
        "Shareholder's Equity",
        "RMB m",
        R("equity").prev + R("net_profit") + R("capital_issues") + D("equity_other"),
        BS,
        y2019=True,
    ),
    typed(
        "minority_interests",
        "Minority Interests",
        "RMB m",
        R("minority_interests").prev + R("minority_interest") + D("mi_other"),
        BS,
    ),
    both(
        "total_cap_liab",
        "Total Cap. & Liab.",
        "RMB m",
        total(
            R("short_term_debt"),
            R("creditors"),
            R("other_current_liab"),
            R("long_term_debt"),
            R("other_lt_liab"),
            R("equity"),
            R("minority_interests"),
        ),
    ),
    both(
        "capital_employed",
        "Capital Employed",
        "RMB m",
        R("total_assets") - R("creditors") - R("other_current_liab"),
        y2019=True,
        meaning="Memo for ROCE: Total Assets less Creditors and Other Current Liab",
    ),
    both(
        "non_cash_wc",
        "Non-Cash Wkg. Capital",
        "RMB m",
        R("inventory") + R("debtors") + R("other_current_assets") - R("creditors") - R("other_current_liab"),
    ),
    both("net_cash", "Net Cash/(Debt)", "RMB m", R("cash") - R("short_term_debt") - R("long_term_debt")),
    both("debtor_turn", "Debtors Turn (avg days)", "days", avg(R("debtors").prev, R("debtors")) / R("revenue") * days),
    both(
        "creditor_turn",
        "Creditors Turn (avg days)",
        "days",
        avg(R("creditors").prev, R("creditors")) / (-R("cogs") - R("dep_amort")) * days,
    ),
    both(
        "inventory_turn",
        "Inventory Turn (avg days)",
        "days",
        avg(R("inventory").prev, R("inventory")) / (-R("cogs") - R("dep_amort")) * days,
    ),
    both("asset_turnover", "Asset Turnover (x)", "x", R("revenue") / avg(R("total_assets").prev, R("total_assets"))),
    both(
        "current_ratio",
        "Current Ratio (x)",
        "x",
        total(R("cash"), R("inventory"), R("debtors"), R("other_current_assets"))
        / total(R("short_term_debt"), R("creditors"), R("other_current_liab")),
    ),
    both(
        "quick_ratio",
        "Quick Ratio (x)",
        "x",
        (R("cash") + R("debtors")) / total(R("short_term_debt"), R("creditors"), R("other_current_liab")),
    ),
    both(
        "net_debt_equity",
        "Net Debt/Equity (X)",
        "x",
        -R("net_cash") / (R("equity") + R("minority_interests")),
    ),
    both(
        "net_debt_equity_ex_mi",
        "Net Debt/Equity ex MI (X)",
        "x",
        if_(-R("net_cash") / R("equity") < 0, "CASH", -R("net_cash") / R("equity")),
        meaning="CASH when the ratio is negative (net cash on positive equity)",
    ),
    both("z_score", "Z-Score (X)", "text", Const("NA"), meaning="Not computed by the report"),
    both("capex_to_debt", "Capex to Debt (%)", "%", -R("capex_cf") / (R("short_term_debt") + R("long_term_debt"))),
    # ---- Cash Flow Statement
    both("cf_pbt", "Pre-Tax Profit", "RMB m", R("pbt")),
    typed("dep_amort", "Dep. & Amort.", "RMB m", D("dep_amort"), CF),
    typed("tax_paid", "Tax Paid", "RMB m", R("tax") + D("tax_timing"), CF),
    typed("assoc_cf", "Assoc. & JV Inc/(loss)", "RMB m", D("assoc_cf"), CF),
    typed("disposal_loss", "(Pft)/ Loss on disposal of FAs", "RMB m", D("disposal_loss"), CF),
    typed(
        "chg_wc",
        "Chg in Wkg.Cap.",
        "RMB m",
        R("non_cash_wc").prev - R("non_cash_wc") + D("wc_unlinked"),
        CF,
    ),
    typed("other_operating_cf", "Other Operating CF", "RMB m", D("other_operating_cf"), CF),
    both(
        "net_operating_cf",
        "Net Operating CF",
        "RMB m",
        total(
            R("cf_pbt"),
            R("dep_amort"),
            R("tax_paid"),
            R("assoc_cf"),
            R("disposal_loss"),
            R("chg_wc"),
            R("other_operating_cf"),
        ),
    ),
    typed("capex_cf", "Capital Exp.(net)", "RMB m", -D("capex"), CF),
    typed("other_invt", "Other Invt.(net)", "RMB m", D("other_invt"), CF),
    typed("invt_in_assoc_cf", "Invt in Assoc. & JV", "RMB m", D("invt_in_assoc_cf"), CF),
    typed("div_from_assoc", "Div from Assoc & JV", "RMB m", D("div_from_assoc"), CF),
    typed("other_investing_cf", "Other Investing CF", "RMB m", D("other_investing_cf"), CF),
    both(
        "net_investing_cf",
        "Net Investing CF",
        "RMB m",
        total(
            R("capex_cf"),
            R("other_invt"),
            R("invt_in_assoc_cf"),
            R("div_from_assoc"),
            R("other_investing_cf"),
        ),
    ),
    typed("dividend_paid", "Div Paid", "RMB m", -R("preference_dividend"), CF),
    typed(
        "chg_gross_debt",
        "Chg in Gross Debt",
        "RMB m",
        R("short_term_debt")
        + R("long_term_debt")
        - R("short_term_debt").prev
        - R("long_term_debt").prev
        + D("debt_unlinked"),
        CF,
    ),
    typed("capital_issues", "Capital Issues", "RMB m", D("capital_issues"), CF),
    typed("other_financing_cf", "Other Financing CF", "RMB m", D("other_financing_cf"), CF),
    both(
        "net_financing_cf",
        "Net Financing CF",
        "RMB m",
        total(R("dividend_paid"), R("chg_gross_debt"), R("capital_issues"), R("other_financing_cf")),
    ),
    typed("currency_adj", "Currency Adjustments", "RMB m", D("currency_adj"), CF),
    both(
        "chg_in_cash",
        "Chg in Cash",
        "RMB m",
        total(R("net_operating_cf"), R("net_investing_cf"), R("net_financing_cf"), R("currency_adj")),
    ),
    both("opg_cfps", "Opg CFPS (RMB)", "RMB", (R("net_operating_cf") - R("chg_wc")) / P("shares_m")),
    both("free_cfps", "Free CFPS (RMB)", "RMB", (R("net_operating_cf") + R("capex_cf")) / P("shares_m")),
    # ---- Forecasts and Valuation (page one)
    both(
        "np_pre_ex_growth",
        "Net Profit Gth (Pre-ex) (%)",
        "%",
        growth_abs("net_profit_pre_ex"),
    ),
    Line(
        "eps_shares",
        "Shares for EPS (m)",
        "m shares",
        hist=P("shares_m"),
        fcst=P("eps_shares_m"),
        meaning="Issued shares for reported years; the count the report's forecast EPS implies after",
    ),
    both("eps_rmb", "EPS (RMB)", "RMB", R("net_profit") / R("eps_shares")),
    both("eps_hkd", "EPS (HK$)", "HK$", R("eps_rmb") * hkd_per_rmb),
    both("core_eps_rmb", "Core EPS (RMB)", "RMB", R("net_profit_pre_ex") / R("eps_shares")),
    both("core_eps_hkd", "Core EPS (HK$)", "HK$", R("core_eps_rmb") * hkd_per_rmb),
    both("eps_growth", "EPS Gth (%)", "%", growth_abs("eps_rmb")),
    both("core_eps_growth", "Core EPS Gth (%)", "%", growth_abs("core_eps_rmb")),
    both("diluted_eps_hkd", "Diluted EPS (HK$)", "HK$", R("eps_hkd")),
    both(
        "ps_ratio",
        "P/S (X)",
        "x",
        Ref("mkt_cap_usd_m", single=True) * P("ps_row_usdcny") / R("revenue"),
        meaning="Market cap over revenue at the USDCNY the printed row implies (see errata)",
    ),
    both("bvps_hkd", "BV Per Share (HK$)", "HK$", R("equity") / P("shares_m") * hkd_per_rmb),
    both(
        "net_div_yield",
        "Net Div Yield (%)",
        "%",
        -R("dividend_paid") / P("shares_m") * hkd_per_rmb / P("last_price"),
    ),
    both("pb_ratio", "P/Book Value (X)", "x", P("last_price") / R("bvps_hkd")),
    Line("earnings_rev", "Earnings Rev (%)", "text", hist=INPUT, fcst=INPUT, source=FV),
    Line("consensus_eps", "Consensus EPS (RMB)", "RMB", hist=INPUT, fcst=INPUT, source=FV),
    Line("other_broker_recs", "Other Broker Recs:", "text", hist=INPUT, fcst=INPUT, source=FV),
    # ---- Valuation (single values)
    Line("hkd_per_rmb", "HK$ per RMB", "HK$", value=P("hkdusd") / P("usdcny")),
    Line("mkt_cap_hkd_m", "Mkt Cap (HK$ m)", "HK$ m", value=P("shares_m") * P("last_price")),
    Line("mkt_cap_usd_m", "Mkt Cap (US$ m)", "US$ m", value=R("mkt_cap_hkd_m") / P("hkdusd")),
)


def peer_lines(peers: list[tuple[str, str]], ps_columns: list[str], target_ps: str) -> tuple[Line, ...]:
    """Peer P/S lines and their averages; `peers` is (key, currency driver or '') per company."""
    out: list[Line] = []
    for key, fx in peers:
        price_usd = P(f"{key}_price") / P(fx) if fx else P(f"{key}_price")
        out.append(Line(f"{key}_price_usd", "Price (USD)", "US$", value=price_usd))
        for col in ps_columns:
            ps = P(f"{key}_mkt_cap") / P(f"{key}_sales_{col}")
            out.append(Line(f"{key}_ps_{col}", f"P/S {col}", "x", value=ps))
    for col in ps_columns:
        out.append(
            Line(
                f"peer_average_ps_{col}",
                f"P/S {col}",
                "x",
                value=avg(*(R(f"{key}_ps_{col}") for key, _ in peers)),
                meaning="Mean of the peers' unrounded P/S ratios",
            )
        )
    average = R(f"peer_average_ps_{target_ps}")
    target_col = "2024F"
    out += [
        Line(
            "target_multiple",
            "Target P/S multiple (x)",
            "x",
            value=average + average * P("premium"),
            meaning=f"Peer average P/S {target_ps} with the premium: (1 + premium) x average",
        ),
        Line(
            "valuation_usd_m",
            "Valuation (US$ m)",
            "US$ m",
            value=R("target_multiple") * Ref("revenue", at=target_col) / P("usdcny"),
        ),
        Line(
            "target_price_unrounded",
            "Target price, unrounded (HK$)",
            "HK$",
            value=R("valuation_usd_m") * P("hkdusd") / P("shares_m"),
        ),
        Line(
            "target_price",
            "12-mth target price (HK$)",
            "HK$",
            value=mround(R("target_price_unrounded"), P("tp_rounding")),
        ),
        Line(
            "upside",
            "Upside to target price",
            "%",
            value=(R("target_price") - P("last_price")) / P("last_price"),
        ),
        Line(
            "buy_threshold",
            "BUY threshold",
            "%",
            value=if_(P("cap_basis").eq("small"), P("buy_threshold_small"), P("buy_threshold_large")),
        ),
        Line(
            "rating",
            "Rating",
            "text",
            value=if_(
                R("upside") > R("buy_threshold"),
                "BUY",
                if_(R("upside") < P("fully_valued_threshold"), "FULLY VALUED", "HOLD"),
            ),
        ),
    ]
    return tuple(out)
