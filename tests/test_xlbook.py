"""The Excel side of the add-in, run without Excel: `addin/xlbook.py` (XlwingsBook, the xlwings adapter behind
`workbook.book.BookAdapter`) and the ribbon actions of `addin/ribbon.py`.

Excel is stood in for by `FakeBook`, which implements exactly the part of xlwings' Book API these modules call,
on a real openpyxl workbook, so the actions really run: refresh reads the Assumptions inputs and writes the
Engine sheet; audit and export read the copy that `book.api.SaveCopyAs` writes.

The end-to-end tests run twice (fixture `book`): on the built file as openpyxl loads it ("formulas": formula
cells read as their text, as `OpenpyxlBook` reads them) and on a copy LibreOffice has recalculated ("computed":
formula cells read as their results, as Excel hands them over; slow, as LibreOffice runs).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xlwings
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.utils.cell import range_boundaries

import addin.ribbon
import engine
from addin.ribbon import TITLE, run_action
from addin.xlbook import XlwingsBook
from engine import versions
from workbook.cached import fill_cached_values
from workbook.layout import ASSUMPTIONS, ENGINE, INCOME, NOT_REFRESHED, REFRESHED, SHEETS, make_layout
from workbook.reader import read_engine
from workbook.verify import same

# ---------------------------------------------------------------------------------------------------------------
# FakeBook: the part of xlwings' Book these modules call (mirrors xlwings/main.py and its Windows engine).


class FakeBook:
    """An xlwings Book stand-in on an openpyxl workbook (`wb`, formulas kept), with the workbook's
    computed results (`computed`, openpyxl's data_only view of the same file) when there are any.

    Like xlwings on Excel: sheet names are looked up case-insensitively; `used_range` starts at the first
    used cell (a value or a format) and is A1 on an empty sheet; reads give numbers as floats and empty cells,
    "" and error values as None; a 2-D write must have rows of one length; None writes an empty cell;
    `clear_contents` keeps the formats; `SaveCopyAs` writes the open state and leaves the book as it is.

    Unlike Excel: nothing is recalculated. Formula cells read as their text without `computed`, else as the
    results the file was loaded with (LibreOffice's, where the ST_* cells hold their IFERROR fallback); values
    written through the fake read back as written (a formula written through it would read as the cell's old
    result: the tests write none). `SaveCopyAs` saves through openpyxl (always .xlsx; the ST_* calls as typed,
    where Excel writes them through the add-in's link, `[1]!ST_TARGET(`) and, with `computed`, has
    LibreOffice store every formula's result in the copy, as Excel stores its own.
    """

    def __init__(self, wb: Any, path: Path, computed: Any = None) -> None:
        self.wb, self.computed = wb, computed
        self.name, self.fullname = path.name, str(path)
        self.sheets = FakeSheets(self)
        self.app = FakeApp()
        self.api = FakeApi(self)

    @classmethod
    def open(cls, path: Path, computed: bool = False) -> FakeBook:
        return cls(load_workbook(path), path, load_workbook(path, data_only=True) if computed else None)


class FakeApp:
    def __init__(self) -> None:
        self.alerts: list[tuple[str, str | None]] = []

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: Any = None) -> str:
        self.alerts.append((prompt, title))
        return "ok"


class FakeApi:
    """`book.api`: Excel's COM Workbook object; only SaveCopyAs."""

    def __init__(self, book: FakeBook) -> None:
        self.book = book

    def SaveCopyAs(self, filename: str) -> None:  # noqa: N802 - the COM method's name
        self.book.wb.save(filename)
        if self.book.computed is not None:
            fill_cached_values(Path(filename))


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book

    def __iter__(self):
        return (FakeSheet(self.book, ws) for ws in self.book.wb.worksheets)

    def __len__(self) -> int:
        return len(self.book.wb.worksheets)

    def __getitem__(self, key: int | str) -> FakeSheet:
        worksheets = self.book.wb.worksheets
        if isinstance(key, int):
            if not -len(worksheets) <= key < len(worksheets):
                raise IndexError(f"Index {key} out of range ({len(worksheets)} elements)")
            return FakeSheet(self.book, worksheets[key])
        for ws in worksheets:
            if ws.title.lower() == key.lower():
                return FakeSheet(self.book, ws)
        raise KeyError(key)  # Excel: a COM error

    def add(self, name: str | None = None, before: FakeSheet | None = None, after: FakeSheet | None = None):
        if name is not None and name.lower() in (s.name.lower() for s in self):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        wb = self.book.wb
        at = wb.index(after.ws) + 1 if after else wb.index(before.ws) if before else wb.index(wb.active)
        return FakeSheet(self.book, wb.create_sheet(name, at))


class FakeSheet:
    def __init__(self, book: FakeBook, ws: Any) -> None:
        self.book, self.ws = book, ws

    @property
    def name(self) -> str:
        return self.ws.title

    @property
    def used_range(self) -> FakeRange:
        used = [(c.row, c.column) for row in self.ws.iter_rows() for c in row if c.value is not None or c.has_style]
        if not used:
            return FakeRange(self, 1, 1, 1, 1)
        rows, cols = [r for r, _ in used], [c for _, c in used]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))

    def range(self, cell1: str | tuple[int, int], cell2: tuple[int, int] | None = None) -> FakeRange:
        if isinstance(cell1, str):
            c1, r1, c2, r2 = range_boundaries(cell1)
            return FakeRange(self, r1, c1, r2 or r1, c2 or c1)
        end = cell2 or cell1
        return FakeRange(self, *cell1, *end)

    def clear_contents(self) -> None:
        for row in self.ws.iter_rows():
            for c in row:
                if not isinstance(c, MergedCell):
                    c.value = None

    def read(self, row: int, col: int) -> Any:
        """A cell's value as xlwings hands it over."""
        cell = self.ws.cell(row, col)
        value = cell.value
        computed = self.book.computed
        if cell.data_type == "f" and computed is not None and self.name in computed.sheetnames:
            result = computed[self.name].cell(row, col)
            value = None if result.data_type == "e" else result.value
        if value == "" or (isinstance(value, str) and cell.data_type == "e"):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return value

    def write(self, row: int, col: int, value: Any) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = ""
        self.ws.cell(row, col).value = None if value == "" else value


class FakeRange:
    """Rows r1..r2, columns c1..c2 of a sheet; `options(ndim=2)` or the default squeezed value."""

    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int, ndim: int | None = None) -> None:
        self.sheet, self.r1, self.c1, self.r2, self.c2, self.ndim = sheet, r1, c1, r2, c2, ndim

    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def last_cell(self) -> FakeRange:
        return FakeRange(self.sheet, self.r2, self.c2, self.r2, self.c2, self.ndim)

    def options(self, ndim: int | None = None) -> FakeRange:
        if ndim not in (None, 2):
            raise NotImplementedError(f"ndim={ndim}")
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2, ndim)

    @property
    def value(self) -> Any:
        rows = [[self.sheet.read(r, c) for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]
        if self.ndim == 2:
            return rows
        if len(rows) == 1:
            return rows[0][0] if len(rows[0]) == 1 else rows[0]
        return [row[0] for row in rows] if len(rows[0]) == 1 else rows

    @value.setter
    def value(self, data: Any) -> None:
        if not isinstance(data, list | tuple):  # a scalar fills the range
            for r in range(self.r1, self.r2 + 1):
                for c in range(self.c1, self.c2 + 1):
                    self.sheet.write(r, c, data)
            return
        rows = data if data and isinstance(data[0], list | tuple) else [data]
        if len({len(row) for row in rows}) > 1:
            raise ValueError("a 2-D value must have rows of one length (Excel takes a rectangular array)")
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                self.sheet.write(self.r1 + i, self.c1 + j, v)


# ---------------------------------------------------------------------------------------------------------------
# Fixtures


def small_book(tmp_path: Path, **sheets: list[list[Any]]) -> FakeBook:
    """A FakeBook of sheets given as rows from A1."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    return FakeBook(wb, tmp_path / "small.xlsx")


@pytest.fixture(scope="module")
def computed_model(built, tmp_path_factory) -> Path:
    """The built model with every formula's result stored in it (by LibreOffice)."""
    path = tmp_path_factory.mktemp("computed") / "model.xlsx"
    shutil.copyfile(built, path)
    fill_cached_values(path)
    return path


@pytest.fixture(params=["formulas", pytest.param("computed", marks=pytest.mark.slow)])
def book(request, built, tmp_path) -> FakeBook:
    """The model open in the fake Excel, saved as 'SenseTime model.xlsx' in a folder of its own."""
    computed = request.param == "computed"
    path = tmp_path / "SenseTime model.xlsx"
    shutil.copyfile(request.getfixturevalue("computed_model") if computed else built, path)
    return FakeBook.open(path, computed=computed)


def grid(book: FakeBook, sheet: str) -> list[list[Any]]:
    return XlwingsBook(book).grid(sheet)


def refreshed_message(overrides: dict[str, object] | None = None) -> str:
    """The message Refresh forecasts shows, from the engine's own valuation."""
    v = engine.run(overrides).valuation()
    return f"Engine: target price HK${v['target_price']:.2f}, upside {v['upside_pct']:.1f}%, {v['rating']}."


# ---------------------------------------------------------------------------------------------------------------
# The fake itself: what it does like xlwings, so the tests below mean something.


def test_the_fake_reads_and_writes_as_xlwings_does(tmp_path, book):
    small = small_book(tmp_path, Data=[[None, None, None], [None, None, "x", 1], [None, None, "", 2]])
    data = small.sheets["data"]  # names are case-insensitive
    used = data.used_range
    assert (used.row, used.column, used.last_cell.row, used.last_cell.column) == (2, 3, 3, 4)
    assert data.range((2, 4)).value == 1.0 and isinstance(data.range((2, 4)).value, float)
    assert data.range((2, 3), (3, 4)).value == [["x", 1.0], [None, 2.0]]
    assert data.range((2, 4), (3, 4)).value == [1.0, 2.0]
    assert data.range((2, 4)).options(ndim=2).value == [[1.0]]
    with pytest.raises(ValueError, match="rows of one length"):
        data.range("A1").value = [[1, 2], [3]]
    with pytest.raises(ValueError, match="already present"):
        small.sheets.add("DATA")
    revenue_2022 = book.sheets[INCOME].range("D4").value  # a formula: its text, or its result in Excel
    assert revenue_2022 == 4922.0 if book.computed else revenue_2022.startswith("=Segments!")


# ---------------------------------------------------------------------------------------------------------------
# XlwingsBook: one read and one write per sheet


def test_sheet_names_are_the_books_sheets_in_order(tmp_path, book):
    assert XlwingsBook(book).sheet_names() == list(SHEETS)
    assert XlwingsBook(small_book(tmp_path, B=[[1]], A=[[2]])).sheet_names() == ["B", "A"]


def test_grid_starts_at_a1_however_far_in_the_used_range_starts(tmp_path):
    small = small_book(tmp_path, Data=[[None], [None, None, "x"], [None, None, None, 2]])
    assert grid(small, "Data") == [
        [None, None, None, None],
        [None, None, "x", None],
        [None, None, None, 2.0],
    ]


def test_grid_of_one_cell_and_of_an_empty_sheet_is_a_list_of_rows(tmp_path):
    small = small_book(tmp_path, One=[["only"]], Empty=[])
    assert grid(small, "One") == [["only"]]
    assert grid(small, "Empty") == [[None]]


def test_write_block_pads_ragged_rows(tmp_path):
    small = small_book(tmp_path, Out=[])
    XlwingsBook(small).write_block("Out", [["a", 1, 2], ["b"], [], [None, 3]])
    assert grid(small, "Out") == [["a", 1.0, 2.0], ["b", None, None], [None, None, None], [None, 3.0, None]]


def test_write_block_adds_a_missing_sheet_after_the_last(tmp_path):
    small = small_book(tmp_path, Cover=[["c"]], Data=[["d"]])
    small.wb.active = 0  # Excel adds a sheet before the active one unless told where
    XlwingsBook(small).write_block("Engine", [["e", 1]])
    assert XlwingsBook(small).sheet_names() == ["Cover", "Data", "Engine"]
    assert grid(small, "Engine") == [["e", 1.0]]
    assert grid(small, "Cover") == [["c"]]


def test_write_block_leaves_nothing_of_a_longer_older_block(tmp_path):
    small = small_book(tmp_path, Before=[["b"]], Out=[[f"old {r}{c}" for c in "abcd"] for r in range(6)])
    XlwingsBook(small).write_block("Out", [["new", 1], ["row 2"]])
    rows = grid(small, "Out")
    assert [row[:2] for row in rows[:2]] == [["new", 1.0], ["row 2", None]]
    stale = [v for r, row in enumerate(rows) for c, v in enumerate(row) if r >= 2 or c >= 2]
    assert stale == [None] * len(stale)
    assert XlwingsBook(small).sheet_names() == ["Before", "Out"]  # replaced in place, not added again


# ---------------------------------------------------------------------------------------------------------------
# run_action: every button ends in one message box


def test_an_action_shows_its_result_in_one_message_box(tmp_path):
    small = small_book(tmp_path, S=[[1]])
    message = run_action(small, "Refresh forecasts", lambda b: f"{len(XlwingsBook(b).sheet_names())} sheet")
    assert message == "1 sheet"
    assert small.app.alerts == [("1 sheet", TITLE)]


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (ValueError("Assumptions!B79: premium: expected a number\nTraceback detail"), "Assumptions!B79: premium: "),
        (KeyError(), "KeyError"),  # no message: the exception's name
    ],
)
def test_a_failing_action_shows_the_first_line_of_its_error(tmp_path, error, shown):
    small = small_book(tmp_path, S=[[1]])

    def action(_: Any) -> str:
        raise error

    message = run_action(small, "Audit model", action)
    assert message.startswith(f"Audit model failed: {shown}") and "\n" not in message
    assert small.app.alerts == [(message, TITLE)]


