"""Where the Actuals sheet puts things, and the Variance and ModelFile sheets a model file adds.

Actuals: one row per line that can take an actual (engine.actuals.actual_lines), grouped under the
report table that prints it, one blue input column per forecast year at the statements' own year
columns (2022F in column D on both), so the pattern `=IF(ISNUMBER(Actuals!D7),Actuals!D7,<forecast>)`
reads the same in every forecast column. Row 4 holds the years as numbers: every year header of a
forecast column is `=Actuals!D$4&IF(COUNT(Actuals!D$6:D$49)>0,"A","F")`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from engine.actuals import actual_lines
from engine.lines import FCST
from engine.model import Model
from engine.tables import TABLE_TITLES

from .cells import FIRST_ROW, HEADER_ROW, YEAR_COLUMN, YearHeader, at, year_columns

ACTUALS_HEADER_LABEL = "Line"
ACTUALS_KEY_COL, ACTUALS_UNIT_COL = "B", "C"  # each row's line key and unit, beside its label
ACTUALS_YEAR_ROW = FIRST_ROW  # the years as numbers (2022), which the year headers read
ACTUALS_YEAR_LABEL = "Fiscal year"
ACTUALS_FIRST_ROW = ACTUALS_YEAR_ROW + 2  # a blank row, then the first table heading
ACTUALS_FREEZE = at(YEAR_COLUMN[FCST[0]], ACTUALS_YEAR_ROW + 1)
ACTUALS_COLUMNS = MappingProxyType({y: YEAR_COLUMN[y] for y in FCST})  # the report's; a model's: `columns`


@dataclass(frozen=True, eq=False)
class ActualsLayout:
    header: YearHeader  # the Actuals sheet's own year header (forecast years only)
    headings: Mapping[int, str]  # row -> table title
    rows: Mapping[str, int]  # line key -> row
    first_row: int
    last_row: int

    @property
    def columns(self) -> Mapping[str, str]:
        """Forecast column -> its input column: the model's forecast years (2022F -> D ... 2026F -> H)."""
        return self.header.columns

    def cell(self, key: str, year: str) -> str:
        """The input cell of a line's actual for a forecast year."""
        return at(self.columns[year], self.rows[key])

    def column_range(self, year: str, sheet: str | None = None) -> str:
        """The year's input column (rows fixed), as COUNT reads it."""
        col = self.columns[year]
        prefix = f"{sheet}!" if sheet else ""
        return f"{prefix}{col}${self.first_row}:{col}${self.last_row}"

    def year_cell(self, year: str, sheet: str | None = None, absolute: bool = False) -> str:
        """The cell holding the year's number (2022), row fixed (and its column too with `absolute`)."""
        prefix = f"{sheet}!" if sheet else ""
        return f"{prefix}{'$' if absolute else ''}{self.columns[year]}${ACTUALS_YEAR_ROW}"


TITLE_ORDER = {title: i for i, title in enumerate(TABLE_TITLES)}


def place_actuals(model: Model) -> ActualsLayout:
    lines = actual_lines(model)
    tables = sorted(dict.fromkeys(lines.values()), key=lambda t: TITLE_ORDER.get(t, len(TITLE_ORDER)))
    headings: dict[int, str] = {}
    rows: dict[str, int] = {}
    row = ACTUALS_FIRST_ROW
    for title in tables:
        headings[row] = title
        row += 1
        for key, table in lines.items():
            if table == title:
                rows[key] = row
                row += 1
        row += 1
    columns = year_columns(model.years.years)
    header = YearHeader(HEADER_ROW, ACTUALS_HEADER_LABEL, MappingProxyType({y: columns[y] for y in model.forecast}))
    return ActualsLayout(header, MappingProxyType(headings), MappingProxyType(rows), ACTUALS_FIRST_ROW, row - 2)


# ------------------------------------------------------------------ Variance (a workbook built from a model file)
VARIANCE_COLUMNS = ("Line", "Key", "Year", "Report forecast", "Actual", "Difference", "Difference %", "Forecast source")
VARIANCE_VALUATION_COLUMNS = ("Valuation", "Before (at build)", "After (live)", "Change")
VARIANCE_VALUATION = ("target_price", "upside", "rating")
VARIANCE_LAST_COL = "H"


@dataclass(frozen=True)
class VarianceLayout:
    header_row: int
    rows: tuple[int, ...]  # one per actual, in the model's order
    valuation_header_row: int
    valuation_rows: Mapping[str, int]  # valuation key -> row


def place_variance(count: int) -> VarianceLayout:
    rows = tuple(HEADER_ROW + 1 + i for i in range(count))
    header = HEADER_ROW + count + 2
    valuation = {key: header + 1 + i for i, key in enumerate(VARIANCE_VALUATION)}
    return VarianceLayout(HEADER_ROW, rows, header, MappingProxyType(valuation))
