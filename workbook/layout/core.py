"""The layout of the whole workbook: every line's home cell, every input's row, every block's place.

`make_layout` computes it once per model and hands out an immutable object (tuples and read-only
mappings), so no caller can move a cell for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from engine.lines import PRIOR
from engine.model import Model, compile_model

from .actuals import ActualsLayout, place_actuals
from .assumptions import LIVE_PREFIX, VALUE_COL, InputRow, place_inputs
from .cells import (
    ACTUALS,
    ASSUMPTIONS,
    CHECKS,
    COVER,
    ENGINE,
    HEADER_ROW,
    VALUATION,
    YearHeader,
    absolute,
    at,
    fixed,
    quote,
    year_columns,
    year_header,
)
from .engine_block import engine_header, engine_key_col, place_engine
from .pages import CHECKS_HEADER_LABEL, ChecksLayout, CoverLayout, place_checks, place_cover
from .statements import HEADER_LABEL, STATEMENTS, Homes, YearRow, place_statements
from .valuation import ValuationLayout, place_valuation


@dataclass(frozen=True, eq=False)
class Layout:
    model: Model
    homes: Mapping[tuple[str, str | None], tuple[str, str]]  # (line, year or None) -> (sheet, cell)
    year_rows: tuple[YearRow, ...]
    inputs: tuple[InputRow, ...]
    input_headings: Mapping[str, int]  # input kind -> row of its heading on the Assumptions sheet
    singles: Mapping[str, tuple[str, str]]  # label cells of single lines
    drivers_range: str
    driver_rows: tuple[int, int]  # first and last row of the drivers on the Assumptions sheet
    valuation: ValuationLayout
    cover: CoverLayout
    checks: ChecksLayout
    engine_cells: Mapping[tuple[str, str | None], str]  # Engine sheet values
    engine_labels: Mapping[int, tuple[str, str]]  # Engine row -> (label, key)
    year_headers: Mapping[str, tuple[YearHeader, ...]]  # sheet -> its header rows whose columns are years
    actuals: ActualsLayout  # the Actuals sheet: a row per line that can take an actual
    _inputs: Mapping[str, InputRow] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_inputs", MappingProxyType({i.name: i for i in self.inputs}))

    # ------------------------------------------------------------ the model's years
    @property
    def years(self) -> tuple[str, ...]:
        """The model's year columns: 2020A, 2021A, 2022F ... its last forecast year."""
        return self.model.years.years

    @property
    def forecast(self) -> tuple[str, ...]:
        """The forecast years (those holding actuals included): 2022F ... the last."""
        return self.model.forecast

    @property
    def year_column(self) -> Mapping[str, str]:
        """Year -> its column on every year-by-year sheet: 2020A -> B ... 2026F -> H for a model to 2026."""
        return year_columns(self.years)

    @property
    def first_year_col(self) -> str:
        return self.year_column[self.years[0]]

    @property
    def last_year_col(self) -> str:
        return self.year_column[self.years[-1]]

    @property
    def engine_header(self) -> YearHeader:
        return self.year_headers[ENGINE][0]

    @property
    def engine_key_col(self) -> str:
        """The Engine sheet's column of line keys, after the last year's."""
        return engine_key_col(self.engine_header)

    # ------------------------------------------------------------ lookups
    @property
    def grid_row(self) -> int:
        """First row of the sensitivity grid on the Valuation sheet."""
        return self.valuation.grid.top

    def input_row(self, name: str) -> InputRow:
        return self._inputs[name]

    def input_cell(self, name: str) -> str:
        """The typed (Base) cell of an input: where its defined name points."""
        return at(VALUE_COL, self.input_row(name).row)

    def is_driver(self, name: str) -> bool:
        i = self._inputs.get(name)
        return i is not None and i.kind == "driver"

    def absolute_input(self, name: str) -> str:
        return absolute(ASSUMPTIONS, self.input_cell(name))

    def address(self, key: str, column: str | None) -> tuple[str, str]:
        if column == PRIOR:
            return ASSUMPTIONS, self.input_cell(f"{key}_2019A")
        return self.homes[(key, column)]

    def ref(self, key: str, column: str | None, from_sheet: str) -> str:
        """A reference to a line's home cell, as written in a formula on `from_sheet`."""
        if column == PRIOR:
            return f"{key}_2019A"
        sheet, cell = self.homes[(key, column)]
        if column is None:  # a single value: the same cell from every column
            cell = fixed(cell)
        return cell if sheet == from_sheet else f"{quote(sheet)}!{cell}"

    def absolute(self, key: str, column: str | None = None) -> str:
        return absolute(*self.address(key, column))

    def actual_ref(self, key: str, column: str, from_sheet: str) -> str | None:
        """The Actuals cell of a line's forecast column, as a formula on `from_sheet` reads it (None for a
        line or a column that takes no actual there)."""
        if key not in self.actuals.rows or column not in self.actuals.header.columns:
            return None
        cell = self.actuals.cell(key, column)
        return cell if from_sheet == ACTUALS else f"{quote(ACTUALS)}!{cell}"

    def rows_of(self, sheet: str) -> tuple[YearRow, ...]:
        return tuple(r for r in self.year_rows if r.sheet == sheet)


