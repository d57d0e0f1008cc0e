"""The model as `stmodel build` writes it, read into identities a tampered copy is compared with.

An identity is (sheet, row label, column header): the same line keeps its identity when rows are
inserted above it, so cells are matched by what they are, not by where they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from ..formulas import Token, cells_of, normal_tokens, normalised, relative_form, scan
from ..layout import ACTUALS, ENGINE, SIMULATION, Layout
from ..reader import SheetIndex
from ..styles import INPUT_FONT

Identity = tuple[str, str, str]  # (sheet, row label, column header or "col<n>")
# Where a defined name points: its cell's identity, its range's corner identities, or its text.
NameTarget = Identity | tuple[Identity, ...] | str

OUTPUT_SHEETS = frozenset({ENGINE, SIMULATION})  # values written by the engine (refresh, simulate), never inputs
INPUT_RGB = str(INPUT_FONT.color.rgb)[-6:]  # the input blue, whatever alpha a file gives it


@dataclass(frozen=True)
class Template:
    """Built once per process and shared: every field is read-only."""

    formulas: Mapping[Identity, str]  # identity -> token form
    labels: Mapping[Identity, str]  # identity -> human label ("Net Profit 2024F")
    inputs: frozenset[Identity]  # typed input cells
    static: frozenset[Identity]  # typed text or figures the template itself writes (labels, sources)
    numeric_inputs: frozenset[Identity]  # inputs that hold numbers
    lines: Mapping[str, frozenset[str]]  # sheet -> row labels that carry cells
    names: Mapping[str, NameTarget]  # defined name -> where it points
    validations: Mapping[Identity, str]  # identity of a validated cell -> its rule (list of choices, bounds)


def formula_text(c: Any) -> str | None:
    """The text of a cell's formula ("=..."), an array formula's (`{=...}` in Excel) included; None for a
    value, also for a text that starts with "=" (a cell of type string: not a formula to Excel)."""
    if getattr(c, "data_type", None) != "f":
        return None
    value = c.value
    text = value if isinstance(value, str) else getattr(value, "text", None)  # openpyxl's ArrayFormula
    return text if isinstance(text, str) and text.startswith("=") else None


def is_number(value: Any) -> bool:
    """A typed number (a bool is not one, though Python counts it as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def styled_as_input(c: Any) -> bool:
    """Blue font: how the model marks the cells an analyst types into."""
    rgb = c.font.color.rgb if c.font is not None and c.font.color is not None else None
    return isinstance(rgb, str) and rgb[-6:] == INPUT_RGB


def _corner(col: str, row: str) -> tuple[int, int]:
    return cells_of(Token("ref", "", c1=col, r1=row))[0]


def token_form(formula: str, host_sheet: str, indexes: dict[str, SheetIndex]) -> str:
    """A formula with each reference replaced by the label and year it points at, in Excel's meaning
    (`normal_tokens`: what LibreOffice or Excel rewrite on saving is read one way)."""
    out = []
    for t in normal_tokens(formula):
        if t.kind == "ref" and not t.book:
            sheet = t.sheet or host_sheet
            index = indexes.get(sheet)
            parts = []
            for col, row in ((t.c1, t.r1), (t.c2, t.r2)):
                if not col:
                    continue
                ident = index.identity(*_corner(col, row)) if index else None
                parts.append(f"{ident[1]}|{ident[2]}" if ident else f"?{col}{row}")
            out.append("{" + sheet + "|" + ":".join(parts) + "}")
        else:
            out.append(t.text)
    return "".join(out)


def canonical(formula: str, layout: Layout | None = None) -> str:
    """A formula with ST_* calls that have a native twin written natively (an analyst copy's form), read with
    `layout` (the workbook's; the report's unless given)."""
    from ..layout import make_layout
    from ..natives import native_formula

    return native_formula(normalised(formula), layout or make_layout()) or formula


@cache
def template(model_text: str | None = None) -> Template:
    """The model as `stmodel build` writes it, read into identities (built once per process); `model_text`:
    the model file a workbook was built from (its ModelFile sheet), which the template is built from too."""
    from engine.model_file import ModelFile

    from ..build import Builder

    builder = Builder(model_file=ModelFile.parse(model_text) if model_text is not None else None)
    wb = builder.build()
    layout = builder.layout
    indexes = {ws.title: SheetIndex(ws, layout) for ws in wb.worksheets}
    formulas: dict[Identity, str] = {}
    labels: dict[Identity, str] = {}
    inputs: set[Identity] = set()
    static: set[Identity] = set()
    numeric: set[Identity] = set()
    lines: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        index = indexes[ws.title]
        for row in ws.iter_rows():
            for c in row:
                ident = index.identity(c.column, c.row)
                if c.value is None:
                    if ident is not None and c.column != 1 and styled_as_input(c):
                        inputs.add(ident)  # a blank input (an Actuals cell, a Bear value): typing there is fine
                        if ws.title == ACTUALS:
                            numeric.add(ident)
                    continue
                if ident is None or c.column == 1:
                    continue
                labels[ident] = f"'{ident[1]}'" + (f" {ident[2]}" if not ident[2].startswith("col") else "")
                lines.setdefault(ws.title, set()).add(ident[1])
                text = formula_text(c)
                if text is not None:
                    formulas[ident] = token_form(canonical(text, layout), ws.title, indexes)
                elif styled_as_input(c):
                    inputs.add(ident)
                    if is_number(c.value):
                        numeric.add(ident)
                else:
                    static.add(ident)
    names = {name: name_target(dn, indexes) for name, dn in wb.defined_names.items()}
    return Template(
        MappingProxyType(formulas),
        MappingProxyType(labels),
        frozenset(inputs),
        frozenset(static),
        frozenset(numeric),
        MappingProxyType({sheet: frozenset(labels) for sheet, labels in lines.items()}),
        MappingProxyType(names),
        MappingProxyType(validations(wb, indexes)),
    )


def validations(wb: Any, indexes: dict[str, SheetIndex]) -> dict[Identity, str]:
    """Identity of every validated cell -> its rule: a list's formula ('"large,small"'), or for another
    type the type and its formulas, references relative to the validated range's first cell
    ('custom AND(ISNUMBER(R[0]C[0]),R[0]C[0]>-1,R[0]C[0]<=10)'), so a row inserted above moves nothing."""
    out = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            ranges = str(dv.sqref).split()
            for rng in ranges:
                for t in scan("=" + rng):
                    if t.kind == "ref":
                        for c, r in cells_of(t, 1000):
                            ident = indexes[ws.title].identity(c, r)
                            if ident is not None:
                                out[ident] = describe(dv, ranges[0])
    return out


def describe(dv: Any, rng: str) -> str:
    """A validation's rule in a few words (what `validations` compares); `rng` is its first range."""
    if dv.type == "list":
        return dv.formula1 or ""
    anchor = rng.split(":")[0].replace("$", "")
    if dv.type == "custom":  # one formula; operator and formula2 mean nothing (LibreOffice writes between, 0)
        return f"custom {relative_form('=' + (dv.formula1 or ''), anchor).lstrip('=')}"
    formulas = [relative_form("=" + f, anchor).lstrip("=") for f in (dv.formula1, dv.formula2) if f]
    return " ".join(p for p in (dv.type or "any", dv.operator or "", *formulas) if p)


def name_target(dn: Any, indexes: dict[str, SheetIndex]) -> NameTarget:
    """Where a defined name points: its cell's identity, its range's corner identities, or its text."""
    tokens = [t for t in scan(dn.attr_text or "") if t.kind == "ref"]
    index = indexes.get(tokens[0].sheet or "") if len(tokens) == 1 else None
    if index is not None:
        t = tokens[0]
        corners = cells_of(t, 10**9) if not t.c2 else [_corner(t.c1, t.r1), _corner(t.c2, t.r2)]
        idents = [index.identity(c, r) for c, r in corners]
        found = [i for i in idents if i is not None]
        if len(found) == len(idents):
            return found[0] if len(found) == 1 else tuple(found)
    return dn.attr_text or ""
