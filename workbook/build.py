"""Build the model workbook with openpyxl from the engine's line definitions.

Every computed cell is a native formula rendered from the line's one definition (engine/lines/);
typed cells are the drivers, the fixed report adjustments and the reported figures, in blue.
Nothing here computes a model number: values come from the engine only to check the build.
The Builder holds what every sheet needs (the layout, number formats, home and link cells);
each sheet is written by its module in workbook/sheets/, at the cells workbook/layout/ gives.
"""

from __future__ import annotations

import datetime as dt
import os
import re

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.utils.cell import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

import engine
from engine.drivers import resolve
from engine.errors import StmodelError
from engine.expr import INPUT, Bin, Const, Drv, Expr, Fn, Neg, Raw, to_excel
from engine.model import Model, compile_model
from engine.model_file import ModelFile

from . import styles as st
from .book import ZIP_EPOCH_MAX, ZIP_EPOCH_MIN, save_atomic  # save_atomic re-exported for `stmodel build`
from .layout import (
    ACTUALS,
    ASSUMPTIONS,
    COVER,
    FREEZE,
    HEADER_CELL,
    HEADER_ROW,
    LABEL_COL,
    MODEL_FILE_SHEET,
    SHEETS,
    SUBTITLE_CELL,
    TITLE_CELL,
    VARIANCE,
    FormulaContext,
    Layout,
    YearHeader,
    at,
    locate,
    make_layout,
    row_of,
)
from .printing import fit_text_row, page_setup
from .sheets.actuals import actuals, model_file_sheet, variance
from .sheets.assumptions import assumptions
from .sheets.checks import checks
from .sheets.cover import NEEDS_ADDIN, cover
from .sheets.engine_sheet import engine_sheet
from .sheets.sources import sources
from .sheets.statements import segment_chart, statements
from .sheets.valuation import valuation

OUTPUT_NAMES = {
    "TargetPrice": "target_price",
    "TargetPriceUnrounded": "target_price_unrounded",
    "Upside": "upside",
    "Rating": "rating",
    "Valuation": "valuation_usd_m",
    "TargetMultiple": "target_multiple",
}


class BuildError(StmodelError, ValueError):
    """The workbook cannot be written (the message says where and why)."""


def _decimals(model: Model) -> dict[str, int]:
    """Printed decimals per line, from the first report row that shows it."""
    from engine.tables import TABLE_TITLES, table_rows

    out: dict[str, int] = {}
    for title in TABLE_TITLES:
        printed = model.report.table(title)
        for row in table_rows(model, title):
            if row.key and row.key not in out:
                decs = list(printed.row(row.label).decimals.values())
                if decs:
                    out[row.key] = max(decs)
    return out


