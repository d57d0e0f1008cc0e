"""Reading formulas the way an auditor compares them: relative (R1C1-like) form and literals."""

from __future__ import annotations

import re

from openpyxl.utils import column_index_from_string

_STRING = re.compile(r'"(?:[^"]|"")*"')
_REF = re.compile(
    r"(?P<sheet>(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?(?<![\w.$])(?P<cabs>\$?)(?P<col>[A-Z]{1,3})(?P<rabs>\$?)(?P<row>\d+)(?![\w(.!])"
)
_YEAR_NAME = re.compile(r"\b([A-Za-z_][\w.]*?)_(\d{4}[AF])\b")
_NUMBER = re.compile(r"(?<![\w.$])\d+(?:\.\d+)?(?:[Ee][+-]?\d+)?(?![\w.(])")


def strip_strings(formula: str) -> str:
    return _STRING.sub('""', formula)


def relative_form(formula: str, host: str, year: str | None = None) -> str:
    """`formula` in `host` cell, with references made relative and `<name>_<year>` made generic.

    Two cells of one row hold "the same formula" when their relative forms are equal, e.g.
    D8 `=D6+D7` and E8 `=E6+E7` both give `=R[-2]C+R[-1]C`.
    """
    m = re.fullmatch(r"([A-Z]{1,3})(\d+)", host)
    if not m:
        raise ValueError(f"not a cell address: {host}")
    hcol, hrow = column_index_from_string(m.group(1)), int(m.group(2))
    parts = re.split(r'("(?:[^"]|"")*")', formula)
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a string literal
            out.append(part)
            continue

        def rel(mm: re.Match[str]) -> str:
            col, row = column_index_from_string(mm.group("col")), int(mm.group("row"))
            r = f"R{row}" if mm.group("rabs") else f"R[{row - hrow}]"
            c = f"C{col}" if mm.group("cabs") else f"C[{col - hcol}]"
            return (mm.group("sheet") or "") + r + c

        part = _REF.sub(rel, part)
        if year:
            part = _YEAR_NAME.sub(lambda mm: f"{mm.group(1)}_{{Y}}" if mm.group(2) == year else mm.group(0), part)
        out.append(part)
    return "".join(out)


def number_literals(formula: str) -> list[str]:
    """Numbers typed inside a formula (cell references, names and strings left out)."""
    body = strip_strings(formula)
    body = _REF.sub("R", body)
    body = re.sub(r"\b[A-Za-z_][\w.]*", "N", body)
    return _NUMBER.findall(body)
