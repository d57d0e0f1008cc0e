"""Refresh forecasts: read the workbook's inputs, run the engine, write its results to the Engine sheet.

One function, `refresh`, works on an open Excel workbook (xlwings) and on an openpyxl workbook
(headless), through the small `BookAdapter` interface. It writes only the Engine sheet, never an
input cell. `refresh_file` is the headless command: it saves through a temporary file, so a failure
halfway leaves the original untouched.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any, Protocol

import engine
from engine.drivers import DriverError
from engine.expr import Env
from engine.lines import HIST, PRIOR, YEARS
from workbook.layout import ASSUMPTIONS, ENGINE, ENGINE_HEADER_ROW, Layout, make_layout

YEAR = re.compile(r"^\d{4}[AF]$")
SCENARIOS = ("Base", "Bear", "Bull")


class RefreshError(ValueError):
    """A workbook the refresh cannot use; the message names the cell and the problem."""


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
        return [list(r) for r in self.wb[sheet].iter_rows(values_only=True)]

    def write_block(self, sheet: str, rows: list[list[Any]]) -> None:
        ws = self.wb[sheet] if sheet in self.wb.sheetnames else self.wb.create_sheet(sheet)
        for row in ws.iter_rows():
            for c in row:
                c.value = None
        for i, values in enumerate(rows, start=1):
            for j, v in enumerate(values, start=1):
                if v is not None:
                    ws.cell(i, j).value = v


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


def _cell(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RefreshError(f"{where}: expected a number, found {value!r}")
    return float(value)


def read_inputs(book: BookAdapter, layout: Layout) -> tuple[dict[str, Any], dict[tuple[str, str], float | str]]:
    """(drivers and adjustments by name, reported figures by (line, column)) as the workbook holds them."""
    if ASSUMPTIONS not in book.sheet_names():
        raise RefreshError(f"no {ASSUMPTIONS} sheet: this is not a SenseTime model workbook")
    model = layout.model
    registry = engine.drivers(model.report)
    values: dict[str, Any] = {}
    typed: dict[tuple[str, str], float | str] = {}
    found = set()
    grid = book.grid(ASSUMPTIONS)
    columns, scenario = _scenario_columns(grid)
    for r, row in enumerate(grid, start=1):
        if not row or not isinstance(row[0], str):
            continue
        name = row[0].strip()
        col = columns["Base"]
        if name in registry and scenario != "Base":
            chosen = columns[scenario]
            if chosen < len(row) and row[chosen] not in (None, ""):
                col = chosen  # the selected scenario's value, where it has one
        value = row[col] if col < len(row) else None
        where = f"{ASSUMPTIONS}!{_cell(r, col + 1)} ({name})"
        if name in registry:
            try:
                values[name] = registry[name].check(value)
            except DriverError as e:
                raise RefreshError(f"{ASSUMPTIONS}!{_cell(r, col + 1)}: {e}") from None
            found.add(name)
        elif name in model.fixed:
            values[name] = _number(value, where)
        elif name.endswith("_" + PRIOR) and (name[: -len(PRIOR) - 1], PRIOR) in model.typed:
            typed[(name[: -len(PRIOR) - 1], PRIOR)] = _number(value, where)
    missing = sorted(set(registry) - found)
    if missing:
        raise RefreshError(f"{ASSUMPTIONS}: driver '{missing[0]}' is missing (and {len(missing) - 1} more)")
    typed.update(_reported_figures(book, layout))
    return values, typed


def _scenario_columns(grid: list[list[Any]]) -> tuple[dict[str, int], str]:
    """Column index of Base / Bear / Bull (0-based) and the scenario the selector names."""
    header = next((row for row in grid if row and row[0] == "Name"), None)
    if header is None or "Base" not in header:
        raise RefreshError(f"{ASSUMPTIONS}: no header row with Name and Base columns")
    columns = {label: header.index(label) for label in SCENARIOS if label in header}
    selector = next((row for row in grid if row and row[0] == "Scenario in use"), None)
    scenario = selector[columns["Base"]] if selector else "Base"
    if scenario not in columns:
        raise RefreshError(f"{ASSUMPTIONS}: scenario in use must be one of {', '.join(columns)}, found {scenario!r}")
    return columns, scenario


def _reported_figures(book: BookAdapter, layout: Layout) -> dict[tuple[str, str], float | str]:
    """The typed 2020A-2021A figures of the statement sheets, found by row label and year header."""
    out: dict[tuple[str, str], float | str] = {}
    model = layout.model
    for sheet in {r.sheet for r in layout.year_rows}:
        grid = book.grid(sheet)
        header = next((row for row in grid if sum(isinstance(v, str) and bool(YEAR.match(v)) for v in row) >= 3), [])
        columns = {v: j for j, v in enumerate(header) if isinstance(v, str) and YEAR.match(v)}
        rows = {r.label: r for r in layout.rows_of(sheet) if r.key and r.home}
        for i, row in enumerate(grid, start=1):
            label = row[0] if row else None
            if label not in rows:
                continue
            key = rows[label].key
            for col in HIST:
                if (key, col) not in model.typed or col not in columns:
                    continue
                value = row[columns[col]] if columns[col] < len(row) else None
                expected = model.typed[(key, col)]
                if isinstance(expected, str):
                    continue
                out[(key, col)] = _number(value, f"{sheet}!{_cell(i, columns[col] + 1)} ({label} {col})")  # type: ignore[arg-type]
    return out


def engine_rows(layout: Layout, env: Env, drivers_read: int) -> list[list[Any]]:
    """The Engine sheet as rows from A1: header lines, then every line at its fixed cell."""
    from openpyxl.utils import column_index_from_string

    last = max(layout.engine_labels)
    rows: list[list[Any]] = [[None] * 7 for _ in range(last)]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    rows[0][0] = "Engine: values from the Python engine (written by Refresh forecasts)"
    rows[1][0] = "Values only, never inputs. Click Refresh forecasts (SenseTime tab) or run `stmodel refresh FILE`."
    rows[2][:2] = ["Refreshed", stamp]
    rows[3][:2] = ["Engine version", engine.__version__]
    rows[4][:2] = ["Drivers read", drivers_read]
    rows[ENGINE_HEADER_ROW - 1] = ["Line", *YEARS, "Key"]
    for row, (label, key) in layout.engine_labels.items():
        rows[row - 1][0] = label
        rows[row - 1][6] = key
    for (key, col), cell in layout.engine_cells.items():
        if (key, col) not in env:
            continue
        value = env[(key, col)]
        value = value.item() if hasattr(value, "item") else value
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if value == "":
            continue
        r = int("".join(ch for ch in cell if ch.isdigit()))
        c = column_index_from_string("".join(ch for ch in cell if ch.isalpha()))
        rows[r - 1][c - 1] = value
    return rows


def refresh(book: BookAdapter, layout: Layout | None = None) -> dict[str, Any]:
    """Run the engine on the workbook's inputs and write the Engine sheet; returns the valuation."""
    layout = layout or make_layout()
    values, typed = read_inputs(book, layout)
    drivers = {k: v for k, v in values.items() if k in engine.drivers(layout.model.report)}
    env = engine.evaluate(values, layout.model, typed=typed)
    book.write_block(ENGINE, engine_rows(layout, env, len(drivers)))
    result = engine.Result(layout.model, drivers, env)  # type: ignore[arg-type]
    return result.valuation()


