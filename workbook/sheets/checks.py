"""The Checks sheet: the model's own checks (balance, segments, cash), each against the amount the
errata record, the engine against the native formulas, and the master check the Cover shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.errata import Erratum, load_errata
from engine.lines import SEGMENTS as SEGMENT_LINES
from engine.lines import YEARS

from .. import styles as st
from ..layout import (
    CHECKS,
    CHECKS_VALUE_COL,
    ENGINE,
    ENGINE_CHECKED,
    ENGINE_CHECKED_SINGLE,
    LABEL_COL,
    LAST_YEAR_COL,
    TOLERANCE_CELL,
    YEAR_COLUMN,
    absolute,
    at,
    row_of,
)

if TYPE_CHECKING:
    from ..build import Builder

CHECK_TOLERANCE = 0.001  # RMB m: a check passes when it is this close to the recorded amount


def checks(b: Builder) -> None:
    ws = b.ws(CHECKS)
    lay = b.layout
    b.title(ws, "Checks", "Each check passes when the difference equals the amount recorded in docs/errata.md")
    b.year_header(ws)
    ws[at(LABEL_COL, row_of(TOLERANCE_CELL))] = "Tolerance (RMB m)"
    tol = ws[TOLERANCE_CELL]
    tol.value, tol.font, tol.fill = CHECK_TOLERANCE, st.INPUT_FONT, st.INPUT_FILL
    b.name("check_tolerance", absolute(CHECKS, TOLERANCE_CELL))
    passes = _model_checks(b) + _engine_checks(b)
    master = lay.checks.master_cell
    ws[at(LABEL_COL, lay.checks.master_row)] = "Master check"
    ws[at(LABEL_COL, lay.checks.master_row)].font = st.BOLD
    cells = ",".join(c for c, _ in passes)
    failing = "&".join(f'IF({c},"","{label}; ")' for c, label in passes)
    ws[master] = f'=IF(AND({cells}),"All checks pass","Failing: "&{failing})'
    ws[master].font = st.BOLD
    b.name("MasterCheck", absolute(CHECKS, master))
    b.finish_sheet(ws, LAST_YEAR_COL, width_a=64)


def _model_checks(b: Builder) -> list[tuple[str, str]]:
    """Balance, segments and cash: difference, recorded amount and pass per year; returns (pass cell, label)."""
    ws = b.ws(CHECKS)
    lay = b.layout
    errata = {e.id: e for e in load_errata()}
    segment_keys = [k for k, _ in SEGMENT_LINES]

    def balance(y: str) -> str:
        return f"={lay.ref('total_assets', y, CHECKS)}-{lay.ref('total_cap_liab', y, CHECKS)}"

    def segments(y: str) -> str:
        parts = "+".join(lay.ref(k, y, CHECKS) for k in segment_keys)
        return f"={parts}-{lay.ref('revenue', y, CHECKS)}"

    def cash(y: str) -> str | None:
        i = YEARS.index(y)
        if i == 0:
            return None
        prev = YEARS[i - 1]
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
    passes: list[tuple[str, str]] = []
    for name, block in lay.checks.blocks.items():
        title, make, erratum = specs[name]
        ws[at(LABEL_COL, block.row)] = title
        ws[at(LABEL_COL, block.row)].font = st.BOLD
        ws[at(LABEL_COL, block.difference)] = "  difference"
        ws[at(LABEL_COL, block.recorded)] = f"  recorded ({erratum.id})" if erratum else "  recorded"
        ws[at(LABEL_COL, block.passed)] = "  pass"
        for y in YEARS:
            formula = make(y)
            if formula is None:
                continue
            col = YEAR_COLUMN[y]
            difference, recorded, passed = (at(col, r) for r in (block.difference, block.recorded, block.passed))
            ws[difference] = formula
            ws[difference].number_format = st.number_format("RMB m", 0)
            c = ws[recorded]
            c.value = (erratum.amounts or {}).get(y, 0.0) if erratum else 0.0
            c.font, c.fill = st.INPUT_FONT, st.INPUT_FILL
            c.number_format = st.number_format("RMB m", 0)
            ws[passed] = f"=ABS({difference}-{recorded})<=check_tolerance"
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
        for y in YEARS:
            cell = at(YEAR_COLUMN[y], row)
            eng = f"{ENGINE}!{lay.engine_cells[(key, y)]}"
            native = lay.ref(key, y, CHECKS)
            ws[cell] = f"=IF(ISBLANK({eng}),TRUE,ABS({native}-{eng})<=check_tolerance)"
            passes.append((cell, f"Engine {label} {y}"))
    for key in ENGINE_CHECKED_SINGLE:
        row = lay.checks.engine_rows[key]
        label = b.model.lines[key].label
        ws[at(LABEL_COL, row)] = f"  engine: {label}"
        eng = f"{ENGINE}!{lay.engine_cells[(key, None)]}"
        native = lay.ref(key, None, CHECKS)
        test = f"{native}={eng}" if b.model.lines[key].unit == "text" else f"ABS({native}-{eng})<=check_tolerance"
        cell = at(CHECKS_VALUE_COL, row)
        ws[cell] = f"=IF(ISBLANK({eng}),TRUE,{test})"
        passes.append((cell, f"Engine {label}"))
    return passes
