"""Balance Sheet lines: balances rolled forward from flows, working capital from days, and the ratios."""

from __future__ import annotations

from ..expr import Const, avg, if_, total
from .base import BS, A, D, Line, P, R, both, days, typed

BALANCE_LINES: tuple[Line, ...] = (
    typed(
        "nfa",
        "Net Fixed Assets",
        "RMB m",
        R("nfa").prev - R("capex_cf") - R("dep_amort") - R("disposal_loss") + A("nfa_other"),
        BS,
        meaning="Opening + capex - D&A - book value written off on disposal (the cash flow's loss on disposal)",
    ),
    typed(
        "invt_in_associates",
        "Invt in Associates & JVs",
        "RMB m",
        R("invt_in_associates").prev
        + R("associates")
        - R("div_from_assoc")
        - R("invt_in_assoc_cf")
        + A("invt_in_associates_other"),
        BS,
        meaning="Opening + share of profit - dividends received + invested. Memo: carried inside Other LT Assets,"
        " so not added again to Total Assets",
    ),
    typed(
        "other_lt_assets",
        "Other LT Assets",
        "RMB m",
        R("other_lt_assets").prev
        + R("invt_in_associates")
        - R("invt_in_associates").prev
        - R("other_invt")
        - R("other_investing_cf")
        + A("other_lt_assets_other"),
        BS,
        meaning="Opening + other investments bought (Other Invt.(net), Other Investing CF) + the change in associates",
    ),
    typed(
        "cash",
        "Cash & ST Invt",
        "RMB m",
        R("cash").prev + R("chg_in_cash") + A("cash_unreconciled"),
        BS,
    ),
    typed("inventory", "Inventory", "RMB m", -R("cogs") * D("inventory_days") / days, BS, y2019=True),
    typed("debtors", "Debtors", "RMB m", R("revenue") * D("debtor_days") / days, BS, y2019=True),
    typed(
        "other_current_assets",
        "Other Current Assets",
        "RMB m",
        R("revenue") * D("other_current_assets_ratio"),
        BS,
    ),
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
    typed(
        "short_term_debt",
        "ST Debt",
        "RMB m",
        D("short_term_debt") + R("revolver"),
        BS,
        meaning="Term ST debt (a driver) plus the revolving credit drawn",
    ),
    typed("creditors", "Creditors", "RMB m", -R("cogs") * D("creditor_days") / days, BS, y2019=True),
    typed(
        "other_current_liab",
        "Other Current Liab",
        "RMB m",
        R("revenue") * D("other_current_liab_ratio"),
        BS,
    ),
    typed("long_term_debt", "LT Debt", "RMB m", D("long_term_debt"), BS),
    typed(
        "other_lt_liab",
        "Other LT Liabilities",
        "RMB m",
        R("other_lt_liab").prev + R("other_financing_cf") + A("other_lt_liab_other"),
        BS,
        meaning="Opening + Other Financing CF (lease and other long-term funding raised, less repaid)",
    ),
    typed(
        "equity",
        "Shareholder's Equity",
        "RMB m",
        total(
            R("equity").prev,
            R("net_profit"),
            R("capital_issues"),
            R("other_operating_cf"),
            R("currency_adj"),
            D("opening_balance_difference"),
        )
        + A("equity_other"),
        BS,
        y2019=True,
        meaning="Opening + Net Profit + Capital Issues + non-cash charges credited to reserves (Other Operating CF)"
        " + Currency Adjustments",
    ),
    typed(
        "minority_interests",
        "Minority Interests",
        "RMB m",
        R("minority_interests").prev + R("minority_interest") + A("mi_other"),
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
    Line(
        "term_debt",
        "Term debt, ST + LT (ex revolver)",
        "RMB m",
        hist=R("short_term_debt") + R("long_term_debt"),
        fcst=D("short_term_debt") + D("long_term_debt"),
        meaning="Debt drawn by decision (the drivers); the revolver is on top",
    ),
    Line(
        "cash_before_revolver",
        "Cash before the revolver",
        "RMB m",
        fcst=total(
            R("cash").prev,
            -R("revolver").prev,
            R("net_operating_cf"),
            R("net_investing_cf"),
            R("dividend_paid"),
            R("chg_term_debt"),
            R("capital_issues"),
            R("other_financing_cf"),
            R("currency_adj"),
            A("cash_unreconciled"),
        ),
        meaning="Closing cash if last year's revolver were repaid and none drawn: what the revolver tops up",
    ),
    Line(
        "revolver",
        "Revolving credit (in ST Debt)",
        "RMB m",
        hist=Const(0),
        fcst=if_(
            P("revolver").eq("on"),
            if_(R("cash_before_revolver") < D("min_cash"), D("min_cash") - R("cash_before_revolver"), Const(0)),
            Const(0),
        ),
        meaning="Drawn when cash would fall below min_cash, repaid when cash allows (revolver switch: on/off)",
    ),
)
