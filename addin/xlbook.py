"""The xlwings side of `workbook.book.BookAdapter`: an open Excel workbook, one read and one write per sheet."""

from __future__ import annotations

from typing import Any


class XlwingsBook:
    """An open Excel workbook through xlwings: one read and one write per sheet."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def grid(self, sheet: str) -> list[list[Any]]:
        sht = self.book.sheets[sheet]
        last = sht.used_range.last_cell
        return sht.range((1, 1), (last.row, last.column)).options(ndim=2).value

    def write_block(self, sheet: str, rows: list[list[Any]]) -> None:
        names = self.sheet_names()
        sht = self.book.sheets[sheet] if sheet in names else self.book.sheets.add(sheet, after=self.book.sheets[-1])
        sht.clear_contents()
        width = max(len(r) for r in rows)
        sht.range("A1").value = [r + [None] * (width - len(r)) for r in rows]
