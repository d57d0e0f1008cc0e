"""Refresh forecasts: read the workbook's inputs, run the engine, write its results to the Engine sheet.

One function, `refresh`, works on an open Excel workbook (xlwings, `addin/xlbook.py`) and on an
openpyxl workbook (headless), through the small `BookAdapter` interface (`workbook/book.py`). It
writes only the Engine sheet, never an input cell. `refresh_file` is the headless command: it saves
through a temporary file, so a failure halfway leaves the original untouched.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import engine
from engine.actuals import ordered
from engine.drivers import DriverError
from engine.errors import StmodelError
from engine.expr import Env
from engine.files import check_target, same_file, updating
from engine.lines import HIST, PRIOR
from engine.model import Model, Node, compile_model
from engine.model_file import ModelFile
from engine.result import checked_evaluation
from workbook.audit.package import identity_problem
from workbook.book import BookAdapter, OpenpyxlBook, open_for_update, save_atomic
from workbook.layout import (
    ACTUALS,
    ASSUMPTIONS,
    ENGINE,
    MARKET_AS_OF_LABEL,
    MODEL_FILE_SHEET,
    VALUE_COL,
    Layout,
    column_number,
    engine_frame,
    put,
)
from workbook.reader import (
    Assumptions,
    Cell,
    ReadError,
    SheetIndex,
    actual_cells,
    home_cells,
    layout_of_grid,
)


class RefreshError(StmodelError, ValueError):
    """A workbook the refresh cannot use; the message names the cell and the problem."""


def _number(cell: Cell, what: str) -> float:
    value = cell.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RefreshError(f"{cell} ({what}): expected a number, found {value!r}")
    return float(value)


def read_inputs(book: BookAdapter, layout: Layout) -> tuple[dict[str, Any], dict[tuple[str, str], float | str]]:
    """(drivers and adjustments by name, reported figures by (line, column)) as the workbook holds them."""
    problem = identity_problem(book.sheet_names())  # the model's sheets (a saved file: its names too, on opening)
    if problem:
        raise RefreshError(problem)
    model = layout.model
    registry = engine.drivers(model.report, model.years)
    values: dict[str, Any] = {}
    typed: dict[tuple[str, str], float | str] = {}
    try:
        sheet = Assumptions(book.grid(ASSUMPTIONS), layout)
    except ReadError as e:
        raise RefreshError(str(e)) from None
    for name in sheet.names():
        if name in registry:
            cell = sheet.used(name)  # the selected scenario's value, where it has one
            try:
                values[name] = registry[name].check(cell.value)
            except DriverError as e:
                raise RefreshError(f"{cell}: {e}") from None
        elif name in model.fixed:
            values[name] = _number(sheet.used(name), name)
        elif name.endswith("_" + PRIOR) and (name[: -len(PRIOR) - 1], PRIOR) in model.typed:
            typed[(name[: -len(PRIOR) - 1], PRIOR)] = _number(sheet.used(name), name)
    missing = sorted(set(registry) - set(values))
    if missing:
        raise RefreshError(f"{ASSUMPTIONS}: driver '{missing[0]}' is missing (and {len(missing) - 1} more)")
    typed.update(_reported_figures(book, layout))
    return values, typed


def _reported_figures(book: BookAdapter, layout: Layout) -> dict[tuple[str, str], float | str]:
    """The typed 2020A-2021A figures of the statement sheets: row by label, column by the layout's year position."""
    model = layout.model
    wanted = {k for k, v in model.typed.items() if k[1] in HIST and not isinstance(v, str)}
    sheets = dict.fromkeys(r.sheet for r in layout.year_rows if r.home and any((r.key, y) in wanted for y in HIST))
    out: dict[tuple[str, str], float | str] = {}
    for sheet in sheets:
        index = SheetIndex.from_grid(sheet, book.grid(sheet), layout)
        for (key, col), cell in home_cells(index, layout, HIST).items():
            if (key, col) in wanted:
                out[(key, col)] = _number(cell, f"{index.row_key[cell.row]} {col}")
    return out


def read_actuals(book: BookAdapter, layout: Layout) -> tuple[tuple[Node, float], ...]:
    """The actuals typed on the Actuals sheet, ((line, column), value), in the model's order; none when
    the workbook has no Actuals sheet (built before it existed)."""
    if ACTUALS not in book.sheet_names():
        return ()
    out: list[tuple[Node, float]] = []
    for (key, year), cell in actual_cells(book.grid(ACTUALS), layout).items():
        # Strict, as the workbook's ISNUMBER is: a number typed as text is not an actual there either
        out.append(((key, year), _number(cell, f"actual {key} {year[:4]}; type it as a number, not text")))
    return ordered(out, layout.model.report)


