"""Where the Assumptions sheet puts the inputs: one row each, Base value named, scenario columns beside it.

The named (Base) value stays in column B; the scenario columns sit beside it and the Live column
holds the value the model uses (Base, or the selected scenario's where it has one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from engine.drivers import Driver, drivers
from engine.lines import FCST
from engine.model import Model

from .actuals import ActualsLayout, place_actuals
from .cells import ASSUMPTIONS, HEADER_ROW, at, fixed

NAME_COL, VALUE_COL, BEAR_COL, BULL_COL, LIVE_COL = "A", "B", "C", "D", "E"
PLAUSIBLE_LOW_COL, PLAUSIBLE_HIGH_COL = "F", "G"  # a numeric driver's plausible range (Driver.plausible)
UNIT_COL, MEANING_COL, SOURCE_COL = "H", "I", "J"
DRIVERS_NAME_COL, DRIVERS_VALUE_COL = "L", "M"  # the Drivers range: name and live value, for the UDFs
# Below the drivers, the Drivers range goes on with a row per line and forecast year that can take an actual:
# `actual:smart_business:2022`, and the Actuals cell's number or "" (the UDFs read it as not given).
ACTUAL_DRIVER_PREFIX = "actual:"
HEADERS = {
    NAME_COL: "Name",
    VALUE_COL: "Base",
    BEAR_COL: "Bear",
    BULL_COL: "Bull",
    LIVE_COL: "Live (used)",
    PLAUSIBLE_LOW_COL: "Plausible low",
    PLAUSIBLE_HIGH_COL: "Plausible high",
    UNIT_COL: "Unit",
    MEANING_COL: "Meaning",
    SOURCE_COL: "Source",
    DRIVERS_NAME_COL: "Driver",
    DRIVERS_VALUE_COL: "Live value",
}
SCENARIOS = (HEADERS[VALUE_COL], HEADERS[BEAR_COL], HEADERS[BULL_COL])  # the selector's choices, as headed
HEADER_CELL = at(VALUE_COL, HEADER_ROW)  # the "Base" header: where the note on typing inputs sits
SCENARIO_LABEL = "Scenario in use"
SCENARIO_ROW = 4  # the scenario selector: A4 label, B4 the named input `scenario`
SCENARIO_CELL = at(VALUE_COL, SCENARIO_ROW)
SCENARIO_NOTE_CELL = at(BEAR_COL, SCENARIO_ROW)
# The date of the market data (last_price, usdcny, hkdusd, the peers' prices): a typed date below the
# selector, in the rows that stay in view, named `market_as_of`; the Cover shows it.
MARKET_AS_OF_LABEL = "Market data as of"
MARKET_AS_OF_NAME = "market_as_of"
MARKET_AS_OF_ROW = SCENARIO_ROW + 1
MARKET_AS_OF_CELL = at(VALUE_COL, MARKET_AS_OF_ROW)
MARKET_AS_OF_NOTE_CELL = at(BEAR_COL, MARKET_AS_OF_ROW)
DATE_FORMAT = "yyyy-mm-dd"
FIRST_INPUT_ROW = 7
INPUTS_FREEZE = at(VALUE_COL, FIRST_INPUT_ROW)
LIVE_PREFIX = "live_"


@dataclass(frozen=True)
class InputRow:
    """A typed input on the Assumptions sheet with its defined name."""

    row: int
    name: str
    value: float | str
    unit: str
    meaning: str
    source: str
    kind: str  # "driver", "adjustment", "implied 2019"
    driver: Driver | None = None  # a driver's record: its hard bounds, plausible range, choices


@dataclass(frozen=True)
class ActualDriverRow:
    """A row of the Drivers range below the drivers: one line's actual for one forecast year."""

    row: int
    key: str
    year: str  # the model's column, "2022F"

    @property
    def name(self) -> str:
        return f"{ACTUAL_DRIVER_PREFIX}{self.key}:{self.year[:4]}"


def actual_heading_row(last_driver_row: int) -> int:
    """The heading of the actual rows: after a blank row below the drivers (inside the Drivers range, whose
    blank rows the UDFs skip)."""
    return last_driver_row + 2


