"""Actuals in the workbook: the Actuals sheet, the one formula pattern that uses an actual where one is
entered, year headers that turn from F to A by formula, a workbook built from a model file (its drivers,
actuals, Variance sheet and recorded text), and refresh, audit and export of such workbooks.

The LibreOffice tests recalculate every workbook they need in one run (`recalculated_values_of`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

import engine
from engine.actuals import actual_lines
from engine.lines import FCST, HIST
from engine.model_file import ModelFile
from workbook.audit import audit, summary
from workbook.build import build_workbook, save_atomic
from workbook.layout import (
    ACTUALS,
    ASSUMPTIONS,
    CHECKS,
    ENGINE,
    INCOME,
    MODEL_FILE_SHEET,
    SEGMENTS,
    SHEETS,
    VARIANCE,
    VARIANCE_COLUMNS,
    at,
    make_layout,
)
from workbook.reader import SheetIndex, grid_of, read_engine, recorded_model_file
from workbook.refresh import RefreshError, refresh_file
from workbook.verify import compare, error_cells, same

SEGMENT_KEYS = ("smart_business", "smart_city", "smart_life", "smart_auto")
FACTORS = {"smart_business": 0.8, "smart_city": 0.8, "smart_life": 1.25, "smart_auto": 1.25, "cogs": 1.2}
PATTERN = re.compile(r"^=IF\(ISNUMBER\((Actuals![A-Z]+\d+)\),\1,(.+)\)$")


def report_actuals() -> dict[str, float]:
    """2022 actuals for the four segments and cost of sales, each at least 5% away from the report's forecast."""
    base = engine.run()
    out = {}
    for key, factor in FACTORS.items():
        forecast = base.value(key, "2022F")
        assert isinstance(forecast, float)
        out[key] = round(forecast * factor, 1)
        assert abs(out[key] - forecast) >= 0.05 * abs(forecast)
    return out


def model_file(actuals: dict[str, float], drivers: dict[str, Any] | None = None, year: int = 2022) -> ModelFile:
    mf = ModelFile.new()
    for name, value in (drivers or {}).items():
        mf.set_driver(name, value)
    for key, value in actuals.items():
        mf.set_actual(year, key, value)
    return ModelFile.parse(mf.text())


def type_actuals(path: Path, out: Path, actuals: dict[str, float], year: str = "2022F") -> Path:
    """Type actuals into the Actuals sheet of a built workbook, as an analyst would in Excel."""
    wb = load_workbook(path)
    lay = make_layout().actuals
    for key, value in actuals.items():
        wb[ACTUALS][lay.cell(key, year)] = value
    save_atomic(wb, out)
    return out


def headings(wb: Any) -> dict[str, dict[str, Any]]:
    """Each sheet's year headings as calculated: sheet -> {column name: heading}."""
    out = {}
    for sheet, headers in make_layout().year_headers.items():
        header = headers[0]
        out[sheet] = {y: wb[sheet][at(col, header.row)].value for y, col in header.columns.items()}
    return out


# ------------------------------------------------------------------ fast: the template


@pytest.fixture(scope="module")
def wb() -> Any:
    return build_workbook()


def test_actuals_sheet_follows_assumptions_and_has_a_blue_cell_per_line_and_forecast_year(wb):
    assert wb.sheetnames.index(ACTUALS) == wb.sheetnames.index(ASSUMPTIONS) + 1
    assert list(SHEETS) == wb.sheetnames and VARIANCE not in wb.sheetnames
    ws = wb[ACTUALS]
    lay = make_layout().actuals
    model = engine.compile_model()
    lines = actual_lines(model)
    assert list(lay.rows) == list(lines)
    assert sorted(lay.headings.values()) == sorted(set(lines.values()))
    for key, row in lay.rows.items():
        assert ws[f"B{row}"].value == key
        assert ws[f"A{row}"].value  # the label as printed
        for year in FCST:
            c = ws[lay.cell(key, year)]
            assert c.value is None and c.font.color.rgb.endswith("0000FF")
            assert "(" in c.number_format  # negatives in parentheses
    for row, title in lay.headings.items():
        assert ws[f"A{row}"].value == title and ws[f"A{row}"].font.b
    assert any("restates the printed figure" in str(c.value) for c in ws["A"])


