"""`stmodel audit` on a freshly built workbook and on tampered copies made with openpyxl."""

import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

import engine
from addin.cli import app
from workbook.audit import audit, summary
from workbook.formulas import shift_rows
from workbook.layout import YEAR_COLUMN, make_layout

DRIFT_RULES = {"hardcode", "formula-changed", "inconsistent-row", "typed-outside-inputs", "input-style"}


def home(key: str, year: str) -> tuple[str, str]:
    return make_layout().homes[(key, year)]


def tamper(built: Path, tmp_path: Path, edit) -> Path:
    wb = load_workbook(built)
    edit(wb)
    path = tmp_path / "tampered.xlsx"
    wb.save(path)
    return path


def rules_at(findings, sheet: str, cell: str) -> set[str]:
    return {f.rule for f in findings if f.sheet == sheet and f.cell == cell}


def test_a_fresh_workbook_has_no_errors_and_no_warnings(built):
    counts = summary(audit(built))
    assert counts["error"] == 0 and counts["warning"] == 0


def test_formula_replaced_by_its_value(built, tmp_path):
    sheet, cell = home("net_profit", "2023F")
    value = engine.run().value("net_profit", "2023F")
    path = tamper(built, tmp_path, lambda wb: wb[sheet].__setitem__(cell, value))
    findings = audit(path)
    assert "hardcode" in rules_at(findings, sheet, cell)
    assert summary(findings)["error"] >= 1


def test_formula_with_plus_100(built, tmp_path):
    sheet, cell = home("gross_profit", "2022F")

    def edit(wb):
        wb[sheet][cell] = wb[sheet][cell].value + "+100"

    findings = audit(tamper(built, tmp_path, edit))
    assert {"number-in-formula", "formula-changed"} <= rules_at(findings, sheet, cell)


def test_one_forecast_column_differs_from_its_row(built, tmp_path):
    sheet, cell = home("debtors", "2023F")
    prev_sheet, prev_cell = home("debtors", "2022F")
    path = tamper(built, tmp_path, lambda wb: wb[sheet].__setitem__(cell, f"={prev_cell}"))
    findings = audit(path)
    assert "inconsistent-row" in rules_at(findings, sheet, cell)
    assert "inconsistent-row" not in rules_at(findings, prev_sheet, prev_cell)


def test_defined_name_whose_target_was_deleted(built, tmp_path):
    def edit(wb):
        wb.defined_names["premium"].attr_text = "Assumptions!#REF!"

    findings = audit(tamper(built, tmp_path, edit))
    assert "broken-name" in rules_at(findings, "(names)", "premium")


def test_defined_name_on_a_missing_sheet(built, tmp_path):
    def edit(wb):
        wb.defined_names["usdcny"].attr_text = "Inputs!$B$9"

    findings = audit(tamper(built, tmp_path, edit))
    assert "broken-name" in rules_at(findings, "(names)", "usdcny")


def test_external_link(built, tmp_path):
    sheet, cell = home("tax", "2023F")
    path = tamper(built, tmp_path, lambda wb: wb[sheet].__setitem__(cell, "='[other.xlsx]Sheet1'!$A$1"))
    assert "external-link" in rules_at(audit(path), sheet, cell)


def test_reference_to_a_missing_sheet(built, tmp_path):
    sheet, cell = home("tax", "2024F")
    path = tamper(built, tmp_path, lambda wb: wb[sheet].__setitem__(cell, "=Inputs!B5"))
    assert "missing-sheet" in rules_at(audit(path), sheet, cell)


def test_indirect(built, tmp_path):
    sheet, cell = home("upside", None)
    path = tamper(built, tmp_path, lambda wb: wb[sheet].__setitem__(cell, '=INDIRECT("B40")/LastPrice'))
    findings = audit(path)
    assert "volatile-function" in rules_at(findings, sheet, cell)
    assert any(f.severity == "warning" for f in findings if f.rule == "volatile-function")


