"""Where a copy departs from the template: changed, typed-over or cleared formulas, inputs, rows whose
forecast columns disagree, numbers typed into formulas, and sheets, lines or names that are gone or moved.
"""

from __future__ import annotations

from typing import Any

from ..formulas import relative_form
from ..layout import at
from ..reader import YEAR, SheetIndex
from .context import Auditor
from .rules import (
    FORMULA_CHANGED,
    FORMULA_OUTSIDE_TEMPLATE,
    HARDCODE,
    INCONSISTENT_ROW,
    INPUT_IS_FORMULA,
    INPUT_NOT_NUMBER,
    INPUT_STYLE,
    MISSING_FORMULA,
    MISSING_LINE,
    MISSING_NAME,
    MISSING_SHEET,
    NAME_MOVED,
    NUMBER_IN_FORMULA,
    TYPED_OUTSIDE_INPUTS,
    VALIDATION_MISSING,
)
from .template import (
    OUTPUT_SHEETS,
    Identity,
    NameTarget,
    Template,
    canonical,
    formula_text,
    is_number,
    name_target,
    styled_as_input,
    token_form,
    validations,
)


def drift(a: Auditor, tpl: Template) -> None:
    """Every cell against the template's cell of the same identity (column A's labels are the
    identities; a formula there is checked like any other), the template's formulas no cell holds any
    more, then each row's forecast columns."""
    for ws in a.wb.worksheets:
        if ws.title in OUTPUT_SHEETS:
            continue
        index = a.indexes[ws.title]
        seen: set[Identity] = set()
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None and (c.column != 1 or formula_text(c) is not None):
                    seen.add(_cell(a, tpl, ws.title, index, c))
        missing_formulas(a, tpl, index, seen)
        row_consistency(a, ws, index)


def missing_formulas(a: Auditor, tpl: Template, index: SheetIndex, seen: set[Identity]) -> None:
    """The template's formulas on this sheet that no cell holds: cleared cells (a line whose row is
    gone is a missing line instead). A formula whose column cannot be found is reported at its label."""
    lost: dict[int, list[str]] = {}
    for ident in tpl.formulas:
        if ident[0] != index.title or ident in seen:
            continue
        row = index.key_row.get(ident[1])
        if row is None:
            continue
        columns = index.columns_at(row)
        col = next((c for c, title in columns.items() if title == ident[2]), None)
        if col is None and ident[2].startswith("col") and ident[2][3:].isdigit() and int(ident[2][3:]) not in columns:
            col = int(ident[2][3:])
        if col is None:
            lost.setdefault(row, []).append(ident[2])
            continue
        message = f"The formula of {tpl.labels[ident]} is gone (the cell is empty)."
        a.add(MISSING_FORMULA, index.title, at(col, row), message)
    for row, headers in lost.items():
        a.add(
            MISSING_FORMULA,
            index.title,
            at(1, row),
            f"'{index.row_key[row]}' lost its formulas under {', '.join(headers)} (the column is gone).",
        )


def _cell(a: Auditor, tpl: Template, sheet: str, index: SheetIndex, c: Any) -> Identity:
    """Check one cell against the template; returns its identity."""
    ident = index.identity(c.column, c.row)
    if ident is None:
        ident = (sheet, "", f"col{c.column}")  # a cell with no row label: in no set of the template
    text = formula_text(c)
    formula = text is not None
    label = tpl.labels.get(ident, "")
    at = (sheet, c.coordinate)
    if ident in tpl.formulas:
        if not formula and isinstance(c.value, int | float):
            a.add(HARDCODE, *at, f"A typed number replaced the formula of {label}.")
        elif text is not None and token_form(canonical(text, a.layout), sheet, a.indexes) != tpl.formulas[ident]:
            a.add(FORMULA_CHANGED, *at, f"The formula of {label} differs from the model's definition.")
        elif not formula:
            a.add(HARDCODE, *at, f"A typed value replaced the formula of {label}.")
    elif ident in tpl.inputs:
        if ident in tpl.numeric_inputs and isinstance(c.value, str) and not formula:
            a.add(INPUT_NOT_NUMBER, *at, f"The input {label} holds text ({c.value!r}), not a number.")
        elif formula:
            a.add(INPUT_IS_FORMULA, *at, f"The input {label} holds a formula instead of a typed value.")
        elif not styled_as_input(c):
            a.add(INPUT_STYLE, *at, f"The input {label} is not styled as an input (blue).")
    elif ident in tpl.static:
        return ident
    elif formula:
        a.add(
            FORMULA_OUTSIDE_TEMPLATE,
            *at,
            "A formula the model does not define; it is not checked against a definition.",
        )
    elif at in a.exported:
        return ident  # a value the export wrote in place of an ST_* call (see its comment)
    elif is_number(c.value):
        a.add(
            TYPED_OUTSIDE_INPUTS,
            *at,
            "A typed number outside the input areas; inputs belong on the Assumptions sheet.",
        )
    return ident


