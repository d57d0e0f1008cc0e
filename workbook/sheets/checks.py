"""The Checks sheet: the model's own checks (balance, segments, cash tie, cash not negative), each against
the amount the errata record (0 for a forecast year on the clean basis), the engine against the native
formulas, the master check the Cover shows, and below it the warnings (drivers outside their plausible
range, operating costs growing faster than gross profit) that never fail the master check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from engine.errata import Erratum, load_errata
from engine.lines import SEGMENTS as SEGMENT_LINES
from engine.result import NON_NEGATIVE

from .. import styles as st
from ..layout import (
    ASSUMPTIONS,
    CHECK_FAIL,
    CHECK_OK,
    CHECKS,
    CHECKS_VALUE_COL,
    ENGINE,
    ENGINE_CHECKED,
    ENGINE_CHECKED_SINGLE,
    LABEL_COL,
    LIVE_COL,
    PLAUSIBLE_HIGH_COL,
    PLAUSIBLE_LOW_COL,
    TOLERANCE_CELL,
    FormulaContext,
    absolute,
    at,
    fixed,
    row_of,
)
from ..printing import flag_checks

if TYPE_CHECKING:
    from ..build import Builder

CHECK_TOLERANCE = 0.001  # RMB m: a check passes when it is this close to the recorded amount
OK, FAIL = CHECK_OK, CHECK_FAIL  # what a check shows: a word read at a glance, green or red
PASS = "All checks pass"  # the master check when every check passes


def verdict(condition: str) -> str:
    """A check's cell: OK when `condition` holds, FAIL when not (a native formula, no number typed)."""
    return f'=IF({condition},"{OK}","{FAIL}")'


def checks(b: Builder) -> None:
    ws = b.ws(CHECKS)
    lay = b.layout
    b.title(
        ws,
        "Checks",
        "Each check passes when the difference equals the amount recorded in docs/errata.md "
        "(on the clean basis, 0 in every forecast year)",
    )
    b.year_header(ws)
    ws[at(LABEL_COL, row_of(TOLERANCE_CELL))] = "Tolerance (RMB m)"
    tol = ws[TOLERANCE_CELL]
    tol.value, tol.font, tol.fill = CHECK_TOLERANCE, st.INPUT_FONT, st.INPUT_FILL
    b.name("check_tolerance", absolute(CHECKS, TOLERANCE_CELL))
    passes = _model_checks(b) + _cash_floor(b) + _engine_checks(b)
    master = lay.checks.master_cell
    ws[at(LABEL_COL, lay.checks.master_row)] = "Master check"
    ws[at(LABEL_COL, lay.checks.master_row)].font = st.BOLD
    cells = ",".join(f'{c}="{OK}"' for c, _ in passes)
    header = lay.year_headers[CHECKS][0]
    failing = "&".join(f'IF({c}="{OK}","",{_named(label, header.columns, header.row)}&"; ")' for c, label in passes)
    ws[master] = f'=IF(AND({cells}),"{PASS}","Failing: "&{failing})'
    ws[master].font = st.BOLD
    b.name("MasterCheck", absolute(CHECKS, master))
    flag_checks(ws, master, PASS)
    for cell, _ in passes:
        ws[cell].font, ws[cell].alignment = st.FORMULA_FONT, st.RIGHT
    last_row = max(lay.checks.warning_rows.values())
    flag_checks(
        ws, f"{at(CHECKS_VALUE_COL, lay.checks.blocks['balance'].row)}:{at(lay.last_year_col, last_row)}", OK, FAIL
    )
    _warnings(b)
    b.finish_sheet(ws, lay.last_year_col, width_a=64, pages_tall=1)


