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
        !(?:[A-Za-z_][\w.]*|'(?:[^']|'')+')
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


# Functions that reach outside the workbook: the web, programs, DLLs, files, data servers, cloud services,
# links opened on a click. Excel stores the newer ones with `_xlfn.` (`_xlfn.WEBSERVICE`, Python in Excel
# as `_xlfn._xlws.PY`); `function_name()` reads them without it.
REACHES_OUTSIDE = {
    "WEBSERVICE": "fetches a web address",
    "FILTERXML": "parses fetched XML (with WEBSERVICE, reads the web)",
    "IMAGE": "fetches a picture from a web address",
    "STOCKHISTORY": "fetches market data from the web",
    "HYPERLINK": "opens a web address or a file when clicked",
    "PY": "runs Python code (Python in Excel, on Microsoft's cloud, which receives the cells it reads)",
    "TRANSLATE": "sends text to Microsoft's translation service",
    "DETECTLANGUAGE": "sends text to Microsoft's translation service",
    "COPILOT": "sends the cells it reads to Microsoft's AI service (Copilot)",
    "RTD": "reads a real-time data server (a program on this or another computer)",
    "DDE": "asks another program for data (DDE)",
    "SQL.REQUEST": "queries an external database",
    **{
        f"CUBE{kind}": "reads an external data connection (OLAP cube)"
        for kind in ("VALUE", "MEMBER", "SET", "SETCOUNT", "RANKEDMEMBER", "MEMBERPROPERTY", "KPIMEMBER")
    },
}
# Excel 4.0 macro functions (Microsoft's Excel 4.0 Macro Functions Reference) that run code or touch files,
# programs, mail or other documents. They work in macro sheets and in defined names (a name holding
# `=EXEC("calc")` runs when a cell uses it): a cell or a name that calls one is never the model's.
_EXCEL4 = {
    "code": ("CALL", "REGISTER", "REGISTER.ID", "UNREGISTER", "EVALUATE", "RUN", "ADDIN.MANAGER"),
    "schedule": ("ON.TIME", "ON.KEY", "ON.DATA", "ON.DOUBLECLICK", "ON.ENTRY", "ON.RECALC", "ON.SHEET", "ON.WINDOW"),
    "program": ("EXEC", "APP.ACTIVATE", "APP.ACTIVATE.MICROSOFT", "SEND.KEYS", "EMBED"),
    "dde": ("INITIATE", "REQUEST", "POKE", "EXECUTE", "TERMINATE"),
    "file": ("FOPEN", "FCLOSE", "FREAD", "FREADLN", "FWRITE", "FWRITELN", "FPOS", "FSIZE", "FILE.DELETE"),
    "folder": ("FILES", "DIRECTORY"),
    "document": (
        "OPEN",
        "OPEN.TEXT",
        "OPEN.LINKS",
        "SAVE",
        "SAVE.AS",
        "SAVE.WORKBOOK",
        "SAVE.WORKSPACE",
        "CHANGE.LINK",
        "UPDATE.LINK",
        "LINKS",
        "CREATE.PUBLISHER",
        "SUBSCRIBE.TO",
    ),
    "mail": ("SEND.MAIL", "MAIL.LOGON", "OPEN.MAIL", "ROUTE.DOCUMENT", "ROUTING.SLIP"),
}
_EXCEL4_WHY = {
    "code": "runs code: a DLL function, a formula built from text, a macro or an add-in (an Excel 4.0 macro function)",
    "schedule": "runs a macro on an event (an Excel 4.0 macro function)",
    "program": "starts or drives another program (an Excel 4.0 macro function)",
    "dde": "talks to another program over DDE (an Excel 4.0 macro function)",
    "file": "reads or writes a file on disk (an Excel 4.0 macro function)",
    "folder": "lists or changes folders on disk (an Excel 4.0 macro function)",
    "document": "opens, saves or links other files (an Excel 4.0 macro function)",
    "mail": "sends or reads mail (an Excel 4.0 macro function)",
}
REACHES_OUTSIDE |= {name: _EXCEL4_WHY[kind] for kind, names in _EXCEL4.items() for name in names}