class FormulaContext:
    """What engine.expr.to_excel needs, for formulas written on one sheet."""

    def __init__(self, layout: Layout, sheet: str) -> None:
        self.layout = layout
        self.sheet = sheet

    def cell(self, key: str, column: str | None) -> str:
        return self.layout.ref(key, column, self.sheet)

    def name(self, name: str) -> str:
        """Drivers are read from their Live cell (defined name `live_<driver>`); other inputs by name."""
        return LIVE_PREFIX + name if self.layout.is_driver(name) else name


def _year_headers(model: Model, cover: CoverLayout, actuals: ActualsLayout) -> dict[str, tuple[YearHeader, ...]]:
    columns = year_columns(model.years.years)
    statement = year_header(HEADER_ROW, HEADER_LABEL, columns)
    headers: dict[str, tuple[YearHeader, ...]] = {sheet: (statement,) for sheet, _, _ in STATEMENTS}
    headers[VALUATION] = (statement,)
    headers[CHECKS] = (year_header(HEADER_ROW, CHECKS_HEADER_LABEL, columns),)
    headers[ENGINE] = (engine_header(model),)
    headers[COVER] = (cover.header,)
    headers[ACTUALS] = (actuals.header,)
    return headers


@cache
def make_layout(model: Model | None = None) -> Layout:
    model = model or compile_model()
    homes: Homes = {}
    year_rows: list[YearRow] = []
    singles: dict[str, tuple[str, str]] = {}
    place_statements(model, homes, year_rows)
    valuation = place_valuation(model, homes, year_rows, singles)
    inputs = place_inputs(model)
    engine_cells, engine_labels = place_engine(model, year_rows)
    missing = [k for k, line in model.lines.items() if line.by_year and (k, model.years.years[0]) not in homes]
    missing += [k for k, line in model.lines.items() if not line.by_year and (k, None) not in homes]
    if missing:
        raise ValueError(f"lines without a place in the workbook: {missing}")
    cover = place_cover(model)
    actuals = place_actuals(model)
    return Layout(
        model=model,
        homes=MappingProxyType(homes),
        year_rows=tuple(year_rows),
        inputs=inputs.rows,
        input_headings=inputs.headings,
        singles=MappingProxyType(singles),
        drivers_range=inputs.drivers_range,
        driver_rows=inputs.driver_rows,
        valuation=valuation,
        cover=cover,
        checks=place_checks(),
        engine_cells=MappingProxyType(engine_cells),
        engine_labels=MappingProxyType(engine_labels),
        year_headers=MappingProxyType(_year_headers(model, cover, actuals)),
        actuals=actuals,
    )