def row_consistency(a: Auditor, ws: Any, index: SheetIndex) -> None:
    """Forecast cells of a row whose relative formula differs from the row's most common one."""
    for r in index.row_key:
        columns = index.columns_at(r)
        forecast = [col for col, y in columns.items() if YEAR.match(y) and y.endswith("F")]
        if len(forecast) < 2:
            continue
        forms: dict[str, list[str]] = {}
        for col in forecast:
            c = ws.cell(r, col)
            text = formula_text(c)
            if text is not None:
                forms.setdefault(relative_form(text, c.coordinate, columns[col]), []).append(c.coordinate)
        if len(forms) > 1:
            majority = max(forms.values(), key=len)
            for cells in forms.values():
                if cells is majority:
                    continue
                for cell in cells:
                    a.add(
                        INCONSISTENT_ROW,
                        ws.title,
                        cell,
                        f"'{index.row_key[r]}' has a different formula here than in its other forecast columns.",
                    )


def numbers_in_formulas(a: Auditor) -> None:
    """Numbers other than 0 (however spelt: 0.0, 0E0) typed inside formulas."""
    for ws, c, _, tokens in a.formula_cells():
        literals = [t.text for t in tokens if t.kind == "number" and float(t.text) != 0]
        if literals:
            a.add(
                NUMBER_IN_FORMULA,
                ws.title,
                c.coordinate,
                f"Number {literals[0]} typed inside a formula; put it in an input cell.",
            )


def structure(a: Auditor, tpl: Template) -> None:
    """Sheets, lines and defined names of the model that are gone or point elsewhere."""
    for sheet, labels in tpl.lines.items():
        if sheet not in a.sheets:
            a.add(MISSING_SHEET, sheet, "", f"The model's {sheet} sheet is missing.")
            continue
        if sheet in OUTPUT_SHEETS:
            continue
        for label in sorted(labels - set(a.indexes[sheet].key_row)):
            a.add(MISSING_LINE, sheet, "", f"The line '{label}' is missing (a deleted or renamed row).")
    for name, expected in tpl.names.items():
        dn = a.wb.defined_names.get(name)
        if dn is None:
            a.add(MISSING_NAME, "(names)", name, f"The defined name '{name}' is missing.")
            continue
        if "#REF!" in (dn.attr_text or ""):
            continue  # reported as broken-name
        actual = name_target(dn, a.indexes)
        if isinstance(expected, tuple) and actual != expected:
            a.add(
                NAME_MOVED,
                "(names)",
                name,
                f"The defined name '{name}' points at {_describe(actual)} instead of {_describe(expected)}.",
            )
    present = validations(a.wb, a.indexes)
    for ident, choices in tpl.validations.items():
        if ident[0] in a.sheets and present.get(ident) != choices:
            index = a.indexes[ident[0]]
            row = index.key_row.get(ident[1])
            col = next((c for c, v in index.columns_at(row or 1).items() if v == ident[2]), None)
            cell = at(col, row) if row and col else ""
            a.add(
                VALIDATION_MISSING,
                ident[0],
                cell,
                f"'{ident[1]}' ({ident[2]}) lost its data validation ({choices}).",
            )


def _describe(where: NameTarget) -> str:
    if isinstance(where, tuple) and where and isinstance(where[0], tuple):
        return f"'{where[0][1]}' to '{where[-1][1]}'"
    if isinstance(where, tuple):
        return f"'{where[1]}'"
    return str(where)