class Builder:
    """The workbook being built and what every sheet writer needs: the layout and the cell helpers."""

    def __init__(self, model: Model | None = None, model_file: ModelFile | None = None) -> None:
        """`model_file`: an analyst's drivers (the Assumptions' Base values) and actuals (the Actuals
        sheet's cells; a reported year's restates the statement's typed figure), recorded in the workbook."""
        self.model_file = model_file
        if model_file is not None:
            model = model_file.compiled(model.report if model is not None else None)
        self.model = model or compile_model()
        self.layout: Layout = make_layout(self.model)
        report, years = self.model.report, self.model.years
        self.base: dict[str, object] = dict(resolve(model_file.overrides(), report, years) if model_file else {})
        self.env = engine.evaluate(engine.base_values(report, years), self.model)
        as_of = (model_file.as_of if model_file is not None else None) or report.market["last_price"].date
        self.as_of = dt.date.fromisoformat(as_of)  # the date of the market data: the file's [market], or the report's
        self.decimals = _decimals(self.model)
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        for name in SHEETS:
            self.wb.create_sheet(name)
            if name == ACTUALS and model_file is not None:
                self.wb.create_sheet(VARIANCE)
        if model_file is not None:
            self.wb.create_sheet(MODEL_FILE_SHEET)

    # ------------------------------------------------------------ helpers
    def ws(self, name: str) -> Worksheet:
        return self.wb[name]

    def fmt(self, key: str) -> str:
        line = self.model.lines[key]
        return st.number_format(line.unit, self.decimals.get(key))

    def formula(self, key: str, column: str | None, sheet: str) -> str:
        expr = self.model.lines[key].definition(column)
        if expr is None:
            raise BuildError(f"{key} {column}: the line has no definition for this column")
        return "=" + self.render(expr, column, sheet)

    def render(self, expr: Expr, column: str | None, sheet: str) -> str:
        """A definition as a formula body on `sheet`; a year it compares a year driver with (the cases of
        `target_year`) reads the Actuals sheet's cell holding that year's number, so no number is typed."""
        return to_excel(
            self._years_as_cells(expr, sheet), column, self.model.columns, FormulaContext(self.layout, sheet)
        )

    def _years_as_cells(self, expr: Expr, sheet: str) -> Expr:
        if isinstance(expr, Bin):
            a, b = self._years_as_cells(expr.a, sheet), self._years_as_cells(expr.b, sheet)
            if expr.op == "=" and isinstance(a, Drv) and isinstance(b, Const) and self._is_year(a, b):
                year = f"{int(b.value)}F"
                where = None if sheet == ACTUALS else ACTUALS
                b = Raw(self.layout.actuals.year_cell(year, where, absolute=True))
            return Bin(expr.op, a, b)
        if isinstance(expr, Neg):
            return Neg(self._years_as_cells(expr.a, sheet))
        if isinstance(expr, Fn):
            return Fn(expr.name, tuple(self._years_as_cells(x, sheet) for x in expr.args))
        return expr

    def _is_year(self, driver: Drv, value: Const) -> bool:
        """A year driver (unit "year") compared with a forecast year the Actuals sheet has a number for."""
        d = self.layout.input_row(driver.name).driver if self.layout.is_driver(driver.name) else None
        return (
            d is not None
            and d.unit == "year"
            and isinstance(value.value, int | float)
            and f"{int(value.value)}F" in self.layout.actuals.columns
        )

    def has_value(self, key: str, column: str | None) -> bool:
        return (key, column) in self.env

    def home_cell(self, key: str, column: str | None = None) -> str:
        """The address of a line's home cell (on its home sheet)."""
        return self.layout.homes[(key, column)][1]

    def write_home(self, ws: Worksheet, cell: str, key: str, column: str | None) -> None:
        """A line's own cell: its typed figure or the formula of its definition."""
        if not self.has_value(key, column):
            return
        c = ws[cell]
        if self.model.lines[key].definition(column) is INPUT:
            value = self.model.typed.get((key, column))
            if value is None or value == "":
                return
            c.value = value
            c.font = st.INPUT_FONT
        else:
            c.value = self.formula(key, column, ws.title)
            actual = self.layout.actual_ref(key, column, ws.title) if column else None
            if actual is not None:
                c.value = f"=IF(ISNUMBER({actual}),{actual},{c.value[1:]})"
            c.font = st.FORMULA_FONT
        c.number_format = self.fmt(key)

    def write_link(self, ws: Worksheet, cell: str, key: str, column: str | None) -> None:
        """A plain link to a line's home cell (the line shown again elsewhere)."""
        if not self.has_value(key, column):
            return
        if self.model.lines[key].definition(column) is INPUT and self.model.typed.get((key, column)) in (None, ""):
            return
        c = ws[cell]
        c.value = "=" + self.layout.ref(key, column, ws.title)
        c.font = st.LINK_FONT
        c.number_format = self.fmt(key)

    def single(self, ws: Worksheet, key: str) -> None:
        """A single value: its label, and its home cell beside it."""
        _, label_cell = self.layout.singles[key]
        ws[label_cell] = self.model.lines[key].label
        self.write_home(ws, self.home_cell(key), key, None)

    def title(self, ws: Worksheet, text: str, subtitle: str) -> None:
        ws[TITLE_CELL] = text
        ws[TITLE_CELL].font = st.TITLE
        ws[SUBTITLE_CELL] = subtitle
        ws[SUBTITLE_CELL].font = st.SUBTITLE

    def year_heading(self, year: str, sheet: str) -> str:
        """A year's heading: a reported year as printed; a forecast year's switches to A by formula when any
        actual of that year is entered on the Actuals sheet (`=Actuals!D$4&IF(COUNT(...)>0,"A","F")`)."""
        if year not in self.model.forecast:
            return year
        lay = self.layout.actuals
        where = None if sheet == ACTUALS else ACTUALS
        return f'={lay.year_cell(year, where)}&IF(COUNT({lay.column_range(year, where)})>0,"A","F")'

    def year_header(self, ws: Worksheet, header: YearHeader | None = None) -> None:
        """A header row of years (the sheet's own from the layout unless given), bold on the header fill."""
        header = header or self.layout.year_headers[ws.title][0]
        ws[at(LABEL_COL, header.row)] = header.label
        for year, col in header.columns.items():
            ws[at(col, header.row)] = self.year_heading(year, ws.title)
        for col in (LABEL_COL, *header.columns.values()):
            c = ws[at(col, header.row)]
            c.font = st.BOLD
            c.fill = st.HEADER_FILL
            if col != LABEL_COL:
                c.alignment = st.RIGHT

    def finish_sheet(
        self,
        ws: Worksheet,
        last_col: str,
        freeze: str | None = FREEZE,
        width_a: int = 34,
        *,
        header_row: int = HEADER_ROW,
        titles: tuple[int, int] | None = None,
        pages_tall: int = 0,
        last_row: int | None = None,
        fit_subtitle: bool = True,
    ) -> None:
        """Label column width, panes frozen at the first data cell, and the print setup
        (`printing.page_setup`): the rows from `header_row` to above the frozen cell and the columns left
        of it repeat on every page (`titles`: other rows); `pages_tall` 1 for a sheet that should print on
        one page. A subtitle wider than the printed columns wraps across them (`fit_subtitle` False: a
        sheet whose row 2 is rewritten later, the Engine's, keeps it as it is)."""
        ws.column_dimensions[LABEL_COL].width = width_a
        title_rows = titles
        title_cols: str | None = None
        if freeze:
            ws.freeze_panes = freeze
            row, col = locate(freeze)
            if titles is None and row - 1 >= header_row:
                title_rows = (header_row, row - 1)
            if col > 1:
                title_cols = get_column_letter(col - 1)
        if fit_subtitle:
            fit_text_row(ws, row_of(SUBTITLE_CELL), LABEL_COL, last_col)
        page_setup(ws, last_col, last_row, title_rows=title_rows, title_cols=title_cols, pages_tall=pages_tall)

    def name(self, name: str, target: str) -> None:
        self.wb.defined_names[name] = DefinedName(name, attr_text=target)

    def output_names(self) -> None:
        """The defined names the Cover, the add-in and analysts read the results by."""
        for name, key in OUTPUT_NAMES.items():
            self.name(name, self.layout.absolute(key))
        self.name("LastPrice", self.layout.absolute_input("last_price"))

    def build(self) -> Workbook:
        assumptions(self)
        actuals(self)
        statements(self)
        valuation(self)
        checks(self)
        cover(self)
        sources(self)
        engine_sheet(self)
        self.output_names()
        segment_chart(self)
        if self.model_file is not None:
            variance(self)
            model_file_sheet(self)
        self.wb.properties.title = "SenseTime (20 HK) model"
        self.wb.properties.creator = f"stmodel {engine.__version__}"
        self.ws(COVER).sheet_properties.tabColor = "1F3864"
        note = Comment("Typed input: change it here; the defined name in column A points at this cell.", "stmodel")
        self.ws(ASSUMPTIONS)[HEADER_CELL].comment = note
        return self.wb