def _model_checks(b: Builder) -> list[tuple[str, str]]:
    """Balance, segments and cash: difference, recorded amount and pass per year; returns (pass cell, label)."""
    ws = b.ws(CHECKS)
    lay = b.layout
    errata = {e.id: e for e in load_errata()}
    segment_keys = [k for k, _ in SEGMENT_LINES]
    years = lay.years

    def balance(y: str) -> str:
        return f"={lay.ref('total_assets', y, CHECKS)}-{lay.ref('total_cap_liab', y, CHECKS)}"

    def segments(y: str) -> str:
        parts = "+".join(lay.ref(k, y, CHECKS) for k in segment_keys)
        return f"={parts}-{lay.ref('revenue', y, CHECKS)}"

    def cash(y: str) -> str | None:
        i = years.index(y)
        if i == 0:
            return None
        prev = years[i - 1]
        return f"={lay.ref('cash', y, CHECKS)}-{lay.ref('cash', prev, CHECKS)}-{lay.ref('chg_in_cash', y, CHECKS)}"

    specs: dict[str, tuple[str, Callable[[str], str | None], Erratum | None]] = {
        "balance": (
            "Balance sheet balances (Total Assets - Total Cap. & Liab.)",
            balance,
            errata["balance_sheet_rounding"],
        ),
        "segments": ("Segments sum to revenue (segments - Income Statement revenue)", segments, None),
        "cash": (
            "Cash flow ties to balance-sheet cash (change in cash - Chg in Cash)",
            cash,
            errata["cash_flow_not_tied"],
        ),
    }
    basis = FormulaContext(lay, CHECKS).name("basis")
    passes: list[tuple[str, str]] = []
    for name, block in lay.checks.blocks.items():
        title, make, erratum = specs[name]
        ws[at(LABEL_COL, block.row)] = title
        ws[at(LABEL_COL, block.row)].font = st.BOLD
        ws[at(LABEL_COL, block.difference)] = "  difference"
        ws[at(LABEL_COL, block.recorded)] = f"  recorded ({erratum.id})" if erratum else "  recorded"
        ws[at(LABEL_COL, block.expected)] = "  expected on the basis in use"
        ws[at(LABEL_COL, block.passed)] = "  pass"
        for y, col in lay.year_column.items():
            formula = make(y)
            if formula is None:
                continue
            rows = (block.difference, block.recorded, block.expected, block.passed)
            difference, recorded, expected, passed = (at(col, r) for r in rows)
            ws[difference] = formula
            ws[difference].font, ws[difference].number_format = st.FORMULA_FONT, st.number_format("RMB m", 0)
            c = ws[recorded]
            c.value = (erratum.amounts or {}).get(y, 0.0) if erratum else 0.0
            c.font, c.fill = st.INPUT_FONT, st.INPUT_FILL
            c.number_format = st.number_format("RMB m", 0)
            # a forecast year's recorded amount is the report's adjustment: none on the clean basis
            ws[expected] = f'=IF({basis}="clean",0,{recorded})' if y in lay.forecast else f"={recorded}"
            ws[expected].font, ws[expected].number_format = st.FORMULA_FONT, st.number_format("RMB m", 0)
            ws[passed] = verdict(f"ABS({difference}-{expected})<=check_tolerance")
            passes.append((passed, f"{title.split(' (')[0]} {y}"))
    return passes


def _engine_checks(b: Builder) -> list[tuple[str, str]]:
    """The Engine sheet's values against the native formulas (true while the Engine sheet is blank)."""
    ws = b.ws(CHECKS)
    lay = b.layout
    ws[at(LABEL_COL, lay.checks.engine_row)] = "Engine agrees with the workbook (blank until Refresh forecasts)"
    ws[at(LABEL_COL, lay.checks.engine_row)].font = st.BOLD
    passes: list[tuple[str, str]] = []
    for key in ENGINE_CHECKED:
        row = lay.checks.engine_rows[key]
        label = b.model.lines[key].label
        ws[at(LABEL_COL, row)] = f"  engine: {label}"
        for y, col in lay.year_column.items():
            cell = at(col, row)
            eng = f"{ENGINE}!{lay.engine_cells[(key, y)]}"
            native = lay.ref(key, y, CHECKS)
            ws[cell] = verdict(f"IF(ISBLANK({eng}),TRUE,ABS({native}-{eng})<=check_tolerance)")
            passes.append((cell, f"Engine {label} {y}"))
    for key in ENGINE_CHECKED_SINGLE:
        row = lay.checks.engine_rows[key]
        label = b.model.lines[key].label
        ws[at(LABEL_COL, row)] = f"  engine: {label}"
        eng = f"{ENGINE}!{lay.engine_cells[(key, None)]}"
        native = lay.ref(key, None, CHECKS)
        test = f"{native}={eng}" if b.model.lines[key].unit == "text" else f"ABS({native}-{eng})<=check_tolerance"
        cell = at(CHECKS_VALUE_COL, row)
        ws[cell] = verdict(f"IF(ISBLANK({eng}),TRUE,{test})")
        passes.append((cell, f"Engine {label}"))
    return passes


