"""The Assumptions sheet: every input on its row, Base/Bear/Bull beside it, the Live value the model
uses, the scenario selector, and the Drivers range the UDFs read."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from openpyxl.formatting.rule import FormulaRule
from openpyxl.worksheet.datavalidation import DataValidation

from engine.scenarios import load_scenarios

from .. import styles as st
from ..layout import (
    ACTUALS,
    ASSUMPTIONS,
    BEAR_COL,
    BULL_COL,
    DATE_FORMAT,
    DRIVERS_NAME_COL,
    DRIVERS_VALUE_COL,
    HEADER_ROW,
    HEADERS,
    INPUTS_FREEZE,
    LIVE_COL,
    LIVE_PREFIX,
    MARKET_AS_OF_CELL,
    MARKET_AS_OF_LABEL,
    MARKET_AS_OF_NAME,
    MARKET_AS_OF_NOTE_CELL,
    MARKET_AS_OF_ROW,
    MEANING_COL,
    NAME_COL,
    PLAUSIBLE_HIGH_COL,
    PLAUSIBLE_LOW_COL,
    SCENARIO_CELL,
    SCENARIO_LABEL,
    SCENARIO_NOTE_CELL,
    SCENARIO_ROW,
    SCENARIOS,
    SOURCE_COL,
    UNIT_COL,
    VALUE_COL,
    InputRow,
    absolute,
    at,
    fixed,
    quote,
)
from ..layout.assumptions import actual_driver_rows, actual_heading_row
from ..printing import wrap_cells

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from engine.drivers import Driver

    from ..build import Builder

HEADINGS = {
    "driver": "Drivers",
    "adjustment": "Fixed report adjustments (not drivers; zero on the clean basis, see docs/errata.md)",
    "implied 2019": "2019 figures implied from the report's 2020A ratios",
}
ACTUALS_HEADING = f"Actuals, as the {ACTUALS} sheet holds them (read by the UDFs through the Drivers range; not inputs)"
WIDTHS = {NAME_COL: 30, VALUE_COL: 12, BEAR_COL: 12, BULL_COL: 12, LIVE_COL: 12, UNIT_COL: 12}
WIDTHS |= {PLAUSIBLE_LOW_COL: 13, PLAUSIBLE_HIGH_COL: 13}
WIDTHS |= {MEANING_COL: 56, SOURCE_COL: 66, DRIVERS_NAME_COL: 30, DRIVERS_VALUE_COL: 12}


def resolve_names(overrides: dict, b: Builder | None = None) -> list[tuple[str, object]]:
    """Scenario overrides by full driver name (a per-year group sets every year of the model's)."""
    from engine.drivers import expand

    report, years = (b.model.report, b.model.years) if b is not None else (None, None)
    return [(d.name, value) for name, value in overrides.items() for d in expand(name, report, years)]


def assumptions(b: Builder) -> None:
    ws = b.ws(ASSUMPTIONS)
    lay = b.layout
    b.title(
        ws,
        "Assumptions: every input of the model",
        "Blue cells are inputs; the defined name in column A points at the Base value (column B). The model "
        "uses the Live column: Base, or the selected scenario's value where it has one.",
    )
    for col, text in HEADERS.items():
        c = ws[at(col, HEADER_ROW)]
        c.value, c.font, c.fill = text, st.BOLD, st.HEADER_FILL
    _selector(b, ws)
    _market_as_of(b, ws)
    scenarios = load_scenarios()
    overrides = {
        label: dict(resolve_names(scenarios[key].overrides, b)) for key, label in (("bear", "Bear"), ("bull", "Bull"))
    }
    for kind, row in lay.input_headings.items():
        ws[at(NAME_COL, row)] = HEADINGS[kind]
        ws[at(NAME_COL, row)].font = st.BOLD
    for i in lay.inputs:
        _input(b, ws, i, overrides)
    _actual_rows(b, ws)
    b.name("Drivers", lay.drivers_range)
    years = tuple(t[0] for t in b.model.targets)  # what a year driver (target_year) can choose
    for i in lay.inputs:
        if i.driver is not None:
            ws.add_data_validation(validation(i.driver, i.row, years))
    _flag_implausible(ws, *lay.driver_rows)
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width
    level = (NAME_COL, VALUE_COL, BEAR_COL, BULL_COL, LIVE_COL, PLAUSIBLE_LOW_COL, PLAUSIBLE_HIGH_COL, UNIT_COL)
    for i in lay.inputs:
        wrap_cells(ws, i.row, (MEANING_COL, SOURCE_COL), level)
    b.finish_sheet(ws, SOURCE_COL, freeze=INPUTS_FREEZE, width_a=WIDTHS[NAME_COL], titles=(HEADER_ROW, HEADER_ROW))


def _selector(b: Builder, ws: Worksheet) -> None:
    """The scenario in use: a named input limited to Base, Bear or Bull."""
    ws[at(NAME_COL, SCENARIO_ROW)] = SCENARIO_LABEL
    ws[at(NAME_COL, SCENARIO_ROW)].font = st.BOLD
    selector = ws[SCENARIO_CELL]
    selector.value, selector.font, selector.fill = SCENARIOS[0], st.INPUT_FONT, st.INPUT_FILL
    ws[SCENARIO_NOTE_CELL] = "Bear and Bull are illustrative (the report publishes the base case only)"
    ws[SCENARIO_NOTE_CELL].font = st.SUBTITLE
    b.name("scenario", absolute(ASSUMPTIONS, SCENARIO_CELL))
    pick = DataValidation(type="list", formula1=f'"{",".join(SCENARIOS)}"', allow_blank=False)
    pick.error, pick.errorTitle = f"Choose {SCENARIOS[0]}, {SCENARIOS[1]} or {SCENARIOS[2]}", "scenario"
    pick.showErrorMessage = True
    ws.add_data_validation(pick)
    pick.add(SCENARIO_CELL)


def _market_as_of(b: Builder, ws: Worksheet) -> None:
    """The date of the market data (the model file's [market] as_of, else the report's last price date): a
    typed date named `market_as_of`, in the rows that stay in view, which the Cover shows. An analyst who
    types new prices types their date here."""
    ws[at(NAME_COL, MARKET_AS_OF_ROW)] = MARKET_AS_OF_LABEL
    ws[at(NAME_COL, MARKET_AS_OF_ROW)].font = st.BOLD
    c = ws[MARKET_AS_OF_CELL]
    c.value, c.font, c.fill, c.number_format = b.as_of, st.INPUT_FONT, st.INPUT_FILL, DATE_FORMAT
    c.alignment = st.RIGHT
    ws[MARKET_AS_OF_NOTE_CELL] = (
        "The date of last_price, usdcny, hkdusd and the peers' prices below: change it when you change them"
    )
    ws[MARKET_AS_OF_NOTE_CELL].font = st.SUBTITLE
    b.name(MARKET_AS_OF_NAME, absolute(ASSUMPTIONS, MARKET_AS_OF_CELL))


def _input(b: Builder, ws: Worksheet, i: InputRow, overrides: dict[str, dict[str, object]]) -> None:
    """One input's row: name, Base value (named), and for a driver its scenarios, Live value and Drivers entry."""
    ws[at(NAME_COL, i.row)] = i.name
    cells = [ws[at(VALUE_COL, i.row)]]
    value = b.base.get(i.name, i.value)  # a model file's driver, else the report's base
    cells[0].value = None if isinstance(value, float) and math.isnan(value) else value  # no base: blank
    if i.kind == "driver":
        for label, col in (("Bear", BEAR_COL), ("Bull", BULL_COL)):
            c = ws[at(col, i.row)]
            if i.name in overrides[label]:
                c.value = overrides[label][i.name]
            cells.append(c)
        base, bear, bull = (at(col, i.row) for col in (VALUE_COL, BEAR_COL, BULL_COL))
        choices = f"{fixed(at(VALUE_COL, HEADER_ROW))}:{fixed(at(BULL_COL, HEADER_ROW))}"
        live = ws[at(LIVE_COL, i.row)]
        live.value = (
            f"=CHOOSE(MATCH(scenario,{choices},0),{base},"
            f"IF(ISBLANK({bear}),{base},{bear}),IF(ISBLANK({bull}),{base},{bull}))"
        )
        live.font = st.FORMULA_FONT
        b.name(LIVE_PREFIX + i.name, absolute(ASSUMPTIONS, at(LIVE_COL, i.row)))
        ws[at(DRIVERS_NAME_COL, i.row)] = i.name
        link = ws[at(DRIVERS_VALUE_COL, i.row)]
        link.value, link.font = f"={at(LIVE_COL, i.row)}", st.LINK_FONT
        cells.append(live)
        cells.append(link)
    for c in cells:
        if c.column_letter in (VALUE_COL, BEAR_COL, BULL_COL):
            c.font, c.fill = st.INPUT_FONT, st.INPUT_FILL
        if i.unit == "fraction":
            c.number_format = "0.0000"
        elif i.unit == "year":
            c.number_format = "0"
        elif isinstance(i.value, float) and not i.value.is_integer():
            c.number_format = "#,##0.0000;(#,##0.0000)"
    plausible = i.driver.plausible if i.driver is not None else None
    if plausible is not None:
        for col, bound in zip((PLAUSIBLE_LOW_COL, PLAUSIBLE_HIGH_COL), plausible, strict=True):
            c = ws[at(col, i.row)]
            c.value, c.font = bound, st.SUBTITLE
            c.number_format = (
                "0.0000"
                if i.unit == "fraction"
                else "0"
                if i.unit == "year"
                else st.number_format(i.unit, 0 if bound.is_integer() else 2)
            )
    ws[at(UNIT_COL, i.row)] = i.unit
    ws[at(MEANING_COL, i.row)] = i.meaning
    ws[at(SOURCE_COL, i.row)] = i.source
    b.name(i.name, b.layout.absolute_input(i.name))


def _actual_rows(b: Builder, ws: Worksheet) -> None:
    """The Drivers range below the drivers: `actual:<line>:<year>` and the Actuals cell's number, or ""
    while it is blank, so the UDFs see the actuals typed on the Actuals sheet as the native formulas do."""
    lay = b.layout
    rows = actual_driver_rows(lay.actuals, lay.driver_rows[1])
    if not rows:
        return
    heading = ws[at(NAME_COL, actual_heading_row(lay.driver_rows[1]))]
    heading.value, heading.font = ACTUALS_HEADING, st.BOLD
    for r in rows:
        line = b.model.lines[r.key]
        ws[at(NAME_COL, r.row)] = ws[at(DRIVERS_NAME_COL, r.row)] = r.name
        source = f"{quote(ACTUALS)}!{lay.actuals.cell(r.key, r.year)}"
        c = ws[at(DRIVERS_VALUE_COL, r.row)]
        c.value, c.font = f'=IF(ISNUMBER({source}),{source},"")', st.LINK_FONT
        c.number_format = st.number_format(line.unit, 1)
        ws[at(UNIT_COL, r.row)] = line.unit
        ws[at(MEANING_COL, r.row)] = f"{line.label} {r.year[:4]} as typed on the {ACTUALS} sheet (empty: not reported)"


def _flag_implausible(ws: Worksheet, first: int, last: int) -> None:
    """Live values outside their plausible range are shaded (the Checks sheet counts them)."""
    live, low, high = (f"${col}{first}" for col in (LIVE_COL, PLAUSIBLE_LOW_COL, PLAUSIBLE_HIGH_COL))
    rule = FormulaRule(formula=[f"AND(ISNUMBER({low}),OR({live}<{low},{live}>{high}))"], fill=st.WARNING_FILL)
    ws.conditional_formatting.add(f"{at(LIVE_COL, first)}:{at(LIVE_COL, last)}", rule)


def _number(x: float) -> str:
    """A bound as a formula literal: 0.5, -1, 1000000 (no exponent below 1e15)."""
    return f"{x:.15g}"


def validation(d: Driver, row: int, years: tuple[int, ...] = ()) -> DataValidation:
    """A driver's Base, Bear and Bull cells accept only what `Driver.check` accepts: one of its choices,
    or a number within its hard bounds (a strict lower bound where the driver has one); a year driver
    (`target_year`) one of `years`, the model's valuation years (a forecast year every peer has sales for)."""
    cells = f"{at(VALUE_COL, row)}:{at(BULL_COL, row)}"
    if d.unit == "year" and years:
        listed = ",".join(str(y) for y in years)
        dv = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True)
        choices = f"{', '.join(map(str, years[:-1]))} or {years[-1]}" if len(years) > 1 else str(years[0])
        dv.error = f"{d.name}: choose {choices} (a forecast year for which every peer has sales)"
        dv.prompt = (
            f"Valuation year: {choices}. A later year needs the forecast extended (stmodel extend) and every "
            "peer's sales for it (<peer>_sales_FY<year>E)"
        )
    elif d.choices:
        dv = DataValidation(type="list", formula1='"' + ",".join(d.choices) + '"', allow_blank=True)
        dv.error = f"Choose {', '.join(d.choices[:-1])} or {d.choices[-1]}"
        dv.prompt = dv.error
    else:
        low, high = d.bounds or (0.0, 0.0)
        strict = (d.above is not None and d.above == low) or (d.positive and low == 0.0)
        first = at(VALUE_COL, row)
        dv = DataValidation(
            type="custom",
            formula1=f"AND(ISNUMBER({first}),{first}{'>' if strict else '>='}{_number(low)},{first}<={_number(high)})",
            allow_blank=True,
        )
        above = f"above {low:g}" if strict else f"at least {low:g}"
        dv.error = f"{d.name}: expected a number ({d.unit}) {above} and at most {high:g}"
        plausible = f"; plausible {d.plausible[0]:.4g} to {d.plausible[1]:.4g}" if d.plausible else ""
        dv.prompt = f"{above} to {high:g} {d.unit}{plausible}"
    dv.errorTitle = dv.promptTitle = d.name[:32]  # Excel's limit for both titles
    dv.showErrorMessage = dv.showInputMessage = True
    dv.add(cells)
    return dv
