"""`stmodel` and the drivers: --basis, plausibility warnings, hard bounds, `drivers --format json`,
and the driver table of docs/model.md with its forecast-line tables."""

import json
import math
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import engine
from engine.driver_docs import LINES_END, LINES_START, forecast_lines, lines_tables, rule_text
from engine.expr import Const, Drv, if_
from engine.lines import FCST
from stmodel.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def value_json(*args: str) -> dict:
    """The figures of `value --format json` (what produced them, `inputs`, left aside)."""
    result = invoke("value", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {k: v for k, v in json.loads(result.stdout).items() if k != "inputs"}


# ---------------------------------------------------------------- --basis


def test_basis_clean_balances_and_gives_the_engines_target_price():
    data = value_json("--basis", "clean")
    clean = engine.run(basis="clean")
    assert data["valuation"]["target_price"] == clean.target_price
    assert data["valuation"]["target_price_unrounded"] == pytest.approx(clean.valuation()["target_price_unrounded"])
    bs, cf = data["tables"]["Balance Sheet"], data["tables"]["Cash Flow Statement"]
    years = ["2021A", *FCST]
    for col in FCST:
        assert bs["Total Assets"][col] == pytest.approx(bs["Total Cap. & Liab."][col], abs=1e-6)
        change = bs["Cash & ST Invt"][col] - bs["Cash & ST Invt"][years[years.index(col) - 1]]
        assert change == pytest.approx(cf["Chg in Cash"][col], abs=1e-6)


def test_basis_clean_differs_from_printed_below_revenue():
    printed, clean = value_json(), value_json("--basis", "clean")
    assert printed["valuation"] == clean["valuation"]  # the valuation rests on revenue and the peers
    assert printed["tables"]["Income Statement"]["Revenue"] == clean["tables"]["Income Statement"]["Revenue"]
    assert printed["tables"]["Balance Sheet"]["Cash & ST Invt"] != clean["tables"]["Balance Sheet"]["Cash & ST Invt"]


def test_basis_option_is_the_basis_driver():
    assert value_json("--basis", "clean") == value_json("--set", "basis=clean")
    assert value_json("--basis", "clean", "--set", "basis=clean") == value_json("--set", "basis=clean")
    assert value_json("--basis", "printed") == value_json()


def test_basis_and_set_basis_that_disagree_are_one_line_and_exit_2():
    result = invoke("value", "--basis", "clean", "--set", "basis=printed")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "stmodel: error: --basis clean and --set basis=printed disagree; give the basis once"
    )


def test_an_unknown_basis_is_refused():
    result = invoke("value", "--basis", "tidy")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_sensitivity_and_simulate_take_the_basis():
    args = ["--rows", "premium=0.3:0.5:0.1", "--cols", "usdcny=6.65:6.85:0.1", "--format", "json"]
    result = invoke("sensitivity", *args, "--basis", "clean", "--set", "gross_margin=0.5")
    assert result.exit_code == 0, result.output
    grid = json.loads(result.stdout)["target_price"]
    clean = engine.run({"gross_margin": 0.5}, basis="clean")
    assert grid[1][1] == clean.target_price
    result = invoke("simulate", "-n", "50", "--seed", "3", "--basis", "clean", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 50


def test_build_basis_clean_sets_the_workbooks_basis_input(tmp_path):
    out = tmp_path / "clean.xlsx"
    result = invoke("build", "-o", str(out), "--basis", "clean")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    ((sheet, ref),) = list(book.defined_names["basis"].destinations)
    assert book[sheet][ref.replace("$", "")].value == "clean"


# ---------------------------------------------------------------- warnings and hard bounds


def test_an_implausible_value_warns_on_stderr_and_exits_0():
    result = invoke("value", "--set", "premium=50")
    assert result.exit_code == 0
    assert result.stderr.strip().splitlines() == [
        "warning: premium=50 is outside its plausible range -0.5 to 2 (fraction); did you mean 0.5?"
    ]
    assert "target price" in result.stdout


def test_warnings_leave_json_on_stdout_valid():
    result = invoke("value", "--format", "json", "--set", "premium=50", "--set", "gross_margin=0.95")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["valuation"]["target_price"] > 2.7
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("warning: ") for line in lines)
    for name in ("premium", "gross_margin_2022F", "gross_margin_2023F", "gross_margin_2024F"):
        assert any(line.startswith(f"warning: {name}=") for line in lines), name
    assert "warning: gross_margin_2024F=0.95 is outside its plausible range 0.2 to 0.9 (fraction)" in lines


