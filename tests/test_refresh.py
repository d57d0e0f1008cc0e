"""stmodel refresh: the Engine sheet, the native formulas and stmodel value agree; inputs untouched."""

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import engine
from engine.lines import YEARS
from engine.scenarios import load_scenarios
from stmodel.cli import app
from workbook.audit import audit, summary
from workbook.book import OpenpyxlBook
from workbook.build import Builder, build_workbook, save_atomic
from workbook.layout import (
    ASSUMPTIONS,
    BEAR_COL,
    ENGINE,
    ENGINE_STATUS,
    HEADER_ROW,
    NOT_REFRESHED,
    SCENARIO_ROW,
    STATEMENTS,
    VALUE_COL,
    YEAR_COLUMN,
    engine_frame,
    make_layout,
    put,
)
from workbook.reader import Assumptions, EngineBlock, ReadError, SheetIndex, grid_of, read_engine
from workbook.recalc import recalculated_values
from workbook.refresh import RefreshError, refresh_file
from workbook.sheets.assumptions import resolve_names
from workbook.verify import compare, same

OVERRIDES = {"premium": 0.55, "smart_city_growth_2023F": 0.5, "usdcny": 6.9, "creditor_days_2024F": 500.0}


def inputs_of(path: Path) -> dict:
    wb = load_workbook(path)
    layout = make_layout()
    out: dict[object, object] = {i.name: wb["Assumptions"][layout.input_cell(i.name)].value for i in layout.inputs}
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


# ------------------------------------------------------------------ the reader refresh reads through


def restated(changed: Path, tmp_path: Path, edit) -> tuple[Path, float]:
    """A refreshed copy of `changed`, edited, with debtors 2021A restated to 6000; and non_cash_wc 2021A expected."""
    wb = load_workbook(changed)
    edit(wb)
    sheet = make_layout().homes[("debtors", "2021A")][0]
    row = SheetIndex(wb[sheet]).key_row["Debtors"]
    wb[sheet][f"{YEAR_COLUMN['2021A']}{row}"] = 6000
    path = tmp_path / "edited.xlsx"
    wb.save(path)
    refresh_file(path)
    base = engine.run(OVERRIDES).raw("non_cash_wc", "2021A")
    return path, float(base) + 6000 - 5776


def engine_block(path: Path) -> EngineBlock:
    return read_engine(grid_of(load_workbook(path)[ENGINE]))


def test_year_columns_are_found_by_position_not_header_text(changed, tmp_path):
    def headers_as_formulas(wb):
        for sheet, *_ in STATEMENTS:
            for year, col in YEAR_COLUMN.items():
                wb[sheet][f"{col}{HEADER_ROW}"] = f'=IF(TRUE,"FY{year[2:4]}","{year}")'  # not the year's name
        wb["Balance Sheet"][f"{YEAR_COLUMN['2021A']}{HEADER_ROW}"] = "2024F"  # nor a misleading one

    path, expected = restated(changed, tmp_path, headers_as_formulas)
    assert engine_block(path).values[("non_cash_wc", "2021A")] == pytest.approx(expected)
    index = SheetIndex(load_workbook(path)["Balance Sheet"])
    assert index.col_key[2] == "2020A" and index.year_columns["2021A"] == 3
    assert index.identity(3, index.key_row["Debtors"]) == ("Balance Sheet", "Debtors", "2021A")


def test_rows_inserted_above_a_line_break_nothing(changed, tmp_path):
    layout = make_layout()

    def insert_rows(wb):
        debtors = next(r.row for r in layout.rows_of("Balance Sheet") if r.key == "debtors")
        wb["Balance Sheet"].insert_rows(debtors)
        wb["Balance Sheet"].insert_rows(HEADER_ROW)  # the year header moves down too
        wb[ASSUMPTIONS].insert_rows(layout.input_row("premium").row)
        wb[ASSUMPTIONS].insert_rows(HEADER_ROW)  # above the Name/Base header and the scenario selector

    path, expected = restated(changed, tmp_path, insert_rows)
    block = engine_block(path)
    assert block.values[("non_cash_wc", "2021A")] == pytest.approx(expected)
    assert block.values[("target_price", None)] == engine.run(OVERRIDES).target_price != 2.7  # premium was read


