"""The Engine sheet: a status block, a year header, then every computed line at a fixed cell.

Build writes its frame and Refresh forecasts rewrites it with values, both from `engine_frame`,
so the header is defined here once. The Checks sheet reads the values at `Layout.engine_cells`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from engine.lines import YEARS
from engine.model import Model

from .cells import (
    FIRST_YEAR_COL,
    LABEL_COL,
    LAST_YEAR_COL,
    SUBTITLE_CELL,
    TITLE_CELL,
    YEAR_COLUMN,
    at,
    put,
    year_header,
)
from .statements import YearRow

ENGINE_TITLE = "Engine: values from the Python engine (written by Refresh forecasts)"
ENGINE_NOTE = "Values only, never inputs. Click Refresh forecasts (SenseTime tab) or run `stmodel refresh FILE`."
ENGINE_NOTE_CELL = SUBTITLE_CELL
ENGINE_STATUS = ("Refreshed", "Engine version", "Drivers read")  # labels from A3, values beside them
REFRESHED = ENGINE_STATUS[0]
ENGINE_STATUS_ROW = 3
ENGINE_VALUE_COL = FIRST_YEAR_COL  # status values and single lines' values
REFRESHED_CELL = at(ENGINE_VALUE_COL, ENGINE_STATUS_ROW)  # when the values were written
NOT_REFRESHED = "not refreshed yet"
ENGINE_HEADER_ROW = 6
ENGINE_HEADER = year_header(ENGINE_HEADER_ROW, "Line")
ENGINE_KEY_COL = get_column_letter(column_index_from_string(LAST_YEAR_COL) + 1)  # each row's line key
ENGINE_KEY_HEADER = "Key"
ENGINE_FREEZE = at(FIRST_YEAR_COL, ENGINE_HEADER_ROW + 1)

EngineCells = dict[tuple[str, str | None], str]
EngineLabels = dict[int, tuple[str, str]]


def place_engine(model: Model, year_rows: Iterable[YearRow]) -> tuple[EngineCells, EngineLabels]:
    """Every line the engine computes at a fixed cell: by-year lines, a blank row, single values."""
    cells: EngineCells = {}
    labels: EngineLabels = {}
    row = ENGINE_HEADER_ROW + 1
    for r in year_rows:
        if r.key is None or not r.home:
            continue
        labels[row] = (r.label, r.key)
        for y in YEARS:
            cells[(r.key, y)] = at(YEAR_COLUMN[y], row)
        row += 1
    row += 1
    for key, line in model.lines.items():
        if line.by_year:
            continue
        labels[row] = (line.label, key)
        cells[(key, None)] = at(ENGINE_VALUE_COL, row)
        row += 1
    return cells, labels


def engine_frame(
    labels: Mapping[int, tuple[str, str]], status: Sequence[Any], headings: Mapping[str, str] | None = None
) -> list[list[Any]]:
    """The Engine sheet as rows of values from A1, without the engine's values: title, note,
    status (one value per ENGINE_STATUS label), year header (each column's heading in `headings`:
    2022A once the values hold its actuals), and each line's label and key."""
    rows: list[list[Any]] = [[None] * column_index_from_string(ENGINE_KEY_COL) for _ in range(max(labels))]
    put(rows, TITLE_CELL, ENGINE_TITLE)
    put(rows, ENGINE_NOTE_CELL, ENGINE_NOTE)
    for i, (label, value) in enumerate(zip(ENGINE_STATUS, status, strict=True)):
        put(rows, at(LABEL_COL, ENGINE_STATUS_ROW + i), label)
        put(rows, at(ENGINE_VALUE_COL, ENGINE_STATUS_ROW + i), value)
    put(rows, at(LABEL_COL, ENGINE_HEADER.row), ENGINE_HEADER.label)
    for year, col in ENGINE_HEADER.columns.items():
        put(rows, at(col, ENGINE_HEADER.row), (headings or {}).get(year, year))
    put(rows, at(ENGINE_KEY_COL, ENGINE_HEADER.row), ENGINE_KEY_HEADER)
    for row, (label, key) in labels.items():
        put(rows, at(LABEL_COL, row), label)
        put(rows, at(ENGINE_KEY_COL, row), key)
    return rows