def test_another_xlwings_than_the_add_ins_is_refused_before_the_action_runs(tmp_path):
    small = small_book(tmp_path, S=[[1]])
    ran: list[str] = []

    def action(_: Any) -> str:
        ran.append("ran")
        return "done"

    other = "0.30.1" if xlwings.__version__ != "0.30.1" else "0.30.2"
    message = run_action(small, "Refresh forecasts", action, addin_xlwings=other)
    assert ran == []
    assert message.startswith("Refresh forecasts failed: ") and "\n" not in message
    assert f"xlwings {other}" in message and f"xlwings {xlwings.__version__}" in message
    assert f'pip install "xlwings=={other}' in message
    assert small.app.alerts == [(message, TITLE)]
    for agreeing in (xlwings.__version__, ""):  # the same version, or an older add-in that passes none
        assert run_action(small, "Refresh forecasts", action, addin_xlwings=agreeing) == "done"
    assert ran == ["ran", "ran"]


# ---------------------------------------------------------------------------------------------------------------
# The three actions on the model workbook


def test_refresh_fills_the_engine_sheet(book):
    assert read_engine(grid(book, ENGINE)).status[REFRESHED] == NOT_REFRESHED
    inputs = grid(book, ASSUMPTIONS)
    message = run_action(book, "Refresh forecasts", addin.ribbon._refresh)
    assert message == refreshed_message() and "HK$2.70" in message
    assert book.app.alerts == [(message, TITLE)]
    block = read_engine(grid(book, ENGINE))
    assert block.status["Engine version"] == engine.__version__ and block.status[REFRESHED].endswith("UTC")
    result = engine.run()
    written = [k for k in make_layout().engine_cells if k in result.env and result.env[k] != ""]
    assert len(written) > 100
    for key, col in written:
        assert same(result.raw(key, col), block.values[(key, col)]), (key, col)
    assert grid(book, ASSUMPTIONS) == inputs  # inputs are read, never written


