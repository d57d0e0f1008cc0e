"""A workbook's external links, and the one that is not really external: the add-in.

Excel saves a call to an add-in's function as a reference into the add-in's file: `=ST_TARGET(Drivers)`
is stored as `[1]!ST_TARGET(Drivers)`, and an external link (`xl/externalLinks/externalLink1.xml`, its
relationship to the .xlam's path, an `externalReferences` entry) is added; n in `[n]!` is the link's
1-based position. The audit and the export read such calls as the calls they are (`read_addin_calls`);
refresh leaves them as Excel wrote them, since it never reads a formula and Excel needs the link.

openpyxl keeps a workbook's links (when loaded with keep_links=True) in the private `wb._external_links`,
in file order, each with its target in `file_link.Target`; this module is the only one that touches it.
"""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.formula import ArrayFormula

from .formulas import without_addin_prefix

ADDIN_SUFFIXES = (".xlam", ".xla")  # Excel's add-in file formats (the SenseTime add-in is an .xlam)


def link_targets(wb: Any) -> dict[str, str]:
    """`[n]` -> the file external link n points at, as stored (a path, a file:/// URL, a relative name)."""
    out = {}
    for i, link in enumerate(getattr(wb, "_external_links", []), start=1):
        out[f"[{i}]"] = str(getattr(getattr(link, "file_link", None), "Target", "") or "")
    return out


def is_addin(target: str) -> bool:
    """Whether a link's target is an Excel add-in file, judged by its extension alone.

    The extension is what Excel always writes, whatever the folder (AppData, a network share, a
    relative name) or the file's name (a renamed or versioned copy), so the name "SenseTime" is not
    required. The link's defined names would not do: an ordinary workbook (or a macro workbook such as
    PERSONAL.XLSB) may define a name or a function starting with ST_, and the list holds only the
    names the formulas use, so it says nothing the formulas do not.
    """
    return target.strip().lower().endswith(ADDIN_SUFFIXES)


def addin_books(wb: Any) -> frozenset[str]:
    """The `[n]` prefixes of the links to an add-in."""
    return frozenset(book for book, target in link_targets(wb).items() if is_addin(target))


def read_addin_calls(wb: Any) -> int:
    """Rewrite, in memory, every `[n]!ST_x(` through an add-in link as `ST_x(` (cells and defined names).

    Afterwards every check and the native twins see the calls as the model writes them; a call
    through another workbook's link stays external. Returns the number of formulas rewritten.
    """
    books = addin_books(wb)
    if not books:
        return 0
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                array = c.value if isinstance(c.value, ArrayFormula) else None  # a spilled call, `{=...}`
                text = array.text if array is not None else c.value
                if isinstance(text, str) and text.startswith("="):
                    plain = without_addin_prefix(text, books)
                    if plain == text:
                        continue
                    if array is not None:
                        array.text = plain
                    else:
                        c.value = plain
                    changed += 1
    names = [*wb.defined_names.values(), *(dn for ws in wb.worksheets for dn in ws.defined_names.values())]
    for dn in names:
        plain = without_addin_prefix(dn.attr_text or "", books)
        if plain != (dn.attr_text or ""):
            dn.attr_text = plain
            changed += 1
    return changed


def drop_external_links(wb: Any) -> None:
    """Forget every external link: openpyxl then writes no externalLink part, rels, reference or content type."""
    wb._external_links = []