def test_every_line_that_takes_an_actual_has_the_one_pattern_and_subtotals_do_not(wb):
    layout = make_layout()
    model = layout.model
    lines = actual_lines(model)
    seen = 0
    for (key, year), (sheet, cell) in layout.homes.items():
        if year not in FCST:
            continue
        text = wb[sheet][cell].value
        m = PATTERN.match(str(text))
        if key in lines:
            assert m, f"{sheet}!{cell} {key} {year}: {text}"
            assert m.group(1) == f"{ACTUALS}!{layout.actuals.cell(key, year)}"
            seen += 1
        else:
            assert not str(text).startswith("=IF(ISNUMBER(Actuals!"), f"{key} {year} is computed, never typed"
    assert seen == len(lines) * len(FCST)


def test_every_year_header_of_a_forecast_column_switches_by_formula(wb):
    for sheet, years in headings(wb).items():
        for year, value in years.items():
            if year in HIST:
                assert value == year
            else:
                lay = make_layout().actuals
                col = lay.header.columns[year]
                last = max(int(lay.cell(key, year).lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for key in lay.rows)
                assert last > 6  # the block of line rows, below the header
                prefix = "" if sheet == ACTUALS else "Actuals!"
                assert value == f'={prefix}{col}$4&IF(COUNT({prefix}{col}$6:{col}${last})>0,"A","F")', sheet


# ------------------------------------------------------------------ fast: a model file


@pytest.fixture(scope="module")
def mf() -> ModelFile:
    return model_file(report_actuals(), {"premium": 0.45})


@pytest.fixture(scope="module")
def mf_book(mf) -> Any:
    return build_workbook(model_file=mf)


def test_model_file_drivers_actuals_and_text_are_in_the_workbook(mf, mf_book):
    layout = make_layout()
    assert mf_book[ASSUMPTIONS][layout.input_cell("premium")].value == 0.45
    assert mf_book[ASSUMPTIONS][layout.input_cell("usdcny")].value == engine.base_values()["usdcny"]
    for key, value in report_actuals().items():
        assert mf_book[ACTUALS][layout.actuals.cell(key, "2022F")].value == value
    assert mf_book.sheetnames.index(VARIANCE) == mf_book.sheetnames.index(ACTUALS) + 1
    assert mf_book[MODEL_FILE_SHEET].sheet_state == "hidden"
    recorded = recorded_model_file(mf_book)
    assert recorded is not None
    assert recorded.actuals == mf.actuals and recorded.drivers == mf.drivers
    assert recorded_model_file(build_workbook()) is None


def test_variance_sheet_rows_link_the_actuals_and_type_the_report_forecast(mf, mf_book):
    ws = mf_book[VARIANCE]
    index = SheetIndex(ws)
    base = engine.run()
    header = index.key_row["Line"]
    col = {title: i + 1 for i, title in enumerate(VARIANCE_COLUMNS)}
    for i, key in enumerate(report_actuals(), start=header + 1):
        assert ws.cell(i, col["Key"]).value == key
        assert ws.cell(i, col["Report forecast"]).value == base.value(key, "2022F")
        source = f"{ACTUALS}!{make_layout().actuals.cell(key, '2022F')}"
        assert ws.cell(i, col["Actual"]).value == f'=IF(ISNUMBER({source}),{source},"")'  # cleared: blank
        assert ws.cell(i, col["Difference"]).value == f'=IF(ISNUMBER(E{i}),E{i}-D{i},"")'
        assert "the report's forecast" in ws.cell(i, col["Forecast source"]).value
    before = engine.run(mf.overrides())
    row = index.key_row["12-month target price (HK$)"]
    assert ws.cell(row, 2).value == before.target_price and ws.cell(row, 3).value == "=TargetPrice"


def test_a_restatement_of_a_reported_year_goes_into_the_statement_cell():
    mf = model_file({"smart_business": 1500.0}, year=2021)
    wb = build_workbook(model_file=mf)
    sheet, cell = make_layout().homes[("smart_business", "2021A")]
    assert wb[sheet][cell].value == 1500.0
    ws = wb[VARIANCE]
    assert ws["C4"].value == "2021A" and ws["E4"].value == f"={SEGMENTS}!{cell}"


def test_audit_knows_actuals_and_a_model_file_workbook(built, mf_book, tmp_path):
    typed = type_actuals(built, tmp_path / "typed.xlsx", report_actuals())
    assert summary(audit(typed)) == {"error": 0, "warning": 0, "info": 1}  # not recalculated
    path = tmp_path / "mf.xlsx"
    save_atomic(mf_book, path)
    findings = audit(path)
    assert summary(findings)["error"] == 0 and summary(findings)["warning"] == 0, findings
    # a subtotal typed over in a statement is still reported
    wb = load_workbook(typed)
    sheet, cell = make_layout().homes[("gross_profit", "2022F")]
    wb[sheet][cell] = 123.0
    save_atomic(wb, tmp_path / "hard.xlsx")
    assert [(f.rule, f.cell) for f in audit(tmp_path / "hard.xlsx") if f.severity == "error"] == [("hardcode", cell)]


def test_audit_reports_an_unreadable_model_file_sheet(mf_book, tmp_path):
    mf_book_copy = build_workbook(model_file=model_file(report_actuals()))
    mf_book_copy[MODEL_FILE_SHEET]["A1"] = "[[[ not toml"
    save_atomic(mf_book_copy, tmp_path / "bad.xlsx")
    assert "model-file" in {f.rule for f in audit(tmp_path / "bad.xlsx")}


def test_headless_refresh_reads_the_actuals_sheet(built, mf, tmp_path):
    actuals = report_actuals()
    typed = type_actuals(built, tmp_path / "typed.xlsx", actuals)
    refresh_file(typed)
    block = read_engine(grid_of(load_workbook(typed)[ENGINE]))
    expected = engine.run(model_file=model_file(actuals))
    for (key, col), value in block.values.items():
        if (key, col) not in expected.env:
            continue
        want = expected.raw(key, col)
        if value is not None and not (isinstance(want, str) and want == ""):
            assert same(want, value), (key, col, want, value)
    header = make_layout().year_headers[ENGINE][0]  # headed as the values' model heads it
    grid = grid_of(load_workbook(typed)[ENGINE])
    assert [grid[header.row - 1][i] for i in range(3, 6)] == ["2022A", "2023F", "2024F"]


def test_refresh_refuses_an_actual_that_is_not_a_number(built, tmp_path):
    typed = type_actuals(built, tmp_path / "typed.xlsx", {"smart_city": "lots"})  # type: ignore[dict-item]
    before = typed.read_bytes()
    cell = make_layout().actuals.cell("smart_city", "2022F")
    with pytest.raises(RefreshError, match=f"Actuals!{cell}.*expected a number"):
        refresh_file(typed)
    assert typed.read_bytes() == before


def test_refresh_with_a_model_file_puts_it_into_the_workbook(built, mf, mf_book, tmp_path):
    out = tmp_path / "refreshed.xlsx"
    refresh_file(built, out, model_file=mf)
    wb = load_workbook(out)
    layout = make_layout()
    assert wb[ASSUMPTIONS][layout.input_cell("premium")].value == 0.45
    for key, value in report_actuals().items():
        assert wb[ACTUALS][layout.actuals.cell(key, "2022F")].value == value
    recorded = recorded_model_file(wb)
    assert recorded is not None and recorded.actuals == mf.actuals
    assert VARIANCE in wb.sheetnames
    block = read_engine(grid_of(wb[ENGINE]))
    assert block.values[("target_price", None)] == engine.run(model_file=mf).target_price
    findings = audit(out)
    assert [f for f in findings if f.severity in ("error", "warning")] == [], findings


# ------------------------------------------------------------------ LibreOffice: the same values as the engine


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory) -> dict[str, Any]:
    """(a) the built workbook with 2022 actuals typed in, (c) a workbook built from a model file, (e) (a)
    refreshed, recalculated in one LibreOffice run; (b) the analyst copy of (a), exported."""
    from workbook.export import export_analyst_copy
    from workbook.recalc import recalculated_values_of

    tmp = tmp_path_factory.mktemp("actuals")
    actuals = report_actuals()
    built = tmp / "built.xlsx"
    save_atomic(build_workbook(), built)
    typed = type_actuals(built, tmp / "typed.xlsx", actuals)
    mf = model_file(actuals, {"premium": 0.45})
    from_file = tmp / "from_file.xlsx"
    save_atomic(build_workbook(model_file=mf), from_file)
    refreshed = tmp / "refreshed.xlsx"
    refresh_file(typed, refreshed)
    analyst = tmp / "analyst.xlsx"
    exported = export_analyst_copy(typed, analyst)
    analyst_of_file = tmp / "analyst_of_file.xlsx"
    exported_of_file = export_analyst_copy(from_file, analyst_of_file)
    a, c, e = recalculated_values_of([typed, from_file, refreshed])
    return {
        "paths": {"a": typed, "c": from_file, "b": analyst, "b_of_c": analyst_of_file},
        "a": a,
        "b": load_workbook(analyst, data_only=True),
        "c": c,
        "e": e,
        "exported": exported,
        "b_of_c": load_workbook(analyst_of_file, data_only=True),
        "exported_of_file": exported_of_file,
        "mf": mf,
        "plain": model_file(actuals),
    }


