"""The model's own inputs and results: drivers against their bounds and the base case, fixed report
adjustments, the Checks sheet, and balance/cash-tie differences against the recorded errata.
"""

from __future__ import annotations

from typing import Any

import engine
from engine.drivers import DriverError
from engine.errata import load_errata

from ..formulas import address
from ..layout import ASSUMPTIONS, BALANCE, CASH_FLOW, CHECKS, HEADER_ROW
from ..reader import SheetIndex
from .context import Auditor
from .rules import (
    CHANGED_ADJUSTMENT,
    CHANGED_INPUT,
    CHECK_FAILED,
    INVALID_INPUT,
    KNOWN_REPORT_DIFFERENCE,
    NOT_RECALCULATED,
)
from .template import is_number


def inputs(a: Auditor) -> None:
    """The scenario selector, each driver's Base/Bear/Bull values, and the fixed report adjustments."""
    if ASSUMPTIONS not in a.sheets:
        return
    ws = a.wb[ASSUMPTIONS]
    regs = engine.drivers()
    base = engine.base_values()
    fixed = engine.compile_model().fixed
    index = a.indexes[ASSUMPTIONS]
    columns = {v: c for c, v in index.columns_at(HEADER_ROW + 1).items()}
    selector = index.key_row.get("Scenario in use")
    if selector is not None:
        cell = ws.cell(selector, columns.get("Base", 2))
        if cell.value not in ("Base", "Bear", "Bull"):
            a.add(
                INVALID_INPUT,
                ASSUMPTIONS,
                cell.coordinate,
                f"Scenario in use must be Base, Bear or Bull, not {cell.value!r}.",
            )
    for (name_cell,) in ws.iter_rows(min_col=1, max_col=1, min_row=HEADER_ROW + 1):
        name = name_cell.value
        if not isinstance(name, str):
            continue
        for label in ("Bear", "Bull"):
            other = ws.cell(name_cell.row, columns[label]) if label in columns else None
            if name in regs and other is not None and other.value not in (None, ""):
                try:
                    regs[name].check(other.value)
                except DriverError as e:
                    a.add(INVALID_INPUT, ASSUMPTIONS, other.coordinate, f"{label}: {e}.")
        cell = ws.cell(name_cell.row, columns.get("Base", 2))
        if name in regs:
            try:
                value = regs[name].check(cell.value)
            except DriverError as e:
                what = "empty" if cell.value is None else repr(cell.value)
                a.add(INVALID_INPUT, ASSUMPTIONS, cell.coordinate, f"{e} (cell holds {what}).")
                continue
            if value != base[name] and not _close(value, base[name]):
                a.add(
                    CHANGED_INPUT,
                    ASSUMPTIONS,
                    cell.coordinate,
                    f"{name} changed from the base case {base[name]!r} to {value!r}.",
                )
        elif name in fixed and (not isinstance(cell.value, int | float) or not _close(cell.value, fixed[name])):
            a.add(
                CHANGED_ADJUSTMENT,
                ASSUMPTIONS,
                cell.coordinate,
                f"The fixed report adjustment {name} was changed ({fixed[name]!r} -> {cell.value!r}).",
            )


def model_checks(a: Auditor) -> None:
    """The Checks sheet's pass rows and the recorded differences, read from calculated values."""
    if CHECKS not in a.sheets:
        return
    if not has_cached_values(a):
        a.add(
            NOT_RECALCULATED,
            CHECKS,
            "",
            "The file holds no calculated values; run with --recalc to check results.",
        )
        return
    vals = a.values[CHECKS]
    index = a.indexes[CHECKS]
    for key, row in index.key_row.items():
        if not key.strip().startswith("pass"):
            continue
        for col in index.col_key:
            if vals.cell(row, col).value is False:
                a.add(
                    CHECK_FAILED,
                    CHECKS,
                    address(col, row),
                    f"A model check fails in {index.col_key[col]}; see the Checks sheet.",
                )
    known_differences(a)


def has_cached_values(a: Auditor) -> bool:
    """Whether the Checks sheet carries calculated results (a file saved by Excel or LibreOffice)."""
    if CHECKS not in a.sheets:
        return False
    return any(isinstance(c.value, bool) for row in a.values[CHECKS].iter_rows() for c in row)


def known_differences(a: Auditor) -> None:
    """Balance and cash-tie differences against the recorded errata amounts (not the file's own)."""
    errata = {e.id: e for e in load_errata()}
    bs, cf = a.indexes.get(BALANCE), a.indexes.get(CASH_FLOW)
    if not bs or not cf:
        return

    def value(index: SheetIndex, label: str, year: str) -> float | None:
        row = index.key_row.get(label)
        col = next((c for c, y in index.col_key.items() if y == year), None)
        if row is None or col is None:
            return None
        v = a.values[index.title].cell(row, col).value
        return float(v) if is_number(v) else None

    years = list(bs.col_key.values())
    for i, year in enumerate(years):
        ta, tl = value(bs, "Total Assets", year), value(bs, "Total Cap. & Liab.", year)
        if ta is not None and tl is not None:
            recorded = (errata["balance_sheet_rounding"].amounts or {}).get(year, 0.0)
            what = "balance sheet does not balance"
            _difference(a, bs, "Total Assets", year, ta - tl, recorded, what, "balance_sheet_rounding")
        if i == 0:
            continue
        cash, prev = value(bs, "Cash & ST Invt", year), value(bs, "Cash & ST Invt", years[i - 1])
        chg = value(cf, "Chg in Cash", year)
        if cash is not None and prev is not None and chg is not None:
            recorded = (errata["cash_flow_not_tied"].amounts or {}).get(year, 0.0)
            what = "cash flow does not tie to balance-sheet cash"
            _difference(a, bs, "Cash & ST Invt", year, cash - prev - chg, recorded, what, "cash_flow_not_tied")


def _difference(
    a: Auditor, index: SheetIndex, label: str, year: str, diff: float, recorded: float, what: str, erratum: str
) -> None:
    """A difference the errata do not record is a failed check; one they record is the report's own."""
    col = next(c for c, y in index.col_key.items() if y == year)
    cell = address(col, index.key_row[label])
    if abs(diff - recorded) > 1e-3:
        a.add(
            CHECK_FAILED,
            index.title,
            cell,
            f"{year}: {what} by {diff:,.1f} (the report's recorded difference is {recorded:,.0f}).",
        )
    elif recorded:
        a.add(
            KNOWN_REPORT_DIFFERENCE,
            index.title,
            cell,
            f"{year}: difference of {diff:,.0f} is the report's own ({erratum} in docs/errata.md).",
        )


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
