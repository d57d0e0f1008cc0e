"""stmodel refresh: the Engine sheet, the native formulas and stmodel value agree; inputs untouched."""

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import engine
from addin.cli import app
from addin.refresh import OpenpyxlBook, RefreshError, refresh_file
from workbook.audit import audit, summary
from workbook.build import build_workbook, save_atomic
from workbook.layout import ENGINE, make_layout
from workbook.recalc import recalculated_values
from workbook.verify import compare, same

OVERRIDES = {"premium": 0.55, "smart_city_growth_2023F": 0.5, "usdcny": 6.9, "creditor_days_2024F": 500.0}


def inputs_of(path: Path) -> dict:
    wb = load_workbook(path)
    layout = make_layout()
    out = {i.name: wb["Assumptions"][layout.input_cell(i.name)].value for i in layout.inputs}
    for (key, col), (sheet, cell) in layout.homes.items():
        if (key, col) in layout.model.typed:
            out[(sheet, cell)] = wb[sheet][cell].value
    return out


@pytest.fixture(scope="module")
def changed(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("refresh") / "model.xlsx"
    wb = build_workbook()
    layout = make_layout()
    for name, value in OVERRIDES.items():
        wb["Assumptions"][layout.input_cell(name)] = value
    save_atomic(wb, path)
    return path


@pytest.fixture(scope="module")
def refreshed(changed, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("refreshed") / "model.xlsx"
    result = CliRunner().invoke(app, ["refresh", str(changed), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_refresh_never_touches_inputs(changed, refreshed):
    assert inputs_of(changed) == inputs_of(refreshed)


def test_engine_sheet_holds_the_engine_values(refreshed):
    wb = load_workbook(refreshed)
    ws = wb[ENGINE]
    layout = make_layout()
    result = engine.run(OVERRIDES)
    assert ws["B4"].value == engine.__version__
    assert ws["B3"].value.endswith("UTC")
    for (key, col), cell in layout.engine_cells.items():
        if (key, col) in result.env and result.raw(key, col) != "":
            assert same(result.raw(key, col), ws[cell].value), (key, col, cell)


@pytest.mark.slow
def test_engine_native_formulas_and_stmodel_value_agree(refreshed):
    values = recalculated_values(refreshed)
    layout = make_layout()
    result = engine.run(OVERRIDES)
    assert compare(values, layout, result.env) == []
    for (key, col), cell in layout.engine_cells.items():
        if (key, col) in result.env and result.raw(key, col) != "":
            sheet, home = layout.address(key, col)
            assert same(values[ENGINE][cell].value, values[sheet][home].value), (key, col)
    cli = json.loads(
        CliRunner().invoke(app, ["value", "-f", "json", *(f"--set={k}={v}" for k, v in OVERRIDES.items())]).stdout
    )["valuation"]
    tp = values[ENGINE][layout.engine_cells[("target_price", None)]].value
    assert tp == cli["target_price"] and tp != 2.7
    (sheet, cell), *_ = values.defined_names["MasterCheck"].destinations
    assert values[sheet][cell.replace("$", "")].value == "All checks pass"
    counts = summary(audit(refreshed, recalc=True))
    assert counts["error"] == 0 and counts["warning"] == 0


@pytest.mark.slow
def test_a_stale_engine_sheet_fails_the_checks(refreshed, tmp_path):
    wb = load_workbook(refreshed)
    wb["Assumptions"][make_layout().input_cell("premium")] = 0.9  # changed after the refresh
    stale = tmp_path / "stale.xlsx"
    wb.save(stale)
    values = recalculated_values(stale)
    (sheet, cell), *_ = values.defined_names["MasterCheck"].destinations
    assert "Engine" in values[sheet][cell.replace("$", "")].value


def test_a_failure_halfway_leaves_the_file_intact(changed, tmp_path, monkeypatch):
    target = tmp_path / "model.xlsx"
    target.write_bytes(changed.read_bytes())
    before = target.read_bytes()
    real = OpenpyxlBook.write_block

    def half(self, sheet, rows):
        real(self, sheet, rows[: len(rows) // 2])
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(OpenpyxlBook, "write_block", half)
    with pytest.raises(OSError):
        refresh_file(target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


def test_a_bad_input_is_named_by_cell(changed, tmp_path):
    wb = load_workbook(changed)
    cell = make_layout().input_cell("usdcny")
    wb["Assumptions"][cell] = "six"
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    with pytest.raises(RefreshError, match=rf"Assumptions!{cell}: usdcny: expected a number"):
        refresh_file(bad)
    result = CliRunner().invoke(app, ["refresh", str(bad)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_a_changed_reported_figure_reaches_the_engine(changed, tmp_path):
    wb = load_workbook(changed)
    sheet, cell = make_layout().homes[("debtors", "2021A")]
    wb[sheet][cell] = 6000  # a restated 2021A balance
    path = tmp_path / "restated.xlsx"
    wb.save(path)
    refresh_file(path)
    out = load_workbook(path)
    engine_cell = make_layout().engine_cells[("non_cash_wc", "2021A")]
    base = engine.run(OVERRIDES).raw("non_cash_wc", "2021A")
    assert out[ENGINE][engine_cell].value == pytest.approx(float(base) + 6000 - 5776)
