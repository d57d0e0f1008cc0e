"""Reading Excel formulas the way an auditor compares them.

`scan` splits a formula into tokens (strings, references, names, functions, numbers, error
literals); a token that goes through an external link (`[2]Sheet1!A1`, `[1]!ST_TARGET(`) carries its
`book`. The other functions build on it: the relative (R1C1-like) form that shows whether two
cells of a row hold the same formula, the numbers typed inside a formula, the cells it reads.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"]|"")*")
  | (?P<error>\#REF!|\#NAME\?|\#VALUE!|\#DIV/0!|\#N/A|\#NUM!|\#NULL!)
  | (?P<ref>
        (?:(?P<book>\[[^\]]+\])?(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?
        (?P<c1>\$?[A-Za-z]{1,3})(?P<r1>\$?\d+)
        (?::(?P<c2>\$?[A-Za-z]{1,3})(?P<r2>\$?\d+))?
        (?![\w(!.])
    )
  | (?P<func>(?:(?P<fbook>\[\d+\])!)?(?:_xludf\.|_xlfn\.|_xlws\.)?[A-Za-z_][\w.]*(?=\())
  | (?P<qname>
        (?:(?P<qbook>\[\d+\])?(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)|(?P<nbook>\[\d+\]))
        ![A-Za-z_][\w.]*
    )
  | (?P<name>[A-Za-z_\\][\w.]*)
  | (?P<number>\d+(?:\.\d+)?(?:[Ee][+-]?\d+)?|\.\d+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

VOLATILE = {"INDIRECT", "OFFSET", "NOW", "TODAY", "RAND", "RANDBETWEEN", "RANDARRAY", "CELL", "INFO"}
# Functions that Excel 2007-2019 or LibreOffice 7.4 cannot evaluate.
NOT_PORTABLE = {
    "XLOOKUP",
    "XMATCH",
    "LET",
    "LAMBDA",
    "FILTER",
    "UNIQUE",
    "SEQUENCE",
    "SORT",
    "SORTBY",
    "RANDARRAY",
    "TEXTSPLIT",
    "TEXTBEFORE",
    "TEXTAFTER",
    "VSTACK",
    "HSTACK",
    "TOCOL",
    "TOROW",
    "WRAPROWS",
    "WRAPCOLS",
    "TAKE",
    "DROP",
    "CHOOSECOLS",
    "CHOOSEROWS",
    "EXPAND",
    "MAP",
    "REDUCE",
    "SCAN",
    "MAKEARRAY",
    "BYROW",
    "BYCOL",
    "ISOMITTED",
}


@dataclass(frozen=True)
class Token:
    kind: str  # string, error, ref, func, qname, name, number, other
    text: str
    book: str | None = None  # "[2]" of a token read through external link 2 ("[other.xlsx]" as typed)
    sheet: str | None = None  # unquoted sheet name of a reference
    c1: str = ""
    r1: str = ""
    c2: str = ""
    r2: str = ""

    @property
    def upper(self) -> str:
        return self.text.upper()

    def function_name(self) -> str:
        """FUNC tokens without Excel's storage prefixes: `_xlfn.XLOOKUP` -> XLOOKUP, `[2]!Macro` -> MACRO."""
        name = self.text.upper()
        if self.book:
            name = name[len(self.book) + 1 :]
        for prefix in ("_XLUDF.", "_XLFN.", "_XLWS."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        return name

    @property
    def is_udf(self) -> bool:
        """An ST_* call the add-in answers; one through an external link (`[2]!ST_X(`) is another workbook's."""
        return self.kind == "func" and not self.book and self.function_name().startswith("ST_")


def _unquote(sheet: str) -> str:
    return sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet


def scan(formula: str) -> Iterator[Token]:
    body = formula[1:] if formula.startswith("=") else formula
    for m in _TOKEN.finditer(body):
        kind = m.lastgroup or "other"
        if m.group("ref") is not None:
            sheet = m.group("sheet")
            book = m.group("book")
            unq = _unquote(sheet) if sheet else None
            if unq and unq.startswith("[") and "]" in unq:  # '[other.xlsx]Sheet1'!A1
                book, unq = unq[: unq.index("]") + 1], unq[unq.index("]") + 1 :]
            yield Token(
                "ref",
                m.group("ref"),
                book=book,
                sheet=unq,
                c1=m.group("c1").upper(),
                r1=m.group("r1"),
                c2=(m.group("c2") or "").upper(),
                r2=m.group("r2") or "",
            )
        elif kind in ("func", "qname"):
            text = m.group(kind)
            book = m.group("fbook") or m.group("qbook") or m.group("nbook")
            if book is None and text.startswith("'["):  # '[1]Sheet 1'!Name
                book = text[1 : text.index("]") + 1]
            yield Token(kind, text, book=book)
        else:
            yield Token(kind, m.group(kind) if kind != "other" else m.group(0))


def without_addin_prefix(formula: str, books: Collection[str]) -> str:
    """`formula` with `[n]!ST_TARGET(` written `ST_TARGET(` where external link n is the add-in (`books`: {"[n]"}).

    Excel stores a call to an add-in's function as a reference into the add-in's file; read this way,
    the call is the function again, for every check and for the native twins.
    """
    if not books or "]!" not in formula:
        return formula
    body = "".join(
        t.text.split("!", 1)[1]
        if t.kind == "func" and t.book in books and t.function_name().startswith("ST_")
        else t.text
        for t in scan(formula)
    )
    return ("=" if formula.startswith("=") else "") + body


def _split(col: str, row: str) -> tuple[bool, int, bool, int]:
    return col.startswith("$"), column_index_from_string(col.lstrip("$")), row.startswith("$"), int(row.lstrip("$"))


def _host(cell: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]{1,3})(\d+)", cell)
    if not m:
        raise ValueError(f"not a cell address: {cell}")
    return column_index_from_string(m.group(1)), int(m.group(2))