def test_the_base_case_warns_about_nothing():
    result = invoke("value", "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""


def test_negative_cash_with_the_revolver_off_is_a_warning():
    result = invoke("value", "--set", "revolver=off", "--set", "fixed_opex=30000")
    assert result.exit_code == 0
    assert any(
        line.startswith("warning: Cash & ST Invt ") and "negative" in line for line in result.stderr.splitlines()
    )


def test_cash_held_at_min_cash_by_the_revolver_is_no_warning():
    on = invoke("value", "--set", "fixed_opex=30000")
    assert on.exit_code == 0 and "negative" not in on.stderr  # the revolver keeps cash at min_cash


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("gross_margin=1.5", "gross_margin_2022F: expected at most 1 (fraction), got '1.5'"),
        ("debtor_days=-1", "debtor_days_2022F: expected at least 0 (days), got '-1'"),
        ("smart_auto_growth=-1", "smart_auto_growth_2022F: expected a number above -1 (fraction), got '-1'"),
        ("cost_of_debt=-0.1", "cost_of_debt_2022F: expected at least 0 (fraction), got '-0.1'"),
        ("cost_of_debt_2024F=-0.1", "cost_of_debt_2024F: expected at least 0 (fraction), got '-0.1'"),
        ("issue_price=0", "issue_price: expected a number above 0 (HK$), got '0'"),
        ("revolver=maybe", "revolver: expected 'on' or 'off', got 'maybe'"),
        ("basis=tidy", "basis: expected 'printed' or 'clean', got 'tidy'"),
    ],
)
def test_a_value_outside_the_hard_bounds_is_one_line_and_exit_2(arg, message):
    result = invoke("value", "--set", arg)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"stmodel: error: {message}"
    assert "Traceback" not in result.output


