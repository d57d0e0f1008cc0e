"""Compare a recalculated workbook with the engine, cell by cell (the one-definition proof)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from openpyxl.workbook.workbook import Workbook

from engine.expr import Env

from .layout import Layout


@dataclass(frozen=True)
class Difference:
    sheet: str
    cell: str
    label: str
    year: str | None
    engine: object
    workbook: object

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell} {self.label}" + (f" {self.year}" if self.year else "")
        return f"{where}: engine {self.engine!r}, workbook {self.workbook!r}"


def _scalar(v: object) -> object:
    return v.item() if hasattr(v, "item") else v


def same(a: object, b: object, rel: float = 1e-9, floor: float = 1e-9) -> bool:
    a, b = _scalar(a), _scalar(b)
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None or isinstance(b, bool):
        return False
    a, b = float(a), float(b)  # type: ignore[arg-type]
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), floor)


def compare(values: Workbook, layout: Layout, env: Env) -> list[Difference]:
    """Every line and year the engine computed, against the workbook cell that holds it."""
    out = []
    for (key, column), (sheet, cell) in sorted(layout.homes.items(), key=lambda kv: (kv[1], str(kv[0]))):
        if (key, column) not in env:
            continue
        expected = _scalar(env[(key, column)])
        if isinstance(expected, str) and expected == "":
            continue
        got = values[sheet][cell].value
        if not same(expected, got):
            out.append(Difference(sheet, cell, layout.model.lines[key].label, column, expected, got))
    return out


# Cached error values as openpyxl reads them (LibreOffice may write "Err:5xx" for its own errors).
ERROR_VALUES = ("#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "Err:")


def error_cells(values: Workbook) -> list[str]:
    """Cells whose cached value is an error, as 'Sheet!A1: #VALUE!'."""
    found = []
    for ws in values.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(ERROR_VALUES):
                    found.append(f"{ws.title}!{c.coordinate}: {c.value}")
    return found
