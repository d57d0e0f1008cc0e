"""How every sheet prints, and how the statements read at a glance: the page setup (A4 landscape, one
page wide, title rows and label columns repeated, a header and footer naming the company, the sheet and
the page), subtotals in bold over a rule, and forecast columns shaded apart from the actual ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from engine.expr import Bin, Expr, Neg, Ref
from engine.lines.base import INPUT
from engine.model import Model

from . import styles as st
from .layout import LABEL_COL, TITLE_CELL, YearRow, at
from .textfit import column_points, column_width, font_of, lines_needed, row_points, text_points

COMPANY = "SenseTime Group (20 HK)"
HEADER = (COMPANY, "&A", "")  # left, centre, right: the company, the sheet's name
FOOTER = ("stmodel", "", "Page &P of &N")
MARGINS = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.25, footer=0.25)  # inches

THIN = Side(style="thin", color="000000")
RULE = Border(top=THIN)  # the thin rule above a subtotal
FORECAST_FILL = PatternFill("solid", fgColor="F2F2F2", bgColor="F2F2F2")  # a forecast column's cells
FORECAST_HEADER_FILL = PatternFill("solid", fgColor="B4C6E7", bgColor="B4C6E7")  # and its year heading
OK_STYLE = (Font(color="006100", bold=True), PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE"))
FAIL_STYLE = (Font(color="9C0006", bold=True), PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE"))


def page_setup(
    ws: Worksheet,
    last_col: str,
    last_row: int | None = None,
    *,
    title_rows: tuple[int, int] | None = None,
    title_cols: str | None = LABEL_COL,
    pages_tall: int = 0,
) -> None:
    """A4 landscape, one page wide (`pages_tall` pages tall; 0: as many as it takes), the print area from
    A1 to `last_col`/`last_row` (the last used row by default), `title_rows` (first, last) and the
    columns up to `title_cols` repeated on every page, the company, sheet and page in the margins."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_tall
    ws.page_margins = MARGINS
    ws.print_area = f"{TITLE_CELL}:{at(last_col, last_row or max(ws.max_row, 1))}"
    ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}" if title_rows else None
    ws.print_title_cols = f"{LABEL_COL}:{title_cols}" if title_cols else None
    for part, (left, centre, right) in ((ws.oddHeader, HEADER), (ws.oddFooter, FOOTER)):
        # the application's own header font: a set size (&8) makes LibreOffice count a blank page too many
        part.left.text, part.center.text, part.right.text = left or None, centre or None, right or None


def print_through(ws: Worksheet, last_row: int) -> None:
    """Stretch the sheet's print area down to `last_row` (a line added below what was printed)."""
    area = ws.print_area
    if not area:
        return
    first = str(area).split(",")[0].split("!")[-1].replace("$", "")
    min_col, min_row, max_col, max_row = range_boundaries(first)
    if max_row is not None and max_row >= last_row:
        return
    ws.print_area = f"{at(min_col or 1, min_row or 1)}:{at(max_col or 1, last_row)}"


def fit_text_row(ws: Worksheet, row: int, first_col: str, last_col: str) -> None:
    """Merge `row` from `first_col` to `last_col`, wrap its text there, and make the row as tall as the
    lines it takes; a text that fits on one line is left as it is."""
    cell = ws[at(first_col, row)]
    if cell.value is None:
        return
    size, bold = float(cell.font.sz or 10), bool(cell.font.b)
    room = span_points(ws, first_col, last_col) - 4
    if text_points(str(cell.value), size, bold) <= room:
        return
    ws.merge_cells(f"{at(first_col, row)}:{at(last_col, row)}")
    cell.alignment = st.WRAP
    ws.row_dimensions[row].height = row_points(lines_needed(str(cell.value), room, size, bold), size)


def wrap_cells(ws: Worksheet, row: int, columns: Iterable[str], level: Iterable[str] = ()) -> None:
    """The text cells of `row` in `columns` wrapped in their column, so that a long meaning or source reads
    whole on screen and on paper: the row as tall as the longest (LibreOffice does not fit a row to its
    text on opening a file), and the row's cells in `level` aligned with the first line."""
    lines, size = 1, 10.0
    for col in columns:
        cell = ws[at(col, row)]
        if not isinstance(cell.value, str) or cell.value.startswith("="):
            continue
        cell.alignment = st.WRAP
        room = column_points(column_width(ws, col)) - 4
        size, bold = font_of(cell)
        lines = max(lines, lines_needed(cell.value, room, size, bold))
    if lines > 1:
        ws.row_dimensions[row].height = row_points(lines, size)
        for col in level:
            cell = ws[at(col, row)]
            if cell.value is not None and not cell.alignment.wrap_text:
                cell.alignment = _TOP[cell.alignment.horizontal]