def actual_driver_rows(actuals: ActualsLayout, last_driver_row: int) -> tuple[ActualDriverRow, ...]:
    """The Drivers range's actual rows below their heading: each Actuals row's forecast years, in its order.
    Each is labelled in column A too (the row's identity, by which the audit matches its formula)."""
    first = actual_heading_row(last_driver_row) + 1
    out: list[ActualDriverRow] = []
    for key in actuals.rows:
        for year in actuals.columns:
            out.append(ActualDriverRow(first + len(out), key, year))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class InputsLayout:
    rows: tuple[InputRow, ...]
    headings: Mapping[str, int]  # kind -> the row of its heading, just above its first input
    drivers_range: str
    driver_rows: tuple[int, int]  # first and last row of the drivers


def place_inputs(model: Model) -> InputsLayout:
    """Drivers (and the actual rows of the Drivers range below them), then the fixed report adjustments,
    then the 2019 figures the 2020A ratios imply. A model extended beyond the report's years has the added
    years' drivers (`drivers(report, years)`) and their adjustments, which are zero (the analyst's years)."""
    from engine.calibration import adjustments

    rows: list[InputRow] = []
    row = FIRST_INPUT_ROW
    regs: dict[str, Driver] = drivers(model.report, model.years)
    for d in regs.values():
        rows.append(InputRow(row, d.name, d.base, d.unit, d.meaning, d.source, "driver", d))
        row += 1
    actual_rows = actual_driver_rows(place_actuals(model), row - 1)  # the drivers, then the actuals
    last = actual_rows[-1].row if actual_rows else row - 1
    drivers_range = f"{ASSUMPTIONS}!{fixed(at(DRIVERS_NAME_COL, FIRST_INPUT_ROW))}:{fixed(at(DRIVERS_VALUE_COL, last))}"
    row = last + 3
    for name, cols in adjustments(model.report).items():
        added = [c for c in model.years.added if f"{name}_{c}" in model.fixed] if FCST[-1] in cols else []
        for col in (*cols, *added):
            full = f"{name}_{col}"
            meaning = _ADJ_MEANING.get(name, name)
            rows.append(InputRow(row, full, model.fixed[full], "RMB m", meaning, "docs/errata.md", "adjustment"))
            row += 1
    row += 3
    for key, (value, why) in model.report.implied_2019.items():
        label = f"2019 {model.lines[key].label}"
        rows.append(InputRow(row, f"{key}_2019A", value, "RMB m", label, why, "implied 2019"))
        row += 1
    headings: dict[str, int] = {}
    for i in rows:
        headings.setdefault(i.kind, i.row - 1)
    first, last = FIRST_INPUT_ROW, FIRST_INPUT_ROW + len(regs) - 1
    return InputsLayout(tuple(rows), MappingProxyType(headings), drivers_range, (first, last))


_ADJ_MEANING = {
    "ebitda_adjustment": "EBITDA not explained by Operating Profit + Other Non Opg + D&A",
    "np_pre_ex_adjustment": "Net Profit before Except. beyond Net Profit less exceptionals",
    "tax_timing": "Tax paid less the P&L tax",
    "assoc_cf_unreversed": "Associates' profit the report's cash flow leaves unreversed",
    "wc_unlinked": "Chg in Wkg.Cap. beyond the balance-sheet change",
    "debt_unlinked": "Chg in Gross Debt beyond the balance-sheet change",
    "opening_balance_difference": (
        "The last reported balance sheet's rounding gap, taken into equity (kept on the clean basis)"
    ),
    "nfa_other": "Net Fixed Assets movement beyond capex, D&A and disposals",
    "invt_in_associates_other": "Invt in Associates & JVs movement beyond profit share, dividends and investment",
    "other_lt_assets_other": "Other LT Assets movement beyond the investing cash flows and associates",
    "other_lt_liab_other": "Other LT Liabilities movement beyond Other Financing CF",
    "mi_other": "Minority Interests movement beyond the P&L share",
    "equity_other": "Equity movement beyond Net Profit, Capital Issues, Other Operating CF and currency",
    "cash_unreconciled": "Change in Cash & ST Invt not explained by Chg in Cash",
}
