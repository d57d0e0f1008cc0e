"""`stmodel`: the JSON contract, the tables, and one-line errors with exit code 2."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import engine
from engine.errors import StmodelError
from stmodel.cli import app

runner = CliRunner()
TITLES = [
    "Forecasts and Valuation",
    "Segmental Breakdown",
    "Income Statement",
    "Balance Sheet",
    "Cash Flow Statement",
    "Valuation & Peers comparison",
]


def value_json(*args: str) -> dict:
    result = runner.invoke(app, ["value", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_contract():
    data = value_json()
    assert list(data) == ["inputs", "valuation", "tables"]
    v = data["valuation"]
    assert list(v) == [
        "target_price",
        "target_price_unrounded",
        "last_price",
        "upside_pct",
        "rating",
        "target_multiple",
        "valuation_usd_m",
        "peer_average_ps",
        "as_of",
        "target_year",
    ]
    assert (v["target_price"], v["upside_pct"], v["rating"], v["last_price"]) == (2.7, 25.0, "BUY", 2.16)
    assert (v["as_of"], v["target_year"]) == ("2023-01-12", 2024)  # the report's last price, its FY24 P/S
    assert [round(x, 1) for x in v["peer_average_ps"].values()] == [10.3, 7.5, 5.4]
    assert list(v["peer_average_ps"]) == ["FY2022E", "FY2023E", "FY2024E"]
    assert list(data["tables"]) == TITLES


def test_json_tables_use_the_report_labels_units_and_text():
    t = value_json()["tables"]
    assert list(t["Income Statement"]["Revenue"]) == ["2020A", "2021A", "2022F", "2023F", "2024F"]
    assert t["Income Statement"]["Gross Margins (%)"]["2020A"] == pytest.approx(70.57, abs=0.01)
    assert t["Income Statement"]["Net Interest Cover (x)"]["2022F"] == "NM"
    assert t["Income Statement"]["Div Payout Ratio (%)"]["2021A"] == "N/A"
    assert t["Balance Sheet"]["Net Debt/Equity ex MI (X)"]["2024F"] == "CASH"
    assert "EPS (HK$)" in t["Forecasts and Valuation"]
    assert list(t["Forecasts and Valuation"]["Turnover"]) == ["2021A", "2022F", "2023F", "2024F"]
    assert "2021A" not in t["Forecasts and Valuation"]["Consensus EPS (RMB)"]  # blank cell left out
    assert "Revenues (RMB m)" not in t["Segmental Breakdown"]  # section heading left out
    assert "Growth" not in t["Income Statement"]
    peers = t["Valuation & Peers comparison"]
    assert peers["Palantir"]["Mkt cap (USD mn)"] == 13687
    assert peers["Palantir"]["Sales FY2020"] == 1093
    assert peers["Palantir"]["P/S FY2024E"] == pytest.approx(13687 / 2857)
    assert peers["Average"]["P/S FY2022E"] == pytest.approx(10.2664, abs=1e-4)


def test_set_moves_the_result_and_sets_a_whole_group():
    v = value_json("--set", "premium=1.0", "--set", "last_price=2.5")["valuation"]
    assert v["target_price"] == 3.9
    assert v["upside_pct"] == pytest.approx(56.0)
    t = value_json("--set", "smart_auto_growth=0")["tables"]["Segmental Breakdown"]["Smart Auto"]
    assert t["2022F"] == t["2023F"] == t["2024F"] == 184


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("premum=0.5", "unknown driver 'premum'; did you mean 'premium'?"),
        ("smart_auto_grwth=0.5", "did you mean 'smart_auto_growth'?"),
        ("premium=forty", "premium: expected a number"),
        ("usdcny=0", "usdcny: expected a number above 0"),
        ("hkdusd=-7.8", "hkdusd: expected a number above 0"),
        ("shares_m=0", "shares_m: expected a number above 0"),
        ("premium=nan", "premium: expected a finite number"),
        ("last_price=inf", "last_price: expected a finite number"),
        ("cap_basis=medium", "cap_basis: expected 'large' or 'small'"),
        ("premium", "expected NAME=VALUE"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(arg, message):
    result = runner.invoke(app, ["value", "--set", arg])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_the_cli_adds_its_advice_to_an_unknown_driver_wherever_it_is_named(tmp_path):
    """The engine's message names the driver; the CLI alone adds where to look, also through a spec file."""
    advice = "unknown driver 'premiumx'; did you mean 'premium'? (stmodel drivers lists them)"
    result = runner.invoke(app, ["value", "--set", "premiumx=1"])
    assert result.exit_code == 2 and result.stderr.strip() == f"stmodel: error: {advice}"
    spec = tmp_path / "spec.toml"
    spec.write_text('[premiumx]\ndist = "normal"\nmean = 0.4\nsd = 0.1\n')
    result = runner.invoke(app, ["simulate", "-n", "10", "--spec", str(spec)])
    assert result.exit_code == 2 and result.stderr.strip() == f"stmodel: error: spec.toml: [premiumx]: {advice}"
    with pytest.raises(engine.DriverError) as raised:
        engine.run({"premiumx": 1})
    assert str(raised.value) == "unknown driver 'premiumx'; did you mean 'premium'?"  # no CLI advice below the CLI