_TOP = {h: Alignment(horizontal=h, vertical="top") for h in (None, "general", "left", "right", "center")}


def span_points(ws: Worksheet, first_col: str, last_col: str) -> float:
    """The printed width of columns `first_col` to `last_col`, in points."""
    return sum(
        column_points(column_width(ws, get_column_letter(c)))
        for c in range(column_index_from_string(first_col), column_index_from_string(last_col) + 1)
    )


# ------------------------------------------------------------------ statements
def _addends(expr: Expr | None) -> list[str] | None:
    """The lines a definition adds or subtracts (this year's), or None when it does anything else."""
    if isinstance(expr, Bin) and expr.op in ("+", "-"):
        a, b = _addends(expr.a), _addends(expr.b)
        return None if a is None or b is None else a + b
    if isinstance(expr, Neg):
        return _addends(expr.a)
    if isinstance(expr, Ref) and expr.lag == 0 and expr.at is None and not expr.single:
        return [expr.key]
    return None


def subtotal_rows(model: Model, rows: Iterable[YearRow]) -> frozenset[int]:
    """The rows of a sheet that close a block: a line defined as the sum of two or more lines shown
    above it on the same sheet, the last of them directly above (Gross Profit, Total Assets, Chg in Cash;
    not EBITDA, which adds D&A from the cash flow, nor Net Cash/(Debt), which sits below Total Cap. & Liab.)."""
    rows = tuple(rows)
    shown = {r.key: r.row for r in rows if r.key is not None}
    out = set()
    for r in rows:
        if r.key is None:
            continue
        definition = model.lines[r.key].definition(model.years.years[-1])
        keys = _addends(definition) if definition is not INPUT else None
        if keys is None or len(set(keys)) < 2:
            continue
        above = [shown.get(k) for k in keys]
        if all(a is not None and a < r.row for a in above) and r.row - 1 in above:
            out.add(r.row)
    return frozenset(out)


def mark_subtotals(ws: Worksheet, rows: Iterable[int], columns: Iterable[str]) -> None:
    """Each subtotal row: label and figures bold, a thin rule above the figures."""
    columns = tuple(columns)
    for row in rows:
        label = ws[at(LABEL_COL, row)]
        label.font = st.BOLD
        for col in columns:
            c = ws[at(col, row)]
            c.font = Font(name=c.font.name, size=c.font.sz, color=c.font.color, bold=True)
            c.border = RULE


def shade_forecasts(ws: Worksheet, header_row: int, columns: Mapping[str, str], last_row: int) -> None:
    """Forecast columns told apart from actual ones: a shaded heading and a light fill down the column,
    by conditional format on the heading's text, so a year typed over with actuals (2022A) turns plain."""
    cols = list(columns.values())
    if not cols or last_row <= header_row:
        return
    first, last = cols[0], cols[-1]
    test = f'RIGHT({first}${header_row},1)="F"'
    ws.conditional_formatting.add(
        f"{first}{header_row}:{last}{header_row}", FormulaRule(formula=[test], fill=FORECAST_HEADER_FILL)
    )
    ws.conditional_formatting.add(
        f"{first}{header_row + 1}:{last}{last_row}", FormulaRule(formula=[test], fill=FORECAST_FILL)
    )


def flag_checks(ws: Worksheet, cells: str, ok: str, fail: str | None = None) -> None:
    """Green where `cells` read `ok`, red where they read anything else (or `fail`), by conditional format."""
    first = cells.split(":")[0].replace("$", "")
    font, fill = OK_STYLE
    ws.conditional_formatting.add(cells, FormulaRule(formula=[f'{first}="{ok}"'], font=font, fill=fill))
    font, fill = FAIL_STYLE
    bad = f'{first}="{fail}"' if fail else f'AND({first}<>"",{first}<>"{ok}")'
    ws.conditional_formatting.add(cells, FormulaRule(formula=[bad], font=font, fill=fill))