def test_refresh_uses_the_inputs_as_typed_in_the_open_book(book):
    cell = make_layout().input_cell("premium")
    book.sheets[ASSUMPTIONS].range(cell).value = 0.55  # typed, not saved
    message = run_action(book, "Refresh forecasts", addin.ribbon._refresh)
    assert message == refreshed_message({"premium": 0.55})
    assert "HK$2.70" not in message
    block = read_engine(grid(book, ENGINE))
    assert same(block.values[("target_price", None)], engine.run({"premium": 0.55}).valuation()["target_price"])


def test_a_refresh_that_cannot_read_an_input_writes_nothing(book):
    cell = make_layout().input_cell("premium")
    book.sheets[ASSUMPTIONS].range(cell).value = "55%"
    before = grid(book, ENGINE)
    message = run_action(book, "Refresh forecasts", addin.ribbon._refresh)
    assert message.startswith(f"Refresh forecasts failed: {ASSUMPTIONS}!{cell}") and "premium" in message
    assert grid(book, ENGINE) == before


def test_refresh_adds_a_deleted_engine_sheet_at_the_end(book):
    book.wb.remove(book.wb[ENGINE])
    message = run_action(book, "Refresh forecasts", addin.ribbon._refresh)
    assert message == refreshed_message()
    assert XlwingsBook(book).sheet_names() == list(SHEETS)
    assert read_engine(grid(book, ENGINE)).status["Engine version"] == engine.__version__


