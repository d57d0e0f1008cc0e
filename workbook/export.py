"""`stmodel export`: the analyst copy, a workbook that works with no Python, no add-in, no macros.

Every ST_* call becomes its native twin (`=ST_TARGET(Drivers)` -> `=TargetPrice`, also in the form Excel
saves, `[1]!ST_TARGET(Drivers)` through a link to the add-in) or, where there is none, its current value
with a cell comment. VBA and external links are dropped, the copy is marked as an analyst copy (a custom
document property the auditor reads), inputs are unlocked and highlighted, formulas locked, and every
formula carries a cached value from a LibreOffice recalculation. The auditor then checks the result; a
copy with errors is not written unless forced. What reaches outside the workbook (WEBSERVICE, HYPERLINK,
DDE, ...) and macros are never written, forced or not; what was removed is returned and printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.comments import Comment
from openpyxl.packaging.custom import BoolProperty, StringProperty
from openpyxl.styles import Protection
from openpyxl.worksheet.formula import ArrayFormula

from engine.errors import StmodelError
from engine.files import check_target, replacing

from .audit import (
    ANALYST_PROPERTY,
    EXPORTED_VALUES,
    Finding,
    load_checked,
    summary,
    template,
)
from .audit import audit as run_audit
from .audit.package import Package, check_model_file
from .audit.template import formula_text
from .book import workbook_bytes
from .cached import fill_cached_values
from .formulas import reaches_outside, scan
from .layout import (
    ACTUALS,
    COVER,
    ENGINE,
    ENGINE_NOTE_CELL,
    LABEL_COL,
    README_LABEL,
    REFRESHED,
    REFRESHED_CELL,
    Layout,
    column_number,
    make_layout,
)
from .links import drop_external_links, link_targets, read_addin_calls
from .natives import evaluate_udf, has_udf, native_formula
from .printing import print_through
from .reader import ReadError, SheetIndex, grid_of, layout_of, read_engine, recorded_model_file
from .sheets.cover import wrap_note
from .styles import INPUT_FILL

NOTE_AUTHOR = "stmodel export"
EXPORTED_FROM = "SenseTimeExportedFrom"


class ExportError(StmodelError):
    """The copy cannot be made; the message says why."""


@dataclass(frozen=True)
class Exported:
    """What `export_analyst_copy` wrote: the copy's audit findings, and what it removed that the model had
    (macros, formulas that reach outside the workbook), one phrase each, for the command's message."""

    findings: list[Finding]
    removed: list[str] = field(default_factory=list)


class ExportRefused(ExportError):  # noqa: N818 - reads as what happened
    """The copy has audit errors; `findings` lists them."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        counts = summary(findings)
        super().__init__(f"the analyst copy has {counts['error']} audit errors; not written")


def _udf_value(formula: str, values: Any, sheet: str, cell: str) -> Any:
    """The current value of a cell whose ST_* call has no native twin."""
    cached = values[sheet][cell].value
    if cached is not None and not (isinstance(cached, str) and cached.startswith("#")):
        return cached
    return evaluate_udf(formula, values)


def _write_value(ws: Any, cell: str, value: Any, note: str) -> str:
    """A value (or a spilled table) in place of a formula, with a comment; returns the block's range."""
    from openpyxl.utils import get_column_letter

    target = ws[cell]
    rows = [[value]]
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [value]
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            out = ws.cell(target.row + i, target.column + j)
            out.value = None if v == "" else v
            if isinstance(v, str) and v.startswith("="):
                out.data_type = "s"  # a cached text that looks like a formula stays text
    target.comment = Comment(note, NOTE_AUTHOR)
    width = max(len(r) for r in rows)
    end = f"{get_column_letter(target.column + width - 1)}{target.row + len(rows) - 1}"
    return f"{ws.title}!{cell}:{end}"


def _layout(wb: Any) -> Layout:
    """The workbook's layout (its recorded model file's years); the report's when that file cannot be read
    (the copy's audit reports it)."""
    try:
        return layout_of(wb)
    except ReadError:
        return make_layout()


def replace_udfs(wb: Any, values: Any) -> list[str]:
    """Native twins or values for every ST_* cell; returns the ranges now holding exported values."""
    layout = _layout(wb)
    blocks: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                formula = formula_text(c)
                if formula is None or not has_udf(formula):
                    continue
                native = native_formula(formula, layout)
                if native is not None and isinstance(c.value, ArrayFormula):
                    c.value.text = native  # a spilled or {=...} call stays an array formula
                elif native is not None:
                    c.value = native
                else:
                    value = _udf_value(formula, values, ws.title, c.coordinate)
                    note = f"Value of {formula} when exported (no native formula)."
                    blocks.append(_write_value(ws, c.coordinate, value, note))
    return blocks


