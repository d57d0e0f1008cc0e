"""`stmodel addin build`: SenseTime.xlam from xlwings' ribbon add-in template.

The template is the file `xlwings quickstart NAME --addin --ribbon` copies (xlwings' BSD core). The
build adds our VBA modules to its project with pyOpenVBA (source-only modules, compiled by Excel on
load, the layout xlwings' own add-ins use), names the project, replaces the ribbon XML and writes the
config sheet. openpyxl cannot open an .xlam without dropping the ribbon, so the zip parts are edited
directly.

The config sheet matters more than it looks: xlwings' VBA (`GetConfigFromSheet`) reads every label of
its column A, empty values included, and a key on the add-in's sheet wins over the user's and the
directory's config files. So the sheet holds only the settings that have a value.
"""

from __future__ import annotations

import re
import shutil
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

import xlwings

from engine import versions
from engine.errors import StmodelError
from engine.files import WriteError, replacing, scratch

from .vba import PROJECT_NAME, RIBBON_MODULE, UDF_MODULE, XLPY, XLPY_TRAPPED, custom_ui, ribbon_module, udf_module

TEMPLATE = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
TEMPLATE_PROJECT = "myaddin"
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
# What the add-in always sets; the interpreter settings are added only when given (see the module docstring).
CONFIG_VALUES = {"UDF Modules": "udfs"}
# The labels xlwings reads for each optional setting (GetConfig upper-cases them).
SETTINGS = {
    "interpreter": "Interpreter_Win",
    "pythonpath": "PYTHONPATH",
    "conda_path": "Conda Path",
    "conda_env": "Conda Env",
}
# dir stream records (MS-OVBA 2.3.4.2) the build rewrites: the project's name, each module's name and its
# cookie ("MUST be 0xFFFF" on write), the stream's end; PROJECTVERSION is read past.
PROJECTNAME, PROJECTVERSION, TERMINATOR, MODULENAME, MODULECOOKIE = 0x0004, 0x0009, 0x0010, 0x0019, 0x002C


MAX_COLUMN_WIDTH = 255  # Excel's widest column


class AddinBuildError(StmodelError):
    """The add-in could not be built; the message says why."""


def config_rows(settings: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The config sheet's rows (label -> value): the add-in's own, then each setting that was given."""
    rows = dict(CONFIG_VALUES)
    for option, value in (settings or {}).items():
        if option not in SETTINGS:
            raise AddinBuildError(f"unknown add-in setting '{option}'; settings are {', '.join(SETTINGS)}")
        if value is None:
            continue
        text = str(value).strip()
        if not text or any(ord(c) < 32 for c in text):
            raise AddinBuildError(
                f"--{option.replace('_', '-')}: expected a non-empty value on one line, got {value!r}"
            )
        rows[SETTINGS[option]] = text
    return rows


def _records(raw: bytes) -> list[tuple[int, bytes]]:
    """(Id, data) of each record of a decompressed dir stream, up to its Terminator (MS-OVBA 2.3.4.2).

    Every record is Id, Size, Data, except PROJECTVERSION, whose Size field says 4 before 6 bytes.
    """
    out: list[tuple[int, bytes]] = []
    at = 0
    while at + 6 <= len(raw):
        record, size = struct.unpack_from("<HI", raw, at)
        if record == TERMINATOR:
            return out
        size = 6 if record == PROJECTVERSION else size
        out.append((record, raw[at + 6 : at + 6 + size]))
        at += 6 + size
    raise AddinBuildError("the VBA project's dir stream has no terminator")


def _dir_stream(raw: bytes, added: set[str]) -> bytes:
    """The dir stream with the project's name, the added modules' cookies at 0xFFFF and a six-byte Terminator."""
    out, module = b"", ""
    for record, data in _records(raw):
        if record == PROJECTNAME:
            data = PROJECT_NAME.encode("cp1252")
        elif record == MODULENAME:
            module = data.decode("cp1252")
        elif record == MODULECOOKIE and module in added:
            data = struct.pack("<H", 0xFFFF)
        size = 4 if record == PROJECTVERSION else len(data)
        out += struct.pack("<HI", record, size) + data
    return out + struct.pack("<HI", TERMINATOR, 0)


def _project_stream(text: str) -> str:
    """The PROJECT stream with the project's name and no blank line inside [Workspace] (MS-OVBA 2.3.1)."""
    text, count = re.subn(r'^Name="[^"]*"', f'Name="{PROJECT_NAME}"', text, count=1, flags=re.M)
    if not count:
        raise AddinBuildError(f"{TEMPLATE.name}: the PROJECT stream has no Name line")
    head, marker, workspace = text.partition("[Workspace]")
    if marker:
        records = [line for line in workspace.split("\r\n") if line.strip()]
        text = head + marker + "\r\n" + "".join(f"{line}\r\n" for line in records)
    return text


def _set_vba(path: Path) -> None:
    from pyopenvba import ExcelFile
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import compress, decompress

    with ExcelFile(path) as book:
        project = book.vba_project()
        if "RibbonMyAddin" in project.module_names():
            project.delete_module("RibbonMyAddin")  # the template's single Run button, replaced below
        project.add_module(RIBBON_MODULE, ribbon_module())
        project.add_module(UDF_MODULE, udf_module())
        source = book.get_module("xlwings")
        old = f'Public Const PROJECT_NAME As String = "{TEMPLATE_PROJECT}"'
        for text in (old, XLPY):
            if text not in source:
                raise AddinBuildError(
                    f"{TEMPLATE.name}: the xlwings module has no '{text.splitlines()[0]}' as expected"
                )
        source = source.replace(old, f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"')
        book.set_module("xlwings", source.replace(XLPY, XLPY_TRAPPED))
        book.save()
    with zipfile.ZipFile(path) as z:
        cfb = CFB.from_bytes(z.read("xl/vbaProject.bin"))
    project_text = _project_stream(cfb.get_stream_at([], "PROJECT").decode("cp1252"))
    cfb.write_stream_at([], "PROJECT", project_text.encode("cp1252"))
    dir_stream = decompress(cfb.get_stream_at(["VBA"], "dir"))
    cfb.write_stream_at(["VBA"], "dir", compress(_dir_stream(dir_stream, {RIBBON_MODULE, UDF_MODULE})))
    _replace_part(path, "xl/vbaProject.bin", cfb.to_bytes())
    with ExcelFile(path) as book:
        problems = book.validate()
        if problems:
            raise AddinBuildError(f"VBA project did not validate: {problems[0]}")


def _replace_part(path: Path, part: str, data: bytes) -> None:
    """Rewrite one part of the zip at `path` (a file in the build's own temporary folder)."""
    rebuilt = path.with_suffix(".rebuilt")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, data if info.filename == part else zin.read(info.filename))
    rebuilt.replace(path)


def _cell_text(text: str) -> str:
    """`text` as a shared string's XML: escaped, and `_x` written `_x005F_x` so Excel does not read `_xHHHH_`."""
    return escape(text.replace("_x", "_x005F_x"))


def _cell(ref: str, index: int) -> str:
    return f'<c r="{ref}" s="1" t="s"><v>{index}</v></c>'


def config_sheet(xml: str, rows: Mapping[str, str]) -> tuple[str, str]:
    """(sheet XML, shared strings XML) of the config sheet holding exactly `rows`, from A1 down."""
    strings: list[str] = []
    for text in (t for pair in rows.items() for t in pair):
        if text not in strings:
            strings.append(text)
    body = "".join(
        f'<row r="{r}" spans="1:2">{_cell(f"A{r}", strings.index(label))}{_cell(f"B{r}", strings.index(value))}</row>'
        for r, (label, value) in enumerate(rows.items(), start=1)
    )
    xml, found = re.subn(
        r"<sheetData>.*?</sheetData>|<sheetData\s*/>", f"<sheetData>{body}</sheetData>", xml, flags=re.S
    )
    if not found:
        raise AddinBuildError("the template's config sheet has no sheetData")
    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:B{len(rows)}" />', xml)
    width = min(MAX_COLUMN_WIDTH, max(9.25, max(len(v) for v in rows.values()) + 2))
    xml = re.sub(r'(<col min="2" max="2" width=")[\d.]+(")', rf"\g<1>{width}\g<2>", xml)
    items = "".join(f"<si><t>{_cell_text(s)}</t></si>" for s in strings)
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{2 * len(rows)}" uniqueCount="{len(strings)}">{items}</sst>'
    )
    return xml, sst


