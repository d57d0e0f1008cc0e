"""Reading a model workbook back: which row is which line, which column which year, and the cells
refresh, export and the auditor read.

Rows are found by their label in column A, so a row inserted by an analyst moves nothing. Year
columns are found by their position in the layout (the layout's year columns on the header row,
itself found by its label), never by the header's text: that text may become a formula (2022F
turning into 2022A once actuals are typed). Tables whose headers are not years (the peers, the
Assumptions' Name/Base/Bear/Bull, Sources) are read by their header text. Everything works on a
grid of values (rows from A1), so an openpyxl worksheet and an open Excel workbook read alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from engine.errors import StmodelError
from engine.model_file import ModelFile, ModelFileError

from .layout import (
    ACTUALS,
    ACTUALS_KEY_COL,
    ASSUMPTIONS,
    ENGINE,
    ENGINE_STATUS,
    ENGINE_VALUE_COL,
    ERRATA_COLUMNS,
    HEADERS,
    LIVE_COL,
    MODEL_FILE_SHEET,
    NAME_COL,
    PEER_COLUMNS,
    SCENARIO_LABEL,
    SCENARIOS,
    SOURCES_COLUMNS,
    VALUE_COL,
    Layout,
    YearHeader,
    at,
    column_number,
    locate,
    make_layout,
)

Grid = list[list[Any]]
YEAR = re.compile(r"^\d{4}[AF]$")  # a year's name: the auditor tells forecast columns (F) from actuals (A)
TABLE_HEADS = {PEER_COLUMNS[0], HEADERS[NAME_COL], SOURCES_COLUMNS[0], ERRATA_COLUMNS[0]}
BASE, LIVE = HEADERS[VALUE_COL], HEADERS[LIVE_COL]


class ReadError(StmodelError, ValueError):
    """The workbook does not hold what the reader looks for; the message names the sheet or cell."""


def grid_of(ws: Any) -> Grid:
    """An openpyxl worksheet's values (formulas as text), rows from A1."""
    return [list(r) for r in ws.iter_rows(values_only=True)]


@dataclass(frozen=True)
class Cell:
    """A cell as read: where it is and what it holds."""

    sheet: str
    row: int
    col: int
    value: Any

    @property
    def address(self) -> str:
        return at(self.col, self.row)

    def __str__(self) -> str:
        return f"{self.sheet}!{self.address}"


class SheetIndex:
    """Row labels (column A, numbered when repeated) and column headers (years, or a table's titles) of one sheet.

    `SheetIndex(ws)` reads an openpyxl worksheet; `SheetIndex.from_grid(title, grid)` a grid of values.
    """

    def __init__(self, ws: Any, layout: Layout | None = None) -> None:
        self._read(ws.title, grid_of(ws), layout)

    @classmethod
    def from_grid(cls, title: str, grid: Grid, layout: Layout | None = None) -> SheetIndex:
        index = cls.__new__(cls)
        index._read(title, grid, layout)
        return index

    def _read(self, title: str, grid: Grid, layout: Layout | None) -> None:
        self.title = title
        self.grid = grid
        self.row_key: dict[int, str] = {}
        self.key_row: dict[str, int] = {}
        seen: dict[str, int] = {}
        for r, row in enumerate(grid, start=1):
            value = row[0] if row else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = f"{value:g}"  # a grid's row header (a driver value)
            if isinstance(value, str) and value.strip():
                label = value.strip()
                n = seen.get(label, 0)
                seen[label] = n + 1
                key = label if n == 0 else f"{label}#{n + 1}"
                self.row_key[r] = key
                self.key_row[key] = r
        # Header rows (years, or a table's column titles) name the columns of the rows below them.
        year_headers = (layout or make_layout()).year_headers.get(title, ())
        headers: dict[int, dict[int, str]] = {}
        self.col_key: dict[int, str] = {}  # the columns of the sheet's first year header
        self.year_columns: dict[str, int] = {}  # and the same, year -> column
        for header in year_headers:
            at_row = self._header_row(header)
            if at_row is None:
                continue
            positions = _year_positions(grid[at_row - 1], header)
            headers[at_row] = _texts(grid[at_row - 1], positions)
            if not self.year_columns:
                self.col_key = dict(headers[at_row])
                self.year_columns = {y: c for c, y in positions.items()}
        for r, row in enumerate(grid, start=1):
            texts = _texts(row, {})
            if r not in headers and row and row[0] in TABLE_HEADS and len(texts) >= 3:
                headers[r] = texts
        self.headers: list[tuple[int, dict[int, str]]] = sorted(headers.items())

    def _header_row(self, header: YearHeader) -> int | None:
        """The header's row: where its label stands in column A (rows may have been inserted above)."""
        row = self.key_row.get(header.label, header.row)
        return row if row <= len(self.grid) else None

    def columns_at(self, row: int) -> dict[int, str]:
        """Column titles in force at `row`: those of the nearest header row above it."""
        current: dict[int, str] = {}
        for header_row, texts in self.headers:
            if header_row > row:
                break
            current = texts
        return current

    def identity(self, col: int, row: int) -> tuple[str, str, str] | None:
        label = self.row_key.get(row)
        if label is None:
            return None
        return (self.title, label, self.columns_at(row).get(col, f"col{col}"))

    def value(self, row: int, col: int) -> Any:
        """The value at (row, column), None outside the grid."""
        line = self.grid[row - 1] if 0 < row <= len(self.grid) else []
        return line[col - 1] if 0 < col <= len(line) else None

    def cell(self, row: int, col: int) -> Cell:
        return Cell(self.title, row, col, self.value(row, col))


