"""The built workbook's structure, read back with openpyxl (no LibreOffice needed)."""

import pytest
from openpyxl import load_workbook
from openpyxl.styles.colors import Color
from typer.testing import CliRunner

import engine
from engine.actuals import actual_lines
from engine.files import WriteError
from engine.lines import SEGMENTS as SEGMENT_LINES
from engine.names import excel_name_problem
from stmodel.cli import app
from workbook.build import OUTPUT_NAMES, build_workbook, save_atomic
from workbook.formulas import number_literals, relative_form
from workbook.layout import ASSUMPTIONS, SHEETS, STATEMENTS, VALUATION, YEAR_COLUMN, make_layout

FORECAST = ("2022F", "2023F", "2024F")


@pytest.fixture(scope="module")
def wb(built):
    return load_workbook(built)


def is_blue(font) -> bool:
    color: Color = font.color
    return color is not None and color.rgb in ("000000FF", "FF0000FF")


def test_sheets_in_order(wb):
    assert wb.sheetnames == list(SHEETS)


def test_statement_sheets_have_the_report_rows_and_year_headers(wb):
    for sheet, title, _ in STATEMENTS:
        ws = wb[sheet]
        assert [ws.cell(3, c).value for c in range(2, 4)] == ["2020A", "2021A"]
        # a forecast year's heading turns from F to A by formula once an actual of that year is entered
        keys = set(actual_lines(engine.compile_model()))  # the last line row of the Actuals sheet (key in B)
        last = max(r for r in range(1, wb["Actuals"].max_row + 1) if wb["Actuals"].cell(r, 2).value in keys)
        for c, year in zip(range(4, 7), ("2022", "2023", "2024"), strict=True):
            col = "DEF"[c - 4]
            assert ws.cell(3, c).value == f'=Actuals!{col}$4&IF(COUNT(Actuals!{col}$6:{col}${last})>0,"A","F")'
            assert wb["Actuals"][f"{col}4"].value == int(year)
        labels = [ws.cell(r, 1).value for r in range(4, ws.max_row + 1)]
        printed = [r.label for r in engine.load_report().table(title).rows]
        assert [label for label in labels if label in printed] == printed


def test_every_driver_is_a_named_blue_input(wb):
    names = wb.defined_names
    for name, driver in engine.drivers().items():
        assert name in names, name
        (sheet, cell), *_ = names[name].destinations
        assert sheet == ASSUMPTIONS
        c = wb[sheet][cell.replace("$", "")]
        assert c.value == (driver.base if isinstance(driver.base, str) else pytest.approx(driver.base, rel=1e-14))
        assert is_blue(c.font), name
        assert wb[sheet][f"A{c.row}"].value == name


def test_drivers_range_holds_every_driver(wb):
    (sheet, rng), *_ = wb.defined_names["Drivers"].destinations
    rows = list(wb[sheet][rng.replace("$", "")])
    names = [r[0].value for r in rows if r[0].value is not None]  # the drivers, then the actuals (test_udfs.py)
    drivers = [n for n in names if not n.startswith("actual:")]
    assert drivers == list(engine.drivers()) == names[: len(drivers)]
    assert all(len(r) == 2 for r in rows)


def test_every_defined_name_is_valid_in_excel(wb):
    bad = {n: excel_name_problem(n) for n in wb.defined_names if excel_name_problem(n)}
    assert bad == {}
    for name in (*OUTPUT_NAMES, "LastPrice", "Drivers", "MasterCheck", "ModelWarnings"):
        assert name in wb.defined_names


def validation_of(ws, name: str):
    row = make_layout().input_row(name).row
    (dv,) = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref) == f"B{row}:D{row}"]
    return dv


def test_choices_are_validated_lists(wb):
    ws = wb[ASSUMPTIONS]
    for name, choices in {"cap_basis": "large,small", "basis": "printed,clean", "revolver": "on,off"}.items():
        dv = validation_of(ws, name)
        assert (dv.type, dv.formula1, dv.showErrorMessage) == ("list", f'"{choices}"', True), name


