"""The workbook carries the model's years: a model file extended to 2026 (`ModelFile.extend`), with market
data dated by its [market] table and, in a second case, the valuation moved to 2025 on the six peers'
FY2025E sales. Every sheet with year columns has 2025F and 2026F, the added years' drivers are blue
inputs with their defined names, validation and plausible range, the peer table gains FY2025E, the
Cover shows the date of the market data, and the workbook recalculated in LibreOffice equals
`engine.run(model_file=...)` on every line cell of every year (1e-9), with every check passing; so do
its refreshed copy and its analyst copy.

The LibreOffice tests recalculate every workbook they need in one run (`recalculated_values_of`); the
analyst copy carries its values from the export's own recalculation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

import engine
from engine.drivers import drivers
from engine.lines import FCST, HIST, YEARS
from engine.model_file import ModelFile
from workbook.audit import audit, summary
from workbook.build import build_workbook, save_atomic
from workbook.formulas import number_literals, relative_form
from workbook.layout import (
    ACTUALS,
    ASSUMPTIONS,
    CHECKS,
    COVER,
    DRIVERS_NAME_COL,
    DRIVERS_VALUE_COL,
    ENGINE,
    LIVE_COL,
    MARKET_AS_OF_CELL,
    PLAUSIBLE_HIGH_COL,
    PLAUSIBLE_LOW_COL,
    SEGMENTS,
    VALUATION,
    VALUE_COL,
    Layout,
    at,
    make_layout,
)
from workbook.reader import grid_of, layout_of, read_engine
from workbook.refresh import RefreshError, refresh_file
from workbook.verify import compare, error_cells, same

ADDED = ("2025F", "2026F")
AS_OF = dt.date(2024, 3, 28)
MARKET = {"as_of": AS_OF.isoformat(), "last_price": 1.5, "usdcny": 7.2, "hkdusd": 7.82, "palantir_price": 20.0}
SALES_2025 = {  # US$ m, each above the report's FY2024E
    "alinnovation": 760.0,
    "cloudwalk": 590.0,
    "deep_glint": 131.0,
    "arcsoft": 196.0,
    "palantir": 3480.0,
    "ui_path": 1720.0,
}


def extended(target_2025: bool = False) -> ModelFile:
    """A model file extended to 2026 with market data; with `target_2025`, the peers' FY2025E sales and
    the valuation on 2025."""
    mf = ModelFile.new()
    mf.extend(2026)
    mf.set_market(MARKET, "market.csv")
    if target_2025:
        for peer, sales in SALES_2025.items():
            mf.set_driver(f"{peer}_sales_FY2025E", sales)
        mf.set_driver("target_year", 2025)
    return ModelFile.parse(mf.text())


def layout_for(mf: ModelFile) -> Layout:
    return make_layout(engine.run(model_file=mf).model)


def year_headings(values: Any, layout: Layout) -> dict[str, dict[str, Any]]:
    """Each sheet's year headings as calculated: sheet -> {column: heading}."""
    out = {}
    for sheet, headers in layout.year_headers.items():
        header = headers[0]
        out[sheet] = {y: values[sheet][at(col, header.row)].value for y, col in header.columns.items()}
    return out


# ------------------------------------------------------------------ fast: the template


@pytest.fixture(scope="module")
def mf() -> ModelFile:
    return extended()


@pytest.fixture(scope="module")
def mf25() -> ModelFile:
    return extended(target_2025=True)


@pytest.fixture(scope="module")
def wb(mf) -> Any:
    return build_workbook(model_file=mf)


@pytest.fixture(scope="module")
def wb25(mf25) -> Any:
    return build_workbook(model_file=mf25)


def test_the_layout_follows_the_model_years(mf):
    layout = layout_for(mf)
    assert layout.years == (*YEARS, *ADDED)
    assert dict(layout.year_column) == dict(zip(layout.years, "BCDEFGH", strict=True))
    assert (layout.first_year_col, layout.last_year_col, layout.engine_key_col) == ("B", "H", "I")
    assert layout.actuals.columns == {"2022F": "D", "2023F": "E", "2024F": "F", "2025F": "G", "2026F": "H"}
    for (key, year), (sheet, cell) in layout.homes.items():
        if year is not None:
            assert cell.startswith(layout.year_column[year]), (key, year, sheet, cell)
    by_year = [k for k, line in layout.model.lines.items() if line.by_year]
    assert all((k, "2026F") in layout.homes for k in by_year)
    # the reader finds the same places from the workbook's recorded model file
    assert layout_of(build_workbook(model_file=mf)).homes == layout.homes
    assert make_layout().years == YEARS  # the report's workbook keeps its five columns


