"""What a formula or a defined name refers to: deleted cells, other workbooks, missing sheets,
unknown names, functions that are volatile, not portable or reach outside the workbook, ST_* calls,
macros, and error values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.names import excel_name_problem

from ..formulas import NOT_PORTABLE, VOLATILE, Token, normalised, reaches_outside, scan
from ..links import is_addin, link_targets
from ..verify import ERROR_VALUES
from .context import Auditor
from .package import Package
from .rules import (
    ADDIN_REFERENCE,
    BROKEN_NAME,
    BROKEN_REFERENCE,
    DANGEROUS_CONTENT,
    ERROR_VALUE,
    EXTERNAL_LINK,
    INVALID_NAME,
    MACROS,
    MISSING_SHEET,
    UDF_IN_ANALYST_COPY,
    UDF_WITHOUT_FALLBACK,
    UNKNOWN_NAME,
    UNSUPPORTED_FUNCTION,
    VOLATILE_FUNCTION,
)


def references(a: Auditor) -> None:
    """Every link to an add-in, every reference of every formula, then every defined name."""
    external = link_targets(a.wb)
    for book, target in external.items():
        if is_addin(target):
            a.add(
                ADDIN_REFERENCE,
                "(links)",
                book,
                f"Link {book} is the add-in {target}: Excel's saved form of ST_ calls, read as the calls "
                "(the analyst copy drops the link).",
            )
    for ws, c, _, tokens in a.formula_cells():
        danger = reaches_outside(tokens)
        if danger:
            a.add(DANGEROUS_CONTENT, ws.title, c.coordinate, f"The formula reaches outside the workbook: {danger}.")
            if any(t.text == "|" for t in tokens):
                continue  # a DDE call's operands are a program, a topic and an item, not names or sheets
        linked: set[str] = set()  # one finding per cell for its links, however many tokens use them
        for t in tokens:
            if (t.kind == "error" and t.text == "#REF!") or (t.kind == "ref" and "#REF!" in t.text):
                a.add(BROKEN_REFERENCE, ws.title, c.coordinate, "The formula refers to #REF!: a deleted cell or sheet.")
            elif t.book:  # a cell, a name or a function of another file
                target = external.get(t.book, t.book.strip("[]"))
                if is_addin(target):
                    rule, message = ADDIN_REFERENCE, f"Refers to the add-in {target}."
                else:
                    rule = EXTERNAL_LINK
                    message = f"The formula reads another workbook ({target}); the copy will not calculate on its own."
                if rule.id not in linked:
                    linked.add(rule.id)
                    a.add(rule, ws.title, c.coordinate, message)
            elif t.kind == "ref" and t.sheet and t.sheet not in a.sheets:
                a.add(
                    MISSING_SHEET,
                    ws.title,
                    c.coordinate,
                    f"The formula refers to sheet '{t.sheet}', which does not exist.",
                )
            elif t.kind == "name" and t.upper not in ("TRUE", "FALSE") and t.upper not in a.names:
                a.add(
                    UNKNOWN_NAME,
                    ws.title,
                    c.coordinate,
                    f"The formula uses '{t.text}', which is not a defined name (#NAME? in Excel).",
                )
            elif t.kind == "func":
                function(a, ws.title, c.coordinate, t)
    defined_names(a)


def defined_names(a: Auditor) -> None:
    """Names Excel rejects, or that point at deleted cells, missing sheets or other workbooks."""
    for name, dn in a.wb.defined_names.items():
        text = dn.attr_text or ""
        danger = reaches_outside(list(scan(text)))
        if danger:
            a.add(DANGEROUS_CONTENT, "(names)", name, f"Defined name '{name}' reaches outside the workbook: {danger}.")
        problem = excel_name_problem(name)
        if problem:
            a.add(INVALID_NAME, "(names)", name, f"Defined name '{name}' {problem}; Excel will not open it cleanly.")
        if "#REF!" in text:
            a.add(BROKEN_NAME, "(names)", name, f"Defined name '{name}' points at a deleted cell or sheet ({text}).")
            continue
        for t in scan(text):
            if t.book:
                a.add(EXTERNAL_LINK, "(names)", name, f"Defined name '{name}' points into another workbook ({text}).")
            elif t.kind == "ref" and t.sheet and t.sheet not in a.sheets:
                a.add(
                    BROKEN_NAME,
                    "(names)",
                    name,
                    f"Defined name '{name}' points at sheet '{t.sheet}', which does not exist.",
                )


def hidden_formulas(wb: Any) -> Iterator[tuple[str, str, str, str]]:
    """(sheet, where, what, formula) of the formulas outside cells and workbook names: names scoped to a
    sheet, conditional formats and data validations (Excel evaluates them all)."""
    for ws in wb.worksheets:
        for name, dn in ws.defined_names.items():
            yield ws.title, name, f"The name '{name}' of this sheet", dn.attr_text or ""
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                for formula in rule.formula or ():
                    yield ws.title, str(cf.sqref).split()[0], f"A conditional format on {cf.sqref}", str(formula)
        for dv in ws.data_validations.dataValidation:
            for formula in (dv.formula1, dv.formula2):
                if formula:
                    yield ws.title, str(dv.sqref).split()[0], f"The validation of {dv.sqref}", str(formula)


def outside_reach(a: Auditor) -> None:
    """Formulas that reach outside the workbook where no cell shows them (cells and names: `references`)."""
    for sheet, where, what, formula in hidden_formulas(a.wb):
        danger = reaches_outside(list(scan(formula)))
        if danger:
            a.add(DANGEROUS_CONTENT, sheet, where, f"{what} reaches outside the workbook: {danger}.")


def macros(a: Auditor, package: Package) -> None:
    """A VBA project (a warning: code the auditor cannot read) and Excel 4.0 macro sheets (an error)."""
    for part in package.vba:
        a.add(
            MACROS,
            "(file)",
            part,
            "The file carries a VBA project (macros): code Excel runs once macros are enabled, which the "
            "audit cannot check; the analyst copy drops it.",
            "warning",
        )
    for part in package.macro_sheets:
        a.add(
            MACROS,
            "(file)",
            part,
            "An Excel 4.0 macro sheet: formulas that can start programs and that the audit cannot check.",
            "error",
        )


def function(a: Auditor, sheet: str, cell: str, t: Token) -> None:
    """A function call that is volatile, not portable, or an ST_* call in an analyst copy."""
    name = t.function_name()
    if name in VOLATILE:
        a.add(
            VOLATILE_FUNCTION,
            sheet,
            cell,
            f"{name} recalculates on every change and hides what a cell depends on.",
        )
    if name in NOT_PORTABLE:
        a.add(UNSUPPORTED_FUNCTION, sheet, cell, f"{name} is not available in Excel 2019 or LibreOffice 7.4.")
    if t.is_udf and a.analyst_copy:
        a.add(
            UDF_IN_ANALYST_COPY,
            sheet,
            cell,
            f"{name} needs the SenseTime add-in; an analyst copy must use native formulas.",
        )


def udf_fallbacks(a: Auditor) -> None:
    """ST_* calls in the model workbook must fall back to a native formula where the add-in is missing."""
    if a.analyst_copy:
        return
    for ws, c, text, tokens in a.formula_cells():
        calls = [t for t in tokens if t.is_udf]
        if calls and not normalised(text).startswith("=IFERROR("):
            a.add(
                UDF_WITHOUT_FALLBACK,
                ws.title,
                c.coordinate,
                f"{calls[0].function_name()} shows #NAME? without the add-in; wrap it in IFERROR(..., native formula).",
            )


def error_values(a: Auditor) -> None:
    """Cached error values (fresh ones with --recalc)."""
    for ws in a.values.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(ERROR_VALUES):
                    a.add(ERROR_VALUE, ws.title, c.coordinate, f"The cell shows {c.value}.")
