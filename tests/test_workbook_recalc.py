"""End to end: build, recalculate in real LibreOffice, and compare with the engine cell by cell."""

import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import engine
from stmodel.cli import app
from workbook.layout import make_layout
from workbook.recalc import RecalcError, recalculate, recalculated_values
from workbook.verify import compare, error_cells

pytestmark = pytest.mark.slow


def named_value(values, name: str):
    (sheet, cell), *_ = values.defined_names[name].destinations
    return values[sheet][cell.replace("$", "")].value


@pytest.fixture(scope="module")
def base_values(built):
    return recalculated_values(built)


def test_every_engine_cell_is_in_the_workbook_with_the_same_value(base_values):
    layout = make_layout()
    result = engine.run()
    differences = compare(base_values, layout, result.env)
    assert differences == [], "\n".join(map(str, differences[:30]))
    checked = sum(1 for node in layout.homes if node in result.env)
    assert checked > 500


def test_no_error_values_and_the_report_outputs(base_values):
    assert error_cells(base_values) == []
    assert named_value(base_values, "TargetPrice") == 2.7
    assert named_value(base_values, "Rating") == "BUY"
    assert named_value(base_values, "Upside") == pytest.approx(0.25)
    assert named_value(base_values, "LastPrice") == 2.16
    assert named_value(base_values, "MasterCheck") == "All checks pass"


def test_the_udf_panel_reads_as_a_note_without_the_add_in(built, base_values):
    from workbook.build import NEEDS_ADDIN

    formulas = load_workbook(built)["Cover"]
    cells = [c for row in formulas.iter_rows() for c in row if isinstance(c.value, str) and "ST_" in c.value]
    assert len(cells) == 3
    for c in cells:
        assert c.value.startswith("=IFERROR(ST_")
        assert base_values["Cover"][c.coordinate].value == NEEDS_ADDIN


def test_changed_drivers_in_the_workbook_match_stmodel_value(built, tmp_path):
    overrides = {"premium": 0.6, "smart_auto_growth_2024F": 0.8, "usdcny": 7.1, "debtor_days_2023F": 300.0}
    wb = load_workbook(built)
    layout = make_layout()
    for name, value in overrides.items():
        wb["Assumptions"][layout.input_cell(name)].value = value
    changed = tmp_path / "changed.xlsx"
    wb.save(changed)
    values = recalculated_values(changed)

    result = engine.run(overrides)
    differences = compare(values, layout, result.env)
    assert differences == [], "\n".join(map(str, differences[:30]))
    assert named_value(values, "MasterCheck") == "All checks pass"

    args = ["value", "--format", "json", *(a for k, v in overrides.items() for a in ("--set", f"{k}={v}"))]
    cli = json.loads(CliRunner().invoke(app, args).stdout)["valuation"]
    assert named_value(values, "TargetPrice") == pytest.approx(cli["target_price"], rel=1e-9)
    assert named_value(values, "TargetPriceUnrounded") == pytest.approx(cli["target_price_unrounded"], rel=1e-9)
    assert named_value(values, "Upside") == pytest.approx(cli["upside_pct"] / 100, rel=1e-9)
    assert named_value(values, "Rating") == cli["rating"]
    assert cli["target_price"] != 2.7  # the drivers did move the answer


def test_a_tampered_balance_fails_the_master_check(built, tmp_path):
    wb = load_workbook(built)
    row = next(r for r in make_layout().rows_of("Balance Sheet") if r.key == "nfa")
    wb["Balance Sheet"][f"E{row.row}"].value = 9999  # a typed number over a forecast formula
    path = tmp_path / "tampered.xlsx"
    wb.save(path)
    values = recalculated_values(path)
    assert "Balance sheet balances 2023F" in named_value(values, "MasterCheck")


def test_recalc_errors_are_clear(tmp_path):
    with pytest.raises(RecalcError, match="no such file"):
        recalculate(tmp_path / "missing.xlsx", tmp_path / "out.xlsx")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    with pytest.raises(RecalcError):
        recalculate(junk, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_the_scenario_selector_switches_the_whole_model(built, tmp_path):
    from engine.scenarios import load_scenarios
    from workbook.layout import SCENARIO_ROW, VALUE_COL

    wb = load_workbook(built)
    wb["Assumptions"][f"{VALUE_COL}{SCENARIO_ROW}"] = "Bear"
    path = tmp_path / "bear.xlsx"
    wb.save(path)
    values = recalculated_values(path)
    bear = engine.run(load_scenarios()["bear"].overrides)
    differences = compare(values, make_layout(), bear.env)
    assert differences == [], "\n".join(map(str, differences[:20]))
    assert named_value(values, "TargetPrice") == bear.target_price != 2.7
    # the defined names still point at the Base inputs
    assert named_value(values, "premium") == 0.4


def test_the_sensitivity_grid_is_native_and_matches_the_engine(built, base_values):
    from engine.sensitivity import default_axes, grid

    rows, cols = default_axes()
    expected = grid(rows, cols)
    ws = base_values["Valuation"]
    top = make_layout().grid_row + 1
    assert [ws.cell(top, 2 + j).value for j in range(len(cols.values))] == list(cols.values)
    for i, rv in enumerate(rows.values):
        assert ws.cell(top + 1 + i, 1).value == rv
        got = [ws.cell(top + 1 + i, 2 + j).value for j in range(len(cols.values))]
        assert got == pytest.approx(list(expected[i]))
    formulas = load_workbook(built)["Valuation"]
    assert str(formulas.cell(top + 1, 2).value).startswith("=MROUND(")
    base_cell = ws.cell(top + 1 + rows.values.index(0.4), 2 + cols.values.index(6.75)).value
    assert base_cell == named_value(base_values, "TargetPrice") == 2.7