def replace_external_links(wb: Any, values: Any) -> list[str]:
    """Formulas that read other workbooks become their last values, with a comment naming the files
    (the links go, so `[2]` alone would name nothing)."""
    targets = link_targets(wb)
    blocks: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                formula = formula_text(c)
                books = _books(formula) if formula else []
                if books:
                    files = ", ".join(f"{book} = {targets[book]}" for book in books if book in targets)
                    note = f"Was {formula}" + (f" ({files})" if files else "")
                    blocks.append(_write_value(ws, c.coordinate, values[ws.title][c.coordinate].value, note))
    return blocks


def remove_outside_reach(wb: Any, values: Any) -> tuple[list[str], list[str]]:
    """Formulas that reach outside the workbook (`formulas.reaches_outside`), wherever they are: cells
    become their last values with a comment (so do cells using a name that reaches outside), such names,
    conditional formats and validations go. Returns (ranges now holding values, what was removed)."""
    names: dict[str, str] = {}
    for table in (wb.defined_names, *(ws.defined_names for ws in wb.worksheets)):
        for name, dn in list(table.items()):
            why = reaches_outside(list(scan(dn.attr_text or "")))
            if why:
                names[name.upper()] = why
                del table[name]
    removed = [f"the defined name {name} ({why})" for name, why in names.items()]
    blocks: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                text = formula_text(c)
                if text is None:
                    continue
                tokens = list(scan(text))
                used = (t for t in tokens if t.kind in ("name", "qname"))  # Leak, or Sheet1!Leak of a sheet
                why = reaches_outside(tokens) or next(
                    (f"uses {t.text}: {names[n]}" for t in used if (n := t.upper.rsplit("!", 1)[-1]) in names), None
                )
                if why:
                    cached = values[ws.title][c.coordinate].value if ws.title in values.sheetnames else None
                    note = f"Was {text}: {why}; the analyst copy keeps its value only."
                    blocks.append(_write_value(ws, c.coordinate, cached, note))
                    removed.append(f"{ws.title}!{c.coordinate} ({why})")
        for cf in ws.conditional_formatting:
            kept = [r for r in cf.rules if not any(reaches_outside(list(scan(str(f)))) for f in r.formula or ())]
            if len(kept) < len(cf.rules):
                removed.append(f"a conditional format on {ws.title}!{cf.sqref}")
                ws.conditional_formatting._cf_rules[cf] = kept
        validations = ws.data_validations.dataValidation
        for dv in list(validations):
            if any(f and reaches_outside(list(scan(str(f)))) for f in (dv.formula1, dv.formula2)):
                validations.remove(dv)
                removed.append(f"the validation of {ws.title}!{dv.sqref}")
    return blocks, removed


def drop_macros(wb: Any, package: Package) -> list[str]:
    """Excel 4.0 macro sheets go (openpyxl reads them as worksheets); the VBA project is never loaded.
    Returns what was removed."""
    removed = [f"the VBA project ({part})" for part in package.vba]
    for name in package.macro_sheets:
        if name in wb.sheetnames:
            del wb[name]
        removed.append(f"the Excel 4.0 macro sheet {name}")
    return removed


def _needs_values(wb: Any, values: Any) -> bool:
    """True when some ST_* cell has no native twin and the file carries no calculated results."""
    layout = _layout(wb)
    formulas = [
        (ws.title, c.coordinate, formula_text(c)) for ws in wb.worksheets for row in ws.iter_rows() for c in row
    ]
    lonely = any(f and has_udf(f) and native_formula(f, layout) is None for _, _, f in formulas)
    if not lonely:
        return False
    return not any(values[sheet][cell].value is not None for sheet, cell, f in formulas if f)


def _books(formula: str) -> list[str]:
    """The other files a formula reads (a cell, a name or a function through an external link), in order."""
    return list(dict.fromkeys(t.book for t in scan(formula) if t.book))


