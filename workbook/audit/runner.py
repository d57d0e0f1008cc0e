"""`audit()`: refuse what is not the model, open the workbook safely and run the checks in order."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .container import open_workbooks
from .context import Auditor
from .drift import drift, numbers_in_formulas, structure
from .findings import AuditError, Finding, ordered
from .graph import circular
from .model_checks import inputs, model_checks
from .package import Package, check_model_file
from .references import error_values, macros, outside_reach, references, udf_fallbacks
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
    tpl = template()
    structure(a, tpl)
    drift(a, tpl)
    inputs(a)
    model_checks(a)
    return ordered(a.findings)


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