def _workbook_xml(data: str) -> str:
    """The template's workbook part renamed for the add-in, without its author's folder (x15ac:absPath)."""
    data = data.replace(f"_{TEMPLATE_PROJECT}.conf", CONFIG_SHEET)
    return re.sub(r"<mc:AlternateContent\b(?:(?!</mc:AlternateContent>).)*absPath.*?</mc:AlternateContent>", "", data)


def _rewrite_parts(src: Path, dst: Path, rows: Mapping[str, str]) -> None:
    with zipfile.ZipFile(src) as zin:
        sheet, sst = config_sheet(zin.read("xl/worksheets/sheet1.xml").decode(), rows)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == "customUI/customUI.xml":
                    data = custom_ui().encode()
                elif info.filename == "xl/workbook.xml":
                    data = _workbook_xml(data.decode()).encode()
                elif info.filename == "docProps/app.xml":
                    data = data.replace(f"_{TEMPLATE_PROJECT}.conf".encode(), CONFIG_SHEET.encode())
                elif info.filename == "xl/worksheets/sheet1.xml":
                    data = sheet.encode()
                elif info.filename == "xl/sharedStrings.xml":
                    data = sst.encode()
                zout.writestr(info, data)


def build_addin(output: Path, settings: Mapping[str, str | None] | None = None, overwrite: bool = True) -> Path:
    """Write SenseTime.xlam at `output` (through a temporary file: never a half-written add-in).

    `settings` (interpreter, pythonpath, conda_path, conda_env) go on the config sheet only when given.
    """
    output = Path(output)
    rows = config_rows(settings)
    if not TEMPLATE.is_file():
        raise AddinBuildError(f"xlwings' add-in template is missing ({TEMPLATE})")
    problem = versions.mismatch(versions.pinned_xlwings(), xlwings.__version__, "the SenseTime package")
    if problem:
        raise AddinBuildError(f"cannot build an add-in that would not match: {problem}")
    try:
        with replacing(output, inputs=[TEMPLATE], overwrite=overwrite) as final, scratch("addin") as tmp:
            work = Path(tmp) / f"{PROJECT_NAME}.xlam"
            shutil.copyfile(TEMPLATE, work)
            _set_vba(work)
            _rewrite_parts(work, final, rows)
    except WriteError as e:
        raise AddinBuildError(str(e)) from e
    return output
