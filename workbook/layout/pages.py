"""Where the Cover, Checks and Sources sheets put things.

Each block is named by an id here; the builder (workbook/sheets/) decides what each row says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from openpyxl.utils.cell import get_column_letter

from engine.model import Model
from engine.tables import table_rows

from .cells import FIRST_ROW, HEADER_ROW, LABEL_COL, YearHeader, at

# ------------------------------------------------------------------ Cover
COVER_SUMMARY = ("rating", "target_price", "upside", "last_price", "market_as_of", "checks")
COVER_NOTE_COL = "C"  # beside a headline figure: what it rests on (the valuation year beside the target price)
COVER_SUMMARY_ROW = 4  # the headline figures: label in column A, value in column B, one a row
COVER_VALUE_COL = "B"
COVER_TABLE = "Forecasts and Valuation"
COVER_HEADER_LABEL = "FY Dec (RMBm)"
UDF_PANEL = ("TargetPrice", "Rating", "Valuation")  # each ST_ call is shown beside the native name it equals
UDF_COLUMNS = ("B", "C")  # the add-in call, its native twin
README_LABEL = "Read me"


@dataclass(frozen=True, eq=False)
class CoverLayout:
    summary: Mapping[str, int]  # id -> row
    table_row: int  # the heading of the Forecasts and Valuation table; its year header follows
    header: YearHeader
    first_row: int  # the table's first line
    udf_row: int  # the heading of the add-in panel; its rows follow
    udf_rows: Mapping[str, int]
    readme_row: int  # the "Read me" heading; the notes follow

    @property
    def last_column(self) -> str:
        return list(self.header.columns.values())[-1]


def place_cover(model: Model) -> CoverLayout:
    summary = {key: COVER_SUMMARY_ROW + i for i, key in enumerate(COVER_SUMMARY)}
    table_row = COVER_SUMMARY_ROW + len(COVER_SUMMARY) + 1
    columns = (*model.report.table(COVER_TABLE).columns, *model.years.added)  # page one, and the years added
    header = YearHeader(
        table_row + 1,
        COVER_HEADER_LABEL,
        MappingProxyType({y: get_column_letter(2 + j) for j, y in enumerate(columns)}),
    )
    first_row = header.row + 1
    udf_row = first_row + len(table_rows(model, COVER_TABLE)) + 1
    udf_rows = {name: udf_row + 1 + i for i, name in enumerate(UDF_PANEL)}
    readme_row = udf_row + len(UDF_PANEL) + 2
    return CoverLayout(
        MappingProxyType(summary), table_row, header, first_row, udf_row, MappingProxyType(udf_rows), readme_row
    )


# ------------------------------------------------------------------ Checks
CHECKS_HEADER_LABEL = "Check"
CHECKS_VALUE_COL = "B"  # the master check, the warnings, the tolerance, the single-value engine checks
CHECK_OK, CHECK_FAIL = "OK", "FAIL"  # what a check's cell shows (IF(<condition>,"OK","FAIL"))
MASTER_ROW = FIRST_ROW  # the master check first, where the eye lands; the warnings' summary under it
WARNINGS_ROW = MASTER_ROW + 1
TOLERANCE_ROW = WARNINGS_ROW + 1
TOLERANCE_CELL = at(CHECKS_VALUE_COL, TOLERANCE_ROW)
CHECK_BLOCKS = ("balance", "segments", "cash")
CHECK_BLOCK_ROWS = 6  # title, difference, recorded, expected, pass, then a blank row
CASH_FLOOR_ROWS = 4  # title, Cash & ST Invt, pass, then a blank row
# Lines whose Engine values the Checks sheet compares with the native formulas, live.
ENGINE_CHECKED = (
    "revenue",
    "gross_profit",
    "operating_profit",
    "pbt",
    "net_profit",
    "ebitda",
    "total_assets",
    "total_cap_liab",
    "cash",
    "equity",
    "chg_in_cash",
)
ENGINE_CHECKED_SINGLE = ("target_price_unrounded", "target_price", "upside", "valuation_usd_m", "rating")
# Warnings: shown on the Checks sheet below the master check, never rolled into it (engine Result.warnings()).
WARNINGS = ("plausible", "opex_leverage", "negative_balances")


@dataclass(frozen=True)
class CheckBlock:
    """A model check: a title row, then its difference, the amount the errata record, the amount expected
    on the basis in use (the recorded one, or 0 for a forecast year on the clean basis) and pass."""

    row: int

    @property
    def difference(self) -> int:
        return self.row + 1

    @property
    def recorded(self) -> int:
        return self.row + 2

    @property
    def expected(self) -> int:
        return self.row + 3

    @property
    def passed(self) -> int:
        return self.row + 4


@dataclass(frozen=True)
class FloorCheck:
    """Cash not negative: a title row, the balance, and pass (forecast years)."""

    row: int

    @property
    def value(self) -> int:
        return self.row + 1

    @property
    def passed(self) -> int:
        return self.row + 2


@dataclass(frozen=True, eq=False)
class ChecksLayout:
    blocks: Mapping[str, CheckBlock]
    cash_floor: FloorCheck
    engine_row: int  # the heading of the engine checks
    engine_rows: Mapping[str, int]  # line key -> row (lines by year, then single values in column B)
    master_row: int  # the master check, at the top
    warnings_row: int  # the warnings' summary (not part of the master check), under the master check
    warnings_detail_row: int  # the heading of the warnings' counts, at the bottom
    warning_rows: Mapping[str, int]  # warning id -> row (a count in column B)

    @property
    def master_cell(self) -> str:
        return at(CHECKS_VALUE_COL, self.master_row)

    @property
    def warnings_cell(self) -> str:
        """The warnings' summary (a text), under the master check."""
        return at(CHECKS_VALUE_COL, self.warnings_row)


def place_checks() -> ChecksLayout:
    row = TOLERANCE_ROW + 2
    blocks = {}
    for name in CHECK_BLOCKS:
        blocks[name] = CheckBlock(row)
        row += CHECK_BLOCK_ROWS
    cash_floor = FloorCheck(row)
    row += CASH_FLOOR_ROWS
    engine_row = row
    keys = (*ENGINE_CHECKED, *ENGINE_CHECKED_SINGLE)
    engine_rows = {key: engine_row + 1 + i for i, key in enumerate(keys)}
    detail_row = engine_row + len(keys) + 2
    warning_rows = {key: detail_row + 1 + i for i, key in enumerate(WARNINGS)}
    return ChecksLayout(
        MappingProxyType(blocks),
        cash_floor,
        engine_row,
        MappingProxyType(engine_rows),
        MASTER_ROW,
        WARNINGS_ROW,
        detail_row,
        MappingProxyType(warning_rows),
    )


# ------------------------------------------------------------------ Sources
SOURCES_COLUMNS = ("Cell", "Item", "Value", "Source")  # on the header row; one row per typed cell below
ERRATA_COLUMNS = ("Id", "Handling", "Cells", "Printed", "Model", "Evidence")  # the errata table, after them
SOURCES_HEADER_ROW = HEADER_ROW
SOURCES_FREEZE = at(LABEL_COL, FIRST_ROW)
SOURCES_LAST_COL = get_column_letter(len(ERRATA_COLUMNS))