def actual_model(layout: Layout, actuals: tuple[tuple[Node, float], ...]) -> Model:
    """The report's model with the workbook's actuals in place (the Actuals sheet is the record of them; a
    reported year's restatement is a typed statement figure, read with the others)."""
    return compile_model(layout.model.report, actuals, layout.model.years)


def engine_rows(layout: Layout, env: Env, drivers_read: int, model: Model | None = None) -> list[list[Any]]:
    """The Engine sheet as rows from A1: the frame the builder writes, with the status and every value;
    each year headed as `model` (the one the values come from) heads it: 2022A once it holds actuals."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    model = model or layout.model
    headings = {y: model.column_label(y) for y in layout.years}
    status = (stamp, engine.__version__, drivers_read)
    rows = engine_frame(layout.engine_labels, status, headings, layout.engine_header)
    for (key, col), cell in layout.engine_cells.items():
        if (key, col) not in env:
            continue
        value = env[(key, col)]
        value = value.item() if hasattr(value, "item") else value
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if value == "":
            continue
        put(rows, cell, value)
    return rows


def refresh(book: BookAdapter, layout: Layout | None = None) -> dict[str, Any]:
    """Run the engine on the workbook's inputs and write the Engine sheet; returns the valuation, with
    "warnings": what an analyst should look at (`engine.Result.warnings`: a driver outside its plausible
    range, a negative balance, an actual year that does not balance), each one line."""
    layout = layout or book_layout(book)
    values, typed = read_inputs(book, layout)
    model = actual_model(layout, read_actuals(book, layout))  # the Actuals sheet's figures over the forecasts
    drivers = {k: v for k, v in values.items() if k in engine.drivers(model.report, model.years)}
    env = checked_evaluation(values, model, typed)  # no overflowing result is written
    book.write_block(ENGINE, engine_rows(layout, env, len(drivers), model))
    result = engine.Result(model, drivers, env, market_as_of(book))
    return {**result.valuation(), "warnings": result.warnings()}


def book_layout(book: BookAdapter) -> Layout:
    """The workbook's layout: its recorded model file's years (the hidden ModelFile sheet), else the report's."""
    grid = book.grid(MODEL_FILE_SHEET) if MODEL_FILE_SHEET in book.sheet_names() else None
    try:
        return layout_of_grid(grid)
    except ReadError as e:
        raise RefreshError(str(e)) from None


def market_as_of(book: BookAdapter) -> str:
    """The date of the market data as the Assumptions sheet holds it (ISO), or "" when it holds none."""
    grid = book.grid(ASSUMPTIONS)
    index = SheetIndex.from_grid(ASSUMPTIONS, grid)
    row = index.key_row.get(MARKET_AS_OF_LABEL)
    value = index.value(row, column_number(VALUE_COL)) if row else None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2958466:
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()  # an Excel serial (xlwings)
    return ""


def refresh_file(
    path: Path, output: Path | None = None, overwrite: bool = True, model_file: ModelFile | None = None
) -> dict[str, Any]:
    """Headless refresh of a saved workbook; written atomically to `output` (default: in place).

    With `model_file` (asked for explicitly), the file goes into the workbook first: its drivers into the
    Assumptions' Base cells, its actuals into the Actuals sheet (a reported year's into the statement's
    typed cell), its text into the hidden ModelFile sheet and its Variance sheet; then the usual refresh.

    In place, the workbook is locked from its reading to its writing and not replaced if it changed
    meanwhile, so a second writer's update is never lost; another `output` is replaced only with
    `overwrite` (docs/files.md).
    """
    path = Path(path)
    if output is None or same_file(output, path):
        with updating(path) as since:
            wb = open_for_update(path)
            replaced = _apply(wb, model_file)
            valuation = refresh(OpenpyxlBook(wb))
            save_atomic(wb, path, since=since)
        return {**valuation, "replaced": replaced}
    check_target(output, [path], overwrite)
    wb = open_for_update(path)
    replaced = _apply(wb, model_file)
    valuation = refresh(OpenpyxlBook(wb))
    save_atomic(wb, Path(output), inputs=[path], overwrite=overwrite)
    return {**valuation, "replaced": replaced}


def _apply(wb: Any, model_file: ModelFile | None) -> list[str]:
    """The model file written into the workbook (when given): the inputs it changed."""
    if model_file is None:
        return []
    from workbook.apply import ApplyError, apply_model_file

    try:
        return apply_model_file(wb, model_file)
    except ApplyError as e:
        raise RefreshError(str(e)) from None
