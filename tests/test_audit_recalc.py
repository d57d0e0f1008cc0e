"""`stmodel audit --recalc`: results read after a real LibreOffice recalculation."""

import pytest
from openpyxl import load_workbook

from workbook.audit import audit, summary
from workbook.layout import make_layout

pytestmark = pytest.mark.slow


def test_fresh_workbook_after_recalculation(built):
    findings = audit(built, recalc=True)
    counts = summary(findings)
    assert counts["error"] == 0 and counts["warning"] == 0
    known = {(f.cell, f.rule) for f in findings if f.severity == "info"}
    assert any(rule == "known-report-difference" for _, rule in known)


def test_a_broken_balance_sheet_fails_the_checks(built, tmp_path):
    sheet, cell = make_layout().homes[("nfa", "2023F")]
    wb = load_workbook(built)
    wb[sheet][cell] = 9999
    path = tmp_path / "broken.xlsx"
    wb.save(path)
    findings = audit(path, recalc=True)
    failed = [f for f in findings if f.rule == "check-failed"]
    assert any(f.sheet == "Checks" for f in failed)
    assert any(f.sheet == "Balance Sheet" and "2023F" in f.message for f in failed)


def test_a_recorded_amount_changed_to_hide_a_failure_is_still_caught(built, tmp_path):
    """The auditor compares with the errata records, not with the workbook's own recorded cells."""
    wb = load_workbook(built)
    sheet, cell = make_layout().homes[("other_lt_assets", "2023F")]
    wb[sheet][cell] = "=other_lt_assets_2023F+500"  # assets 500 too high in 2023F
    checks = wb["Checks"]
    recorded = next(r[0].row for r in checks.iter_rows(min_col=1, max_col=1) if "recorded (balance" in str(r[0].value))
    checks[f"E{recorded}"] = 500  # the Checks sheet now expects the imbalance and passes
    path = tmp_path / "hidden.xlsx"
    wb.save(path)
    findings = audit(path, recalc=True)
    assert not any(f.rule == "check-failed" and f.sheet == "Checks" for f in findings)
    assert any(f.rule == "check-failed" and f.sheet == "Balance Sheet" and "2023F" in f.message for f in findings)


def test_error_values_are_found_after_recalculation(built, tmp_path):
    sheet, cell = make_layout().homes[("capex_to_debt", "2022F")]
    wb = load_workbook(built)
    wb[sheet][cell] = "=1/0"
    path = tmp_path / "div0.xlsx"
    wb.save(path)
    findings = audit(path, recalc=True)
    assert any(f.rule == "error-value" and f.sheet == sheet and f.cell == cell for f in findings)
