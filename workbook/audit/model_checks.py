"""The model's own inputs and results: drivers against their bounds and the base case, fixed report
adjustments, the Checks sheet, and balance/cash-tie differences against the recorded errata.
"""

from __future__ import annotations

import re
from typing import Any

import engine
from engine.drivers import DriverError, ImplausibleResultError
from engine.errata import load_errata

from ..layout import ASSUMPTIONS, BALANCE, CASH_FLOW, CHECK_FAIL, CHECK_OK, CHECKS, LIVE_PREFIX, SCENARIOS, at, locate
from ..reader import Assumptions, ReadError, SheetIndex
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
    try:
        sheet = Assumptions(a.indexes[ASSUMPTIONS].grid, a.layout, strict=False)
    except ReadError:
        return  # no Name/Base header row: the structure check reports the missing line
    model = a.layout.model  # the workbook's years: the report's, or its model file's
    regs = engine.drivers(model.report, model.years)
    base = engine.base_values(model.report, model.years)
    fixed = model.fixed
    checked: dict[str, Any] = {}  # the valid Base values, for the results check below
    scenarios: dict[str, dict[str, Any]] = {label: {} for label in SCENARIOS[1:]}  # and each column's own
    if sheet.selector is not None and sheet.selector.value not in SCENARIOS:
        choices = f"{', '.join(SCENARIOS[:-1])} or {SCENARIOS[-1]}"
        a.add(
            INVALID_INPUT,
            ASSUMPTIONS,
            sheet.selector.address,
            f"Scenario in use must be {choices}, not {sheet.selector.value!r}.",
        )
    for name in sheet.names():
        if name in regs:
            for label in SCENARIOS[1:]:
                other = sheet.cell(name, label) if label in sheet.columns else None
                if other is not None and other.value not in (None, ""):
                    try:
                        scenarios[label][name] = regs[name].check(other.value)
                    except DriverError as e:
                        a.add(INVALID_INPUT, ASSUMPTIONS, other.address, f"{label}: {e}.")
            cell = sheet.cell(name)
            try:
                value = regs[name].check(cell.value)
            except DriverError as e:
                what = "empty" if cell.value is None else repr(cell.value)
                a.add(INVALID_INPUT, ASSUMPTIONS, cell.address, f"{e} (cell holds {what}).")
                continue
            checked[name] = value
            if value != base[name] and not _close(value, base[name]) and not _both_nan(value, base[name]):
                a.add(
                    CHANGED_INPUT,
                    ASSUMPTIONS,
                    cell.address,
                    f"{name} changed from the base case {base[name]!r} to {value!r}."
                    if not _both_nan(base[name], base[name])
                    else f"{name} is {value!r} (a year the report gives no figure for).",
                )
        elif name in fixed:
            cell = sheet.cell(name)
            if not isinstance(cell.value, int | float) or not _close(cell.value, fixed[name]):
                a.add(
                    CHANGED_ADJUSTMENT,
                    ASSUMPTIONS,
                    cell.address,
                    f"The fixed report adjustment {name} was changed ({fixed[name]!r} -> {cell.value!r}).",
                )
    finite_results(a, sheet, checked, scenarios, model)


def finite_results(
    a: Auditor,
    sheet: Assumptions,
    values: dict[str, Any],
    scenarios: dict[str, dict[str, Any]] | None = None,
    model: Any = None,
) -> None:
    """The Base values, and each scenario's (Base with the column's own values where it has one, as the
    Live column reads them), give results the engine can use (no overflow, a finite valuation): the
    check `stmodel value --set` makes. One finding at each driver that causes a failure, in the column
    its value comes from; a Base value already reported is not reported again for a scenario."""
    base = SCENARIOS[0]
    reported: set[str] = set()
    for label, own in ((base, {}), *(scenarios or {}).items()):
        if label != base and not own:
            continue  # a scenario with no values of its own is the Base case
        try:
            engine.run({**values, **own}, model=model)
        except DriverError as e:
            # results no one can use (ImplausibleResultError names the drivers), or a valuation year the model
            # cannot value (no forecast column, peers without sales): at the drivers the message names
            named = e.drivers if isinstance(e, ImplausibleResultError) else _named({**values, **own}, str(e))
            for name in named:
                address = sheet.cell(name, label if name in own else base).address
                if address not in reported:
                    reported.add(address)
                    a.add(INVALID_INPUT, ASSUMPTIONS, address, f"{e}." if label == base else f"{label}: {e}.")