def test_circular_reference(built, tmp_path):
    sheet, gp = home("gross_profit", "2023F")
    _, op = home("operating_profit", "2023F")

    def edit(wb):
        wb[sheet][gp] = wb[sheet][gp].value + f"+{op}"

    findings = audit(tamper(built, tmp_path, edit))
    circular = [f for f in findings if f.rule == "circular-reference"]
    assert circular and circular[0].sheet == sheet and circular[0].cell in {gp, op}


def test_driver_set_to_text(built, tmp_path):
    cell = make_layout().input_cell("premium")
    path = tamper(built, tmp_path, lambda wb: wb["Assumptions"].__setitem__(cell, "forty"))
    findings = audit(path)
    assert "invalid-input" in rules_at(findings, "Assumptions", cell)


def test_empty_driver(built, tmp_path):
    cell = make_layout().input_cell("usdcny")
    path = tamper(built, tmp_path, lambda wb: wb["Assumptions"].__setitem__(cell, None))
    assert "invalid-input" in rules_at(audit(path), "Assumptions", cell)


def test_negative_share_count(built, tmp_path):
    cell = make_layout().input_cell("shares_m")
    path = tamper(built, tmp_path, lambda wb: wb["Assumptions"].__setitem__(cell, -5))
    assert "invalid-input" in rules_at(audit(path), "Assumptions", cell)


def test_growth_above_1000_percent_and_bad_choice(built, tmp_path):
    growth = make_layout().input_cell("smart_auto_growth_2024F")
    choice = make_layout().input_cell("cap_basis")

    def edit(wb):
        wb["Assumptions"][growth] = 12.0
        wb["Assumptions"][choice] = "mid"

    findings = audit(tamper(built, tmp_path, edit))
    assert "invalid-input" in rules_at(findings, "Assumptions", growth)
    assert "invalid-input" in rules_at(findings, "Assumptions", choice)


def test_changed_driver_is_reported_as_info(built, tmp_path):
    cell = make_layout().input_cell("premium")
    path = tamper(built, tmp_path, lambda wb: wb["Assumptions"].__setitem__(cell, 0.5))
    findings = audit(path)
    changed = [f for f in findings if f.rule == "changed-input"]
    assert [(f.severity, f.cell) for f in changed] == [("info", cell)]
    assert summary(findings)["error"] == 0


def test_typed_number_outside_the_inputs(built, tmp_path):
    path = tamper(built, tmp_path, lambda wb: wb["Income Statement"].__setitem__("H5", 42))
    assert "typed-outside-inputs" in rules_at(audit(path), "Income Statement", "H5")


def test_udf_call_without_fallback(built, tmp_path):
    path = tamper(built, tmp_path, lambda wb: wb["Cover"].__setitem__("H4", "=ST_TARGET(Drivers)"))
    findings = audit(path)
    assert "udf-without-fallback" in rules_at(findings, "Cover", "H4")
    fine = tamper(built, tmp_path, lambda wb: wb["Cover"].__setitem__("H4", "=IFERROR(ST_TARGET(Drivers),TargetPrice)"))
    assert "udf-without-fallback" not in rules_at(audit(fine), "Cover", "H4")


