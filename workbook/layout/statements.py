"""Where the statement sheets put their lines: one row per printed row of the report's table.

A line shown on several sheets has one home (where most formulas read it); the others link to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model import Model
from engine.tables import table_rows

from .cells import BALANCE, CASH_FLOW, FIRST_ROW, INCOME, SEGMENTS, at, year_columns

# Statement sheets and the report table each one shows.
STATEMENTS = (
    (SEGMENTS, "Segmental Breakdown", "Segmental Breakdown (RMB m)"),
    (INCOME, "Income Statement", "Income Statement (RMB m)"),
    (BALANCE, "Balance Sheet", "Balance Sheet (RMB m)"),
    (CASH_FLOW, "Cash Flow Statement", "Cash Flow Statement (RMB m)"),
)
# Lines shown on several statement sheets live where most formulas read them.
HOME_SHEET = {"revenue": INCOME}
# Lines that no report table prints, shown as memo rows.
MEMO = {
    "capital_employed": BALANCE,
    "term_debt": BALANCE,
    "revolver": BALANCE,
    "cash_before_revolver": CASH_FLOW,
    "chg_term_debt": CASH_FLOW,
}  # the Valuation sheet places its own (shares_out, eps_shares)
HEADER_LABEL = "FY Dec"  # column A of the year header
MEMO_LABEL = "Memo"
SEGMENT_CHART_GAP = 3  # rows between the last segment line and the top of the segment chart
CHART_ROWS = 17  # rows a chart covers, for the print area

Homes = dict[tuple[str, str | None], tuple[str, str]]


@dataclass(frozen=True)
class YearRow:
    """A row of a year-by-year sheet: a heading (key None), a line's home, or a link to it."""

    sheet: str
    row: int
    label: str
    key: str | None
    home: bool


def place_home(
    model: Model, homes: Homes, rows: list[YearRow], sheet: str, row: int, key: str, label: str | None = None
) -> None:
    """A line's home row (labelled as printed, or with the line's own label): its cell for every year."""
    rows.append(YearRow(sheet, row, label or model.lines[key].label, key, True))
    for y, col in year_columns(model.years.years).items():
        homes[(key, y)] = (sheet, at(col, row))


def place_statements(model: Model, homes: Homes, rows: list[YearRow]) -> None:
    for sheet, title, _ in STATEMENTS:
        row = FIRST_ROW
        for r in table_rows(model, title):
            if r.key is None:
                rows.append(YearRow(sheet, row, r.label, None, False))
            elif (r.key, model.years.years[0]) not in homes and HOME_SHEET.get(r.key, sheet) == sheet:
                place_home(model, homes, rows, sheet, row, r.key, r.label)
            else:
                rows.append(YearRow(sheet, row, r.label, r.key, False))
            row += 1
        memo = [k for k, s in MEMO.items() if s == sheet]
        if memo:
            row += 1
            rows.append(YearRow(sheet, row, MEMO_LABEL, None, False))
            row += 1
            for key in memo:
                place_home(model, homes, rows, sheet, row, key)
                row += 1