def test_every_year_sheet_is_headed_to_2026(mf, wb):
    layout = layout_for(mf)
    for sheet, headers in layout.year_headers.items():
        header = headers[0]
        assert list(header.columns)[-2:] == list(ADDED), sheet
        for year in ADDED:
            col = layout.actuals.columns[year]
            prefix = "" if sheet == ACTUALS else "Actuals!"
            assert wb[sheet][at(header.columns[year], header.row)].value.startswith(f"={prefix}{col}$4&"), sheet
    assert [wb[ACTUALS][f"{c}4"].value for c in "DEFGH"] == [2022, 2023, 2024, 2025, 2026]
    assert wb[ENGINE][f"{layout.engine_key_col}{layout.engine_header.row}"].value == "Key"


def test_added_years_hold_one_formula_per_row_and_no_typed_numbers(mf, wb):
    layout = layout_for(mf)
    for row in layout.year_rows:
        if not row.key or row.key in ("consensus_eps", "earnings_rev", "other_broker_recs"):
            continue
        forms = set()
        for year in layout.forecast:
            c = wb[row.sheet][at(layout.year_column[year], row.row)]
            assert isinstance(c.value, str) and c.value.startswith("="), (row.sheet, row.label, year)
            forms.add(relative_form(c.value, c.coordinate, year))
        assert len(forms) == 1, (row.sheet, row.label, forms)
    found = [
        (ws.title, c.coordinate)
        for ws in wb.worksheets
        for r in ws.iter_rows()
        for c in r
        if isinstance(c.value, str) and c.value.startswith("=") and [n for n in number_literals(c.value) if n != "0"]
    ]
    assert found == []


def test_the_added_years_drivers_are_named_blue_inputs_with_their_range(mf, wb):
    layout = layout_for(mf)
    ws = wb[ASSUMPTIONS]
    registry = drivers(layout.model.report, layout.model.years)
    values = dict(mf.drivers)
    added = [name for name, d in registry.items() if d.column in ADDED]
    assert len(added) > 60 and "smart_auto_growth_2026F" in added
    first, last = layout.driver_rows
    validated = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    for name in added:
        row = layout.input_row(name).row
        assert first <= row <= last
        base = ws[at(VALUE_COL, row)]
        assert base.value == pytest.approx(values[name], rel=1e-15) and base.font.color.rgb.endswith("0000FF")
        assert wb.defined_names[name].attr_text == f"{ASSUMPTIONS}!${VALUE_COL}${row}"
        assert wb.defined_names[f"live_{name}"].attr_text == f"{ASSUMPTIONS}!${LIVE_COL}${row}"
        assert (ws[at(DRIVERS_NAME_COL, row)].value, ws[at(DRIVERS_VALUE_COL, row)].value) == (name, f"=E{row}")
        assert f"B{row}:D{row}" in validated, name
        plausible = registry[name].plausible
        got = [ws[at(PLAUSIBLE_LOW_COL, row)].value, ws[at(PLAUSIBLE_HIGH_COL, row)].value]
        assert got == (pytest.approx(list(plausible)) if plausible else [None, None]), name
    # the Drivers range the UDFs read covers them, and the added years' report adjustments are zero inputs
    assert wb.defined_names["Drivers"].attr_text.startswith(f"{ASSUMPTIONS}!$L$7:$M$")
    assert ws[layout.input_cell("tax_timing_2026F")].value == 0.0


def test_target_year_is_a_validated_input_and_the_target_block_shows_the_new_lines(mf, mf25, wb, wb25):
    for model_file, book, years in ((mf, wb, "2022,2023,2024"), (mf25, wb25, "2022,2023,2024,2025")):
        layout = layout_for(model_file)
        row = layout.input_row("target_year").row
        (dv,) = [dv for dv in book[ASSUMPTIONS].data_validations.dataValidation if str(dv.sqref) == f"B{row}:D{row}"]
        assert (dv.type, dv.formula1, dv.showInputMessage, dv.showErrorMessage) == ("list", f'"{years}"', True, True)
        assert dv.prompt.startswith("Valuation year") and dv.promptTitle == "target_year"
        for key in ("target_peer_ps", "target_revenue", "target_shares"):
            sheet, cell = layout.homes[(key, None)]
            assert sheet == VALUATION and book[sheet][cell].value.startswith("=IF(live_target_year=Actuals!$D$4,")
    assert wb25[ASSUMPTIONS][layout_for(mf25).input_cell("target_year")].value == 2025