def test_every_numeric_driver_accepts_only_its_hard_bounds(wb):
    ws = wb[ASSUMPTIONS]
    drivers = engine.drivers()
    assert len(ws.data_validations.dataValidation) == len(drivers) + 1  # and the scenario selector
    row = make_layout().input_row("smart_auto_growth_2024F").row  # above -1 (revenue gone), at most 10
    dv = validation_of(ws, "smart_auto_growth_2024F")
    assert (dv.type, dv.formula1) == ("custom", f"AND(ISNUMBER(B{row}),B{row}>-1,B{row}<=10)")
    assert dv.showErrorMessage and dv.errorTitle == "smart_auto_growth_2024F"
    row = make_layout().input_row("gross_margin_2023F").row  # at least -1, at most 1 (a margin above 100%)
    dv = validation_of(ws, "gross_margin_2023F")
    assert dv.formula1 == f"AND(ISNUMBER(B{row}),B{row}>=-1,B{row}<=1)"
    target_year = validation_of(ws, "target_year")  # a year: one the peers have sales for, from a list
    assert (target_year.type, target_year.formula1) == ("list", '"2022,2023,2024"')
    for name, d in drivers.items():
        if d.bounds is not None and d.unit != "year":
            low, high = d.bounds
            assert validation_of(ws, name).formula1.endswith(
                f"{low:.15g},B{make_layout().input_row(name).row}<={high:.15g})"
            )


def test_plausible_ranges_sit_beside_the_numeric_drivers(wb):
    ws = wb[ASSUMPTIONS]
    assert [ws.cell(3, c).value for c in (5, 6, 7, 8)] == ["Live (used)", "Plausible low", "Plausible high", "Unit"]
    for name, d in engine.drivers().items():
        row = make_layout().input_row(name).row
        got = [ws[f"F{row}"].value, ws[f"G{row}"].value]
        assert got == (pytest.approx(list(d.plausible), rel=1e-14) if d.plausible else [None, None]), name


def test_checks_expect_no_report_difference_in_a_forecast_year_on_the_clean_basis(wb):
    ws = wb["Checks"]
    checks = make_layout().checks
    cash = checks.blocks["cash"]
    assert ws[f"C{cash.recorded}"].value == -1363 and is_blue(ws[f"C{cash.recorded}"].font)  # 2021A, reported
    assert ws[f"D{cash.recorded}"].value == 2726 and is_blue(ws[f"D{cash.recorded}"].font)  # 2022F
    assert ws[f"C{cash.expected}"].value == f"=C{cash.recorded}"
    assert ws[f"D{cash.expected}"].value == f'=IF(live_basis="clean",0,D{cash.recorded})'
    assert ws[f"D{cash.passed}"].value == f'=IF(ABS(D{cash.difference}-D{cash.expected})<=check_tolerance,"OK","FAIL")'
    floor = checks.cash_floor
    passes = [f'=IF({c}{floor.value}>=0,"OK","FAIL")' for c in "DEF"]
    assert [ws[f"{c}{floor.passed}"].value for c in "BCDEF"] == [None, None, *passes]
    master = ws[checks.master_cell].value
    assert all(f"{c}{floor.passed}" in master for c in "DEF")
    # the warnings are a note beside, never part of, the master check
    assert ws[checks.warnings_cell].value.startswith("=IF(") and checks.warnings_cell not in master
    assert all(f"B{row}" not in master.split('"All checks pass"')[0] for row in checks.warning_rows.values())