def protect(wb: Any, password: str | None) -> int:
    """Unlock and highlight the inputs, lock everything else, protect each sheet; returns inputs unlocked."""
    try:
        recorded = recorded_model_file(wb)
    except ReadError:
        recorded = None  # the copy's audit reports it
    inputs = template(recorded.text() if recorded is not None else None).inputs
    layout = _layout(wb)
    unlocked = 0
    for ws in wb.worksheets:
        index = SheetIndex(ws, layout)
        for row in ws.iter_rows():
            for c in row:
                ident = index.identity(c.column, c.row)
                if ident in inputs and (c.value is not None or ws.title == ACTUALS):  # blank actuals: to fill in
                    c.protection = Protection(locked=False)
                    c.fill = INPUT_FILL
                    unlocked += 1
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        if password:
            ws.protection.password = password
    return unlocked


def mark_analyst_copy(wb: Any, source: Path, blocks: list[str]) -> None:
    """The custom properties the auditor reads: analyst copy, and where exported values sit."""
    props = wb.custom_doc_props
    for name in (ANALYST_PROPERTY, EXPORTED_FROM, EXPORTED_VALUES):
        for p in list(props):
            if p.name == name:
                props.props.remove(p)
    props.append(BoolProperty(name=ANALYST_PROPERTY, value=True))
    props.append(StringProperty(name=EXPORTED_FROM, value=source.name))
    if blocks:
        props.append(StringProperty(name=EXPORTED_VALUES, value=";".join(blocks)))


def readme(wb: Any) -> None:
    """Tell the analyst what this copy is, on the Cover's read-me."""
    if COVER not in wb.sheetnames:
        return
    ws = wb[COVER]
    heading = SheetIndex(ws, _layout(wb)).key_row.get(README_LABEL)
    if heading is None:
        return
    col = column_number(LABEL_COL)
    last = heading
    while ws.cell(last + 1, col).value:
        last += 1
    ws.cell(last + 1, col).value = (
        "Analyst copy: needs no add-in, no Python and no macros. Blue, highlighted cells are the inputs "
        "(unlocked); everything else is locked. ST_ functions were replaced by native formulas or by their "
        "values (see the cell comments). The Engine sheet holds values from the last refresh, dated in "
        f"{REFRESHED_CELL}."
    )
    last_col = _layout(wb).cover.last_column
    if ws.cell(last, col).coordinate in ws.merged_cells:  # the read-me's lines span the printed width
        wrap_note(ws, last + 1, last_col)
    print_through(ws, last + 1)  # and it prints with the rest of the Cover


def export_analyst_copy(
    source: Path, output: Path, password: str | None = None, force: bool = False, overwrite: bool = True
) -> Exported:
    """Write the analyst copy of `source` at `output` (never over `source`; over another existing file
    only with `overwrite`); returns the copy's audit findings and what was removed."""
    source, output = Path(source), Path(output)
    if output.suffix.lower() != ".xlsx":
        raise ExportError(f"{output}: the analyst copy must be an .xlsx file")
    check_target(output, [source], overwrite)
    package = check_model_file(source)  # the model, or a one-line refusal before anything is read
    wb = load_checked(source, keep_vba=False, keep_links=True)  # links kept to tell the add-in's from others
    read_addin_calls(wb)  # Excel's `[1]!ST_TARGET(` -> `ST_TARGET(`, which has a native twin
    values = load_checked(source, data_only=True, keep_links=False)
    removed = drop_macros(wb, package)
    outside, removed_formulas = remove_outside_reach(wb, values)
    removed += removed_formulas
    if _needs_values(wb, values):
        from .recalc import RecalcError, recalculated_values

        try:  # a file written by openpyxl has no results yet; ST_* values need them
            values = recalculated_values(source)
        except RecalcError as e:
            raise ExportError(f"values for the ST_ cells: {e}") from None
    blocks = outside + replace_udfs(wb, values) + replace_external_links(wb, values)
    drop_external_links(wb)  # no formula reads them now
    if ENGINE in wb.sheetnames:
        stamp = read_engine(grid_of(wb[ENGINE]), _layout(wb)).status.get(REFRESHED)
        wb[ENGINE][ENGINE_NOTE_CELL] = (
            f"Values from the Python engine, refreshed {stamp}; no formula depends on Python."
        )
    readme(wb)
    mark_analyst_copy(wb, source, blocks)
    protect(wb, password)
    from .recalc import RecalcError

    # refused or failed: the draft goes, OUT is untouched
    with replacing(output, suffix=".xlsx", inputs=[source], overwrite=overwrite) as draft:
        draft.write_bytes(workbook_bytes(wb))
        try:
            fill_cached_values(draft)
        except RecalcError as e:
            raise ExportError(f"cached values: {e}") from None
        findings = run_audit(draft)
        if summary(findings)["error"] and not force:
            raise ExportRefused(findings)
    return Exported(findings, removed)