def _same_as_engine(values: Any, mf: ModelFile) -> None:
    result = engine.run(model_file=mf)
    differences = compare(values, make_layout(), result.env)
    assert not differences, "\n".join(map(str, differences[:10]))
    assert not error_cells(values)
    for sheet, years in headings(values).items():
        assert years["2022F"] == "2022A", sheet
        assert (years["2023F"], years["2024F"]) == ("2023F", "2024F"), sheet
    assert values[CHECKS][make_layout().checks.master_cell].value == "All checks pass"


@pytest.mark.slow
def test_actuals_typed_into_the_workbook_give_the_engine_values(recalculated):
    _same_as_engine(recalculated["a"], recalculated["plain"])
    revenue = recalculated["a"][INCOME][make_layout().homes[("revenue", "2022F")][1]].value
    assert revenue == pytest.approx(sum(report_actuals()[k] for k in SEGMENT_KEYS), rel=1e-12)


@pytest.mark.slow
def test_the_analyst_copy_gives_the_same(recalculated):
    assert summary(recalculated["exported"].findings)["error"] == 0
    _same_as_engine(recalculated["b"], recalculated["plain"])
    ws = load_workbook(recalculated["paths"]["b"])[ACTUALS]
    cell = make_layout().actuals.cell("tax", "2023F")
    assert ws[cell].protection.locked is False  # a blank actual can still be typed in the protected copy


