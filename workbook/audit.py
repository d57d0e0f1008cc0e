"""`stmodel audit`: find what an edit broke in a model workbook before it is sent on.

The auditor rebuilds the template from the engine and compares the file with it line by line.
Lines are found by their row label and year header, not by address, so an inserted row moves
nothing. Every finding has a severity, the sheet and cell, a rule and a one-line explanation.
Files that cannot be audited (not a workbook, damaged, hostile, encrypted) raise AuditError.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import engine
from engine.drivers import DriverError
from engine.errata import load_errata
from engine.names import excel_name_problem

from .formulas import NOT_PORTABLE, VOLATILE, Token, address, cells_of, relative_form, scan
from .layout import ASSUMPTIONS, BALANCE, CASH_FLOW, CHECKS, HEADER_ROW, INCOME
from .verify import ERROR_VALUES

ENGINE_SHEET = "Engine"  # written by a refresh: an output area, never audited as inputs
OUTPUT_SHEETS = {ENGINE_SHEET, "Simulation"}  # values written by the engine (refresh, simulate)
ANALYST_PROPERTY = "SenseTimeAnalystCopy"
EXPORTED_VALUES = "SenseTimeExportedValues"  # ranges where an export put values in place of ST_* calls
YEAR = re.compile(r"^\d{4}[AF]$")
TABLE_HEADS = {"Company", "Name", "Cell", "Id"}
MAX_MEMBER = 200 * 1024 * 1024  # bytes a single zip member may inflate to
MAX_TOTAL = 500 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed size beyond which a large member is treated as a bomb
SEVERITIES = ("error", "warning", "info")


class AuditError(Exception):
    """The file cannot be audited; the message says why (exit code 2)."""


@dataclass(frozen=True)
class Finding:
    severity: str
    sheet: str
    cell: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{self.severity.upper():7} {where:28} {self.rule:24} {self.message}"


# ---------------------------------------------------------------- safe opening


def check_container(path: Path) -> None:
    """Refuse files that are not safe, whole OOXML zips before any XML parser sees them."""
    if not path.is_file():
        raise AuditError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise AuditError(
            f"{path}: encrypted (password-protected) or legacy .xls workbook; save it unprotected as .xlsx"
        )
    if not head.startswith(b"PK"):
        raise AuditError(f"{path}: not an .xlsx workbook (not a zip file)")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
                raise AuditError(f"{path}: a zip file but not an Excel workbook")
            total = 0
            for i in infos:
                total += i.file_size
                ratio = i.file_size / max(i.compress_size, 1)
                if i.file_size > MAX_MEMBER or total > MAX_TOTAL or (i.file_size > 10_000_000 and ratio > MAX_RATIO):
                    raise AuditError(
                        f"{path}: member {i.filename} inflates to {i.file_size:,} bytes (zip bomb?); refused"
                    )
            for i in infos:
                if not i.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                with z.open(i) as member:
                    chunk = member.read(4096)
                if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk:
                    raise AuditError(f"{path}: {i.filename} declares XML entities (entity-expansion attack?); refused")
            bad = z.testzip()
            if bad:
                raise AuditError(f"{path}: damaged zip member {bad}")
    except zipfile.BadZipFile as e:
        raise AuditError(f"{path}: damaged or truncated zip ({e})") from None
    except (OSError, EOFError, zipfile.LargeZipFile) as e:
        raise AuditError(f"{path}: cannot read ({e})") from None


def open_workbooks(path: Path, values_path: Path | None = None) -> tuple[Any, Any]:
    """(formulas, cached values) of a workbook, opened with openpyxl and defusedxml."""
    import openpyxl.xml
    from openpyxl import load_workbook

    if not openpyxl.xml.DEFUSEDXML:
        raise AuditError("defusedxml is not installed: pip install defusedxml (required to read untrusted files)")
    try:
        formulas = load_workbook(path, data_only=False, keep_links=True)
        values = load_workbook(values_path or path, data_only=True, keep_links=True)
    except Exception as e:  # openpyxl raises many types on damaged files
        cause: BaseException | None = e
        while cause is not None:
            if type(cause).__module__.startswith("defusedxml"):
                raise AuditError(
                    f"{path}: cannot be read as a workbook: XML entity declarations refused by defusedxml "
                    f"({type(cause).__name__}); possible entity-expansion attack"
                ) from None
            cause = cause.__cause__ or cause.__context__
        first = str(e).splitlines()[0][:120] if str(e) else ""
        raise AuditError(f"{path}: cannot be read as a workbook ({type(e).__name__}: {first})") from None
    return formulas, values


# ---------------------------------------------------------------- identities


class SheetIndex:
    """Row labels (column A, numbered when repeated) and column headers (years) of one sheet."""

    def __init__(self, ws: Any) -> None:
        self.title = ws.title
        self.row_key: dict[int, str] = {}
        self.key_row: dict[str, int] = {}
        seen: dict[str, int] = {}
        for (cell,) in ws.iter_rows(min_col=1, max_col=1):
            value = cell.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = f"{value:g}"  # a grid's row header (a driver value)
            if isinstance(value, str) and value.strip():
                label = value.strip()
                n = seen.get(label, 0)
                seen[label] = n + 1
                key = label if n == 0 else f"{label}#{n + 1}"
                self.row_key[cell.row] = key
                self.key_row[key] = cell.row
        # Header rows (years, or a table's column titles) name the columns of the rows below them.
        self.headers: list[tuple[int, dict[int, str]]] = []
        for row in ws.iter_rows():
            first = row[0].value if row else None
            texts: dict[int, str] = {}
            for c in row[1:]:  # a title repeated further right (a pasted table) names only its first column
                if isinstance(c.value, str) and c.value and c.value not in texts.values():
                    texts[c.column] = c.value
            years = {col: v for col, v in texts.items() if YEAR.match(v)}
            if len(years) >= 3 or (first in TABLE_HEADS and len(texts) >= 3):
                self.headers.append((row[0].row, texts))
        first_years = next((h for _, h in self.headers if sum(bool(YEAR.match(v)) for v in h.values()) >= 3), {})
        self.col_key: dict[int, str] = dict(first_years)

    def columns_at(self, row: int) -> dict[int, str]:
        """Column titles in force at `row`: those of the nearest header row above it."""
        current: dict[int, str] = {}
        for header_row, texts in self.headers:
            if header_row > row:
                break
            current = texts
        return current

    def identity(self, col: int, row: int) -> tuple[str, str, str] | None:
        label = self.row_key.get(row)
        if label is None:
            return None
        return (self.title, label, self.columns_at(row).get(col, f"col{col}"))


def token_form(formula: str, host_sheet: str, indexes: dict[str, SheetIndex]) -> str:
    """A formula with each reference replaced by the label and year it points at."""
    out = []
    for t in scan(formula):
        if t.kind == "ref" and not t.book:
            sheet = t.sheet or host_sheet
            index = indexes.get(sheet)
            parts = []
            for col, row in ((t.c1, t.r1), (t.c2, t.r2)):
                if not col:
                    continue
                c, r = cells_of(Token("ref", "", c1=col, r1=row))[0]
                ident = index.identity(c, r) if index else None
                parts.append(f"{ident[1]}|{ident[2]}" if ident else f"?{col}{row}")
            out.append("{" + sheet + "|" + ":".join(parts) + "}")
        else:
            out.append(t.text)
    return "".join(out)


# ---------------------------------------------------------------- template


def canonical(formula: str) -> str:
    """A formula with ST_* calls that have a native twin written natively (an analyst copy's form)."""
    from .layout import make_layout
    from .natives import native_formula

    return native_formula(formula, make_layout()) or formula


@dataclass
class Template:
    formulas: dict[tuple[str, str, str], str]  # identity -> token form
    labels: dict[tuple[str, str, str], str]  # identity -> human label ("Net Profit 2024F")
    inputs: set[tuple[str, str, str]]  # typed input cells
    static: set[tuple[str, str, str]]  # typed text or figures the template itself writes (labels, sources)
    numeric_inputs: set[tuple[str, str, str]]  # inputs that hold numbers
    lines: dict[str, set[str]]  # sheet -> row labels that carry cells
    names: dict[str, Any]  # defined name -> identity of its cell, or of its range's corners
    validations: dict[tuple[str, str, str], str]  # identity of a validated cell -> its list of choices


@cache
def template() -> Template:
    """The model as `stmodel build` writes it, read into identities (built once per process)."""
    from .build import build_workbook

    wb = build_workbook()
    indexes = {ws.title: SheetIndex(ws) for ws in wb.worksheets}
    formulas, labels, inputs, static, numeric = {}, {}, set(), set(), set()
    lines: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        index = indexes[ws.title]
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                ident = index.identity(c.column, c.row)
                if ident is None or c.column == 1:
                    continue
                labels[ident] = f"'{ident[1]}'" + (f" {ident[2]}" if not ident[2].startswith("col") else "")
                lines.setdefault(ws.title, set()).add(ident[1])
                if isinstance(c.value, str) and c.value.startswith("="):
                    formulas[ident] = token_form(canonical(c.value), ws.title, indexes)
                elif _blue(c):
                    inputs.add(ident)
                    if isinstance(c.value, int | float) and not isinstance(c.value, bool):
                        numeric.add(ident)
                else:
                    static.add(ident)
    names = {name: _name_identity(dn, indexes) for name, dn in wb.defined_names.items()}
    return Template(formulas, labels, inputs, static, numeric, lines, names, _validations(wb, indexes))


def _validations(wb: Any, indexes: dict[str, SheetIndex]) -> dict[tuple[str, str, str], str]:
    """Identity of every cell under a list validation -> the list's formula."""
    out = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in str(dv.sqref).split():
                for t in scan("=" + rng):
                    if t.kind == "ref":
                        for c, r in cells_of(t, 1000):
                            ident = indexes[ws.title].identity(c, r)
                            if ident is not None:
                                out[ident] = dv.formula1 or ""
    return out


def _name_identity(dn: Any, indexes: dict[str, SheetIndex]) -> Any:
    """Where a defined name points: its cell's identity, its range's corner identities, or its text."""
    tokens = [t for t in scan(dn.attr_text or "") if t.kind == "ref"]
    if len(tokens) == 1 and tokens[0].sheet in indexes:
        t = tokens[0]
        corners = (
            cells_of(t, 10**9)
            if not t.c2
            else [cells_of(Token("ref", "", c1=t.c1, r1=t.r1))[0], cells_of(Token("ref", "", c1=t.c2, r1=t.r2))[0]]
        )
        idents = tuple(indexes[t.sheet].identity(c, r) for c, r in corners)
        if all(i is not None for i in idents):
            return idents[0] if len(idents) == 1 else idents
    return dn.attr_text or ""


# ---------------------------------------------------------------- the audit


class Auditor:
    def __init__(self, formulas: Any, values: Any, recalculated: bool) -> None:
        self.wb = formulas
        self.values = values
        self.recalculated = recalculated
        self.findings: list[Finding] = []
        self._formulas: list[tuple[Any, Any, list[Token]]] | None = None
        self.indexes = {ws.title: SheetIndex(ws) for ws in formulas.worksheets}
        self.names = {n.upper(): n for n in formulas.defined_names}
        self.sheets = set(formulas.sheetnames)
        self.is_model = {ASSUMPTIONS, INCOME, BALANCE} <= self.sheets
        props = {p.name: p.value for p in getattr(formulas, "custom_doc_props", [])}
        self.analyst_copy = str(props.get(ANALYST_PROPERTY, "")).lower() in ("true", "1", "yes")
        self.exported = _cells_in(str(props.get(EXPORTED_VALUES, "")))

    def add(self, severity: str, sheet: str, cell: str, rule: str, message: str) -> None:
        self.findings.append(Finding(severity, sheet, cell, rule, message))

    def formula_cells(self) -> Iterable[tuple[Any, Any, list[Token]]]:
        """Every formula cell with its tokens, scanned once per audit."""
        if self._formulas is None:
            self._formulas = []
            for ws in self.wb.worksheets:
                for row in ws.iter_rows():
                    for c in row:
                        if isinstance(c.value, str) and c.value.startswith("="):
                            self._formulas.append((ws, c, list(scan(c.value))))
        return self._formulas

    # ------------------------------------------------------------ generic rules
    def references(self) -> None:
        external = {}
        for i, link in enumerate(getattr(self.wb, "_external_links", []), start=1):
            target = getattr(getattr(link, "file_link", None), "Target", "") or ""
            external[f"[{i}]"] = target
        for ws, c, tokens in self.formula_cells():
            for t in tokens:
                if (t.kind == "error" and t.text == "#REF!") or (t.kind == "ref" and "#REF!" in t.text):
                    self.add(
                        "error",
                        ws.title,
                        c.coordinate,
                        "broken-reference",
                        "The formula refers to #REF!: a deleted cell or sheet.",
                    )
                elif t.kind == "ref" and t.book:
                    target = external.get(t.book, t.book.strip("[]"))
                    if re.search(r"sensetime.*\.xlam", target, re.I):
                        self.add(
                            "info",
                            ws.title,
                            c.coordinate,
                            "addin-reference",
                            f"Refers to the SenseTime add-in ({target}).",
                        )
                    else:
                        self.add(
                            "error",
                            ws.title,
                            c.coordinate,
                            "external-link",
                            f"The formula reads another workbook ({target}); the copy will not calculate on its own.",
                        )
                elif t.kind == "ref" and t.sheet and t.sheet not in self.sheets:
                    self.add(
                        "error",
                        ws.title,
                        c.coordinate,
                        "missing-sheet",
                        f"The formula refers to sheet '{t.sheet}', which does not exist.",
                    )
                elif t.kind == "name" and t.upper not in ("TRUE", "FALSE") and t.upper not in self.names:
                    self.add(
                        "error",
                        ws.title,
                        c.coordinate,
                        "unknown-name",
                        f"The formula uses '{t.text}', which is not a defined name (#NAME? in Excel).",
                    )
                elif t.kind == "func":
                    self.function(ws.title, c.coordinate, t)
        for name, dn in self.wb.defined_names.items():
            text = dn.attr_text or ""
            problem = excel_name_problem(name)
            if problem:
                self.add(
                    "error",
                    "(names)",
                    name,
                    "invalid-name",
                    f"Defined name '{name}' {problem}; Excel will not open it cleanly.",
                )
            if "#REF!" in text:
                self.add(
                    "error",
                    "(names)",
                    name,
                    "broken-name",
                    f"Defined name '{name}' points at a deleted cell or sheet ({text}).",
                )
                continue
            for t in scan(text):
                if t.kind == "ref" and t.book:
                    self.add(
                        "error",
                        "(names)",
                        name,
                        "external-link",
                        f"Defined name '{name}' points into another workbook ({text}).",
                    )
                elif t.kind == "ref" and t.sheet and t.sheet not in self.sheets:
                    self.add(
                        "error",
                        "(names)",
                        name,
                        "broken-name",
                        f"Defined name '{name}' points at sheet '{t.sheet}', which does not exist.",
                    )

    def function(self, sheet: str, cell: str, t: Token) -> None:
        name = t.function_name()
        if name in VOLATILE:
            self.add(
                "warning",
                sheet,
                cell,
                "volatile-function",
                f"{name} recalculates on every change and hides what a cell depends on.",
            )
        if name in NOT_PORTABLE:
            self.add(
                "error",
                sheet,
                cell,
                "unsupported-function",
                f"{name} is not available in Excel 2019 or LibreOffice 7.4.",
            )
        if name.startswith("ST_") and self.analyst_copy:
            self.add(
                "error",
                sheet,
                cell,
                "udf-in-analyst-copy",
                f"{name} needs the SenseTime add-in; an analyst copy must use native formulas.",
            )

    def udf_fallbacks(self) -> None:
        if self.analyst_copy:
            return
        for ws, c, tokens in self.formula_cells():
            upper = c.value.upper()
            if "ST_" not in upper:
                continue
            calls = [t for t in tokens if t.kind == "func" and t.function_name().startswith("ST_")]
            if calls and not upper.lstrip("=").startswith("IFERROR("):
                self.add(
                    "warning",
                    ws.title,
                    c.coordinate,
                    "udf-without-fallback",
                    f"{calls[0].function_name()} shows #NAME? without the add-in; "
                    "wrap it in IFERROR(..., native formula).",
                )

    def error_values(self) -> None:
        for ws in self.values.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and c.value.startswith(ERROR_VALUES):
                        self.add("error", ws.title, c.coordinate, "error-value", f"The cell shows {c.value}.")

    def circular(self) -> None:
        graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
        name_cells: dict[str, list[tuple[str, str]]] = {}
        for name, dn in self.wb.defined_names.items():
            cells = []
            for t in scan(dn.attr_text or ""):
                if t.kind == "ref" and t.sheet and not t.book:
                    cells += [(t.sheet, address(c, r)) for c, r in cells_of(t, 10_000)]
            name_cells[name.upper()] = cells
        for ws, c, tokens in self.formula_cells():
            deps = []
            for t in tokens:
                if t.kind == "ref" and not t.book:
                    sheet = t.sheet or ws.title
                    deps += [(sheet, address(col, row)) for col, row in cells_of(t, 10_000)]
                elif t.kind == "name":
                    deps += name_cells.get(t.upper, [])
            graph[(ws.title, c.coordinate)] = deps
        for cycle in _cycles(graph):
            sheet, cell = cycle[0]
            path = " -> ".join(f"{s}!{a}" for s, a in cycle[:6]) + (" ..." if len(cycle) > 6 else "")
            self.add("error", sheet, cell, "circular-reference", f"Circular reference: {path}.")

    # ------------------------------------------------------------ model rules
    def drift(self, tpl: Template) -> None:
        for ws in self.wb.worksheets:
            if ws.title in OUTPUT_SHEETS:
                continue
            index = self.indexes[ws.title]
            for row in ws.iter_rows():
                for c in row:
                    if c.value is None or c.column == 1:
                        continue
                    ident = index.identity(c.column, c.row)
                    is_formula = isinstance(c.value, str) and c.value.startswith("=")
                    label = tpl.labels.get(ident, "") if ident else ""
                    if ident in tpl.formulas:
                        if not is_formula and isinstance(c.value, int | float):
                            self.add(
                                "error",
                                ws.title,
                                c.coordinate,
                                "hardcode",
                                f"A typed number replaced the formula of {label}.",
                            )
                        elif (
                            is_formula and token_form(canonical(c.value), ws.title, self.indexes) != tpl.formulas[ident]
                        ):
                            self.add(
                                "error",
                                ws.title,
                                c.coordinate,
                                "formula-changed",
                                f"The formula of {label} differs from the model's definition.",
                            )
                        elif not is_formula:
                            self.add(
                                "error",
                                ws.title,
                                c.coordinate,
                                "hardcode",
                                f"A typed value replaced the formula of {label}.",
                            )
                    elif ident in tpl.inputs:
                        if ident in tpl.numeric_inputs and isinstance(c.value, str) and not is_formula:
                            self.add(
                                "error",
                                ws.title,
                                c.coordinate,
                                "input-not-number",
                                f"The input {label} holds text ({c.value!r}), not a number.",
                            )
                        elif is_formula:
                            self.add(
                                "warning",
                                ws.title,
                                c.coordinate,
                                "input-is-formula",
                                f"The input {label} holds a formula instead of a typed value.",
                            )
                        elif not _blue(c):
                            self.add(
                                "warning",
                                ws.title,
                                c.coordinate,
                                "input-style",
                                f"The input {label} is not styled as an input (blue).",
                            )
                    elif ident in tpl.static:
                        continue
                    elif is_formula:
                        self.add(
                            "info",
                            ws.title,
                            c.coordinate,
                            "formula-outside-template",
                            "A formula the model does not define; it is not checked against a definition.",
                        )
                    elif (ws.title, c.coordinate) in self.exported:
                        continue  # a value the export wrote in place of an ST_* call (see its comment)
                    elif isinstance(c.value, int | float) and not isinstance(c.value, bool):
                        self.add(
                            "warning",
                            ws.title,
                            c.coordinate,
                            "typed-outside-inputs",
                            "A typed number outside the input areas; inputs belong on the Assumptions sheet.",
                        )
            self.row_consistency(ws, index)

    def structure(self, tpl: Template) -> None:
        """Sheets, lines and defined names of the model that are gone or point elsewhere."""
        for sheet, labels in tpl.lines.items():
            if sheet not in self.sheets:
                self.add("error", sheet, "", "missing-sheet", f"The model's {sheet} sheet is missing.")
                continue
            if sheet in OUTPUT_SHEETS:
                continue
            present = set(self.indexes[sheet].key_row)
            for label in sorted(labels - present):
                self.add(
                    "error", sheet, "", "missing-line", f"The line '{label}' is missing (a deleted or renamed row)."
                )
        for name, expected in tpl.names.items():
            dn = self.wb.defined_names.get(name)
            if dn is None:
                self.add("error", "(names)", name, "missing-name", f"The defined name '{name}' is missing.")
                continue
            if "#REF!" in (dn.attr_text or ""):
                continue  # reported as broken-name
            actual = _name_identity(dn, self.indexes)
            if isinstance(expected, tuple) and actual != expected:
                self.add(
                    "error",
                    "(names)",
                    name,
                    "name-moved",
                    f"The defined name '{name}' points at {_describe(actual)} instead of {_describe(expected)}.",
                )
        present = _validations(self.wb, self.indexes)
        for ident, choices in tpl.validations.items():
            if ident[0] in self.sheets and present.get(ident) != choices:
                index = self.indexes[ident[0]]
                row = index.key_row.get(ident[1])
                col = next((c for c, v in index.columns_at(row or 1).items() if v == ident[2]), None)
                cell = address(col, row) if row and col else ""
                self.add(
                    "warning",
                    ident[0],
                    cell,
                    "validation-missing",
                    f"'{ident[1]}' ({ident[2]}) lost its list of allowed values ({choices}).",
                )

    def row_consistency(self, ws: Any, index: SheetIndex) -> None:
        for r in index.row_key:
            columns = index.columns_at(r)
            forecast = [col for col, y in columns.items() if YEAR.match(y) and y.endswith("F")]
            if len(forecast) < 2:
                continue
            forms: dict[str, list[str]] = {}
            for col in forecast:
                c = ws.cell(r, col)
                if isinstance(c.value, str) and c.value.startswith("="):
                    forms.setdefault(relative_form(c.value, c.coordinate, columns[col]), []).append(c.coordinate)
            if len(forms) > 1:
                majority = max(forms.values(), key=len)
                for cells in forms.values():
                    if cells is majority:
                        continue
                    for cell in cells:
                        self.add(
                            "error",
                            ws.title,
                            cell,
                            "inconsistent-row",
                            f"'{index.row_key[r]}' has a different formula here than in its other forecast columns.",
                        )

    def numbers_in_formulas(self) -> None:
        for ws, c, tokens in self.formula_cells():
            literals = [t.text for t in tokens if t.kind == "number" and t.text != "0"]
            if literals:
                self.add(
                    "error" if self.is_model else "warning",
                    ws.title,
                    c.coordinate,
                    "number-in-formula",
                    f"Number {literals[0]} typed inside a formula; put it in an input cell.",
                )

    def inputs(self) -> None:
        if ASSUMPTIONS not in self.sheets:
            return
        ws = self.wb[ASSUMPTIONS]
        regs = engine.drivers()
        base = engine.base_values()
        fixed = engine.compile_model().fixed
        index = self.indexes[ASSUMPTIONS]
        columns = {v: c for c, v in index.columns_at(HEADER_ROW + 1).items()}
        selector = index.key_row.get("Scenario in use")
        if selector is not None:
            cell = ws.cell(selector, columns.get("Base", 2))
            if cell.value not in ("Base", "Bear", "Bull"):
                self.add(
                    "error",
                    ASSUMPTIONS,
                    cell.coordinate,
                    "invalid-input",
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
                        self.add("error", ASSUMPTIONS, other.coordinate, "invalid-input", f"{label}: {e}.")
            cell = ws.cell(name_cell.row, columns.get("Base", 2))
            if name in regs:
                try:
                    value = regs[name].check(cell.value)
                except DriverError as e:
                    what = "empty" if cell.value is None else repr(cell.value)
                    self.add("error", ASSUMPTIONS, cell.coordinate, "invalid-input", f"{e} (cell holds {what}).")
                    continue
                if value != base[name] and not _close(value, base[name]):
                    self.add(
                        "info",
                        ASSUMPTIONS,
                        cell.coordinate,
                        "changed-input",
                        f"{name} changed from the base case {base[name]!r} to {value!r}.",
                    )
            elif name in fixed and (not isinstance(cell.value, int | float) or not _close(cell.value, fixed[name])):
                self.add(
                    "warning",
                    ASSUMPTIONS,
                    cell.coordinate,
                    "changed-adjustment",
                    f"The fixed report adjustment {name} was changed ({fixed[name]!r} -> {cell.value!r}).",
                )

    def model_checks(self) -> None:
        if CHECKS not in self.sheets:
            return
        if not self.has_cached_values():
            self.add(
                "info",
                CHECKS,
                "",
                "not-recalculated",
                "The file holds no calculated values; run with --recalc to check results.",
            )
            return
        vals = self.values[CHECKS]
        index = self.indexes[CHECKS]
        for key, row in index.key_row.items():
            if not key.strip().startswith("pass"):
                continue
            for col in index.col_key:
                if vals.cell(row, col).value is False:
                    self.add(
                        "error",
                        CHECKS,
                        address(col, row),
                        "check-failed",
                        f"A model check fails in {index.col_key[col]}; see the Checks sheet.",
                    )
        self.known_differences()

    def known_differences(self) -> None:
        """Balance and cash-tie differences against the recorded errata amounts (not the file's own)."""
        errata = {e.id: e for e in load_errata()}
        bs, cf = self.indexes.get(BALANCE), self.indexes.get(CASH_FLOW)
        if not bs or not cf:
            return

        def value(index: SheetIndex, label: str, year: str) -> float | None:
            row = index.key_row.get(label)
            col = next((c for c, y in index.col_key.items() if y == year), None)
            if row is None or col is None:
                return None
            v = self.values[index.title].cell(row, col).value
            return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

        years = list(bs.col_key.values())
        for i, year in enumerate(years):
            ta, tl = value(bs, "Total Assets", year), value(bs, "Total Cap. & Liab.", year)
            if ta is not None and tl is not None:
                recorded = (errata["balance_sheet_rounding"].amounts or {}).get(year, 0.0)
                self.difference(
                    bs,
                    "Total Assets",
                    year,
                    ta - tl,
                    recorded,
                    "balance sheet does not balance",
                    "balance_sheet_rounding",
                )
            if i == 0:
                continue
            cash, prev, chg = (
                value(bs, "Cash & ST Invt", year),
                value(bs, "Cash & ST Invt", years[i - 1]),
                value(cf, "Chg in Cash", year),
            )
            if None not in (cash, prev, chg):
                recorded = (errata["cash_flow_not_tied"].amounts or {}).get(year, 0.0)
                self.difference(
                    bs,
                    "Cash & ST Invt",
                    year,
                    cash - prev - chg,
                    recorded,
                    "cash flow does not tie to balance-sheet cash",
                    "cash_flow_not_tied",
                )  # type: ignore[operator]

    def difference(
        self, index: SheetIndex, label: str, year: str, diff: float, recorded: float, what: str, erratum: str
    ) -> None:
        col = next(c for c, y in index.col_key.items() if y == year)
        cell = address(col, index.key_row[label])
        if abs(diff - recorded) > 1e-3:
            self.add(
                "error",
                index.title,
                cell,
                "check-failed",
                f"{year}: {what} by {diff:,.1f} (the report's recorded difference is {recorded:,.0f}).",
            )
        elif recorded:
            self.add(
                "info",
                index.title,
                cell,
                "known-report-difference",
                f"{year}: difference of {diff:,.0f} is the report's own ({erratum} in docs/errata.md).",
            )

    def has_cached_values(self) -> bool:
        ws = self.values[CHECKS] if CHECKS in self.sheets else None
        if ws is None:
            return False
        return any(isinstance(c.value, bool) for row in ws.iter_rows() for c in row)

    def run(self) -> list[Finding]:
        self.references()
        self.error_values()
        self.circular()
        self.numbers_in_formulas()
        self.udf_fallbacks()
        if self.is_model:
            tpl = template()
            self.structure(tpl)
            self.drift(tpl)
            self.inputs()
            self.model_checks()
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.findings, key=lambda f: (order[f.severity], f.sheet, _cell_order(f.cell), f.rule))


def _describe(where: Any) -> str:
    if isinstance(where, tuple) and where and isinstance(where[0], tuple):
        return f"'{where[0][1]}' to '{where[-1][1]}'"
    if isinstance(where, tuple):
        return f"'{where[1]}'"
    return str(where)


def _cells_in(ranges: str) -> set[tuple[str, str]]:
    """Cells of 'Sheet!A1:B2;Other!C3:C3' ranges (the export's record of the values it wrote)."""
    out: set[tuple[str, str]] = set()
    for part in filter(None, ranges.split(";")):
        sheet, _, rng = part.rpartition("!")
        for t in scan("=" + rng):
            if t.kind == "ref":
                out.update((sheet, address(c, r)) for c, r in cells_of(t, 100_000))
    return out


def _blue(c: Any) -> bool:
    return c.font is not None and c.font.color is not None and c.font.color.rgb in ("000000FF", "FF0000FF")


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def _cell_order(cell: str) -> tuple[int, str]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", cell or "")
    return (int(m.group(2)), m.group(1)) if m else (0, cell)


def _cycles(graph: dict[tuple[str, str], list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Strongly connected components with a cycle (Tarjan's algorithm, iterative)."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    on_stack: set[Any] = set()
    stack: list[Any] = []
    out: list[list[Any]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    out.append(list(reversed(component)))
    return out


def audit(path: Path, recalc: bool = False) -> list[Finding]:
    """Audit a workbook; raise AuditError when it cannot be audited."""
    path = Path(path)
    check_container(path)
    if recalc:
        from .recalc import RecalcError, recalculate

        with tempfile.TemporaryDirectory(prefix="stmodel-audit-") as tmp:
            fresh = Path(tmp) / "recalculated.xlsx"
            try:
                recalculate(path, fresh)
            except RecalcError as e:
                raise AuditError(str(e)) from None
            formulas, values = open_workbooks(path, fresh)
            return Auditor(formulas, values, True).run()
    formulas, values = open_workbooks(path)
    return Auditor(formulas, values, False).run()


def summary(findings: list[Finding]) -> dict[str, int]:
    return {s: sum(f.severity == s for f in findings) for s in SEVERITIES}


def to_json(findings: list[Finding], path: Path) -> dict[str, Any]:
    return {"file": str(path), "summary": summary(findings), "findings": [asdict(f) for f in findings]}


__all__ = ["AuditError", "Finding", "audit", "summary", "to_json"]
