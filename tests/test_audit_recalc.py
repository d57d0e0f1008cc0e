"""`stmodel audit --recalc`: results read after a real LibreOffice recalculation.

As in test_audit.py, each test compares the complete set of findings with one written here.
"""

import pytest
from openpyxl import load_workbook

from workbook.audit import audit
from workbook.layout import make_layout

pytestmark = pytest.mark.slow

# The report's own balance-sheet rounding (2020A-21A) and untied cash (2021A-24F), from the errata.
KNOWN = {("info", "Balance Sheet", cell, "known-report-difference") for cell in ("C7", "D7", "E7", "F7", "B11", "C11")}


def found(findings) -> set[tuple[str, str, str, str]]:
    """The findings as a set of keys; a finding reported twice fails the test."""
    keys = [(f.severity, f.sheet, f.cell, f.rule) for f in findings]
    assert len(set(keys)) == len(keys), f"a finding is reported twice: {sorted(keys)}"
    return set(keys)


def test_fresh_workbook_after_recalculation(built):
    assert found(audit(built, recalc=True)) == KNOWN


def test_a_broken_balance_sheet_fails_the_checks(built, tmp_path):
    sheet, cell = make_layout().homes[("nfa", "2023F")]
    wb = load_workbook(built)
    wb[sheet][cell] = 9999
    path = tmp_path / "broken.xlsx"
    wb.save(path)
    findings = audit(path, recalc=True)
    # 2024F carries the 2023F imbalance forward: both years fail, on the Checks sheet and against the errata.
    assert found(findings) == KNOWN | {
        ("error", sheet, cell, "hardcode"),
        ("error", "Balance Sheet", "E11", "check-failed"),
        ("error", "Balance Sheet", "F11", "check-failed"),
        ("error", "Checks", f"E{make_layout().checks.blocks['balance'].passed}", "check-failed"),
        ("error", "Checks", f"F{make_layout().checks.blocks['balance'].passed}", "check-failed"),
    }
    assert any(f.sheet == "Balance Sheet" and f.rule == "check-failed" and "2023F" in f.message for f in findings)


def test_a_recorded_amount_changed_to_hide_a_failure_is_still_caught(built, tmp_path):
    """The auditor compares with the errata records, not with the workbook's own recorded cells."""
    wb = load_workbook(built)
    sheet, cell = make_layout().homes[("total_assets", "2023F")]
    wb[sheet][cell] = wb[sheet][cell].value + "+500"  # assets 500 too high in 2023F (no later year reads it)
    checks = wb["Checks"]
    recorded = next(r[0].row for r in checks.iter_rows(min_col=1, max_col=1) if "recorded (balance" in str(r[0].value))
    checks[f"E{recorded}"] = 500  # the Checks sheet now expects the imbalance and passes
    path = tmp_path / "hidden.xlsx"
    wb.save(path)
    findings = audit(path, recalc=True)
    # No check-failed on the Checks sheet (it was fooled), one against the errata (at Total Assets 2023F,
    # the tampered cell itself); the typed-over recorded cell is not reported (a template figure, not an
    # input: see the report).
    assert (sheet, cell) == ("Balance Sheet", "E11")
    rules = ("formula-changed", "inconsistent-row", "number-in-formula", "check-failed")
    assert found(findings) == KNOWN | {("error", sheet, cell, rule) for rule in rules}
    failed = next(f for f in findings if f.rule == "check-failed")
    assert "2023F" in failed.message


def test_the_clean_basis_has_no_report_differences_in_the_forecast(built, tmp_path):
    """On the clean basis the forecast years carry no report adjustment: nothing to record, nothing fails;
    the reported years keep their own differences."""
    wb = load_workbook(built)
    wb["Assumptions"][make_layout().input_cell("basis")] = "clean"
    path = tmp_path / "clean.xlsx"
    wb.save(path)
    reported = {("info", "Balance Sheet", cell, "known-report-difference") for cell in ("C7", "B11", "C11")}
    assert found(audit(path, recalc=True)) == reported | {
        ("info", "Assumptions", make_layout().input_cell("basis"), "changed-input")
    }


def test_error_values_are_found_after_recalculation(built, tmp_path):
    sheet, cell = make_layout().homes[("capex_to_debt", "2022F")]
    wb = load_workbook(built)
    wb[sheet][cell] = "=1/0"
    path = tmp_path / "div0.xlsx"
    wb.save(path)
    rules = ("error-value", "formula-changed", "inconsistent-row", "number-in-formula")
    assert found(audit(path, recalc=True)) == KNOWN | {("error", sheet, cell, rule) for rule in rules}