@pytest.mark.slow
def test_a_workbook_built_from_a_model_file_gives_the_same_and_its_variance(recalculated):
    values, mf = recalculated["c"], recalculated["mf"]
    _same_as_engine(values, mf)
    ws = values[VARIANCE]
    base = engine.run()
    index = SheetIndex(load_workbook(recalculated["paths"]["c"])[VARIANCE])
    first = index.key_row["Line"] + 1
    for row, (key, actual) in enumerate(report_actuals().items(), start=first):
        forecast = base.value(key, "2022F")
        assert isinstance(forecast, float)
        assert ws[f"C{row}"].value == "2022A"
        assert ws[f"E{row}"].value == actual
        assert ws[f"F{row}"].value == pytest.approx(actual - forecast, rel=1e-12, abs=1e-9)
        assert ws[f"G{row}"].value == pytest.approx((actual - forecast) / abs(forecast), rel=1e-12)
    row = index.key_row["12-month target price (HK$)"]
    after = engine.run(model_file=mf)
    assert ws[f"C{row}"].value == pytest.approx(after.target_price, abs=1e-12)
    assert ws[f"B{row}"].value == engine.run(mf.overrides()).target_price
    assert values[VARIANCE][f"C{index.key_row['Rating']}"].value == after.valuation()["rating"]


@pytest.mark.slow
def test_the_analyst_copy_of_a_model_file_workbook_keeps_actuals_and_variance_as_formulas(recalculated):
    assert summary(recalculated["exported_of_file"].findings)["error"] == 0
    values = recalculated["b_of_c"]
    _same_as_engine(values, recalculated["mf"])
    formulas = load_workbook(recalculated["paths"]["b_of_c"])
    assert formulas[VARIANCE]["F4"].value == '=IF(ISNUMBER(E4),E4-D4,"")'
    assert formulas[VARIANCE]["E4"].value.startswith("=IF(ISNUMBER(Actuals!")
    row = SheetIndex(formulas[VARIANCE]).key_row["12-month target price (HK$)"]
    assert values[VARIANCE][f"C{row}"].value == pytest.approx(engine.run(model_file=recalculated["mf"]).target_price)
    assert recorded_model_file(formulas) is not None  # audited against the same template


@pytest.mark.slow
def test_audit_with_recalculation_finds_no_errors(recalculated):
    for name in ("a", "c"):
        findings = audit(recalculated["paths"][name], recalc=True)
        errors = [f for f in findings if f.severity == "error"]
        assert not errors, errors


@pytest.mark.slow
def test_refresh_of_typed_actuals_agrees_with_the_workbook(recalculated):
    values = recalculated["e"]
    assert values[CHECKS][make_layout().checks.master_cell].value == "All checks pass"
    block = read_engine(grid_of(values[ENGINE]))
    assert block.status["Refreshed"] != "not refreshed yet"
    assert [values[ENGINE].cell(make_layout().year_headers[ENGINE][0].row, c).value for c in (4, 5, 6)] == [
        "2022A",
        "2023F",
        "2024F",
    ]