def insert_row_like_excel(wb, sheet: str, at: int) -> None:
    """Insert a blank row and move every reference below it, as Excel does."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    c.value = shift_rows(c.value, sheet, ws.title, at)
    for dn in wb.defined_names.values():
        dn.attr_text = shift_rows(dn.attr_text, sheet, "", at)
    wb[sheet].insert_rows(at)


def test_an_inserted_row_moves_no_line(built, tmp_path):
    tax_row = next(r.row for r in make_layout().rows_of("Income Statement") if r.key == "tax")
    path = tamper(built, tmp_path, lambda wb: insert_row_like_excel(wb, "Income Statement", tax_row))
    wb = load_workbook(path)
    assert wb["Income Statement"][f"A{tax_row + 1}"].value == "Tax"  # the line did move down
    drift = [f for f in audit(path) if f.rule in DRIFT_RULES]
    assert drift == []


def test_an_inserted_row_that_breaks_nothing_still_catches_a_hardcode(built, tmp_path):
    tax_row = next(r.row for r in make_layout().rows_of("Income Statement") if r.key == "tax")
    np_row = next(r.row for r in make_layout().rows_of("Income Statement") if r.key == "net_profit")

    def edit(wb):
        insert_row_like_excel(wb, "Income Statement", tax_row)
        wb["Income Statement"][f"{YEAR_COLUMN['2024F']}{np_row + 1}"] = -2112

    findings = audit(tamper(built, tmp_path, edit))
    assert "hardcode" in rules_at(findings, "Income Statement", f"F{np_row + 1}")


def test_cli_exit_codes_and_json(built, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", str(built), "--format", "json"])
    assert ok.exit_code == 0
    data = json.loads(ok.stdout)
    assert data["summary"]["error"] == 0
    sheet, cell = home("net_profit", "2023F")
    bad = tamper(built, tmp_path, lambda wb: wb[sheet].__setitem__(cell, 1))
    result = runner.invoke(app, ["audit", str(bad)])
    assert result.exit_code == 1
    assert "hardcode" in result.stdout


def test_a_deleted_row_is_a_missing_line(built, tmp_path):
    row = next(r.row for r in make_layout().rows_of("Income Statement") if r.key == "dividend_income")

    def edit(wb):
        wb["Income Statement"].delete_rows(row)

    findings = audit(tamper(built, tmp_path, edit))
    missing = [f for f in findings if f.rule == "missing-line" and f.sheet == "Income Statement"]
    assert [f.message for f in missing] == ["The line 'Dividend Income' is missing (a deleted or renamed row)."]


def test_a_renamed_label_is_a_missing_line(built, tmp_path):
    row = next(r.row for r in make_layout().rows_of("Balance Sheet") if r.key == "debtors")
    path = tamper(built, tmp_path, lambda wb: wb["Balance Sheet"].__setitem__(f"A{row}", "Receivables"))
    assert any(f.rule == "missing-line" and "'Debtors'" in f.message for f in audit(path))


def test_a_deleted_sheet(built, tmp_path):
    def edit(wb):
        del wb["Checks"]

    findings = audit(tamper(built, tmp_path, edit))
    assert any(f.rule == "missing-sheet" and f.sheet == "Checks" for f in findings)


def test_a_defined_name_moved_to_another_cell(built, tmp_path):
    other = make_layout().input_cell("usdcny")

    def edit(wb):
        wb.defined_names["premium"].attr_text = f"Assumptions!${other[0]}${other[1:]}"

    findings = audit(tamper(built, tmp_path, edit))
    assert "name-moved" in rules_at(findings, "(names)", "premium")


def test_a_reported_figure_typed_as_text(built, tmp_path):
    sheet, cell = home("debtors", "2021A")
    path = tamper(built, tmp_path, lambda wb: wb[sheet].__setitem__(cell, "5,776"))
    assert "input-not-number" in rules_at(audit(path), sheet, cell)


def test_the_drivers_range_cut_short(built, tmp_path):
    def edit(wb):
        wb.defined_names["Drivers"].attr_text = "Assumptions!$J$7:$K$20"

    findings = audit(tamper(built, tmp_path, edit))
    assert "name-moved" in rules_at(findings, "(names)", "Drivers")


def test_a_choice_that_lost_its_validation(built, tmp_path):
    cell = make_layout().input_cell("cap_basis")

    def edit(wb):
        ws = wb["Assumptions"]
        ws.data_validations.dataValidation = [
            dv for dv in ws.data_validations.dataValidation if cell not in str(dv.sqref)
        ]

    findings = audit(tamper(built, tmp_path, edit))
    assert "validation-missing" in rules_at(findings, "Assumptions", cell)
