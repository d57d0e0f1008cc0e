"""`stmodel addin build`: SenseTime.xlam from xlwings' ribbon add-in template.

The template is the file `xlwings quickstart NAME --addin --ribbon` copies (xlwings' BSD core). The
build adds our VBA modules to its project with pyOpenVBA (source-only modules, compiled by Excel on
load, the layout xlwings' own add-ins use), replaces the ribbon XML, and activates the config sheet.
openpyxl cannot open an .xlam without dropping the ribbon, so the zip parts are edited directly.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import xlwings

from engine.errors import StmodelError
from engine.files import WriteError, replacing

from .vba import PROJECT_NAME, RIBBON_MODULE, UDF_MODULE, custom_ui, ribbon_module, udf_module

TEMPLATE = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
TEMPLATE_PROJECT = "myaddin"
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
# Rows of the template's config sheet (column A) and what the add-in sets in column B.
CONFIG_VALUES = {"UDF Modules": "udfs"}


class AddinBuildError(StmodelError):
    """The add-in could not be built; the message says why."""


def _set_vba(path: Path) -> None:
    from pyopenvba import ExcelFile

    with ExcelFile(path) as book:
        project = book.vba_project()
        if "RibbonMyAddin" in project.module_names():
            project.delete_module("RibbonMyAddin")  # the template's single Run button, replaced below
        project.add_module(RIBBON_MODULE, ribbon_module())
        project.add_module(UDF_MODULE, udf_module())
        source = book.get_module("xlwings")
        old = f'Public Const PROJECT_NAME As String = "{TEMPLATE_PROJECT}"'
        if old not in source:
            raise AddinBuildError(f"{TEMPLATE.name}: the xlwings module has no '{old}' line")
        book.set_module("xlwings", source.replace(old, f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"'))
        book.save()
    with ExcelFile(path) as book:
        problems = book.validate()
        if problems:
            raise AddinBuildError(f"VBA project did not validate: {problems[0]}")


def _config_sheet(xml: str, shared: list[str]) -> str:
    """Put the add-in's settings into column B of the config sheet, beside their labels."""
    for label, value in CONFIG_VALUES.items():
        index = shared.index(label)
        m = re.search(rf'<c r="A(\d+)"[^>]*t="s"[^>]*><v>{index}</v></c>', xml)
        if not m:
            raise AddinBuildError(f"config sheet has no '{label}' row")
        row = m.group(1)
        cell = f'<c r="B{row}" t="inlineStr"><is><t>{value}</t></is></c>'
        xml = xml.replace(m.group(0), m.group(0) + cell, 1)
        xml = re.sub(rf'(<row r="{row}" spans=")1:1(")', r"\g<1>1:2\g<2>", xml)
    return xml


def _rewrite_parts(src: Path, dst: Path) -> None:
    with zipfile.ZipFile(src) as zin:
        shared = re.findall(r"<t[^>]*>([^<]*)</t>", zin.read("xl/sharedStrings.xml").decode())
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == "customUI/customUI.xml":
                    data = custom_ui().encode()
                elif info.filename in ("xl/workbook.xml", "docProps/app.xml"):
                    data = data.replace(f"_{TEMPLATE_PROJECT}.conf".encode(), CONFIG_SHEET.encode())
                elif info.filename == "xl/worksheets/sheet1.xml":
                    data = _config_sheet(data.decode(), shared).encode()
                zout.writestr(info, data)


def build_addin(output: Path) -> Path:
    """Write SenseTime.xlam at `output` (through a temporary file: never a half-written add-in)."""
    output = Path(output)
    if not TEMPLATE.is_file():
        raise AddinBuildError(f"xlwings' add-in template is missing ({TEMPLATE})")
    try:
        with replacing(output) as final, tempfile.TemporaryDirectory(prefix="stmodel-addin-") as tmp:
            work = Path(tmp) / f"{PROJECT_NAME}.xlam"
            shutil.copyfile(TEMPLATE, work)
            _set_vba(work)
            _rewrite_parts(work, final)
    except WriteError as e:
        raise AddinBuildError(str(e)) from None
    return output
