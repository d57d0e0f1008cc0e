"""stmodel export: the analyst copy works with no Python, no add-in, no macros."""

import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from stmodel.cli import app
from workbook.audit import audit, summary
from workbook.build import build_workbook, save_atomic
from workbook.export import ExportRefused, export_analyst_copy
from workbook.layout import make_layout
from workbook.recalc import recalculated_values
from workbook.refresh import refresh_file
from workbook.verify import error_cells

pytestmark = pytest.mark.slow
UDF_CALL = re.compile(r"(_xludf\.)?\bST_[A-Z_]+\s*\(", re.I)


def named(values, name):
    (sheet, cell), *_ = values.defined_names[name].destinations
    return values[sheet][cell.replace("$", "")].value


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A built and refreshed model with an extra spilled ST_FORECAST call (no native twin)."""
    path = tmp_path_factory.mktemp("export") / "model.xlsx"
    wb = build_workbook()
    wb["Cover"]["H12"] = '=st_forecast("Segments",Drivers)'
    wb["Cover"]["H4"] = "=_xludf.ST_TARGET(Drivers)"
    save_atomic(wb, path)
    refresh_file(path)
    return path


@pytest.fixture(scope="module")
def copy(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("copy") / "analyst copy.xlsx"
    result = CliRunner().invoke(app, ["export", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_no_udf_no_vba_no_external_links_and_cached_values(copy):
    with zipfile.ZipFile(copy) as z:
        names = z.namelist()
    assert not [n for n in names if "vbaProject" in n or "externalLink" in n]
    formulas = load_workbook(copy)
    values = load_workbook(copy, data_only=True)
    blank = []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert not UDF_CALL.search(c.value), (ws.title, c.coordinate, c.value)
                    if values[ws.title][c.coordinate].value is None:
                        blank.append((ws.title, c.coordinate))
    # the Drivers range's actual rows are "" (read back as None) while the Actuals sheet is blank
    (sheet, rng), *_ = formulas.defined_names["Drivers"].destinations
    empty_actuals = {(sheet, row[1].coordinate) for row in formulas[sheet][rng.replace("$", "")] if row[0].value}
    empty_actuals = {cell for cell in empty_actuals if str(formulas[sheet][cell[1]].value).startswith("=IF(ISNUMBER(")}
    assert len(empty_actuals) == 3 * len(make_layout().actuals.rows)
    assert [cell for cell in blank if cell not in empty_actuals] == []
    assert formulas["Cover"]["H4"].value == "=TargetPrice"  # a native twin
    assert formulas["Cover"]["H12"].value == "Segmental Breakdown"  # a spilled table as values, with a note
    assert "st_forecast" in formulas["Cover"]["H12"].comment.text
    assert formulas["Cover"]["I14"].value == pytest.approx(1485)  # Smart Business 2020A in the spill


def test_marked_protected_and_inputs_unlocked(copy):
    wb = load_workbook(copy)
    assert any(p.name == "SenseTimeAnalystCopy" and p.value is True for p in wb.custom_doc_props)
    layout = make_layout()
    premium = wb["Assumptions"][layout.input_cell("premium")]
    assert premium.protection.locked is False and premium.fill.fgColor.rgb.endswith("FFF2CC")
    sheet, cell = layout.homes[("net_profit", "2024F")]
    assert wb[sheet][cell].protection.locked is True
    assert all(ws.protection.sheet for ws in wb.worksheets)
    readme = " ".join(str(c.value) for (c,) in wb["Cover"].iter_rows(min_col=1, max_col=1) if c.value)
    assert "needs no add-in" in readme and ("13 Jan 2023" in readme or "2023-01-13" in readme)


def test_styles_names_validation_and_charts_survive(source, copy):
    a, b = load_workbook(source), load_workbook(copy)
    assert set(a.defined_names) == set(b.defined_names)
    assert [len(ws.data_validations.dataValidation) for ws in a.worksheets] == [
        len(ws.data_validations.dataValidation) for ws in b.worksheets
    ]
    assert [len(ws._charts) for ws in a.worksheets] == [len(ws._charts) for ws in b.worksheets]
    assert a["Income Statement"].freeze_panes == b["Income Statement"].freeze_panes == "B4"
    assert a["Income Statement"]["D8"].number_format == b["Income Statement"]["D8"].number_format
    assert b["Assumptions"]["B5"].font.color.rgb == a["Assumptions"]["B5"].font.color.rgb


def test_recalculated_copy_shows_the_report(copy):
    values = recalculated_values(copy)
    assert error_cells(values) == []
    assert named(values, "TargetPrice") == 2.7
    assert named(values, "Rating") == "BUY"


def test_the_copy_is_still_a_live_model(copy, tmp_path):
    wb = load_workbook(copy)
    layout = make_layout()
    wb["Assumptions"][layout.input_cell("premium")] = 0.8
    wb["Assumptions"][layout.input_cell("smart_auto_growth_2024F")] = 1.0
    changed = tmp_path / "changed.xlsx"
    wb.save(changed)
    values = recalculated_values(changed)
    cli = CliRunner().invoke(app, ["value", "-f", "json", "--set", "premium=0.8", "--set", "smart_auto_growth_2024F=1"])
    v = json.loads(cli.stdout)["valuation"]
    assert named(values, "TargetPrice") == pytest.approx(v["target_price"])
    assert named(values, "Upside") == pytest.approx(v["upside_pct"] / 100)
    assert named(values, "Rating") == v["rating"]


def test_the_copy_audits_clean(copy):
    counts = summary(audit(copy, recalc=True))
    assert counts["error"] == 0 and counts["warning"] == 0


def test_a_copy_with_errors_is_refused_unless_forced(source, tmp_path):
    wb = load_workbook(source)
    sheet, cell = make_layout().homes[("net_profit", "2023F")]
    wb[sheet][cell] = -2979
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    out = tmp_path / "copy.xlsx"
    with pytest.raises(ExportRefused) as refused:
        export_analyst_copy(broken, out)
    assert any(f.rule == "hardcode" for f in refused.value.findings)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.xlsx"]  # no draft left behind
    result = CliRunner().invoke(app, ["export", str(broken), "-o", str(out)])
    assert result.exit_code == 1 and "hardcode" in result.stdout and not out.exists()
    forced = CliRunner().invoke(app, ["export", str(broken), "-o", str(out), "--force"])
    assert forced.exit_code == 0 and out.exists()


def test_password_option(source, tmp_path):
    out = tmp_path / "locked.xlsx"
    export_analyst_copy(source, out, password="s3cret")
    wb = load_workbook(out)
    assert wb["Assumptions"].protection.password  # stored as Excel's hash, not the text
    assert wb["Assumptions"].protection.password != "s3cret"


def test_external_links_become_values(tmp_path):
    path = tmp_path / "linked.xlsx"
    wb = build_workbook()
    wb["Cover"]["H30"] = "='[other.xlsx]Sheet1'!$A$1*2"
    save_atomic(wb, path)
    out = tmp_path / "copy.xlsx"
    export_analyst_copy(path, out)
    copy = load_workbook(out)
    assert copy["Cover"]["H30"].value is None and "other.xlsx" in copy["Cover"]["H30"].comment.text
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if "externalLink" in n]
