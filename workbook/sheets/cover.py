"""The Cover: the headline figures, the Forecasts and Valuation table, the add-in panel and a read-me."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.styles import Alignment, Font

from engine.tables import table_rows

from .. import styles as st
from ..layout import (
    COVER,
    COVER_NOTE_COL,
    COVER_TABLE,
    COVER_VALUE_COL,
    DATE_FORMAT,
    LABEL_COL,
    LIVE_PREFIX,
    MARKET_AS_OF_NAME,
    README_LABEL,
    UDF_COLUMNS,
    at,
)
from ..printing import flag_checks, shade_forecasts, span_points
from ..textfit import PADDING, font_of, lines_needed, row_points

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from ..build import Builder

NEEDS_ADDIN = "needs the SenseTime add-in"
NOTE_FONT = Font(name="Arial", size=8, italic=True, color="595959")  # the add-in note: a remark, not a figure
LEFT = Alignment(horizontal="left")  # the master check: a failing one's message runs on to the right
PASS = "All checks pass"  # what MasterCheck reads when every check passes (workbook/sheets/checks.py)
# The add-in panel: label, the ST_ call, its number format, by the native name the call equals.
UDF_PANEL = {
    "TargetPrice": ("Target price (HK$)", "ST_TARGET(Drivers)", "0.00"),
    "Rating": ("Rating", "ST_RATING(Drivers)", "General"),
    "Valuation": ("Valuation (US$ m)", "ST_VALUATION(Drivers)", "#,##0"),
}
NOTES = (
    "Inputs are blue on the Assumptions sheet (one row each, with its defined name) and the reported "
    "2020A-2021A figures on the statement sheets. Every other number is a formula: change an input and the "
    "target price moves.",
    "The Checks sheet must read 'All checks pass'. Known inconsistencies of the report are recorded there "
    "with their amounts (docs/errata.md).",
    "Audit a copy with `stmodel audit FILE`; this workbook needs no add-in and no macros.",
)


def cover(b: Builder) -> None:
    ws = b.ws(COVER)
    lay = b.layout.cover
    src = b.model.report.source
    b.title(
        ws,
        "SenseTime Group (20 HK): equity research model",
        f"After {src['publisher']}, initiation of {src['date']}: {src['title']}",
    )
    summary = {
        "rating": ("Rating", "=Rating", "General"),
        "target_price": ("12-month target price (HK$)", "=TargetPrice", "0.00"),
        "upside": ("Upside to target price", "=Upside", "0.0%"),
        "last_price": ("Last price (HK$)", "=LastPrice", "0.00"),
        "market_as_of": ("Market data as of", f"={MARKET_AS_OF_NAME}", DATE_FORMAT),
        "checks": ("Model checks", "=MasterCheck", "General"),
    }
    for key, row in lay.summary.items():
        label, value, fmt = summary[key]
        ws[at(LABEL_COL, row)] = label
        c = ws[at(COVER_VALUE_COL, row)]
        c.value, c.number_format, c.font, c.alignment = value, fmt, st.BOLD, LEFT if key == "checks" else st.RIGHT
    flag_checks(ws, at(COVER_VALUE_COL, lay.summary["checks"]), PASS)
    # the valuation year the target price rests on (the `target_year` driver), beside it
    note = ws[at(COVER_NOTE_COL, lay.summary["target_price"])]
    note.value, note.font = f'="on FY"&{LIVE_PREFIX}target_year&" P/S"', st.SUBTITLE
    note.alignment = Alignment(indent=1)
    ws[at(LABEL_COL, lay.table_row)] = COVER_TABLE
    ws[at(LABEL_COL, lay.table_row)].font = st.BOLD
    b.year_header(ws, lay.header)
    ws[at(LABEL_COL, lay.header.row)].alignment = st.WRAP
    rows = table_rows(b.model, COVER_TABLE)
    for r, line in enumerate(rows, start=lay.first_row):
        ws[at(LABEL_COL, r)] = line.label
        if line.key:
            for y, col in lay.header.columns.items():
                b.write_link(ws, at(col, r), line.key, y)
                ws[at(col, r)].alignment = st.RIGHT  # text figures ("New", "B:10") as the numbers
    shade_forecasts(ws, lay.header.row, lay.header.columns, lay.first_row + len(rows) - 1)
    udf_panel(b, ws)
    ws[at(LABEL_COL, lay.readme_row)] = README_LABEL
    ws[at(LABEL_COL, lay.readme_row)].font = st.BOLD
    source = (
        f"Source: {src['publisher']}, initiation report of {src['date']} (BUY, TP HK$2.70). Figures and their "
        "report lines are on the Sources sheet."
    )
    for col in lay.header.columns.values():
        ws.column_dimensions[col].width = 12
    ws.column_dimensions[COVER_VALUE_COL].width = VALUE_WIDTH
    for r, text in enumerate((source, *NOTES), start=lay.readme_row + 1):
        ws[at(LABEL_COL, r)] = text
        wrap_note(ws, r, lay.last_column)
    b.finish_sheet(ws, lay.last_column, freeze=None, pages_tall=1)


VALUE_WIDTH = 22  # the headline figures' column, and the add-in's: "All checks pass" in bold, the add-in note


def wrap_note(ws: Worksheet, row: int, last_col: str) -> None:
    """A read-me line across the printed width (column A to `last_col`), wrapped, its row as tall as the
    lines it takes (`workbook.textfit`, on the wide side)."""
    ws.merge_cells(f"{at(LABEL_COL, row)}:{at(last_col, row)}")
    cell = ws[at(LABEL_COL, row)]
    cell.alignment = st.WRAP
    size, bold = font_of(cell)
    room = span_points(ws, LABEL_COL, last_col) - PADDING
    ws.row_dimensions[row].height = row_points(lines_needed(str(cell.value), room, size, bold), size)


def udf_panel(b: Builder, ws: Worksheet) -> None:
    """A few ST_* calls beside their native twins; without the add-in they read as a plain note."""
    lay = b.layout.cover
    addin, native = UDF_COLUMNS
    ws[at(LABEL_COL, lay.udf_row)] = "With the SenseTime add-in"  # the Python engine, through ST_ calls
    ws[at(LABEL_COL, lay.udf_row)].font = st.BOLD
    ws[at(addin, lay.udf_row)], ws[at(native, lay.udf_row)] = "Add-in", "Native"
    for col in UDF_COLUMNS:
        c = ws[at(col, lay.udf_row)]
        c.font, c.fill, c.alignment = st.BOLD, st.HEADER_FILL, st.RIGHT
    for name, r in lay.udf_rows.items():
        label, call, fmt = UDF_PANEL[name]
        ws[at(LABEL_COL, r)] = label
        ws[at(addin, r)] = f'=IFERROR({call},"{NEEDS_ADDIN}")'
        ws[at(native, r)] = f"={name}"
        for col in UDF_COLUMNS:
            ws[at(col, r)].number_format = fmt
            ws[at(col, r)].alignment = st.RIGHT
        ws[at(addin, r)].font = NOTE_FONT  # without the add-in, a note; with it, the figure, in grey
