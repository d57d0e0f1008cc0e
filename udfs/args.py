"""Excel arguments as xlwings hands them over (floats, None for empty cells, 2-D lists), checked.

Every problem becomes an STError whose text names it; the functions return that text to the cell.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from functools import cache
from typing import Any

from engine.actuals import ActualsError, column_of, line_key, number, ordered
from engine.drivers import DriverError, expand
from engine.errors import StmodelError
from engine.model import Model, Node, compile_model
from engine.report import load_report
from engine.years import YEARS, YearError, Years, years_for

PREFIX = "#ST! "
# A drivers row naming an actual: `actual:smart_business:2022` (the workbook's Drivers range carries one per
# line and forecast year, its value the Actuals cell's number or "" while that is blank).
ACTUAL_PREFIX = "actual:"


class STError(StmodelError, ValueError):
    """A bad argument; str() is the text the cell shows."""

    def __init__(self, message: str) -> None:
        super().__init__(PREFIX + message)


def rows_of(value: Any) -> list[list[Any]]:
    """A range as a list of rows, whatever shape xlwings gave it."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        return [[value]]
    if value and not isinstance(value[0], list | tuple):
        return [list(value)]
    return [list(r) for r in value]


Actuals = tuple[tuple[Node, float], ...]


def driver_overrides(drivers: Any, where: str = "drivers") -> tuple[tuple[str, Any], ...]:
    """A two-column name/value range as ((name, value), ...); blank rows are skipped, actual rows too
    (`drivers_and_actuals` reads them)."""
    return drivers_and_actuals(drivers, where)[0]


def drivers_and_actuals(drivers: Any, where: str = "drivers") -> tuple[tuple[tuple[str, Any], ...], Actuals, Years]:
    """A two-column name/value range as (((name, value), ...), actuals, years): a row named
    `actual:<line>:<year>` is a reported figure, ((line, column), value), not given while its value is
    empty; every other row is a driver, whose value must be given. Blank rows are skipped. The years
    are those the names need (a workbook extended to 2026 has `..._2026F` drivers)."""
    named: list[tuple[int, str, Any]] = []
    for i, row in enumerate(rows_of(drivers), start=1):
        if all(v is None or v == "" for v in row):
            continue
        if len(row) != 2:
            raise STError(f"{where} must be two columns (name, value); row {i} has {len(row)}")
        name, value = row
        if not isinstance(name, str) or not name.strip():
            raise STError(f"{where} row {i}: the first column must hold a driver name, got {name!r}")
        named.append((i, name.strip(), value))
    years = _years([name for _, name, _ in named], where)
    out = []
    actuals: dict[Node, float] = {}
    for i, name, value in named:
        if name[: len(ACTUAL_PREFIX)].lower() == ACTUAL_PREFIX:
            node = _actual_node(name, f"{where} row {i}", years)
            if value is None or value == "":
                continue
            if node in actuals:
                raise STError(f"'{name}' in {where} row {i}: {node[0]} {str(node[1])[:4]} is given twice")
            try:
                actuals[node] = number(value, f"'{name}' in {where} row {i}")
            except ActualsError as e:
                raise STError(str(e)) from None
            continue
        if value is None or value == "":
            raise STError(f"driver '{name}' in {where} row {i} is empty")
        out.append((name, value))
    return tuple(out), ordered(actuals.items()), years


def _years(names: list[str], where: str) -> Years:
    """The years the range's drivers need (`..._2026F`: a model to 2026); an actual row must name one."""
    try:
        return years_for(names, tuple(p.key for p in load_report().peers))
    except YearError as e:
        raise STError(f"{where}: {e}") from None


@cache
def _base_model() -> Model:
    return compile_model()


def _actual_node(name: str, where: str, years: Years | None = None) -> Node:
    """The (line, column) an `actual:<line>:<year>` row names; an STError naming it when it names none."""
    parts = name[len(ACTUAL_PREFIX) :].split(":")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise STError(
            f"'{name}' in {where}: an actual row is named actual:<line>:<year>, e.g. actual:smart_business:2022"
        )
    line, year_text = (p.strip() for p in parts)
    try:
        key = line_key(_base_model(), line)
        return (key, column_of(year_text, (years or Years()).years))
    except ActualsError as e:
        raise STError(f"'{name}' in {where}: {e}") from None


def check_overrides(pairs: Sequence[tuple[str, Any]], years: Years | None = None) -> None:
    """Raise STError for the first unknown driver or bad value."""
    for name, value in pairs:
        try:
            for d in expand(name, None, years):
                d.check(value)
        except DriverError as e:
            raise STError(str(e)) from None


def year(value: Any, years: tuple[str, ...] = YEARS) -> str:
    """A year column from '2024F', 2024 or 'FY2024'; a forecast year also as '2022A', as it is headed once
    actuals of that year are entered (the column keeps its name). `years`: the model's columns."""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value or "").strip()
    text = text.upper().removeprefix("FY")
    for y in years:
        if text in (y, y[:4], y[:4] + "A"):
            return y
    raise STError(f"unknown year {value!r}; years are {', '.join(years)}")


def flag(value: Any, what: str, default: bool) -> bool:
    """An Excel TRUE/FALSE argument: a boolean, a number (0 is FALSE) or the text TRUE/FALSE; empty is `default`.

    Excel itself refuses other text where it wants a logical value, so 'abc' is an error, not TRUE.
    """
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = str(value).strip().upper()
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    raise STError(f"{what} must be TRUE or FALSE, got {value!r}")


def choose(value: Any, options: Sequence[str], what: str) -> str:
    """One of `options` (case-insensitive), or an STError suggesting the closest."""
    text = str(value or "").strip()
    for option in options:
        if option.lower() == text.lower():
            return option
    close = difflib.get_close_matches(text, list(options), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise STError(f"unknown {what} '{text}'{hint}")


def numbers(value: Any, what: str) -> list[float]:
    """A one-row or one-column range of numbers."""
    flat = [v for row in rows_of(value) for v in row if v is not None and v != ""]
    if not flat:
        raise STError(f"{what} is empty")
    out = []
    for v in flat:
        if isinstance(v, bool) or not isinstance(v, int | float):
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise STError(f"{what}: {v!r} is not a number") from None
        out.append(float(v))
    return out
