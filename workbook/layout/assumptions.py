"""Where the Assumptions sheet puts the inputs: one row each, Base value named, scenario columns beside it.

The named (Base) value stays in column B; the scenario columns sit beside it and the Live column
holds the value the model uses (Base, or the selected scenario's where it has one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from engine.drivers import Driver, drivers
from engine.model import Model

from .cells import ASSUMPTIONS, HEADER_ROW, at, fixed

NAME_COL, VALUE_COL, BEAR_COL, BULL_COL, LIVE_COL = "A", "B", "C", "D", "E"
UNIT_COL, MEANING_COL, SOURCE_COL = "F", "G", "H"
DRIVERS_NAME_COL, DRIVERS_VALUE_COL = "J", "K"  # the Drivers range: name and live value, for the UDFs
HEADERS = {
    NAME_COL: "Name",
    VALUE_COL: "Base",
    BEAR_COL: "Bear",
    BULL_COL: "Bull",
    LIVE_COL: "Live (used)",
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


@dataclass(frozen=True, eq=False)
class InputsLayout:
    rows: tuple[InputRow, ...]
    headings: Mapping[str, int]  # kind -> the row of its heading, just above its first input
    drivers_range: str


def place_inputs(model: Model) -> InputsLayout:
    """Drivers, then the fixed report adjustments, then the 2019 figures the 2020A ratios imply."""
    from engine.calibration import adjustments

    rows: list[InputRow] = []
    row = FIRST_INPUT_ROW
    regs: dict[str, Driver] = drivers(model.report)
    for d in regs.values():
        rows.append(InputRow(row, d.name, d.base, d.unit, d.meaning, d.source, "driver"))
        row += 1
    drivers_range = (
        f"{ASSUMPTIONS}!{fixed(at(DRIVERS_NAME_COL, FIRST_INPUT_ROW))}:{fixed(at(DRIVERS_VALUE_COL, row - 1))}"
    )
    row += 2
    for name, cols in adjustments(model.report).items():
        for col in cols:
            full = f"{name}_{col}"
            meaning = _ADJ_MEANING.get(name, name)
            rows.append(InputRow(row, full, model.fixed[full], "RMB m", meaning, "docs/errata.md", "adjustment"))
            row += 1
    rows.append(
        InputRow(
            row,
            "ps_row_usdcny",
            model.fixed["ps_row_usdcny"],
            "CNY per US$",
            "USDCNY the printed P/S (X) row implies (stale rate)",
            "docs/errata.md (ps_row_stale_fx)",
            "adjustment",
        )
    )
    row += 3
    for key, (value, why) in model.report.implied_2019.items():
        label = f"2019 {model.lines[key].label}"
        rows.append(InputRow(row, f"{key}_2019A", value, "RMB m", label, why, "implied 2019"))
        row += 1
    headings: dict[str, int] = {}
    for i in rows:
        headings.setdefault(i.kind, i.row - 1)
    return InputsLayout(tuple(rows), MappingProxyType(headings), drivers_range)


_ADJ_MEANING = {
    "ebitda_adjustment": "EBITDA not explained by Operating Profit + Other Non Opg + D&A",
    "np_pre_ex_adjustment": "Net Profit before Except. beyond Net Profit less exceptionals",
    "tax_timing": "Tax paid less the P&L tax",
    "assoc_cf": "Cash flow: Assoc. & JV Inc/(loss) (report amount)",
    "disposal_loss": "Cash flow: (Pft)/ Loss on disposal of FAs (report amount)",
    "other_operating_cf": "Cash flow: Other Operating CF (report amount)",
    "other_invt": "Cash flow: Other Invt.(net) (report amount)",
    "invt_in_assoc_cf": "Cash flow: Invt in Assoc. & JV (report amount)",
    "div_from_assoc": "Cash flow: Div from Assoc & JV (report amount)",
    "other_investing_cf": "Cash flow: Other Investing CF (report amount)",
    "other_financing_cf": "Cash flow: Other Financing CF (report amount)",
    "currency_adj": "Cash flow: Currency Adjustments (report amount)",
    "wc_unlinked": "Chg in Wkg.Cap. beyond the balance-sheet change",
    "debt_unlinked": "Chg in Gross Debt beyond the balance-sheet change",
    "cash_unreconciled": "Change in Cash & ST Invt not explained by Chg in Cash",
    "nfa_other": "Net Fixed Assets movement beyond capex less D&A",
    "equity_other": "Equity movement beyond Net Profit and Capital Issues",
    "mi_other": "Minority Interests movement beyond the P&L share",
    "invt_in_associates": "Invt in Associates & JVs (report balance, memo)",
    "other_lt_assets": "Other LT Assets (report balance)",
    "other_lt_liab": "Other LT Liabilities (report balance)",
}