def _year_positions(row: list[Any], header: YearHeader) -> dict[int, str]:
    """Column number -> year on a header row, by position: the i-th year column holds the layout's i-th year.

    The year columns are the header cells after column A that hold a year or a formula (what the
    year is, the text does not say: it may read 2022A where the layout has 2022F). Where they stand
    at the layout's positions, or where a column inserted or deleted by the analyst has moved them
    but their number is the layout's, they are taken in order; otherwise the layout's positions.
    """
    expected = header.positions()
    found = [
        col
        for col, value in enumerate(row[1:], start=2)
        if isinstance(value, str) and (value.startswith("=") or YEAR.match(value.strip()))
    ]
    if len(found) != len(expected):
        return expected
    return dict(zip(found, expected.values(), strict=True))


def _texts(row: list[Any], years: Mapping[int, str]) -> dict[int, str]:
    """A header row's column titles: the years at their positions, then any other text (a title
    repeated further right, as in a pasted table, names only its first column)."""
    texts = dict(years)
    for col, value in enumerate(row[1:], start=2):
        if col not in years and isinstance(value, str) and value and value not in texts.values():
            texts[col] = value
    return dict(sorted(texts.items()))


def home_cells(index: SheetIndex, layout: Layout, years: tuple[str, ...]) -> dict[tuple[str, str], Cell]:
    """The cells of the lines whose home is this sheet, for `years`: row by label, column by position."""
    out: dict[tuple[str, str], Cell] = {}
    for r in layout.rows_of(index.title):
        row = index.key_row.get(r.label)
        if r.key is None or not r.home or row is None:
            continue
        for year in years:
            col = index.year_columns.get(year)
            if col is not None:
                out[(r.key, year)] = index.cell(row, col)
    return out


class Assumptions:
    """The Assumptions sheet as the workbook holds it: each input's Base/Bear/Bull/Live cells, found
    by its name in column A and the column headers, and the scenario the selector names."""

    def __init__(self, grid: Grid, layout: Layout | None = None, strict: bool = True) -> None:
        """`strict`: a scenario selector naming no scenario column is an error (refresh); the auditor
        reads such a sheet anyway (strict=False) and reports the selector itself."""
        self.layout = layout or make_layout()
        self.index = SheetIndex.from_grid(ASSUMPTIONS, grid, self.layout)
        header_row = self.index.key_row.get(HEADERS[NAME_COL])
        header = grid[header_row - 1] if header_row else []
        if BASE not in header:
            raise ReadError(f"{ASSUMPTIONS}: no header row with Name and Base columns")
        self.columns = {label: header.index(label) + 1 for label in (*SCENARIOS, LIVE) if label in header}
        selector = self.index.key_row.get(SCENARIO_LABEL)
        self.selector = self.index.cell(selector, self.columns[BASE]) if selector else None
        self.scenario = self.selector.value if self.selector else BASE
        if self.scenario not in SCENARIOS or self.scenario not in self.columns:
            choices = ", ".join(s for s in SCENARIOS if s in self.columns)
            if strict:
                raise ReadError(f"{ASSUMPTIONS}: scenario in use must be one of {choices}, found {self.scenario!r}")
            self.scenario = BASE

    def names(self) -> list[str]:
        """The labels of column A, top to bottom (input names, headings and notes alike)."""
        return list(self.index.key_row)

    def cell(self, name: str, column: str = BASE) -> Cell:
        """An input's cell in a column ("Base", "Bear", "Bull", "Live (used)")."""
        return self.index.cell(self.index.key_row[name], self.columns[column])

    def used(self, name: str) -> Cell:
        """The cell whose value the model uses: a driver's selected-scenario value where it has one, else Base."""
        if self.scenario != BASE and self.layout.is_driver(name):
            chosen = self.cell(name, self.scenario)
            if chosen.value not in (None, ""):
                return chosen
        return self.cell(name)


