"""A workbook as the commands that update one see it: the small `BookAdapter` interface (an open
Excel workbook through xlwings, `addin/xlbook.py`, or a saved file through openpyxl, here), and how a
saved workbook is opened (after the auditor's safety checks, macros kept) and saved (never half-written,
through `engine.files.replacing`, which keeps modes and links; docs/files.md).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from engine.errors import StmodelError
from engine.files import Stamp, replacing

from .reader import grid_of


class BookAdapter(Protocol):
    def sheet_names(self) -> list[str]: ...

    def grid(self, sheet: str) -> list[list[Any]]:
        """Cell values from A1, row by row (typed values; formulas may come back as text or results)."""

    def write_block(self, sheet: str, rows: list[list[Any]]) -> None:
        """Replace the sheet's contents with `rows` from A1 (creating the sheet if needed)."""


class OpenpyxlBook:
    """A headless workbook opened with openpyxl (formulas kept)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def grid(self, sheet: str) -> list[list[Any]]:
        return grid_of(self.wb[sheet])

    def write_block(self, sheet: str, rows: list[list[Any]]) -> None:
        ws = self.wb[sheet] if sheet in self.wb.sheetnames else self.wb.create_sheet(sheet)
        for row in ws.iter_rows():
            for c in row:
                c.value = None
        for i, values in enumerate(rows, start=1):
            for j, v in enumerate(values, start=1):
                if v is not None:
                    ws.cell(i, j).value = v


MACRO_SUFFIXES = (".xlsm", ".xltm")
VBA_PART = "xl/vbaProject.bin"  # the one part name openpyxl's keep_vba writes back as the VBA project
# what a zip entry's time can hold (MS-DOS dates: 1980-01-01 to 2107-12-31, in whole seconds)
ZIP_EPOCH_MIN = 315532800  # 1980-01-01 00:00:00 UTC
ZIP_EPOCH_MAX = 4354819199  # 2107-12-31 23:59:59 UTC


class BookError(StmodelError, ValueError):
    """A workbook that cannot be updated or saved as asked without losing something (its macros)."""


def open_for_update(path: Path) -> Any:
    """A saved workbook opened with openpyxl (formulas kept), after the auditor's safety checks.

    A macro-enabled workbook (.xlsm) is opened with its VBA project, which `save_atomic` writes back with
    the macro content type. Macros that would be dropped are refused, never dropped: a VBA project (found
    by content type or name, as the auditor finds it) in a file not named for macros or under a part name
    openpyxl does not keep, and Excel 4.0 macro sheets, which openpyxl does not read.
    """
    from .audit import check_model_file, load_checked

    path = Path(path)
    macros = path.suffix.lower() in MACRO_SUFFIXES
    package = check_model_file(path)  # the container's checks, then the model's identity: before anything is read
    if package.macro_sheets:
        raise BookError(
            f"{path}: holds Excel 4.0 macro sheets ({', '.join(package.macro_sheets)}), which stmodel cannot keep; "
            "not updated"
        )
    if package.vba and not macros:
        raise BookError(f"{path}: holds macros (a VBA project) but is not named .xlsm; rename it to update it")
    if [part for part in package.vba if part != VBA_PART]:
        raise BookError(f"{path}: holds a VBA project under a part name stmodel cannot keep; not updated")
    return load_checked(path, keep_vba=macros)


def workbook_bytes(wb: Any, timestamp: int | None = None) -> bytes:
    """The saved workbook's bytes. With `timestamp` (seconds since 1970, UTC) the document's created and
    modified times and every zip entry's time are that one, so the same workbook gives the same bytes."""
    if timestamp is not None and not ZIP_EPOCH_MIN <= timestamp <= ZIP_EPOCH_MAX:
        raise BookError(f"timestamp {timestamp}: outside what a zip file can store (1980-01-01 to 2107-12-31 UTC)")
    buffer = io.BytesIO()
    if timestamp is not None:
        wb.properties.created = dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(tzinfo=None)
    wb.save(buffer)
    if timestamp is None:
        return buffer.getvalue()
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp)).encode()
    entry_time = time.gmtime(timestamp)[:6]
    fixed = io.BytesIO()
    with zipfile.ZipFile(buffer) as zin, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + iso, data)
            entry = zipfile.ZipInfo(info.filename, entry_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            zout.writestr(entry, data)
    return fixed.getvalue()


def save_atomic(
    wb: Any,
    path: Path,
    *,
    overwrite: bool = True,
    inputs: Iterable[Path] = (),
    since: Stamp | None = None,
    timestamp: int | None = None,
) -> None:
    """Save through a temporary file in the target folder, then rename: no half-written workbook.

    `overwrite`, `inputs` and `since` are `engine.files.replacing`'s; `timestamp` is `workbook_bytes`'.
    A workbook with macros is written only to a macro-enabled name, one without only to another name.
    """
    path = Path(path)
    macros = getattr(wb, "vba_archive", None) is not None
    if macros != (path.suffix.lower() in MACRO_SUFFIXES):
        kind = "has macros: write it to a .xlsm file" if macros else "has no macros: write it to a .xlsx file"
        raise BookError(f"{path}: the workbook {kind}")
    with replacing(path, inputs=inputs, overwrite=overwrite, since=since) as tmp:
        tmp.write_bytes(workbook_bytes(wb, timestamp))