def test_audit_reports_no_errors_on_the_model(book):
    message = run_action(book, "Audit model", addin.ribbon._audit)
    assert message.startswith("0 errors, ")
    assert book.app.alerts == [(message, TITLE)]


def test_audit_checks_the_open_book_with_its_unsaved_edits(book):
    saved = Path(book.fullname).read_bytes()
    book.sheets[INCOME].range("D5").value = -2000  # a number typed over the 2022F cost of goods sold formula
    message = run_action(book, "Audit model", addin.ribbon._audit)
    first, *listed = message.splitlines()
    assert not first.startswith("0 errors")
    assert any(f"{INCOME}!D5" in line and "hardcode" in line for line in listed), message
    assert Path(book.fullname).read_bytes() == saved  # the file on disk is neither read nor written


@pytest.mark.slow
def test_export_writes_the_analyst_copy_beside_the_book(book):
    saved = Path(book.fullname).read_bytes()
    book.sheets[ASSUMPTIONS].range(make_layout().input_cell("premium")).value = 0.55  # typed, not saved
    message = run_action(book, "Export analyst copy", addin.ribbon._export)
    target = Path(book.fullname).parent / "SenseTime model - analyst copy.xlsx"
    assert message == f"Analyst copy written: {target}"
    assert book.app.alerts == [(message, TITLE)]
    copy = load_workbook(target)
    assert copy[ASSUMPTIONS][make_layout().input_cell("premium")].value == 0.55
    assert Path(book.fullname).read_bytes() == saved
    assert sorted(p.name for p in target.parent.iterdir()) == ["SenseTime model - analyst copy.xlsx", book.name]


