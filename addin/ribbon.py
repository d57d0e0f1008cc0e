"""What the SenseTime ribbon buttons run in Excel (called by the add-in's VBA through RunPython).

Each action works on the workbook that called it. A failure shows a message box with a one-line
reason; nothing is written until an action has everything it needs. The add-in's VBA passes the
xlwings version it was built with; an action refuses to run with another xlwings installed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import versions

TITLE = "SenseTime"


def _caller() -> Any:
    import xlwings as xw

    return xw.Book.caller()


def _button_book(addin_xlwings: str) -> Any:
    """The workbook whose button was clicked. If xlwings cannot find it, a version mismatch is the likelier
    story than xlwings' own traceback, so that is what is raised (xlwings shows it in its error box)."""
    try:
        return _caller()
    except Exception:
        versions.check(addin_xlwings)
        raise


def run_action(book: Any, name: str, action: Callable[[Any], str], addin_xlwings: str = "") -> str:
    """Run `action(book)`; show its one-line result or error in a message box and return it.

    `addin_xlwings` is the add-in's XLWINGS_VERSION; '' (an older add-in) skips the check.
    """
    try:
        versions.check(addin_xlwings)
        message = action(book)
    except Exception as e:  # a button must end in a message, never a traceback
        message = f"{name} failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        book.app.alert(message, title=TITLE)
        return message
    book.app.alert(message, title=TITLE)
    return message


def _saved_copy(book: Any, folder: str) -> Path:
    """The open workbook as a file, unsaved edits included (Excel's SaveCopyAs leaves the book as it is)."""
    path = Path(folder) / (Path(book.name).stem + ".xlsx")
    book.api.SaveCopyAs(str(path))
    return path


def _refresh(book: Any) -> str:
    from workbook.refresh import refresh

    from .xlbook import XlwingsBook

    v = refresh(XlwingsBook(book))
    return f"Engine: target price HK${v['target_price']:.2f}, upside {v['upside_pct']:.1f}%, {v['rating']}."


def _audit(book: Any) -> str:
    from workbook.audit import audit as run_audit
    from workbook.audit import summary

    with tempfile.TemporaryDirectory(prefix="stmodel-audit-") as tmp:
        findings = run_audit(_saved_copy(book, tmp), recalc=False)
    counts = summary(findings)
    top = [str(f).split(None, 1)[1] for f in findings if f.severity != "info"][:8]
    lines = [f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info", *top]
    return "\n".join(lines)


def _export(book: Any) -> str:
    from workbook.export import export_analyst_copy

    target = Path(book.fullname).with_name(Path(book.name).stem + " - analyst copy.xlsx")
    with tempfile.TemporaryDirectory(prefix="stmodel-export-") as tmp:
        exported = export_analyst_copy(_saved_copy(book, tmp), target)
    removed = "".join(f"\nremoved {what}" for what in exported.removed)  # macros, formulas reaching outside
    return f"Analyst copy written: {target}{removed}"


def refresh(addin_xlwings: str = "") -> None:
    """Refresh forecasts: run the engine on this workbook's inputs and fill the Engine sheet."""
    run_action(_button_book(addin_xlwings), "Refresh forecasts", _refresh, addin_xlwings)


def audit(addin_xlwings: str = "") -> None:
    """Audit model: check the open workbook and list what is broken."""
    run_action(_button_book(addin_xlwings), "Audit model", _audit, addin_xlwings)


def export(addin_xlwings: str = "") -> None:
    """Export analyst copy: save a copy next to the workbook that needs no Python or add-in."""
    run_action(_button_book(addin_xlwings), "Export analyst copy", _export, addin_xlwings)
