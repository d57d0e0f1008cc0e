"""Safe opening: refuse files that are not whole, harmless OOXML zips before any XML parser reads them.

Refresh and export open untrusted workbooks too and use the same checks.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ..links import read_addin_calls
from .findings import AuditError

MAX_MEMBER = 200 * 1024 * 1024  # bytes a single zip member may inflate to
MAX_TOTAL = 500 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed size beyond which a large member is treated as a bomb


def check_container(path: Path) -> None:
    """Refuse files that are not safe, whole OOXML zips before any XML parser sees them."""
    if not path.is_file():
        raise AuditError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(8)
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


def _check_members(path: Path, z: zipfile.ZipFile) -> None:
    """A workbook's parts, within the size limits, with no XML entity declarations, undamaged."""
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
    for i in infos:
        if not i.filename.endswith((".xml", ".rels", ".vml")):
            continue
        with z.open(i) as member:
            chunk = member.read(4096)
        if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk:
            raise AuditError(f"{path}: {i.filename} declares XML entities (entity-expansion attack?); refused")
    bad = z.testzip()
    if bad:
        raise AuditError(f"{path}: damaged zip member {bad}")


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