def test_the_peer_table_gains_the_fy2025_columns_when_every_peer_has_sales(mf, mf25, wb, wb25):
    plain, with_sales = layout_for(mf).valuation.peers, layout_for(mf25).valuation.peers
    assert "Sales FY2025E" not in plain.headers and "P/S FY2025E" not in plain.headers
    assert plain.headers[-1] == "P/S FY2024E"
    assert with_sales.headers[-2:] == ("P/S FY2024E", "P/S FY2025E")
    assert "Sales FY2025E" in with_sales.headers
    layout = layout_for(mf25)
    for peer, sales in SALES_2025.items():
        sheet, cell = layout.homes[(f"{peer}_sales_FY2025E", None)]
        assert wb25[sheet][cell].value == f"=live_{peer}_sales_FY2025E"
        assert wb25[ASSUMPTIONS][layout.input_cell(f"{peer}_sales_FY2025E")].value == sales
    assert wb25[VALUATION][at(with_sales.column("P/S FY2025E"), with_sales.average_row)].value.startswith("=AVERAGE(")


def test_the_cover_shows_the_market_data_date_and_the_price(mf, wb):
    layout = layout_for(mf)
    assert wb[ASSUMPTIONS][MARKET_AS_OF_CELL].value == AS_OF
    assert wb.defined_names["market_as_of"].attr_text == f"{ASSUMPTIONS}!$B$5"
    row = layout.cover.summary["market_as_of"]
    assert (wb[COVER][f"A{row}"].value, wb[COVER][f"B{row}"].value) == ("Market data as of", "=market_as_of")
    assert wb[COVER][f"B{row}"].number_format == "yyyy-mm-dd"
    assert wb[COVER][f"B{layout.cover.summary['last_price']}"].value == "=LastPrice"
    assert wb[ASSUMPTIONS][layout.input_cell("last_price")].value == 1.5
    assert list(layout.cover.header.columns) == ["2021A", *FCST, *ADDED]
    # the report's workbook: the report's date
    report = build_workbook()
    assert report[ASSUMPTIONS][MARKET_AS_OF_CELL].value == dt.date(2023, 1, 12)


def test_the_segment_chart_covers_the_added_years(wb):
    (chart,) = wb[SEGMENTS]._charts
    categories = chart.series[0].cat.numRef or chart.series[0].cat.strRef
    assert categories.f.endswith("$B$3:$H$3")
    assert all(s.val.numRef.f.split(":")[-1].startswith("$H$") for s in chart.series)


def test_an_extended_workbook_audits_clean_and_refreshes(mf, wb, tmp_path):
    path = tmp_path / "extended.xlsx"
    save_atomic(wb, path)
    findings = audit(path)
    assert [f for f in findings if f.severity in ("error", "warning")] == [], findings
    refresh_file(path)
    layout = layout_for(mf)
    block = read_engine(grid_of(load_workbook(path)[ENGINE]), layout)
    expected = engine.run(model_file=mf)
    seen = 0
    for (key, col), value in block.values.items():
        want = expected.env.get((key, col))
        if want is None or value is None or (isinstance(want, str) and want == ""):
            continue
        assert same(want, value), (key, col, want, value)
        seen += col in ADDED
    assert seen > 100


def test_a_model_file_with_other_years_is_not_put_into_a_workbook(built, mf, tmp_path):
    before = built.read_bytes()
    with pytest.raises(RefreshError, match=r"not the workbook's.*stmodel build --model"):
        refresh_file(built, tmp_path / "out.xlsx", model_file=mf)
    assert built.read_bytes() == before and not (tmp_path / "out.xlsx").exists()


