"""Put an analyst's model file into a saved model workbook (`stmodel refresh --model`): its drivers into
the Assumptions' Base cells, its actuals into the Actuals sheet (a reported year's into the statement's
typed cell, which it restates), its text into the hidden ModelFile sheet, and its Variance sheet. What
`build_workbook(model_file=...)` writes in those places, written into a workbook an analyst already has.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from engine.drivers import drivers, resolve
from engine.errors import StmodelError
from engine.lines import HIST
from engine.model_file import ModelFile

from .layout import ACTUALS, ASSUMPTIONS, DATE_FORMAT, MARKET_AS_OF_LABEL, MODEL_FILE_SHEET, VARIANCE
from .reader import Assumptions, ReadError, SheetIndex, actual_grid, grid_of, home_cells, layout_of


class ApplyError(StmodelError, ValueError):
    """The model file cannot be put into this workbook; the message names the sheet or cell."""


def apply_model_file(wb: Any, model_file: ModelFile) -> list[str]:
    """Write the model file into the workbook; returns the inputs it changed ("name: old -> new"), so
    that a refresh can say what it replaced."""
    from .build import Builder
    from .sheets.actuals import variance, write_model_text

    try:
        layout = layout_of(wb)  # the years the workbook was built for (its recorded model file's, or the report's)
    except ReadError as e:
        raise ApplyError(str(e)) from None
    model = model_file.compiled(layout.model.report)
    if model.years != layout.model.years:
        theirs, ours = _columns(model.years), _columns(layout.model.years)
        raise ApplyError(
            f"the model file's columns ({theirs}) are not the workbook's ({ours}); "
            "build the workbook from it instead: stmodel build --model FILE"
        )
    if ACTUALS not in wb.sheetnames:
        raise ApplyError(
            f"the workbook has no {ACTUALS} sheet (built by an older stmodel); build it again with "
            "`stmodel build --model FILE`"
        )
    try:
        sheet = Assumptions(grid_of(wb[ASSUMPTIONS]), layout, strict=False)
    except ReadError as e:
        raise ApplyError(str(e)) from None
    values = resolve(model_file.overrides(), model.report, model.years)
    changed: list[str] = []

    def put(ws: Any, row: int, col: int, value: Any, what: str) -> None:
        old = ws.cell(row, col).value
        numbers = isinstance(old, int | float) and isinstance(value, int | float)
        same = math.isclose(old, value, rel_tol=1e-12, abs_tol=1e-12) if numbers else old == value
        if not same and not (old is None and value == ""):
            changed.append(f"{what}: {_shown(old)} -> {_shown(value)}")
        ws.cell(row, col).value = value

    names = set(sheet.names())
    if model_file.as_of is not None and MARKET_AS_OF_LABEL in names:
        cell = sheet.cell(MARKET_AS_OF_LABEL)
        old = cell_date(wb[ASSUMPTIONS].cell(cell.row, cell.col).value)
        if old != model_file.as_of:
            changed.append(f"market_as_of: {old or 'blank'} -> {model_file.as_of}")
        wb[ASSUMPTIONS].cell(cell.row, cell.col).value = dt.date.fromisoformat(model_file.as_of)
        wb[ASSUMPTIONS].cell(cell.row, cell.col).number_format = DATE_FORMAT
    for name in drivers(model.report, model.years):
        if name not in names:
            raise ApplyError(f"{ASSUMPTIONS}: driver '{name}' is missing; the model file's value has no cell")
        cell = sheet.cell(name)
        put(wb[ASSUMPTIONS], cell.row, cell.col, values[name], name)
    ws = wb[ACTUALS]
    rows, columns = actual_grid(grid_of(ws), layout)
    for key in layout.actuals.rows:
        if key not in rows:
            raise ApplyError(f"{ACTUALS}: the row of line '{key}' (column B) is missing")
        for year, number in columns.items():
            put(ws, rows[key], number, model.actuals.get((key, year)), f"actual {key} {year[:4]}")
    for sheet_name in dict.fromkeys(r.sheet for r in layout.year_rows if r.home and r.key in layout.actuals.rows):
        index = SheetIndex(wb[sheet_name], layout)
        for (key, year), cell in home_cells(index, layout, HIST).items():
            if key in layout.actuals.rows and (key, year) in model.typed:
                put(wb[sheet_name], cell.row, cell.col, model.typed[(key, year)], f"{key} {year}")
    if MODEL_FILE_SHEET not in wb.sheetnames:
        wb.create_sheet(MODEL_FILE_SHEET)
    write_model_text(wb[MODEL_FILE_SHEET], model_file.text())
    at = wb.sheetnames.index(VARIANCE) if VARIANCE in wb.sheetnames else wb.sheetnames.index(ACTUALS) + 1
    if VARIANCE in wb.sheetnames:
        del wb[VARIANCE]
    wb.create_sheet(VARIANCE, at)
    builder = Builder(model_file=model_file)
    builder.wb = wb
    variance(builder)
    return changed


def _columns(years: Any) -> str:
    sales = sorted({c for _, c in years.peer_sales})
    return f"{years.years[0]}-{years.years[-1]}" + (f", peer sales {', '.join(sales)}" if sales else "")


def cell_date(value: Any) -> str | None:
    """A date cell's value as an ISO date (None when it holds no date)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def _shown(value: Any) -> str:
    return "blank" if value is None or value == "" else f"{value:g}" if isinstance(value, float) else str(value)
