"""`audit()`: refuse what is not the model, open the workbook safely and run the checks in order."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..layout import MODEL_FILE_SHEET
from ..reader import ReadError, recorded_model_file
from .container import open_workbooks
from .context import Auditor
from .drift import drift, numbers_in_formulas, structure
from .findings import AuditError, Finding, ordered
from .graph import circular
from .model_checks import inputs, model_checks
from .package import Package, check_model_file
from .references import error_values, macros, outside_reach, references, udf_fallbacks
from .rules import MODEL_FILE
from .template import template


def run(a: Auditor, package: Package) -> list[Finding]:
    """Every check: the file's macros, references, results and formulas, then the template's."""
    macros(a, package)
    references(a)
    outside_reach(a)
    error_values(a)
    circular(a)
    numbers_in_formulas(a)
    udf_fallbacks(a)
    tpl = template(recorded_text(a))
    structure(a, tpl)
    drift(a, tpl)
    inputs(a)
    model_checks(a)
    return ordered(a.findings)


def recorded_text(a: Auditor) -> str | None:
    """The model file the workbook was built from (its ModelFile sheet), when it holds a usable one: the
    template is built from it. One that cannot be read is a finding; the report's template is used."""
    try:
        mf = recorded_model_file(a.wb)
    except ReadError as e:
        a.add(MODEL_FILE, MODEL_FILE_SHEET, "A1", f"{e}; the workbook is compared with the report's template.")
        return None
    return mf.text() if mf is not None else None


def audit(path: Path, recalc: bool = False) -> list[Finding]:
    """Audit a model workbook; raise AuditError when it cannot be audited (NotAModel when it is another
    workbook: checked before anything is loaded or recalculated)."""
    path = Path(path)
    package = check_model_file(path)
    if not recalc:
        return run(Auditor(*open_workbooks(path)), package)
    from ..recalc import RecalcError, recalculate

    with tempfile.TemporaryDirectory(prefix="stmodel-audit-") as tmp:
        fresh = Path(tmp) / "recalculated.xlsx"
        try:
            recalculate(path, fresh)
        except RecalcError as e:
            raise AuditError(str(e)) from None
        return run(Auditor(*open_workbooks(path, fresh)), package)