def test_forecast_columns_hold_one_formula_per_row(wb):
    layout = make_layout()
    for row in layout.year_rows:
        if not row.key:
            continue
        ws = wb[row.sheet]
        forms = set()
        for year in FORECAST:
            cell = ws[f"{YEAR_COLUMN[year]}{row.row}"]
            if row.sheet != VALUATION or row.key not in ("consensus_eps", "earnings_rev", "other_broker_recs"):
                assert isinstance(cell.value, str) and cell.value.startswith("="), (row.sheet, row.label, year)
                forms.add(relative_form(cell.value, cell.coordinate, year))
        assert len(forms) <= 1, (row.sheet, row.label, forms)


def test_no_numbers_inside_formulas(wb):
    found = []
    for ws in wb.worksheets:
        for r in ws.iter_rows():
            for c in r:
                if isinstance(c.value, str) and c.value.startswith("="):
                    extra = [n for n in number_literals(c.value) if n != "0"]
                    if extra:
                        found.append((ws.title, c.coordinate, c.value))
    assert found == []


def test_reported_figures_are_blue_and_formulas_black(wb):
    ws = wb["Income Statement"]
    layout = make_layout()
    revenue = next(r for r in layout.rows_of("Income Statement") if r.key == "revenue")
    segments = [r.row for r in layout.rows_of("Segments") if r.key in {k for k, _ in SEGMENT_LINES}]
    # Revenue's home is the Income Statement: the sum of the four segment cells of the same year.
    assert ws[f"B{revenue.row}"].value == "=" + "+".join(f"Segments!B{row}" for row in segments)
    assert not is_blue(ws[f"B{revenue.row}"].font)
    cogs = next(r for r in make_layout().rows_of("Income Statement") if r.key == "cogs")
    assert ws[f"B{cogs.row}"].value == -1014 and is_blue(ws[f"B{cogs.row}"].font)
    assert str(ws[f"D{cogs.row}"].value).startswith("=") and not is_blue(ws[f"D{cogs.row}"].font)


def test_only_portable_functions(wb):
    banned = ("XLOOKUP", "LET(", "LAMBDA", "FILTER(", "UNIQUE(", "SEQUENCE(", "XMATCH", "INDIRECT", "OFFSET(")
    for ws in wb.worksheets:
        for r in ws.iter_rows():
            for c in r:
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert not any(b in c.value.upper() for b in banned), (ws.title, c.coordinate)


def test_presentation(wb):
    ws = wb["Income Statement"]
    assert ws.freeze_panes == "B4"
    assert ws.page_setup.orientation == "landscape"
    assert "(" in ws["D8"].number_format  # parentheses for negatives
    assert len(wb["Segments"]._charts) == 1 and len(wb[VALUATION]._charts) == 1


def test_build_refuses_a_missing_folder_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["build", "-o", str(tmp_path / "missing" / "m.xlsx")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"stmodel: error: {tmp_path}/missing/m.xlsx: folder {tmp_path}/missing does not exist"
    ]


def test_build_refuses_an_unwritable_place():
    result = CliRunner().invoke(app, ["build", "-o", "/proc/m.xlsx"])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_a_failed_save_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "model.xlsx"
    target.write_bytes(b"previous version")
    wb = build_workbook()

    def broken_save(out):
        out.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wb, "save", broken_save)
    with pytest.raises(WriteError, match="No space left on device"):
        save_atomic(wb, target)
    assert target.read_bytes() == b"previous version"
    assert list(tmp_path.iterdir()) == [target]


def test_the_cached_layout_cannot_be_changed_by_a_caller():
    import dataclasses

    layout = make_layout()
    with pytest.raises(TypeError):
        layout.homes[("revenue", "2024F")] = ("Cover", "A1")  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.drivers_range = ""  # type: ignore[misc]
    assert isinstance(layout.year_rows, tuple) and isinstance(layout.inputs, tuple)
    assert make_layout() is layout


def test_the_master_check_names_years_as_headed(wb):
    """A failing check says 2022A once that year holds actuals: the year comes from the header, not a literal."""
    master = wb["Checks"][make_layout().checks.master_cell].value
    assert "2022F" not in master and '"Balance sheet balances "&D$' in master