def test_no_traceback_from_the_installed_command_on_a_hard_bound():
    proc = subprocess.run(
        [sys.executable, "-m", "stmodel", "value", "--set", "gross_margin=1.5"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "stmodel: error: gross_margin_2022F: expected at most 1 (fraction), got '1.5'"


# ---------------------------------------------------------------- drivers --format json

FIELDS = [
    "name",
    "group",
    "year",
    "unit",
    "meaning",
    "base",
    "bounds",
    "low_exclusive",
    "choices",
    "plausible",
    "kind",
    "source",
    "posts",
]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    result = invoke("drivers", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_drivers_json_has_every_driver_with_its_fields(rows):
    registry = engine.drivers()
    assert [r["name"] for r in rows] == list(registry)
    for r in rows:
        d = registry[r["name"]]
        assert list(r) == FIELDS
        assert (r["group"], r["year"], r["unit"], r["meaning"], r["kind"]) == (
            d.group,
            d.column,
            d.unit,
            d.meaning,
            d.kind,
        )
        assert r["base"] == d.base and r["source"] == d.source
        if d.choices:
            assert r["bounds"] is None and r["choices"] == list(d.choices) and r["base"] in d.choices
        else:
            low, high = r["bounds"]
            assert math.isfinite(low) and math.isfinite(high) and low < high
            assert low <= r["base"] <= high and (r["base"] != low or not r["low_exclusive"])
            if r["plausible"] is not None:
                p_low, p_high = r["plausible"]
                assert low <= p_low <= p_high <= high


def test_drivers_json_years_and_groups(rows):
    by_name = {r["name"]: r for r in rows}
    assert by_name["cost_of_debt_2023F"]["year"] == "2023F"
    assert by_name["cost_of_debt_2023F"]["group"] == "cost_of_debt"
    assert by_name["cost_of_debt_2023F"]["base"] == pytest.approx(0.0365)
    assert by_name["premium"]["year"] is None
    assert by_name["premium"]["plausible"] == [-0.5, 2.0]
    assert by_name["smart_auto_growth_2024F"]["bounds"] == [-1.0, 10.0]
    assert by_name["smart_auto_growth_2024F"]["low_exclusive"] is True
    assert by_name["gross_margin_2024F"]["low_exclusive"] is False
    assert by_name["basis"]["choices"] == ["printed", "clean"]


def test_every_posts_key_is_a_line_of_the_model(rows):
    lines = engine.compile_model().lines
    unknown = {(r["name"], key) for r in rows for key in r["posts"] if key not in lines}
    assert unknown == set()
    forecast = [r for r in rows if r["kind"] == "forecast"]
    assert forecast and all(r["posts"] for r in forecast)


def test_drivers_kind_filters_and_refuses_an_unknown_kind():
    result = invoke("drivers", "--format", "json", "--kind", "setting")
    assert {r["name"] for r in json.loads(result.stdout)} == {"revolver", "basis", "issue_price", "terminal_growth"}
    result = invoke("drivers", "--kind", "forcast")
    assert result.exit_code == 2
    assert "expected forecast, setting, market, valuation or peer" in result.stderr


def test_the_drivers_table_fits_80_columns_with_names_in_full():
    result = invoke("drivers")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    names = {line.split()[0] for line in lines if line.strip()}
    assert set(engine.drivers()) <= names


# ---------------------------------------------------------------- docs/model.md


def test_docs_model_has_the_generated_forecast_line_tables():
    text = (ROOT / "docs" / "model.md").read_text()
    assert text.count(LINES_START) == 1
    generated = text[text.index(LINES_START) : text.index(LINES_END) + len(LINES_END)]
    assert generated == lines_tables(), "run: python -m engine.driver_docs"


def test_every_forecast_line_is_documented_with_its_drivers():
    text = lines_tables()
    statements = {statement for statement, _ in forecast_lines()}
    assert statements == {
        "Income Statement (with the segments)",
        "Balance Sheet",
        "Cash Flow Statement",
        "Memo lines (not printed by the report)",
    }
    for _, line in forecast_lines():
        assert f"| {line.label} |" in text
    for group in ("fixed_opex", "variable_opex_ratio", "cash_yield", "cost_of_debt", "tax_rate", "min_cash"):
        assert f"`{group}`" in text
    assert "[cash_unreconciled]" in text  # an adjustment, zero on the clean basis


def test_rule_text_reads_adjustments_and_lines():
    adjustment = if_(Drv("basis", per_year=False).eq("clean"), Const(0), Drv("nfa_other"))
    assert rule_text(adjustment, {}, frozenset()) == "[nfa_other]"
    assert rule_text(Drv("gross_margin") * Const(2), {}, frozenset()) == "`gross_margin` x 2"


def test_docs_model_has_the_sections_the_issue_asks_for():
    text = (ROOT / "docs" / "model.md").read_text()
    for heading in (
        "## How each forecast line is driven",
        "## Operating leverage",
        "## Cost of debt and cash yield",
        "## Tax: the sign convention",
        "## The revolver and the minimum cash balance",
        "## Capital issues and the share count",
        "## Live peers",
        "## The printed and the clean basis",
        "## Bounds and plausibility",
    ):
        assert heading in text
    d = engine.drivers()
    ratio = d["variable_opex_ratio_2024F"].base
    assert f"{ratio:.3f}" in text  # the split rule's number, as the docs show it
    assert all(f"{d[f'fixed_opex_{c}'].base:,.0f}" in text for c in FCST)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--basis", "dirty"],
            "stmodel: error: Invalid value for '--basis': 'dirty' is not one of 'printed', 'clean'.",
        ),
        (
            ["-f", "xml"],
            "stmodel: error: Invalid value for '--format' / '-f': 'xml' is not one of 'table', 'json', 'csv'.",
        ),
    ],
)
def test_a_bad_option_value_is_one_line(args, message):
    result = invoke("value", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
