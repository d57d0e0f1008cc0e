"""The command line at an 80-column terminal: `stmodel value` fits one page, the full tables on request,
driver names never cut, and the JSON and CSV a person pastes into another tool."""

import csv
import io
import json

import pytest
from clirun import invoke, ok

import engine
from stmodel import app


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch):
    """Rich's console as an 80-column terminal prints (its width is fixed when it is made)."""
    monkeypatch.setattr(app.out, "width", 80)


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def test_value_is_one_page_of_at_most_80_columns():
    text = ok("value").stdout
    lines = lines_of(text)
    assert len(lines) <= 60 and max(len(line) for line in lines) <= 80
    for needed in ("12-month target price (HK$)", "2.70", "Upside", "25.0%", "BUY", "Target P/S multiple (x)", "7.56"):
        assert needed in text
    for needed in ("Turnover (RMB m)", "10,393", "Peers' P/S (x)", "Palantir", "Average", "5.4"):
        assert needed in text
    assert "Balance Sheet" not in text  # the full tables are on request


def test_an_extended_model_still_fits(tmp_path):
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    ok("extend", "--to", "2026", "--model", path)
    lines = lines_of(ok("value", "--model", path).stdout)
    assert len(lines) <= 60 and max(len(line) for line in lines) <= 80
    assert "2026F" in lines_of(ok("value", "--model", path).stdout)[15]  # the key forecasts' header


def test_the_full_tables_on_request():
    every = ok("value", "--tables", "all").stdout
    for title in (*engine.TABLE_TITLES, engine.PEERS_TITLE):
        assert title in every
    income = ok("value", "--tables", "income").stdout
    assert "Income Statement" in income and "Balance Sheet" not in income and "Cost of Goods Sold" in income
    result = invoke("value", "--tables", "incomes")
    assert result.exit_code == 2 and "--tables 'incomes': expected all, forecasts" in result.stderr


def test_driver_names_are_never_cut():
    text = ok("drivers").stdout
    for name in engine.drivers():
        assert name in text, name
    assert "…" not in text


def test_json_says_what_produced_it(tmp_path):
    payload = json.loads(ok("value", "--format", "json", "--set", "premium=0.5", "--scenario", "bull").stdout)
    inputs = payload["inputs"]
    assert inputs["overrides"]["premium"] == 0.5 and inputs["scenario"] == "bull"
    assert (inputs["basis"], inputs["model_file"], inputs["as_of"]) == ("printed", None, "2023-01-12")
    assert inputs["version"] == engine.__version__
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    (tmp_path / "prices.csv").write_text("as_of,2024-03-28\nlast_price,1.5\n")
    ok("market", tmp_path / "prices.csv", "--model", path)
    inputs = json.loads(ok("value", "--format", "json", "--model", path, "--basis", "clean").stdout)["inputs"]
    assert (inputs["model_file"], inputs["as_of"], inputs["basis"]) == (str(path), "2024-03-28", "clean")


def test_csv_is_tidy_rows_of_table_line_year_value(tmp_path):
    text = ok("value", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["table", "line", "year", "value"]
    base = engine.run()
    revenue = next(
        r for r in rows if r["table"] == "Income Statement" and r["line"] == "Revenue" and r["year"] == "2024F"
    )
    assert float(revenue["value"]) == base.value("revenue", "2024F")
    tp = next(r for r in rows if r["table"] == "Valuation" and r["line"] == "target_price")
    assert float(tp["value"]) == base.target_price
    ps = next(r for r in rows if r["line"] == "Palantir: P/S" and r["year"] == "FY2024E")
    assert float(ps["value"]) == pytest.approx(base.tables()[engine.PEERS_TITLE]["Palantir"]["P/S FY2024E"])
    out = tmp_path / "model.csv"
    ok("value", "--format", "csv", "--tables", "balance", "-o", out)
    written = list(csv.DictReader(out.open()))
    assert {r["table"] for r in written} == {"Valuation", "Balance Sheet"}
    assert invoke("value", "--format", "csv", "-o", out).exit_code == 2  # exists: --overwrite
    result = invoke("value", "-o", out)
    assert result.exit_code == 2 and "--output writes json or csv" in result.stderr


def test_a_timeout_keeps_the_value_given(tmp_path):
    result = invoke("recalc", tmp_path / "x.xlsx", "-o", tmp_path / "y.xlsx", "--timeout", "0")
    assert result.exit_code == 2 and "--timeout 0: expected seconds above 0" in result.stderr
