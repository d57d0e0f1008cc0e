"""The audit rules, declared once: id, severity (or severities) and what a finding of the rule means.

A finding is made only through a registered rule (`Rule.finding`), so it cannot carry an unknown id
or a severity the rule does not have. docs/audit.md's rule table is rendered from `RULES`;
`write_doc()` rewrites it between its markers (tests/test_audit_rules.py fails when it is stale).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .findings import SEVERITIES, Finding

START, END = "<!-- rules:start -->", "<!-- rules:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


@dataclass(frozen=True)
class Rule:
    id: str
    severities: tuple[str, ...]  # the first is the default; a rule with several is given one per finding
    doc: str  # one line for docs/audit.md: what a finding of this rule means

    def __post_init__(self) -> None:
        if not self.severities or not set(self.severities) <= set(SEVERITIES):
            raise ValueError(f"rule {self.id}: severities {self.severities} not among {SEVERITIES}")

    def finding(self, sheet: str, cell: str, message: str, severity: str | None = None) -> Finding:
        """A finding of this rule; fails on a rule missing from RULES or a severity it does not have."""
        if BY_ID.get(self.id) is not self:
            raise LookupError(f"audit rule {self.id!r} is not registered in workbook.audit.rules.RULES")
        if severity is None:
            if len(self.severities) > 1:
                raise ValueError(f"audit rule {self.id!r} needs a severity, one of {self.severities}")
            severity = self.severities[0]
        elif severity not in self.severities:
            raise ValueError(f"audit rule {self.id!r} has no severity {severity!r} (only {self.severities})")
        return Finding(severity, sheet, cell, self.id, message)


ERROR, WARNING, INFO = ("error",), ("warning",), ("info",)

# ---- edits of the model's cells (drift.py)
HARDCODE = Rule("hardcode", ERROR, "a typed value where the model has a formula")
FORMULA_CHANGED = Rule(
    "formula-changed", ERROR, "a formula that differs from the line's definition (compared by the labels it reads)"
)
INCONSISTENT_ROW = Rule(
    "inconsistent-row",
    ERROR,
    "a forecast cell whose formula differs (in relative, R1C1-like form) from the rest of its row",
)
NUMBER_IN_FORMULA = Rule("number-in-formula", ERROR, "a number typed inside a formula (comparisons with 0 excepted)")
MISSING_FORMULA = Rule(
    "missing-formula",
    ERROR,
    "a cell where the model has a formula is empty (a cleared cell or row); found without recalculation",
)
# ---- references, names and functions (references.py, graph.py)
BROKEN_REFERENCE = Rule("broken-reference", ERROR, "`#REF!` inside a formula")
BROKEN_NAME = Rule("broken-name", ERROR, "a defined name pointing at a deleted cell or a missing sheet")
INVALID_NAME = Rule("invalid-name", ERROR, "a defined name Excel rejects (looks like a cell reference, ...)")
UNKNOWN_NAME = Rule("unknown-name", ERROR, "a formula uses a name that is not defined (`#NAME?`)")
EXTERNAL_LINK = Rule("external-link", ERROR, "a formula or name reads another workbook")
ADDIN_REFERENCE = Rule(
    "addin-reference",
    INFO,
    "a link to an add-in (.xlam): Excel's saved form of `ST_*` calls (`[1]!ST_TARGET(`, read as the calls), "
    "or a formula reading the add-in's cells",
)
MISSING_SHEET = Rule(
    "missing-sheet", ERROR, "a formula refers to a sheet that does not exist, or a sheet of the model is gone"
)
ERROR_VALUE = Rule(
    "error-value", ERROR, "a cached `#NAME?`, `#VALUE!`, `#REF!`, `#DIV/0!`, `#N/A`, `#NUM!` (fresh with `--recalc`)"
)
VOLATILE_FUNCTION = Rule("volatile-function", WARNING, "INDIRECT, OFFSET, NOW, TODAY, RAND...")
UNSUPPORTED_FUNCTION = Rule(
    "unsupported-function",
    ERROR,
    "XLOOKUP, LET, LAMBDA, FILTER, UNIQUE, SEQUENCE, XMATCH and other functions Excel 2019 or LibreOffice 7.4 lack",
)
CIRCULAR_REFERENCE = Rule(
    "circular-reference",
    ERROR,
    "a cycle of formula cells (Tarjan's algorithm over the reference graph, names resolved)",
)
DANGEROUS_CONTENT = Rule(
    "dangerous-content",
    ERROR,
    "a formula that reaches outside the workbook (WEBSERVICE, FILTERXML, CALL, REGISTER, HYPERLINK, RTD, PY, "
    "TRANSLATE, COPILOT, Excel 4.0 macro functions such as EXEC, EVALUATE or FOPEN, a DDE call, a user-defined "
    "function or an `ST_` name that is not the add-in's...) in any cell, defined name, conditional format or "
    "validation; `export` never writes one",
)
MACROS = Rule(
    "macros",
    ("warning", "error"),
    "the file carries macros: a VBA project (warning: code the auditor cannot read, which Excel runs once macros "
    "are enabled; `export` drops it) or Excel 4.0 macro sheets (error)",
)
UDF_IN_ANALYST_COPY = Rule(
    "udf-in-analyst-copy",
    ERROR,
    "an `ST_*` call in a workbook marked as an analyst copy (custom property `SenseTimeAnalystCopy`)",
)
UDF_WITHOUT_FALLBACK = Rule(
    "udf-without-fallback",
    WARNING,
    "an `ST_*` call in the model workbook not wrapped in `IFERROR(..., native formula)`",
)
# ---- results (model_checks.py)
CHECK_FAILED = Rule(
    "check-failed",
    ERROR,
    "a Checks-sheet test reads FAIL (FALSE in a workbook built before the checks read OK / FAIL), or a "
    "balance/cash-tie difference differs from the amount recorded in "
    "`engine/data/errata.toml` (read after recalculation; the file's own recorded cells are not trusted)",
)
KNOWN_REPORT_DIFFERENCE = Rule(
    "known-report-difference", INFO, "a difference that equals the report's recorded inconsistency"
)
NOT_RECALCULATED = Rule("not-recalculated", INFO, "the file carries no calculated values: use `--recalc`")
# ---- inputs (model_checks.py, drift.py)
INVALID_INPUT = Rule(
    "invalid-input",
    ERROR,
    "a driver that is text, empty, out of bounds (share count or FX <= 0, growth above 1000%) "
    "or a choice outside its list, or whose value in the Base, Bear or Bull column gives a result that is not "
    "a finite number",
)
CHANGED_INPUT = Rule("changed-input", INFO, "a driver that differs from the base case")
CHANGED_ADJUSTMENT = Rule("changed-adjustment", WARNING, "a fixed report adjustment was changed")
INPUT_NOT_NUMBER = Rule(
    "input-not-number", ERROR, 'a numeric input (a driver, a reported figure) holds text, e.g. "5,776"'
)
INPUT_IS_FORMULA = Rule("input-is-formula", WARNING, "an input holds a formula")
INPUT_STYLE = Rule("input-style", WARNING, "an input is not styled as an input (blue)")
TYPED_OUTSIDE_INPUTS = Rule(
    "typed-outside-inputs",
    WARNING,
    "a typed number outside the input areas (the Engine sheet, a refresh's output, is skipped)",
)
FORMULA_OUTSIDE_TEMPLATE = Rule(
    "formula-outside-template",
    INFO,
    "a formula in a cell the model does not define (an analyst's addition): not checked against a definition",
)
VALIDATION_MISSING = Rule(
    "validation-missing",
    WARNING,
    "an input lost its data validation: a choice (`basis`, `revolver`, `cap_basis`, the scenario selector) its list "
    "of allowed values, a numeric driver its hard bounds",
)
# ---- structure (drift.py)
MISSING_LINE = Rule("missing-line", ERROR, "one of the model's lines (a row label) is gone: a deleted or renamed row")
MISSING_NAME = Rule("missing-name", ERROR, "a defined name of the model is gone")
NAME_MOVED = Rule(
    "name-moved",
    ERROR,
    "a defined name points at another line (or, for a range such as `Drivers`, other first and last lines) "
    "than the model's",
)
MODEL_FILE = Rule(
    "model-file",
    ERROR,
    "the hidden ModelFile sheet (the model file a workbook was built from, which the template is rebuilt from) "
    "does not hold a model file stmodel can read",
)

RULES: tuple[Rule, ...] = (
    HARDCODE,
    FORMULA_CHANGED,
    INCONSISTENT_ROW,
    NUMBER_IN_FORMULA,
    MISSING_FORMULA,
    BROKEN_REFERENCE,
    BROKEN_NAME,
    INVALID_NAME,
    UNKNOWN_NAME,
    EXTERNAL_LINK,
    ADDIN_REFERENCE,
    MISSING_SHEET,
    ERROR_VALUE,
    VOLATILE_FUNCTION,
    UNSUPPORTED_FUNCTION,
    CIRCULAR_REFERENCE,
    DANGEROUS_CONTENT,
    MACROS,
    UDF_IN_ANALYST_COPY,
    UDF_WITHOUT_FALLBACK,
    CHECK_FAILED,
    KNOWN_REPORT_DIFFERENCE,
    NOT_RECALCULATED,
    INVALID_INPUT,
    CHANGED_INPUT,
    CHANGED_ADJUSTMENT,
    INPUT_NOT_NUMBER,
    INPUT_IS_FORMULA,
    INPUT_STYLE,
    TYPED_OUTSIDE_INPUTS,
    FORMULA_OUTSIDE_TEMPLATE,
    VALIDATION_MISSING,
    MISSING_LINE,
    MISSING_NAME,
    NAME_MOVED,
    MODEL_FILE,
)
BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
if len(BY_ID) != len(RULES):
    raise ValueError("two audit rules share an id")


def rule(rule_id: str) -> Rule:
    """The registered rule with this id; LookupError names the unknown id."""
    try:
        return BY_ID[rule_id]
    except KeyError:
        raise LookupError(f"unknown audit rule {rule_id!r}") from None


def markdown_table() -> str:
    """docs/audit.md's rule table, one row per registered rule."""
    lines = ["| rule | severity | what it means |", "|---|---|---|"]
    lines += [f"| `{r.id}` | {' / '.join(r.severities)} | {r.doc} |" for r in RULES]
    return "\n".join(lines) + "\n"


def render_doc(text: str) -> str:
    """`text` (docs/audit.md) with the block between the rules markers replaced by the current table."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the rule table's markers {START} ... {END} are missing")
    return f"{head}{START}\n{markdown_table()}{END}{tail}"


def write_doc(path: Path = DOC) -> None:
    """Regenerate the rule table of docs/audit.md in place (the rest of the file is left as written)."""
    path.write_text(render_doc(path.read_text()))