def test_no_traceback_from_the_installed_command():
    proc = subprocess.run(
        [sys.executable, "-m", "stmodel", "value", "--set", "usdcny=-1"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "stmodel: error: usdcny: expected a number above 0 (CNY per US$), got '-1'"


def test_the_table_format_prints_like_the_report():
    result = runner.invoke(app, ["value", "--tables", "forecasts"])
    assert result.exit_code == 0
    assert "(17,142)" in result.stdout  # Pre-tax Profit 2021A in parentheses with a separator
    assert "BUY" in result.stdout


def test_drivers_lists_every_driver():
    result = runner.invoke(app, ["drivers", "--format", "json"])
    rows = json.loads(result.stdout)
    names = {r["name"] for r in rows}
    assert {"premium", "usdcny", "hkdusd", "last_price", "shares_m", "eps_shares_m", "cap_basis"} <= names
    assert {"smart_auto_growth_2022F", "smart_auto_growth_2023F", "smart_auto_growth_2024F"} <= names
    for group in (
        "gross_margin",
        "variable_opex_ratio",
        "fixed_opex",
        "tax_rate",
        "depreciation_rate",
        "capex_to_revenue",
        "cost_of_debt",
        "cash_yield",
        "other_current_assets_ratio",
        "other_current_liab_ratio",
        "min_cash",
        "debtor_days",
        "long_term_debt",
    ):
        assert f"{group}_2024F" in names
    assert {"basis", "revolver", "issue_price", "ps_row_usdcny", "palantir_price", "palantir_shares_m"} <= names
    for gone in ("tax_2024F", "capex_2024F", "dep_amort_2024F", "net_interest_2024F", "opex_ratio_2024F"):
        assert gone not in names
    assert not any(n.endswith("_mkt_cap") for n in names)
    assert all(r["unit"] and r["meaning"] for r in rows)


def test_reconcile_reports_the_count():
    result = runner.invoke(app, ["reconcile", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["cells"] == 484
    assert data["reproduced"] >= 470


def test_errata_cannot_write_into_a_missing_folder(tmp_path):
    result = runner.invoke(app, ["errata", "-o", str(tmp_path / "nope" / "errata.md")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_fixed_adjustment_is_not_a_driver():
    result = runner.invoke(app, ["value", "--set", "cash_unreconciled_2023F=0"])
    assert result.exit_code == 2
    assert "'cash_unreconciled_2023F' is a fixed report adjustment, not a driver" in result.stderr


def _error_classes() -> list[type[StmodelError]]:
    """Every StmodelError subclass of the project, its modules imported so that each is defined."""
    import workbook.audit
    import workbook.charts
    import workbook.export
    import workbook.reader
    import workbook.refresh  # noqa: F401

    found, todo = [], [StmodelError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    # ExportRefused is the one error a command handles itself: it lists the findings, exit 1 (test_export.py).
    return sorted((c for c in found if c.__name__ != "ExportRefused"), key=lambda c: c.__qualname__)


@pytest.mark.parametrize("error", _error_classes(), ids=lambda c: c.__name__)
def test_every_project_error_is_one_line_and_exit_code_2(error, monkeypatch):
    def broken(*args, **kwargs):
        raise error("what went wrong, where")

    monkeypatch.setattr(engine, "run", broken)
    result = runner.invoke(app, ["value"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("stmodel: error: ")
    assert "what went wrong, where" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