def _named(values: dict[str, Any], message: str) -> tuple[str, ...]:
    """The drivers a message names (`target_year=2025: no FY2025E sales ...`), by whole name."""
    return tuple(n for n in values if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", message))


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
            value = vals.cell(row, col).value
            if value is False or value == CHECK_FAIL:  # FALSE: a workbook built before checks read OK / FAIL
                a.add(
                    CHECK_FAILED,
                    CHECKS,
                    at(col, row),
                    f"A model check fails in {index.col_key[col]}; see the Checks sheet.",
                )
    known_differences(a)


def has_cached_values(a: Auditor) -> bool:
    """Whether the Checks sheet carries calculated results (a file saved by Excel or LibreOffice): a
    check's OK or FAIL (TRUE or FALSE in a workbook built before the checks read as words)."""
    if CHECKS not in a.sheets:
        return False
    return any(
        isinstance(c.value, bool) or c.value in (CHECK_OK, CHECK_FAIL)
        for row in a.values[CHECKS].iter_rows()
        for c in row
    )


def basis_in_use(a: Auditor) -> str:
    """The basis the file computed ("printed" or "clean"): the calculated Live value of the `basis` driver;
    "printed" (the default) when the file does not say."""
    dn = a.wb.defined_names.get(LIVE_PREFIX + "basis")
    for sheet, cell in dn.destinations if dn is not None else ():
        if sheet in a.values.sheetnames:
            row, col = locate(cell)
            value = a.values[sheet].cell(row, col).value
            if isinstance(value, str) and value.strip().lower() == "clean":
                return "clean"
    return "printed"


def known_differences(a: Auditor) -> None:
    """Balance and cash-tie differences against the recorded errata amounts (not the file's own); on the
    clean basis a forecast year has no report adjustment, so its recorded amount is 0."""
    errata = {e.id: e for e in load_errata()}
    bs, cf = a.indexes.get(BALANCE), a.indexes.get(CASH_FLOW)
    if not bs or not cf:
        return
    layout = a.layout
    clean = basis_in_use(a) == "clean"

    def recorded_in(erratum: str, year: str) -> float:
        if clean and year in layout.forecast:
            return 0.0
        return (errata[erratum].amounts or {}).get(year, 0.0)

    def label(index: SheetIndex, key: str) -> str:
        return next(r.label for r in layout.rows_of(index.title) if r.key == key)

    def value(index: SheetIndex, key: str, year: str) -> float | None:
        row, col = index.key_row.get(label(index, key)), index.year_columns.get(year)
        if row is None or col is None:
            return None
        v = a.values[index.title].cell(row, col).value
        return float(v) if is_number(v) else None

    years = list(bs.year_columns)
    for i, year in enumerate(years):
        ta, tl = value(bs, "total_assets", year), value(bs, "total_cap_liab", year)
        if ta is not None and tl is not None:
            recorded = recorded_in("balance_sheet_rounding", year)
            what = "balance sheet does not balance"
            _difference(a, bs, label(bs, "total_assets"), year, ta - tl, recorded, what, "balance_sheet_rounding")
        if i == 0:
            continue
        cash, prev = value(bs, "cash", year), value(bs, "cash", years[i - 1])
        chg = value(cf, "chg_in_cash", year)
        if cash is not None and prev is not None and chg is not None:
            recorded = recorded_in("cash_flow_not_tied", year)
            what = "cash flow does not tie to balance-sheet cash"
            _difference(a, bs, label(bs, "cash"), year, cash - prev - chg, recorded, what, "cash_flow_not_tied")


def _difference(
    a: Auditor, index: SheetIndex, label: str, year: str, diff: float, recorded: float, what: str, erratum: str
) -> None:
    """A difference the errata do not record is a failed check; one they record is the report's own."""
    cell = at(index.year_columns[year], index.key_row[label])
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


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and a != a and b != b


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