# ------------------------------------------------------------------ LibreOffice: the same values as the engine


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory) -> dict[str, Any]:
    """The workbooks of both model files and the first one refreshed, recalculated in one LibreOffice run;
    the analyst copy of the first, exported (its values from the export's recalculation)."""
    from workbook.export import export_analyst_copy
    from workbook.recalc import recalculated_values_of

    tmp = tmp_path_factory.mktemp("years")
    files = {"plain": extended(), "target_2025": extended(target_2025=True)}
    paths: dict[str, Path] = {}
    for name, mf in files.items():
        paths[name] = tmp / f"{name}.xlsx"
        save_atomic(build_workbook(model_file=mf), paths[name])
    paths["refreshed"] = tmp / "refreshed.xlsx"
    refresh_file(paths["plain"], paths["refreshed"])
    paths["analyst"] = tmp / "analyst.xlsx"
    exported = export_analyst_copy(paths["plain"], paths["analyst"])
    names = ("plain", "target_2025", "refreshed")
    values = dict(zip(names, recalculated_values_of([paths[n] for n in names]), strict=True))
    values["analyst"] = load_workbook(paths["analyst"], data_only=True)
    return {"files": files, "paths": paths, "values": values, "exported": exported}


def _same_as_engine(values: Any, mf: ModelFile) -> None:
    result = engine.run(model_file=mf)
    layout = make_layout(result.model)
    differences = compare(values, layout, result.env)
    assert not differences, "\n".join(map(str, differences[:10]))
    assert not error_cells(values)
    lines = [k for k, line in result.model.lines.items() if line.by_year and (k, "2026F") in result.env]
    assert len(lines) > 90 and all((k, y) in layout.homes for k in lines for y in ADDED)  # all were compared
    for sheet, years in year_headings(values, layout).items():
        assert [years[y] for y in ADDED] == list(ADDED), sheet
        assert all(years[y] == y for y in HIST if y in years), sheet
    assert values[CHECKS][layout.checks.master_cell].value == "All checks pass"
    assert values[CHECKS][layout.checks.warnings_cell].value == "No warnings"
    cover = layout.cover.summary
    assert values[COVER][f"B{cover['market_as_of']}"].value == dt.datetime.combine(AS_OF, dt.time())
    assert values[COVER][f"B{cover['last_price']}"].value == MARKET["last_price"]
    assert values[COVER][f"B{cover['target_price']}"].value == pytest.approx(result.target_price, abs=1e-12)
    assert values[COVER][f"C{cover['target_price']}"].value == f"on FY{result.valuation()['target_year']} P/S"


@pytest.mark.slow
def test_a_model_extended_to_2026_gives_the_engine_values(recalculated):
    _same_as_engine(recalculated["values"]["plain"], recalculated["files"]["plain"])
    result = engine.run(model_file=recalculated["files"]["plain"])
    assert result.valuation()["target_year"] == 2024 and result.market_as_of == AS_OF.isoformat()


@pytest.mark.slow
def test_the_valuation_on_2025_gives_the_engine_values(recalculated):
    mf = recalculated["files"]["target_2025"]
    values = recalculated["values"]["target_2025"]
    _same_as_engine(values, mf)
    result = engine.run(model_file=mf)
    layout = make_layout(result.model)
    assert result.valuation()["target_year"] == 2025
    cell = layout.homes[("target_revenue", None)][1]
    assert values[VALUATION][cell].value == pytest.approx(float(result.raw("revenue", "2025F")), rel=1e-12)
    cell = layout.homes[("target_peer_ps", None)][1]
    assert values[VALUATION][cell].value == pytest.approx(float(result.raw("peer_average_ps_FY2025E")), rel=1e-12)


@pytest.mark.slow
def test_the_refreshed_extended_workbook_agrees_with_its_formulas(recalculated):
    values = recalculated["values"]["refreshed"]
    _same_as_engine(values, recalculated["files"]["plain"])
    layout = layout_for(recalculated["files"]["plain"])
    header = layout.engine_header
    assert [values[ENGINE][at(header.columns[y], header.row)].value for y in ADDED] == list(ADDED)
    assert read_engine(grid_of(values[ENGINE]), layout).status["Refreshed"] != "not refreshed yet"


@pytest.mark.slow
def test_the_analyst_copy_of_the_extended_workbook_gives_the_same(recalculated):
    assert summary(recalculated["exported"].findings)["error"] == 0, recalculated["exported"].findings
    _same_as_engine(recalculated["values"]["analyst"], recalculated["files"]["plain"])
    ws = load_workbook(recalculated["paths"]["analyst"])[ASSUMPTIONS]
    layout = layout_for(recalculated["files"]["plain"])
    assert ws[layout.input_cell("smart_auto_growth_2026F")].protection.locked is False
    assert ws[MARKET_AS_OF_CELL].protection.locked is False
