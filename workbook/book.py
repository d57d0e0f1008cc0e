"""A workbook as the commands that update one see it: the small `BookAdapter` interface (an open
Excel workbook through xlwings, `addin/xlbook.py`, or a saved file through openpyxl, here), and how a
saved workbook is opened (after the auditor's safety checks) and saved (never half-written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from engine.files import replacing

from .reader import grid_of


class BookAdapter(Protocol):
    def sheet_names(self) -> list[str]: ...

    def grid(self, sheet: str) -> list[list[Any]]:
        """Cell values from A1, row by row (typed values; formulas may come back as text or results)."""

    def write_block(self, sheet: str, rows: list[list[Any]]) -> None:
        """Replace the sheet's contents with `rows` from A1 (creating the sheet if needed)."""


class OpenpyxlBook:
    """A headless workbook opened with openpyxl (formulas kept)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def grid(self, sheet: str) -> list[list[Any]]:
        return grid_of(self.wb[sheet])

    def write_block(self, sheet: str, rows: list[list[Any]]) -> None:
        ws = self.wb[sheet] if sheet in self.wb.sheetnames else self.wb.create_sheet(sheet)
        for row in ws.iter_rows():
            for c in row:
                c.value = None
        for i, values in enumerate(rows, start=1):
            for j, v in enumerate(values, start=1):
                if v is not None:
                    ws.cell(i, j).value = v


def open_for_update(path: Path) -> Any:
    """A saved workbook opened with openpyxl (formulas kept), after the auditor's safety checks."""
    from .audit import open_checked

    return open_checked(path)


def save_atomic(wb: Any, path: Path) -> None:
    """Save through a temporary file in the target folder, then rename: no half-written workbook."""
    with replacing(path) as tmp:
        wb.save(tmp)
