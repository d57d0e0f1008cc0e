"""The Engine sheet: a status block, a year header, then every computed line at a fixed cell.

Build writes its frame and Refresh forecasts rewrites it with values, both from `engine_frame`,
so the header is defined here once. The Checks sheet reads the values at `Layout.engine_cells`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from engine.model import Model

from .cells import (
    FIRST_YEAR_COL,
    LABEL_COL,
    SUBTITLE_CELL,
    TITLE_CELL,
    YearHeader,
    at,
    put,
    year_columns,
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
ENGINE_HEADER_LABEL = "Line"
ENGINE_HEADER = year_header(ENGINE_HEADER_ROW, ENGINE_HEADER_LABEL)  # the report's years; a model's: engine_header


def engine_header(model: Model) -> YearHeader:
    """The Engine sheet's year header: the model's years in the year columns."""
    return year_header(ENGINE_HEADER_ROW, ENGINE_HEADER_LABEL, year_columns(model.years.years))


def engine_key_col(header: YearHeader) -> str:
    """Each row's line key: the column after the last year's."""
    return get_column_letter(max(column_index_from_string(c) for c in header.columns.values()) + 1)


ENGINE_KEY_COL = engine_key_col(ENGINE_HEADER)  # the report's (column G); a model's: Layout.engine_key_col
ENGINE_KEY_HEADER = "Key"
ENGINE_FREEZE = at(FIRST_YEAR_COL, ENGINE_HEADER_ROW + 1)

EngineCells = dict[tuple[str, str | None], str]
EngineLabels = dict[int, tuple[str, str]]


def place_engine(model: Model, year_rows: Iterable[YearRow]) -> tuple[EngineCells, EngineLabels]:
    """Every line the engine computes at a fixed cell: by-year lines, a blank row, single values."""
    cells: EngineCells = {}
    labels: EngineLabels = {}
    row = ENGINE_HEADER_ROW + 1
    columns = engine_header(model).columns
    for r in year_rows:
        if r.key is None or not r.home:
            continue
        labels[row] = (r.label, r.key)
        for y, col in columns.items():
            cells[(r.key, y)] = at(col, row)
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
    labels: Mapping[int, tuple[str, str]],
    status: Sequence[Any],
    headings: Mapping[str, str] | None = None,
    header: YearHeader = ENGINE_HEADER,
) -> list[list[Any]]:
    """The Engine sheet as rows of values from A1, without the engine's values: title, note,
    status (one value per ENGINE_STATUS label), year header (`header`, the model's: each column's heading
    in `headings`, 2022A once the values hold its actuals), and each line's label and key."""
    key_col = engine_key_col(header)
    rows: list[list[Any]] = [[None] * column_index_from_string(key_col) for _ in range(max(labels))]
    put(rows, TITLE_CELL, ENGINE_TITLE)
    put(rows, ENGINE_NOTE_CELL, ENGINE_NOTE)
    for i, (label, value) in enumerate(zip(ENGINE_STATUS, status, strict=True)):
        put(rows, at(LABEL_COL, ENGINE_STATUS_ROW + i), label)
        put(rows, at(ENGINE_VALUE_COL, ENGINE_STATUS_ROW + i), value)
    put(rows, at(LABEL_COL, header.row), header.label)
    for year, col in header.columns.items():
        put(rows, at(col, header.row), (headings or {}).get(year, year))
    put(rows, at(key_col, header.row), ENGINE_KEY_HEADER)
    for row, (label, key) in labels.items():
        put(rows, at(LABEL_COL, row), label)
        put(rows, at(key_col, row), key)
    return rows
