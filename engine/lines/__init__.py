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

from .balance import BALANCE_LINES
from .base import COLUMNS, FCST, HIST, PRIOR, SEGMENTS, YEARS, Line, both, growth, growth_abs, typed
from .cash_flow import CASH_FLOW_LINES
from .income import INCOME_LINES
from .valuation import VALUATION_LINES, peer_lines

LINES: tuple[Line, ...] = INCOME_LINES + BALANCE_LINES + CASH_FLOW_LINES + VALUATION_LINES

__all__ = [
    "COLUMNS",
    "FCST",
    "HIST",
    "LINES",
    "PRIOR",
    "SEGMENTS",
    "YEARS",
    "Line",
    "both",
    "growth",
    "growth_abs",
    "peer_lines",
    "typed",
]