# ---------------------------------------------------------------------------------------------------------------
# The buttons: refresh(), audit(), export() act on the workbook that called them (xw.Book.caller())


@pytest.mark.parametrize(
    ("button", "shown"),
    [
        (addin.ribbon.refresh, refreshed_message),
        (addin.ribbon.audit, lambda: "0 errors, "),
        pytest.param(addin.ribbon.export, lambda: "Analyst copy written: ", marks=pytest.mark.slow),
    ],
    ids=["refresh", "audit", "export"],
)
def test_each_button_acts_on_the_calling_book(book, monkeypatch, button: Callable[[str], None], shown):
    monkeypatch.setattr(addin.ribbon, "_caller", lambda: book)
    button(xlwings.__version__)
    [(message, title)] = book.app.alerts
    assert message.startswith(shown()) and title == TITLE


@pytest.mark.parametrize(
    ("button", "name"),
    [
        (addin.ribbon.refresh, "Refresh forecasts"),
        (addin.ribbon.audit, "Audit model"),
        (addin.ribbon.export, "Export analyst copy"),
    ],
    ids=["refresh", "audit", "export"],
)
def test_a_button_refuses_another_xlwings_and_leaves_the_book_alone(book, monkeypatch, button, name):
    monkeypatch.setattr(addin.ribbon, "_caller", lambda: book)
    before = grid(book, ENGINE)
    button("0.0.1")
    [(message, _)] = book.app.alerts
    assert message.startswith(f"{name} failed: ") and 'pip install "xlwings==0.0.1' in message
    assert grid(book, ENGINE) == before
    assert [p.name for p in Path(book.fullname).parent.iterdir()] == [book.name]  # no copy exported


def test_when_xlwings_cannot_find_the_book_a_version_mismatch_is_named(monkeypatch):
    def no_caller() -> Any:
        raise AttributeError("'NoneType' object has no attribute 'Workbooks'")  # what a broken bridge looks like

    monkeypatch.setattr(addin.ribbon, "_caller", no_caller)
    with pytest.raises(versions.XlwingsVersionError, match=r'needs xlwings 0\.0\.1 .* pip install "xlwings==0\.0\.1"'):
        addin.ribbon.refresh("0.0.1")
    with pytest.raises(AttributeError, match="Workbooks"):  # same version: xlwings' own error, unchanged
        addin.ribbon.refresh(xlwings.__version__)