def reaches_outside(tokens: list[Token]) -> str | None:
    """Why a formula reaches outside the workbook, or None when it does not.

    A listed function (`REACHES_OUTSIDE`), a DDE call (`=cmd|'/c calc'!A1`: Excel has no `|` operator,
    so one outside a string is DDE's application|topic), a user-defined function that is not the
    add-in's (`_xludf.X(`: a macro's or another add-in's code), or an `ST_` name the add-in does not
    define (`ST_EVIL(`: another add-in's or a macro's function under the add-in's prefix). References
    into other workbooks are not counted here: they are external links, reported and replaced as such.
    The add-in's own `ST_` calls (`natives.ADDIN_FUNCTIONS`), also in Excel's saved `[n]!ST_x(` form once
    `read_addin_calls` has read them, are the model's own.
    """
    from .natives import ADDIN_FUNCTIONS  # natives reads formulas: imported here, not at the top

    for t in tokens:
        if t.kind == "other" and t.text == "|":
            return "a DDE call (application|topic!item) that asks another program, or starts one"
        if t.kind != "func" or t.book:
            continue
        name = t.function_name()
        if name in REACHES_OUTSIDE:
            return f"{name} {REACHES_OUTSIDE[name]}"
        if name.startswith("ST_") and name not in ADDIN_FUNCTIONS:
            return f"{name} is not a function of the SenseTime add-in (another add-in's or a macro's code)"
        if t.text.upper().startswith("_XLUDF.") and name not in ADDIN_FUNCTIONS:
            return f"{name} is a user-defined function that is not the add-in's (a macro's or another add-in's code)"
    return None


def _number(text: str) -> str:
    """A number literal in one spelling: `1E+3`, `1000.0` and `1000` read alike."""
    value = repr(float(text))
    return value[:-2] if value.endswith(".0") else value


_OPERAND_END = {"ref", "name", "qname", "string", "number", "error"}


def normal_tokens(formula: str) -> list[Token]:
    """The formula's tokens as Excel means them, whatever program saved the file.

    What LibreOffice and Excel rewrite when they save a workbook without edits is read one way:
    function names in capitals and without Excel's storage prefixes (`st_target(` and
    `_xlfn.ST_TARGET(` are `ST_TARGET(`; a call through a link keeps its `[n]!`), `TRUE()` and
    `FALSE()` as the constants `TRUE` and `FALSE`, names in capitals (Excel's names ignore case),
    references with upper-case columns and unquoted sheet names quoted only when needed, numbers
    in one spelling, error literals in capitals, and spaces dropped (a space between two operands,
    Excel's intersection operator, is kept as one). `$` markers are kept: a comparison by identity
    (`template.token_form`) ignores them, a comparison of a row's formulas must not.
    """
    raw = list(scan(formula))
    out: list[Token] = []
    i = 0
    while i < len(raw):
        t = raw[i]
        if t.kind == "func":
            name = t.function_name()
            rest = [x.text for x in raw[i + 1 : i + 4] if not x.text.isspace()][:2]
            if name in ("TRUE", "FALSE") and rest == ["(", ")"] and not t.book:
                j = i + 1
                while raw[j].text != ")":
                    j += 1
                out.append(Token("name", name))
                i = j + 1
                continue
            out.append(Token("func", (f"{t.book}!" if t.book else "") + name, book=t.book))
        elif t.kind == "ref":
            out.append(_normal_ref(t))
        elif t.kind in ("name", "error"):
            out.append(Token(t.kind, t.upper))
        elif t.kind == "number":
            out.append(Token("number", _number(t.text)))
        elif t.kind == "other" and t.text.isspace():
            nxt = next((x for x in raw[i + 1 :] if not x.text.isspace()), None)
            prev = out[-1] if out else None
            between_operands = (
                prev is not None
                and nxt is not None
                and (prev.kind in _OPERAND_END or prev.text == ")")
                and (nxt.kind in ("ref", "name", "qname", "func") or nxt.text == "(")
            )
            if between_operands and out[-1].text != " ":
                out.append(Token("other", " "))
        else:
            out.append(t)
        i += 1
    return out


def _normal_ref(t: Token) -> Token:
    ends = [f"{c}{r}" for c, r in ((t.c1, t.r1), (t.c2, t.r2)) if c]
    sheet = ""
    if t.sheet is not None:
        plain = bool(re.fullmatch(r"[A-Za-z_][\w.]*", t.sheet)) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", t.sheet)
        plain = plain and (t.book is None or bool(re.fullmatch(r"\[\d+\]", t.book)))
        inner = f"{t.book or ''}{t.sheet}"
        sheet = (inner if plain else "'" + inner.replace("'", "''") + "'") + "!"
    elif t.book:
        sheet = t.book + "!"
    text = sheet + ":".join(ends)
    return Token("ref", text, book=t.book, sheet=t.sheet, c1=t.c1, r1=t.r1, c2=t.c2, r2=t.r2)


def normalised(formula: str) -> str:
    """`normal_tokens` as text: two formulas that Excel reads alike give the same string."""
    return "=" + "".join(t.text for t in normal_tokens(formula))


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
    and E8 `=E6+E7` both give `R[-2]C[0]+R[-1]C[0]`; spellings are read as Excel means them
    (`normal_tokens`).
    """
    hcol, hrow = _host(host)
    out = []
    for t in normal_tokens(formula):
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
