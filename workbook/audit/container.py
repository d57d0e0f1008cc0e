"""Safe opening: refuse files that are not whole, harmless OOXML zips before any XML parser reads them.

Every command that reads a workbook it did not write (audit, export, refresh, recalc, simulate
--workbook, doctor) goes through `check_container`: the file itself (a readable, non-empty regular
file), the zip's sizes and compression ratios, every part read to its end (no more bytes than it
declares, an intact checksum; no entity or DTD declarations in any part but images and binary parts of a
known non-XML content type), and the cells each sheet declares, counted before openpyxl creates any of
them. A sheet is whatever part the workbook's relationships (or a worksheet content type) name, as
openpyxl finds it, whatever the part's name: `sheet1.XML` or `sheet1.dat` is counted as `sheet1.xml` is.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from ..links import read_addin_calls
from .findings import AuditError

MAX_MEMBER = 200 * 1024 * 1024  # bytes a single zip member may inflate to
MAX_TOTAL = 500 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed size beyond which a large member is treated as a bomb
# Cells a workbook's sheets may span: rows x columns counted from A1 (as openpyxl and the auditor
# walk them), summed over the sheets. The model spans about 7,100 (35 times fewer; 250,000 cost an
# audit or export about 200 MB and a few seconds); a sheet declaring XFD1048576
# spans 17 billion, which openpyxl would try to create one by one.
MAX_CELLS = 250_000
# Elements of a sheet's XML whose references make openpyxl create cells (or bound the walk).
_SHEET_NS = frozenset(
    {"http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main"}
)
_REF_ELEMENTS = frozenset({"dimension", "mergeCell", "hyperlink"})
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,7})\$?([0-9]{1,12})$")
_ENTITY_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_XML_NAMES = (".xml", ".rels", ".vml")  # compared without case
MAX_PACKAGE_ENTRIES = 100_000  # content types or relationships of one part (the model has about 30)
_PACKAGE_NS = frozenset(
    {
        "http://schemas.openxmlformats.org/package/2006/content-types",
        "http://schemas.openxmlformats.org/package/2006/relationships",
    }
)
# Content types of the main part openpyxl looks for (xlsx, xlsm, xltx, xltm), and the worksheet's.
_WORKBOOK_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        "application/vnd.ms-excel.sheet.macroenabled.main+xml",
        "application/vnd.ms-excel.template.macroenabled.main+xml",
    }
)
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def check_container(path: Path) -> None:
    """Refuse files that are not safe, whole OOXML zips before any XML parser sees them."""
    path = Path(path)
    _check_file(path)
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise AuditError(f"{path}: cannot read ({e.strerror or e})") from None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise AuditError(
            f"{path}: encrypted (password-protected) or legacy .xls workbook; save it unprotected as .xlsx"
        )
    if not head.startswith(b"PK"):
        raise AuditError(f"{path}: not an .xlsx workbook (not a zip file)")
    try:
        with zipfile.ZipFile(path) as z:
            _check_members(path, z)
    except zipfile.BadZipFile as e:
        raise AuditError(f"{path}: damaged or truncated zip ({e})") from None
    except (OSError, EOFError, zipfile.LargeZipFile) as e:
        raise AuditError(f"{path}: cannot read ({e})") from None


def _check_file(path: Path) -> None:
    """A readable, non-empty regular file; otherwise one line saying what the path is instead."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AuditError(f"{path}: no such file") from None
    except OSError as e:
        raise AuditError(f"{path}: cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise AuditError(f"{path}: is a directory, not a workbook")
    if not stat.S_ISREG(st.st_mode):
        raise AuditError(f"{path}: not a regular file (a device, pipe or socket), not a workbook")
    if st.st_size == 0:
        raise AuditError(f"{path}: empty file (0 bytes), not a workbook")
    if not os.access(path, os.R_OK):
        raise AuditError(f"{path}: permission denied (the file is not readable)")


def _check_members(path: Path, z: zipfile.ZipFile) -> None:
    """A workbook's parts, within the size limits, each read to its end: no XML entity declarations,
    undamaged, and sheets that span at most MAX_CELLS cells together."""
    infos = z.infolist()
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
        raise AuditError(f"{path}: a zip file but not an Excel workbook")
    total = 0
    for i in infos:
        total += i.file_size
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > MAX_MEMBER or total > MAX_TOTAL or (i.file_size > 10_000_000 and ratio > MAX_RATIO):
            raise AuditError(f"{path}: member {i.filename} inflates to {i.file_size:,} bytes (zip bomb?); refused")
    try:
        types, sheets = _package_map(path, z, names)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise AuditError(f"{path}: damaged zip member [Content_Types].xml or a relationships part ({e})") from None
    cells = 0
    for i in infos:
        if i.is_dir():
            continue
        name = i.filename.lower()
        kind = types(i.filename)
        sheet = name in sheets or kind == _WORKSHEET_TYPE
        xml = sheet or name.endswith(_XML_NAMES)
        # Entities are looked for in every part but images and parts of a known non-XML content type
        # (VBA projects, embedded objects, printer settings), which no XML parser reads.
        binary = kind is not None and (kind.startswith("image/") or "xml" not in kind)
        try:
            with z.open(i) as raw:
                member = _Guarded(path, i, raw, scan=xml or not binary)
                if xml:
                    cells += _cells_spanned(path, i.filename, member, MAX_CELLS - cells)
                member.drain()
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise AuditError(f"{path}: damaged zip member {i.filename} ({e})") from None


class ContentTypes:
    """A package's `[Content_Types].xml`: the content type of each part (lower case), by override or extension."""

    def __init__(self, path: Path, z: zipfile.ZipFile) -> None:
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}  # part name in lower case -> content type
        for local, attrs in _package_elements(path, z, "[Content_Types].xml"):
            if local == "Default":
                self.defaults[attrs.get("Extension", "").lower()] = attrs.get("ContentType", "").lower()
            elif local == "Override":
                self.overrides[attrs.get("PartName", "").lstrip("/").lower()] = attrs.get("ContentType", "").lower()

    def of(self, member: str) -> str | None:
        """The content type of `member`, None when the package gives none."""
        member = member.lower()
        base = posixpath.basename(member)
        return self.overrides.get(member) or (self.defaults.get(base.rsplit(".", 1)[-1]) if "." in base else None)


