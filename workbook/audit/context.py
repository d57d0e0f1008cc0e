"""What every check reads and writes: the workbook opened twice (formulas, cached values), its sheet
indexes and defined names, and the findings so far. Checks are functions of an `Auditor`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from ..formulas import Token, cells_of, scan
from ..layout import Layout, at, make_layout
from ..reader import ReadError, SheetIndex, layout_of
from .findings import Finding
from .rules import Rule
from .template import formula_text


class FormulaCell(NamedTuple):
    ws: Any
    cell: Any
    text: str  # the formula, "=..." (an array formula's text included)
    tokens: list[Token]


ANALYST_PROPERTY = "SenseTimeAnalystCopy"
EXPORTED_VALUES = "SenseTimeExportedValues"  # ranges where an export put values in place of ST_* calls


class Auditor:
    def __init__(self, formulas: Any, values: Any) -> None:
        self.wb = formulas
        self.values = values
        self.findings: list[Finding] = []
        self._formulas: list[FormulaCell] | None = None
        self.layout = workbook_layout(formulas)
        self.indexes = {ws.title: SheetIndex(ws, self.layout) for ws in formulas.worksheets}
        self.names = {n.upper(): n for n in formulas.defined_names}
        self.sheets = set(formulas.sheetnames)
        props = {p.name: p.value for p in getattr(formulas, "custom_doc_props", [])}
        self.analyst_copy = str(props.get(ANALYST_PROPERTY, "")).lower() in ("true", "1", "yes")
        self.exported = cells_in(str(props.get(EXPORTED_VALUES, "")))

    def add(self, rule: Rule, sheet: str, cell: str, message: str, severity: str | None = None) -> None:
        """Record a finding of a registered rule (its severity unless the rule has several)."""
        self.findings.append(rule.finding(sheet, cell, message, severity))

    def formula_cells(self) -> Iterable[FormulaCell]:
        """Every formula cell of every column (array formulas included) with its tokens, scanned once per audit."""
        if self._formulas is None:
            self._formulas = []
            for ws in self.wb.worksheets:
                for row in ws.iter_rows():
                    for c in row:
                        text = formula_text(c)
                        if text is not None:
                            self._formulas.append(FormulaCell(ws, c, text, list(scan(text))))
        return self._formulas


def workbook_layout(wb: Any) -> Layout:
    """Where the workbook's cells are: its recorded model file's years (2025F, 2026F once extended), or the
    report's when it has none or one that cannot be read (a finding of its own)."""
    try:
        return layout_of(wb)
    except ReadError:
        return make_layout()


def cells_in(ranges: str) -> set[tuple[str, str]]:
    """Cells of 'Sheet!A1:B2;Other!C3:C3' ranges (the export's record of the values it wrote)."""
    out: set[tuple[str, str]] = set()
    for part in filter(None, ranges.split(";")):
        sheet, _, rng = part.rpartition("!")
        for t in scan("=" + rng):
            if t.kind == "ref":
                out.update((sheet, at(c, r)) for c, r in cells_of(t, 100_000))
    return out