def relative_form(formula: str, host: str, year: str | None = None) -> str:
    """The formula in `host` with references made relative and `<name>_<year>` made generic.

    Two cells of a row hold "the same formula" when their relative forms are equal: D8 `=D6+D7`
    and E8 `=E6+E7` both give `R[-2]C[0]+R[-1]C[0]`.
    """
    hcol, hrow = _host(host)
    out = []
    for t in scan(formula):
        if t.kind == "ref":
            parts = []
            for col, row in ((t.c1, t.r1), (t.c2, t.r2)):
                if not col:
                    continue
                cabs, c, rabs, r = _split(col, row)
                parts.append((f"R{r}" if rabs else f"R[{r - hrow}]") + (f"C{c}" if cabs else f"C[{c - hcol}]"))
            prefix = (t.book or "") + (f"'{t.sheet}'!" if t.sheet else "")
            out.append(prefix + ":".join(parts))
        elif t.kind == "name" and year and t.text.endswith("_" + year):
            out.append(t.text[: -len(year)] + "{Y}")
        else:
            out.append(t.text)
    return "".join(out)


def number_literals(formula: str) -> list[str]:
    """Numbers typed inside a formula (references, names and strings left out)."""
    return [t.text for t in scan(formula) if t.kind == "number"]


def cells_of(token: Token, limit: int = 100_000) -> list[tuple[int, int]]:
    """The (column, row) cells a reference token covers (a range up to `limit` cells)."""
    _, c1, _, r1 = _split(token.c1, token.r1)
    if not token.c2:
        return [(c1, r1)]
    _, c2, _, r2 = _split(token.c2, token.r2)
    cs, ce = sorted((c1, c2))
    rs, re_ = sorted((r1, r2))
    if (ce - cs + 1) * (re_ - rs + 1) > limit:
        return []
    return [(c, r) for c in range(cs, ce + 1) for r in range(rs, re_ + 1)]


def shift_rows(formula: str, sheet: str, host_sheet: str, at: int, by: int = 1) -> str:
    """References to rows >= `at` on `sheet` moved down by `by`: what Excel does on inserting rows."""
    out = []
    for t in scan(formula):
        target = t.sheet or host_sheet
        if t.kind != "ref" or target != sheet or t.book:
            out.append(t.text)
            continue
        ends = []
        for col, row in ((t.c1, t.r1), (t.c2, t.r2)):
            if not col:
                continue
            absolute = row.startswith("$")
            r = int(row.lstrip("$"))
            r = r + by if r >= at else r
            ends.append(f"{col}{'$' if absolute else ''}{r}")
        prefix = t.text.split("!")[0] + "!" if "!" in t.text else ""
        out.append(prefix + ":".join(ends))
    return ("=" if formula.startswith("=") else "") + "".join(out)