def _cash_floor(b: Builder) -> list[tuple[str, str]]:
    """Cash & ST Invt not negative in each forecast year: the revolver keeps it at or above min_cash,
    so this fails only with the revolver switched off."""
    ws = b.ws(CHECKS)
    lay = b.layout
    floor = lay.checks.cash_floor
    title = "Cash not negative"
    ws[at(LABEL_COL, floor.row)] = f"{title} (Cash & ST Invt >= 0; can fail only with the revolver off)"
    ws[at(LABEL_COL, floor.row)].font = st.BOLD
    ws[at(LABEL_COL, floor.value)] = f"  {b.model.lines['cash'].label}"
    ws[at(LABEL_COL, floor.passed)] = "  pass"
    passes: list[tuple[str, str]] = []
    for y in lay.forecast:
        col = lay.year_column[y]
        value, passed = at(col, floor.value), at(col, floor.passed)
        b.write_link(ws, value, "cash", y)
        ws[passed] = verdict(f"{value}>=0")
        passes.append((passed, f"{title} {y}"))
    return passes


def _named(label: str, columns: Mapping[str, str], row: int) -> str:
    """A check's label as a formula: a year at its end is read from the sheet's year header, so a year that
    holds actuals is named as headed (2022A)."""
    text, _, year = label.rpartition(" ")
    if year in columns:
        return f'"{text} "&{columns[year]}${row}'
    return f'"{label}"'


def _warnings(b: Builder) -> None:
    """What an analyst should look at but the model still computes: a visible note, not a failed check."""
    ws = b.ws(CHECKS)
    lay = b.layout
    ctx = FormulaContext(lay, CHECKS)
    rows = lay.checks.warning_rows
    ws[at(LABEL_COL, lay.checks.warnings_row)] = "Warnings (not part of the master check; counts at the bottom)"
    ws[at(LABEL_COL, lay.checks.warnings_row)].font = st.BOLD
    ws[at(LABEL_COL, lay.checks.warnings_detail_row)] = "Warnings"
    ws[at(LABEL_COL, lay.checks.warnings_detail_row)].font = st.BOLD
    first, last = lay.driver_rows

    def column(col: str) -> str:
        return f"{ASSUMPTIONS}!{fixed(at(col, first))}:{fixed(at(col, last))}"

    live, low, high = column(LIVE_COL), column(PLAUSIBLE_LOW_COL), column(PLAUSIBLE_HIGH_COL)
    plausible, leverage, negative = (
        at(CHECKS_VALUE_COL, rows[k]) for k in ("plausible", "opex_leverage", "negative_balances")
    )
    ws[at(LABEL_COL, rows["plausible"])] = "  drivers outside their plausible range (Assumptions, columns F:G)"
    ws[plausible] = f"=SUMPRODUCT(ISNUMBER({low})*(({live}<{low})+({live}>{high})))"
    ws[at(LABEL_COL, rows["opex_leverage"])] = "  years with variable_opex_ratio at or above gross_margin"
    years = [
        y for y in lay.forecast if lay.is_driver(f"variable_opex_ratio_{y}") and lay.is_driver(f"gross_margin_{y}")
    ]
    terms = [f"({ctx.name(f'variable_opex_ratio_{y}')}>={ctx.name(f'gross_margin_{y}')})" for y in years]
    ws[leverage] = "=" + ("+".join(terms) or "0")
    # Balances that hold something (the engine's NON_NEGATIVE, as `Result.warnings()` says) below zero
    ws[at(LABEL_COL, rows["negative_balances"])] = "  forecast balances below zero (fixed assets, investments, WC)"
    cells = [lay.ref(k, y, CHECKS) for k in NON_NEGATIVE for y in lay.forecast]
    ws[negative] = "=" + "+".join(f"({c}<-check_tolerance)" for c in cells)
    for cell in (plausible, leverage, negative):
        ws[cell].font, ws[cell].number_format = st.FORMULA_FONT, "0"
    note = ws[lay.checks.warnings_cell]
    note.value = (
        f'=IF({plausible}+{leverage}+{negative}=0,"No warnings",{plausible}&" driver(s) outside plausible range; "'
        f'&{leverage}&" year(s) opex ratio >= gross margin; "&{negative}&" negative balance(s)")'
    )
    note.font = st.BOLD
    b.name("ModelWarnings", absolute(CHECKS, lay.checks.warnings_cell))
    flag_checks(ws, lay.checks.warnings_cell, "No warnings")