@dataclass(frozen=True)
class EngineBlock:
    """The Engine sheet as read: its status (by label) and each line's values (row by key, column by position)."""

    status: Mapping[str, Any]
    values: Mapping[tuple[str, str | None], Any]


def read_engine(grid: Grid, layout: Layout | None = None) -> EngineBlock:
    layout = layout or make_layout()
    index = SheetIndex.from_grid(ENGINE, grid, layout)
    value_col, key_col = column_number(ENGINE_VALUE_COL), column_number(layout.engine_key_col)
    status = {label: index.value(row, value_col) for label in ENGINE_STATUS if (row := index.key_row.get(label))}
    rows: dict[Any, int] = {}
    for r in range(1, len(grid) + 1):
        rows.setdefault(index.value(r, key_col), r)
    values: dict[tuple[str, str | None], Any] = {}
    for (key, year), cell in layout.engine_cells.items():
        _, col = locate(cell)
        if key in rows:
            values[(key, year)] = index.value(rows[key], col)
    return EngineBlock(status, values)


def actual_grid(grid: Grid, layout: Layout | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """The Actuals sheet's ({line key: row}, {forecast column: column number}): rows by the line key in
    column B (a row inserted by an analyst moves nothing), columns by the layout's year positions."""
    layout = layout or make_layout()
    index = SheetIndex.from_grid(ACTUALS, grid, layout)
    key_col = column_number(ACTUALS_KEY_COL)
    rows: dict[str, int] = {}
    for r in range(1, len(grid) + 1):
        key = index.value(r, key_col)
        if isinstance(key, str) and key.strip() in layout.actuals.rows:
            rows.setdefault(key.strip(), r)
    return rows, dict(index.year_columns)


def actual_cells(grid: Grid, layout: Layout | None = None) -> dict[tuple[str, str], Cell]:
    """The Actuals sheet's filled input cells, (line key, forecast column) -> cell."""
    rows, columns = actual_grid(grid, layout)
    index = SheetIndex.from_grid(ACTUALS, grid, layout)
    out: dict[tuple[str, str], Cell] = {}
    for key, r in rows.items():
        for year, col in columns.items():
            cell = index.cell(r, col)
            if cell.value is not None and cell.value != "":
                out[(key, year)] = cell
    return out


def model_text(wb: Any) -> str | None:
    """The model file a workbook was built from (its hidden ModelFile sheet), as text; None without one."""
    if MODEL_FILE_SHEET not in wb.sheetnames:
        return None
    lines = [
        row[0] if row and isinstance(row[0], str) else "" for row in wb[MODEL_FILE_SHEET].iter_rows(values_only=True)
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def recorded_model_file(wb: Any) -> ModelFile | None:
    """The model file recorded in a workbook, parsed (ReadError naming the sheet when it cannot be)."""
    text = model_text(wb)
    if text is None:
        return None
    return _parsed(text)


def _parsed(text: str) -> ModelFile:
    try:
        return ModelFile.parse(text)
    except ModelFileError as e:
        raise ReadError(f"{MODEL_FILE_SHEET} sheet: {str(e).removeprefix('model file: ')}") from None


@cache
def layout_of_text(text: str | None) -> Layout:
    """The layout of a workbook built from the model file `text` (None: the report's): its years (2025F,
    2026F after `stmodel extend`) and peer sales columns place every cell. Actuals move no cell, so the
    model is the file's years without them (a reader takes the actuals from the Actuals sheet)."""
    if text is None:
        return make_layout()
    from engine.model import compile_model

    years = _parsed(text).years
    return make_layout(compile_model(None, (), years))


def layout_of(wb: Any) -> Layout:
    """The layout of an openpyxl workbook: from its recorded model file (the ModelFile sheet), else the
    report's. ReadError when the recorded file cannot be read."""
    return layout_of_text(model_text(wb))


def layout_of_grid(grid: Grid | None) -> Layout:
    """The layout of a workbook whose ModelFile sheet holds `grid` (None: it has none)."""
    if grid is None:
        return make_layout()
    lines = [row[0] if row and isinstance(row[0], str) else "" for row in grid]
    return layout_of_text("\n".join(lines).rstrip("\n") + "\n")