def open_for_update(path: Path) -> Any:
    """A saved workbook opened with openpyxl (formulas kept), after the auditor's safety checks."""
    from openpyxl import load_workbook

    from workbook.audit import AuditError, check_container

    try:
        check_container(path)
        return load_workbook(path)
    except AuditError as e:
        raise RefreshError(str(e)) from None
    except Exception as e:
        raise RefreshError(f"{path}: cannot be read as a workbook ({type(e).__name__})") from None


def refresh_file(path: Path, output: Path | None = None) -> dict[str, Any]:
    """Headless refresh of a saved workbook; written atomically to `output` (default: in place)."""
    from workbook.build import save_atomic

    wb = open_for_update(Path(path))
    valuation = refresh(OpenpyxlBook(wb))
    save_atomic(wb, Path(output or path))
    return valuation


SIMULATION = "Simulation"


def write_simulation(path: Path, summary: dict[str, Any], spec: str) -> None:
    """The Monte Carlo summary as values on a Simulation sheet of a saved workbook (atomic save)."""
    from workbook.build import BuildError, save_atomic

    wb = open_for_update(Path(path))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    rows: list[list[Any]] = [
        ["Monte Carlo simulation of the target price (values, written by stmodel simulate)"],
        ["Written", stamp],
        ["Scenarios", summary["n"]],
        ["Seed", summary["seed"]],
        ["Spec", spec],
        [],
        ["Target price (HK$, unrounded)", "value"],
        ["mean", summary["target_price_mean"]],
        *([k, v] for k, v in summary["target_price_percentiles"].items()),
        [],
        ["Rating", "probability"],
        *([k, v] for k, v in summary["rating_probabilities"].items()),
    ]
    OpenpyxlBook(wb).write_block(SIMULATION, rows)
    try:
        save_atomic(wb, Path(path))
    except BuildError as e:
        raise RefreshError(str(e)) from None