def relationships(path: Path, z: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(Id, type, target part as written) of each internal relationship of `part` ("" for the package's own),
    resolved as openpyxl resolves them (absolute, or relative to the part's folder); [] when it has none."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels") if part else "_rels/.rels"
    out = []
    for local, attrs in _package_elements(path, z, rels):
        if local != "Relationship" or attrs.get("TargetMode") == "External":
            continue
        target = attrs.get("Target", "")
        resolved = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((attrs.get("Id", ""), attrs.get("Type", ""), resolved))
    return out


def _package_map(path: Path, z: zipfile.ZipFile, names: set[str]) -> tuple[Any, set[str]]:
    """(part name -> its content type, lower case, or None when the package gives none; the parts
    openpyxl would load as sheets, lower case).

    The sheets are found as openpyxl finds them: the main part named by a workbook content type (or
    xl/workbook.xml, or the package relationship), then every part its relationships point at, whatever
    its name; and any part whose content type is a worksheet's.
    """
    types = ContentTypes(path, z)
    mains = {part for part, kind in types.overrides.items() if kind in _WORKBOOK_TYPES} | {"xl/workbook.xml"}
    mains |= {target.lower() for _, kind, target in relationships(path, z, "") if kind.endswith("/officeDocument")}
    sheets = {part for part, kind in types.overrides.items() if kind == _WORKSHEET_TYPE}
    by_lower = {n.lower(): n for n in names}
    for main in mains:
        sheets |= {
            target.lower()
            for _, kind, target in relationships(path, z, by_lower.get(main, main))
            if "chartsheet" not in kind
        }
    return types.of, sheets


def _package_elements(path: Path, z: zipfile.ZipFile, member: str) -> list[tuple[str, dict[str, str]]]:
    """(local name, attributes) of the content-type and relationship elements of a package part, read
    through the same guard as every part (streamed); [] when the part is missing, and what comes before
    the error in one that is not well-formed XML (openpyxl then refuses it)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    try:
        info = z.getinfo(member)
    except KeyError:
        return []
    out: list[tuple[str, dict[str, str]]] = []
    root = None
    with z.open(info) as raw:
        stream = _Guarded(path, info, raw, scan=True)
        try:
            for event, el in iterparse(stream, events=("start", "end"), forbid_dtd=True):
                if root is None:
                    root = el
                if event == "start" or el is root:
                    continue
                ns, _, local = el.tag[1:].partition("}") if el.tag.startswith("{") else ("", "", el.tag)
                if ns in _PACKAGE_NS and local in ("Default", "Override", "Relationship"):
                    out.append((local, dict(el.attrib)))
                    if len(out) > MAX_PACKAGE_ENTRIES:
                        raise AuditError(
                            f"{path}: {member} lists more than {MAX_PACKAGE_ENTRIES:,} parts or relationships; refused"
                        )
                root.clear()  # the elements read so far: a large part costs no more memory than its entries
        except DefusedXmlException:
            raise AuditError(f"{path}: {member} declares XML entities (entity-expansion attack?); refused") from None
        except ParseError:
            pass  # not well-formed: openpyxl refuses it; what was read is still used
    return out


class _Guarded:
    """A zip member read through: refuses XML entity or DTD declarations anywhere in it, and more
    bytes than it declares (reading it to its end also checks its CRC)."""

    def __init__(self, path: Path, info: zipfile.ZipInfo, raw: IO[bytes], scan: bool) -> None:
        self.path, self.info, self.raw, self.scan = path, info, raw, scan
        self.count = 0
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size if 0 < size <= 1 << 20 else 1 << 16)
        self.count += len(chunk)
        if self.count > self.info.file_size:
            raise AuditError(
                f"{self.path}: member {self.info.filename} inflates beyond its declared "
                f"{self.info.file_size:,} bytes (zip bomb?); refused"
            )
        window = self.tail + chunk
        if self.scan and any(m in window for m in _ENTITY_MARKS):
            raise AuditError(
                f"{self.path}: {self.info.filename} declares XML entities (entity-expansion attack?); refused"
            )
        self.tail = window[-16:]
        return chunk

    def drain(self) -> None:
        while self.read(1 << 16):
            pass


def _cells_spanned(path: Path, member: str, stream: _Guarded, allowed: int) -> int:
    """Rows x columns from A1 that a sheet's cells, dimension, merged ranges and hyperlinks reach
    (0 for any other part); refused once above `allowed`. Parsed as a stream with defusedxml, one
    element at a time, so the count costs no more memory than one row."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    rows = cols = 0
    row = col = 0  # openpyxl's counters for cells and rows that omit their reference
    stack: list[Any] = []
    try:
        for event, el in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            if event == "end":
                stack.pop()
                if stack:
                    del stack[-1][-1]  # the element just ended is its parent's last child
                continue
            stack.append(el)
            ns, _, local = el.tag[1:].partition("}") if el.tag.startswith("{") else ("", "", el.tag)
            if ns not in _SHEET_NS:
                continue
            refs: list[str] = []
            if local == "row":
                r = el.get("r", "")
                row, col = (int(r) if r.isdigit() else row + 1), 0
            elif local == "c":
                if ref := el.get("r"):
                    refs.append(ref)
                else:
                    col += 1
                    rows, cols = max(rows, row), max(cols, col)
            elif local in _REF_ELEMENTS:
                refs += re.split(r"[\s:]+", el.get("ref", "").strip())
            for ref in refs:
                m = _CELL_REF.match(ref)
                if not m:
                    continue  # openpyxl reports a malformed reference itself
                c, r = _column_number(m.group(1)), int(m.group(2))
                if local == "c":
                    row, col = r, c
                rows, cols = max(rows, r), max(cols, c)
            if rows * cols > allowed:
                raise AuditError(
                    f"{path}: {member} spans {rows:,} rows x {cols:,} columns ({rows * cols:,} cells); a workbook "
                    f"may span at most {MAX_CELLS:,} cells (rows x columns from A1, all sheets); refused"
                )
    except DefusedXmlException:
        raise AuditError(f"{path}: {member} declares XML entities (entity-expansion attack?); refused") from None
    except ParseError:
        pass  # not well-formed: openpyxl reports the parts it needs; the rest is still read to its end
    return rows * cols


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def load_checked(path: Path, **options: Any) -> Any:
    """A workbook that passed `check_container`, opened with openpyxl and defusedxml (`options` go to
    `openpyxl.load_workbook`); anything openpyxl cannot read is one line naming the file."""
    import openpyxl.xml
    from openpyxl import load_workbook

    if not openpyxl.xml.DEFUSEDXML:
        raise AuditError("defusedxml is not installed: pip install defusedxml (required to read untrusted files)")
    try:
        return load_workbook(path, **options)
    except Exception as e:  # openpyxl raises many types on damaged files
        cause: BaseException | None = e
        while cause is not None:
            if type(cause).__module__.startswith("defusedxml"):
                raise AuditError(
                    f"{path}: cannot be read as a workbook: XML entity declarations refused by defusedxml "
                    f"({type(cause).__name__}); possible entity-expansion attack"
                ) from None
            cause = cause.__cause__ or cause.__context__
        first = str(e).splitlines()[0][:120] if str(e) else ""
        raise AuditError(f"{path}: cannot be read as a workbook ({type(e).__name__}: {first})") from None


def open_checked(path: Path, **options: Any) -> Any:
    """`check_container`, then `load_checked`: how every command opens a workbook it did not write."""
    check_container(path)
    return load_checked(path, **options)


def open_workbooks(path: Path, values_path: Path | None = None) -> tuple[Any, Any]:
    """(formulas, cached values) of a checked workbook; the values from `values_path` when given.

    Calls Excel saved through the add-in's link (`[1]!ST_TARGET(`) are read as the calls (`ST_TARGET(`).
    """
    formulas = load_checked(path, data_only=False, keep_links=True)
    read_addin_calls(formulas)
    values = load_checked(values_path or path, data_only=True, keep_links=True)
    return formulas, values
