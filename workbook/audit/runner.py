"""`audit()`: open a workbook safely and run the checks in order (generic ones first, model ones on a model)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .container import check_container, open_workbooks
from .context import Auditor
from .drift import drift, numbers_in_formulas, structure
from .findings import AuditError, Finding, ordered
from .graph import circular
from .model_checks import inputs, model_checks
from .references import error_values, references, udf_fallbacks
from .template import template


def run(a: Auditor) -> list[Finding]:
    """Every check on any workbook; on a model (Assumptions and statements present), the template ones too."""
    references(a)
    error_values(a)
    circular(a)
    numbers_in_formulas(a)
    udf_fallbacks(a)
    if a.is_model:
        tpl = template()
        structure(a, tpl)
        drift(a, tpl)
        inputs(a)
        model_checks(a)
    return ordered(a.findings)


def audit(path: Path, recalc: bool = False) -> list[Finding]:
    """Audit a workbook; raise AuditError when it cannot be audited."""
    path = Path(path)
    check_container(path)
    if not recalc:
        return run(Auditor(*open_workbooks(path)))
    from ..recalc import RecalcError, recalculate

    with tempfile.TemporaryDirectory(prefix="stmodel-audit-") as tmp:
        fresh = Path(tmp) / "recalculated.xlsx"
        try:
            recalculate(path, fresh)
        except RecalcError as e:
            raise AuditError(str(e)) from None
        return run(Auditor(*open_workbooks(path, fresh)))
