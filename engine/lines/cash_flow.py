"""Cash Flow Statement lines: each starts from the P&L or a balance-sheet change it mirrors."""

from __future__ import annotations

from ..expr import total
from .base import CF, D, Line, P, R, both, typed

CASH_FLOW_LINES: tuple[Line, ...] = (
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
)
