"""`stmodel audit`: find what an edit broke in a model workbook before it is sent on.

The auditor rebuilds the template from the engine and compares the file with it line by line.
Lines are found by their row label and the layout's year columns (`workbook.reader`), not by
address, so an inserted row moves nothing. Every finding has a severity, the sheet and cell, a rule
(declared once, in `rules`) and a one-line explanation. Files that cannot be audited (not a
workbook, damaged, hostile, encrypted) raise AuditError.

Modules: findings (what is reported), rules (the registry), container (safe opening), package (the
model's identity, macros and program links, read before the sheets), template
(the model's identities), context (the state checks share), references, graph, drift and
model_checks (the checks), runner (`audit()`).
"""

from .container import check_container, load_checked, open_checked, open_workbooks
from .context import ANALYST_PROPERTY, EXPORTED_VALUES
from .findings import SEVERITIES, AuditError, Finding, summary, to_json
from .package import NotAModel, check_model_file, identity_problem
from .rules import RULES, Rule
from .runner import audit
from .template import Template, template

__all__ = [
    "ANALYST_PROPERTY",
    "EXPORTED_VALUES",
    "RULES",
    "SEVERITIES",
    "AuditError",
    "Finding",
    "NotAModel",
    "Rule",
    "Template",
    "audit",
    "check_container",
    "check_model_file",
    "identity_problem",
    "load_checked",
    "open_checked",
    "open_workbooks",
    "summary",
    "template",
    "to_json",
]