def test_columns_inserted_before_or_between_the_years_break_nothing(changed, tmp_path):
    """The i-th year column is the layout's i-th year, wherever an inserted column has pushed it."""
    wb = load_workbook(changed)
    wb["Balance Sheet"].insert_cols(2)  # before the years: 2021A moves from C to D
    wb["Income Statement"].insert_cols(4)  # between 2021A and 2022F, with no header
    row = SheetIndex(wb["Balance Sheet"]).key_row["Debtors"]
    wb["Balance Sheet"][f"D{row}"] = 6000  # the restated 2021A balance, in its moved column
    path = tmp_path / "columns.xlsx"
    wb.save(path)
    refresh_file(path)
    base = engine.run(OVERRIDES).raw("non_cash_wc", "2021A")
    assert engine_block(path).values[("non_cash_wc", "2021A")] == pytest.approx(float(base) + 6000 - 5776)
    index = SheetIndex(load_workbook(path)["Income Statement"])
    assert index.year_columns == {"2020A": 2, "2021A": 3, "2022F": 5, "2023F": 6, "2024F": 7}


def test_the_assumptions_reader_serves_a_grid_of_values():
    """A grid as xlwings gives it (numbers as floats) with Bear selected: a driver Bear sets reads Bear, others Base."""
    layout = make_layout()
    ws = build_workbook()[ASSUMPTIONS]
    ws[f"{VALUE_COL}{SCENARIO_ROW}"] = "Bear"
    grid = [[float(v) if type(v) is int else v for v in row] for row in grid_of(ws)]
    sheet = Assumptions(grid, layout)
    assert sheet.scenario == "Bear" and set(sheet.columns) == {"Base", "Bear", "Bull", "Live (used)"}
    name, value = resolve_names(load_scenarios()["bear"].overrides)[0]
    row = layout.input_row(name).row
    assert sheet.used(name).value == value and str(sheet.used(name)) == f"{ASSUMPTIONS}!{BEAR_COL}{row}"
    assert sheet.used("ps_row_usdcny").address == layout.input_cell("ps_row_usdcny")  # not a driver: Base
    ws[f"{VALUE_COL}{SCENARIO_ROW}"] = "Worst"
    with pytest.raises(ReadError, match="scenario in use must be one of Base, Bear, Bull, found 'Worst'"):
        Assumptions(grid_of(ws), layout)


def test_build_and_refresh_write_the_same_engine_frame(changed, refreshed):
    layout = make_layout()
    headings = {y: Builder().year_heading(y, ENGINE) for y in YEARS}  # built: each switches F -> A by formula
    assert grid_of(load_workbook(changed)[ENGINE]) == engine_frame(
        layout.engine_labels, (NOT_REFRESHED, None, None), headings
    )
    done = grid_of(load_workbook(refreshed)[ENGINE])
    block = read_engine(done, layout)
    assert block.status["Engine version"] == engine.__version__ and block.status["Refreshed"].endswith("UTC")
    assert block.values[("target_price", None)] == engine.run(OVERRIDES).target_price
    for cell in layout.engine_cells.values():
        put(done, cell, None)
    assert done == engine_frame(layout.engine_labels, tuple(block.status[s] for s in ENGINE_STATUS))


def test_refresh_prints_the_warnings_and_succeeds(tmp_path):
    """An implausible input is refreshed (it is within the hard bounds) and named on stderr, as `value` does."""
    wb = build_workbook()
    wb[ASSUMPTIONS][make_layout().input_cell("premium")] = 50  # 5,000% typed for 50%
    path = tmp_path / "premium.xlsx"
    save_atomic(wb, path)
    result = CliRunner().invoke(app, ["refresh", str(path)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: {w}" for w in engine.run({"premium": 50}).warnings()]
    assert any(w.startswith("warning: premium=50 ") and w.endswith("did you mean 0.5?") for w in warnings)
    assert result.stderr.splitlines()[-1].startswith(f"refreshed {path}: target price HK$")
    assert refresh_file(path)["warnings"] == engine.run({"premium": 50}).warnings()
