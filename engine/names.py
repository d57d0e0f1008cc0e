"""Excel's rules for defined names, checked here because LibreOffice accepts some that Excel rejects."""

from __future__ import annotations

import re

_SHAPE = re.compile(r"^[A-Za-z_\\][A-Za-z0-9_.\\]*$")
_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_R1C1 = re.compile(r"^[Rr](\d*)([Cc](\d*))?$|^[Cc](\d*)$")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def excel_name_problem(name: str) -> str | None:
    """Why Excel would reject `name` as a defined name, or None when it is valid."""
    if not name:
        return "is empty"
    if len(name) > 255:
        return "is longer than 255 characters"
    if not _SHAPE.match(name):
        return "must start with a letter or underscore and hold only letters, digits, '_' and '.'"
    m = _A1.match(name)
    if m and _column_number(m.group(1)) <= 16384 and 0 < int(m.group(2)) <= 1048576:
        return "looks like a cell reference (A1 style)"
    if _R1C1.match(name):
        return "looks like a cell reference (R1C1 style)"
    if name.upper() in {"TRUE", "FALSE"}:
        return "is a logical value"
    return None
