"""Sheet names, the positions every sheet shares, and cell-address helpers.

Addresses are built and taken apart with openpyxl.utils, never by slicing strings, so a column
past Z or a row past 9 reads the same as A1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from openpyxl.utils.cell import absolute_coordinate, column_index_from_string, coordinate_from_string, get_column_letter

from engine.lines import YEARS

COVER = "Cover"
ASSUMPTIONS = "Assumptions"
ACTUALS = "Actuals"  # reported figures typed over the forecasts, one blue cell per line and forecast year
SEGMENTS = "Segments"
INCOME = "Income Statement"
BALANCE = "Balance Sheet"
CASH_FLOW = "Cash Flow"
VALUATION = "Valuation"
CHECKS = "Checks"
SOURCES = "Sources"
ENGINE = "Engine"  # values written by Refresh forecasts: an output area
SHEETS = (COVER, ASSUMPTIONS, ACTUALS, SEGMENTS, INCOME, BALANCE, CASH_FLOW, VALUATION, CHECKS, SOURCES, ENGINE)
VARIANCE = "Variance"  # built from a model file only: each actual against the report's forecast, after Actuals
MODEL_FILE_SHEET = "ModelFile"  # built from a model file only: its TOML text, one line a row (hidden)
SIMULATION = "Simulation"  # not built: `stmodel simulate --workbook` adds it, values from A1

TITLE_CELL = "A1"  # every sheet: its title
SUBTITLE_CELL = "A2"  # and the line under it
LABEL_COL = "A"  # row labels: how a reader finds a line again after an analyst inserts rows
HEADER_ROW = 3  # the year header (or a table's column titles)
FIRST_ROW = 4


@cache
def year_columns(years: tuple[str, ...]) -> Mapping[str, str]:
    """The year columns of every year-by-year sheet, from column B: 2020A -> B ... 2024F -> F, and on to
    the last year of a model extended beyond the report's (2026F -> H). `Layout.year_column` is a model's."""
    return MappingProxyType({year: get_column_letter(i + 2) for i, year in enumerate(years)})


# The report's year columns (2020A -> B ... 2024F -> F); a model's own are `Layout.year_column`.
YEAR_COLUMN = year_columns(YEARS)
FIRST_YEAR_COL, LAST_YEAR_COL = YEAR_COLUMN[YEARS[0]], YEAR_COLUMN[YEARS[-1]]


def at(col: str | int, row: int) -> str:
    """The address of a cell: at("B", 4) == at(2, 4) == "B4"."""
    return f"{col if isinstance(col, str) else get_column_letter(col)}{row}"


FREEZE = at(FIRST_YEAR_COL, FIRST_ROW)  # labels and the year header stay in view


def column_number(col: str) -> int:
    """The number of a column: "A" -> 1."""
    return column_index_from_string(col)


def locate(cell: str) -> tuple[int, int]:
    """(row, column number) of an address such as "B4" or "$B$4"."""
    col, row = coordinate_from_string(cell.replace("$", ""))
    return row, column_index_from_string(col)


def row_of(cell: str) -> int:
    return locate(cell)[0]


def fixed(cell: str) -> str:
    """The absolute form of an address: "B4" -> "$B$4"."""
    return absolute_coordinate(cell)


def quote(sheet: str) -> str:
    return f"'{sheet}'" if not sheet.isalnum() else sheet


def absolute(sheet: str, cell: str) -> str:
    """A cell as a defined name or another sheet's formula refers to it: 'Income Statement'!$B$4."""
    return f"{quote(sheet)}!{fixed(cell)}"


def put(grid: list[list[Any]], cell: str, value: Any) -> None:
    """Set one cell of a grid of values (rows from A1)."""
    row, col = locate(cell)
    grid[row - 1][col - 1] = value


@dataclass(frozen=True, eq=False)
class YearHeader:
    """A header row whose columns are years: found by its label in column A, its years by position."""

    row: int
    label: str
    columns: Mapping[str, str]  # year -> column letter

    def positions(self) -> dict[int, str]:
        """Column number -> year."""
        return {column_number(col): year for year, col in self.columns.items()}


def year_header(row: int, label: str, columns: Mapping[str, str] = YEAR_COLUMN) -> YearHeader:
    """The standard header: the model's years in the year columns (the report's unless given)."""
    return YearHeader(row, label, columns)
