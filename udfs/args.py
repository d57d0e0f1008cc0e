"""Excel arguments as xlwings hands them over (floats, None for empty cells, 2-D lists), checked.

Every problem becomes an STError whose text names it; the functions return that text to the cell.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from engine.drivers import DriverError, expand
from engine.errors import StmodelError
from engine.lines import YEARS

PREFIX = "#ST! "


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


def driver_overrides(drivers: Any, where: str = "drivers") -> tuple[tuple[str, Any], ...]:
    """A two-column name/value range as ((name, value), ...); blank rows are skipped."""
    out = []
    for i, row in enumerate(rows_of(drivers), start=1):
        if all(v is None or v == "" for v in row):
            continue
        if len(row) != 2:
            raise STError(f"{where} must be two columns (name, value); row {i} has {len(row)}")
        name, value = row
        if not isinstance(name, str) or not name.strip():
            raise STError(f"{where} row {i}: the first column must hold a driver name, got {name!r}")
        if value is None or value == "":
            raise STError(f"driver '{name.strip()}' in {where} row {i} is empty")
        out.append((name.strip(), value))
    return tuple(out)


def check_overrides(pairs: Sequence[tuple[str, Any]]) -> None:
    """Raise STError for the first unknown driver or bad value."""
    for name, value in pairs:
        try:
            for d in expand(name):
                d.check(value)
        except DriverError as e:
            raise STError(str(e)) from None


def year(value: Any) -> str:
    """A year column from '2024F', 2024 or 'FY2024'."""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value or "").strip()
    text = text.upper().removeprefix("FY")
    for y in YEARS:
        if text in (y, y[:4]):
            return y
    raise STError(f"unknown year {value!r}; years are {', '.join(YEARS)}")


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
