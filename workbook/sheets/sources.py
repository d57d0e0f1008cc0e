"""The Sources sheet: every typed cell with where its figure comes from, then the report's errata."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from openpyxl.utils.cell import get_column_letter

from engine.errata import load_errata
from engine.model import compile_model

from .. import styles as st
from ..layout import (
    ASSUMPTIONS,
    ERRATA_COLUMNS,
    LABEL_COL,
    MARKET_AS_OF_CELL,
    MARKET_AS_OF_NAME,
    SOURCES,
    SOURCES_COLUMNS,
    SOURCES_FREEZE,
    SOURCES_HEADER_ROW,
    SOURCES_LAST_COL,
    at,
)
from ..printing import wrap_cells

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from ..build import Builder

WIDTHS = (26, 30, 30, 44, 44, 60)  # columns A onwards (the errata's Cells in C); long texts wrap


def sources(b: Builder) -> None:
    ws = b.ws(SOURCES)
    lay = b.layout
    src = b.model.report.source
    b.title(ws, "Sources", f"{src['publisher']}: {src['title']}, {src['date']} (text file {src['text_file']})")
    r = SOURCES_HEADER_ROW
    _header(ws, r, SOURCES_COLUMNS)
    for i in lay.inputs:
        r += 1
        value = None if isinstance(i.value, float) and math.isnan(i.value) else i.value  # no base: the file's
        _row(ws, r, (f"{ASSUMPTIONS}!{lay.input_cell(i.name)}", i.name, value, i.source))
    r += 1
    where = "the model file's [market] as_of" if _file_as_of(b) else "the report's last price date"
    _row(ws, r, (f"{ASSUMPTIONS}!{MARKET_AS_OF_CELL}", MARKET_AS_OF_NAME, b.as_of.isoformat(), where))
    # the report's figures (a model file's actuals are on the Actuals and Variance sheets, with their sources)
    for (key, col), value in sorted(compile_model(b.model.report).typed.items()):
        if col not in lay.years or value in ("", None) or (key, col) not in lay.homes:
            continue
        line = b.model.lines[key]
        table = b.model.report.table(line.source or "")
        r += 1
        sheet, cell = lay.homes[(key, col)]
        where = f"{table.title} / {line.label} (line {table.row(line.label).line})"
        if (key, col) in b.model.actuals:
            where += "; restated by the model file (see the Variance sheet)"
        _row(ws, r, (f"{sheet}!{cell}", f"{line.label} {col}", value, where))
    r += 2
    ws[at(LABEL_COL, r)] = "Errata: where the report contradicts itself"
    ws[at(LABEL_COL, r)].font = st.BOLD
    r += 1
    _header(ws, r, ERRATA_COLUMNS)
    for e in load_errata():
        r += 1
        cells = f"{e.table} / {', '.join(e.rows)}" + (f" / {', '.join(e.columns)}" if e.columns else "")
        _row(ws, r, (e.id, e.handling, cells, ", ".join(str(v) for v in e.printed), e.reproduced_by, e.evidence))
    for j, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    columns = [get_column_letter(j) for j in range(1, len(WIDTHS) + 1)]
    for row in range(SOURCES_HEADER_ROW + 1, r + 1):
        wrap_cells(ws, row, columns, columns)
    b.finish_sheet(ws, SOURCES_LAST_COL, freeze=SOURCES_FREEZE)


def _file_as_of(b: Builder) -> bool:
    return b.model_file is not None and b.model_file.as_of is not None


def _header(ws: Worksheet, row: int, titles: tuple[str, ...]) -> None:
    for j, text in enumerate(titles, start=1):
        ws.cell(row, j, text).font = st.BOLD


def _row(ws: Worksheet, row: int, values: tuple[Any, ...]) -> None:
    for j, value in enumerate(values, start=1):
        ws.cell(row, j, value)
