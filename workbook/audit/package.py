"""What a file's package says before any sheet is loaded: whether it is the model at all (its sheets
and defined names), the macros it carries, and links that start programs.

Read from the zip's small XML parts after `check_container`, so a workbook that is not the model is
refused before its sheets are read, and macros, which openpyxl drops on loading, are still seen.
Every command that reads a model workbook starts with `check_model_file` (or, on an open workbook,
`identity_problem`): one definition of what "the model" is.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..layout import ASSUMPTIONS, BALANCE, CASH_FLOW, INCOME
from .container import ContentTypes, check_container, relationships
from .findings import AuditError

# The model's identity: what a copy keeps however an analyst edits it (a deleted Checks sheet or a
# lost name is a damaged model, reported by the audit; a workbook without these is another workbook).
MODEL_SHEETS = (ASSUMPTIONS, INCOME, BALANCE, CASH_FLOW)
MODEL_NAMES = ("Drivers",)  # the range every ST_ call reads

VBA_TYPE = "application/vnd.ms-office.vbaproject"
MACRO_SHEET_TYPES = ("application/vnd.ms-excel.macrosheet+xml", "application/vnd.ms-excel.intlmacrosheet+xml")
LINK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.externallink+xml"
OFFICE_DOCUMENT = "/officeDocument"  # the end of the package relationship type that names the workbook part


class NotAModel(AuditError):  # noqa: N818 - reads as what the file is
    """The file is a workbook, but not the SenseTime model (exit code 2)."""


def missing_parts(sheets: Collection[str], names: Collection[str] | None = None) -> list[str]:
    """What of the model's identity a workbook lacks ("sheet 'Assumptions'", "name 'Drivers'").

    `names` None: the sheets alone (an open Excel workbook read through an adapter that has no names).
    Defined names are compared without case, as Excel does.
    """
    out = [f"sheet '{s}'" for s in MODEL_SHEETS if s not in sheets]
    if names is not None:
        present = {n.upper() for n in names}
        out += [f"name '{n}'" for n in MODEL_NAMES if n.upper() not in present]
    return out


def identity_problem(sheets: Collection[str], names: Collection[str] | None = None) -> str | None:
    """ "not a SenseTime model workbook (missing: ...)", or None for the model."""
    missing = missing_parts(sheets, names)
    return f"not a SenseTime model workbook (missing: {', '.join(missing)})" if missing else None


@dataclass(frozen=True)
class Package:
    """The parts of a workbook file that matter before its cells: see the module's docstring."""

    sheets: tuple[str, ...]
    names: tuple[str, ...]  # workbook-level defined names
    vba: tuple[str, ...]  # parts holding a VBA project (xl/vbaProject.bin)
    macro_sheets: tuple[str, ...]  # Excel 4.0 macro sheets: their sheet names (a part no sheet names: the part)
    program_links: tuple[str, ...]  # DDE and OLE links, each "part: what it starts"


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _xml(z: zipfile.ZipFile, name: str) -> Any:
    """A part parsed with openpyxl's parser (defusedxml when installed, which `load_checked` requires)."""
    from openpyxl.xml.functions import fromstring

    return fromstring(z.read(name))


def _workbook_part(path: Path, z: zipfile.ZipFile, members: set[str]) -> str:
    """The main part, as the package relationships name it (xl/workbook.xml in every file Excel writes)."""
    for _, kind, target in relationships(path, z, ""):
        if kind.endswith(OFFICE_DOCUMENT) and target in members:
            return target
    return "xl/workbook.xml"


def _program_link(z: zipfile.ZipFile, part: str) -> str | None:
    """What a DDE or OLE external link starts ("DDE cmd|/c calc"), None for a link to a workbook."""
    for el in _xml(z, part):
        kind = _local(el.tag)
        if kind == "ddeLink":
            return f"DDE {el.get('ddeService', '')}|{el.get('ddeTopic', '')}"
        if kind == "oleLink":
            return f"OLE {el.get('progId', '')}"
    return None


def read_package(path: Path) -> Package:
    """The package of a file that passed `check_container`; AuditError when its XML cannot be read."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.namelist()
            types = ContentTypes(path, z)
            main = _workbook_part(path, z, set(members))
            root = _xml(z, main)
            targets = {rid: target for rid, _, target in relationships(path, z, main)}
            sheets, names, sheet_parts = [], [], {}
            for el in root.iter():
                kind = _local(el.tag)
                if kind == "sheet":
                    sheets.append(str(el.get("name", "")))
                    rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
                    sheet_parts[targets.get(str(rid), "")] = sheets[-1]
                elif kind == "definedName" and el.get("localSheetId") is None:
                    names.append(str(el.get("name", "")))
            vba = [m for m in members if types.of(m) == VBA_TYPE or posixpath.basename(m).lower() == "vbaproject.bin"]
            macro = [
                sheet_parts.get(m, m)
                for m in members
                if types.of(m) in MACRO_SHEET_TYPES or m.lower().startswith("xl/macrosheets/")
            ]
            links = [(m, _program_link(z, m)) for m in members if types.of(m) == LINK_TYPE]
    except (KeyError, zipfile.BadZipFile, OSError) as e:
        raise AuditError(f"{path}: a zip file but not a readable Excel workbook ({e})") from None
    except Exception as e:  # a damaged XML part: the parser raises its own types
        raise AuditError(f"{path}: cannot be read as a workbook ({type(e).__name__} in the package's XML)") from None
    return Package(
        tuple(sheets),
        tuple(names),
        tuple(vba),
        tuple(macro),
        tuple(f"{m}: {what}" for m, what in links if what),
    )


def check_model_file(path: Path) -> Package:
    """How every command that reads the model starts: the container's safety checks, then the model's
    identity (`NotAModel`), then links that start a program (refused: openpyxl cannot even load them)."""
    path = Path(path)
    check_container(path)
    package = read_package(path)
    problem = identity_problem(package.sheets, package.names)
    if problem:
        raise NotAModel(f"{path}: {problem}")
    if package.program_links:
        raise AuditError(
            f"{path}: {package.program_links[0]}: a link that starts or asks another program when Excel "
            "opens the file; refused"
        )
    return package