def build_workbook(model: Model | None = None, model_file: ModelFile | None = None) -> Workbook:
    """The model workbook; with `model_file`, its drivers are the Assumptions' Base values, its actuals
    fill the Actuals sheet (a reported year's restate the statements' typed figures), a Variance sheet
    compares them with the report's forecasts, and its text is kept in the hidden ModelFile sheet."""
    return Builder(model, model_file).build()


REPORT_DATE = 1673568000  # 2023-01-13 00:00 UTC, the report's date: a built workbook's fixed timestamp


def build_timestamp() -> int:
    """The time a built workbook carries: SOURCE_DATE_EPOCH when set (reproducible-builds.org), else the
    report's date, so the same model gives the same bytes whenever it is built."""
    text = os.environ.get("SOURCE_DATE_EPOCH")
    if text is None or text.strip() == "":
        return REPORT_DATE
    if not re.fullmatch(r"[0-9]{1,12}", text.strip()):
        raise BuildError(f"SOURCE_DATE_EPOCH={text!r}: expected whole seconds since 1970-01-01 UTC")
    value = int(text.strip())
    if not ZIP_EPOCH_MIN <= value <= ZIP_EPOCH_MAX:
        raise BuildError(
            f"SOURCE_DATE_EPOCH={text.strip()}: outside what a zip file can store "
            f"({ZIP_EPOCH_MIN} to {ZIP_EPOCH_MAX}: 1980-01-01 to 2107-12-31 UTC)"
        )
    return value


__all__ = [
    "NEEDS_ADDIN",
    "OUTPUT_NAMES",
    "BuildError",
    "Builder",
    "build_timestamp",
    "build_workbook",
    "save_atomic",
]
