"""The ST_* functions: xlwings metadata and VBA wrappers from xlwings' own code, direct calls, cache."""

import io
import json
import types

import pytest
from typer.testing import CliRunner

import engine
import udfs
from addin.com import com_stand_ins
from stmodel.cli import app
from udfs import cache

FUNCTIONS = {
    "ST_TARGET": ["drivers", "rounded"],
    "ST_UPSIDE": ["drivers", "price"],
    "ST_RATING": ["drivers", "price", "cap"],
    "ST_VALUATION": ["drivers"],
    "ST_LINE": ["item", "fiscal_year", "drivers"],
    "ST_FORECAST": ["table", "drivers"],
    "ST_PEERS": ["drivers"],
    "ST_SENSITIVITY": ["row_driver", "row_values", "col_driver", "col_values", "drivers"],
    "ST_DRIVER": ["driver", "drivers"],
    "ST_INFO": [],
}
# Words VBA reserves or that break compilation as parameter names.
VBA_RESERVED = {
    "and", "as", "boolean", "byref", "byte", "byval", "call", "case", "close", "const", "currency", "date",
    "decimal", "declare", "dim", "do", "double", "each", "else", "empty", "end", "enum", "erase", "error",
    "event", "exit", "false", "for", "friend", "function", "get", "global", "gosub", "goto", "if", "implements",
    "in", "input", "integer", "is", "let", "like", "line", "lock", "long", "loop", "lset", "me", "mod", "name",
    "new", "next", "not", "nothing", "null", "on", "open", "option", "optional", "or", "paramarray", "preserve",
    "print", "private", "property", "public", "put", "raiseevent", "redim", "rem", "resume", "return", "rset",
    "seek", "select", "set", "single", "static", "step", "stop", "string", "sub", "then", "to", "true", "type",
    "typeof", "until", "variant", "wend", "while", "with", "withevents", "write", "xor", "year", "time", "len",
}  # fmt: skip


@pytest.fixture(scope="module")
def decorated():
    with com_stand_ins() as pair:
        yield pair


def test_every_function_carries_xlwings_metadata(decorated):
    _, module = decorated
    for name, args in FUNCTIONS.items():
        meta = getattr(module, name).__xlfunc__
        assert meta["name"] == name
        assert meta["category"] == "SenseTime"
        assert meta["volatile"] is False
        assert [a["name"] for a in meta["args"]] == args
        assert meta["ret"]["doc"] and not meta["ret"]["doc"].startswith("Python function")
        assert "expand" not in meta["ret"]["options"]
        for a in meta["args"]:
            assert not a["doc"].startswith("Positional argument"), (name, a["name"])
            assert a["name"].lower() not in VBA_RESERVED, (name, a["name"])
            if a["name"] == "drivers":
                assert a["options"].get("ndim") == 2 and a["optional"] is None


def test_xlwings_writes_a_vba_wrapper_for_each_function(decorated):
    xlwings_udfs, module = decorated
    out = io.StringIO()
    book = types.SimpleNamespace(Name="SenseTime.xlam")
    xlwings_udfs.generate_vba_wrapper("udfs", module, out, book)
    vba = out.getvalue()
    for name, args in FUNCTIONS.items():
        meta_args = getattr(module, name).__xlfunc__["args"]
        sig = ", ".join(("Optional " if "optional" in a else "") + a["name"] for a in meta_args)
        assert f"Function {name}({sig})" in vba
        assert f'XLPy.CallUDF("udfs", "{name}", Array({", ".join(args)}), ActiveWorkbook' in vba
    assert vba.count("Function ST_") == len(FUNCTIONS)
    assert vba.count("End Function") == len(FUNCTIONS)


def test_decorated_functions_still_compute(decorated):
    _, module = decorated
    assert module.ST_TARGET() == 2.7


def test_direct_calls_reproduce_the_report():
    assert udfs.ST_TARGET() == 2.7
    assert udfs.ST_TARGET(None, False) == pytest.approx(2.7315, abs=1e-4)
    # Excel's logical values as a cell may hold them: numbers (0 is FALSE) and the texts TRUE/FALSE
    assert udfs.ST_TARGET(None, 0.0) == udfs.ST_TARGET(None, "false") == udfs.ST_TARGET(None, False)
    assert udfs.ST_TARGET(None, 1.0) == udfs.ST_TARGET(None, "TRUE") == udfs.ST_TARGET(None, "") == 2.7
    assert udfs.ST_RATING() == "BUY"
    assert udfs.ST_UPSIDE() == pytest.approx(0.25)
    assert udfs.ST_VALUATION() == pytest.approx(11642, abs=1)
    assert udfs.ST_LINE("Revenue", "2024F") == pytest.approx(10393, abs=1)
    assert udfs.ST_LINE("Net Profit", 2024.0) == pytest.approx(-2112, abs=1)
    assert udfs.ST_DRIVER("premium") == 0.4
    assert udfs.ST_INFO()[2] == ["drivers", len(engine.drivers())]


def test_forecast_has_the_report_rows_and_columns():
    table = udfs.ST_FORECAST("Income Statement")
    assert table[0] == ["Income Statement", "2020A", "2021A", "2022F", "2023F", "2024F"]
    labels = [row[0] for row in table[1:]]
    printed = [r.label for r in engine.load_report().table("Income Statement").rows]
    assert [label for label in labels if label in printed] == printed
    assert all(len(row) == 6 for row in table)
    assert udfs.ST_FORECAST("Cash Flow")[0][0] == "Cash Flow Statement"
    assert udfs.ST_FORECAST()[0][0] == "Forecasts and Valuation"
    peers = udfs.ST_PEERS()
    assert peers[-1][0] == "Average" and round(peers[-1][-1], 1) == 5.4


def test_a_drivers_range_matches_stmodel_value():
    cache.clear()
    drivers = [["premium", 0.75], ["smart_life_growth_2024F", 0.9]]
    cli = CliRunner().invoke(
        app, ["value", "-f", "json", "--set", "premium=0.75", "--set", "smart_life_growth_2024F=0.9"]
    )
    v = json.loads(cli.stdout)["valuation"]
    assert udfs.ST_TARGET(drivers) == v["target_price"]
    assert udfs.ST_TARGET(drivers, False) == pytest.approx(v["target_price_unrounded"], rel=1e-12)
    assert udfs.ST_RATING(drivers) == v["rating"]
    assert udfs.ST_UPSIDE(drivers) == pytest.approx(v["upside_pct"] / 100)


def test_the_workbook_drivers_range_shape_works():
    rows: list[list[float | str | None]] = [[name, value] for name, value in engine.base_values().items()]
    rows.append([None, None])  # a blank row at the end of a range
    assert udfs.ST_TARGET(rows) == 2.7


def test_cache_hits_and_fresh_results():
    cache.clear()
    drivers = [["premium", 0.5]]
    first = udfs.ST_TARGET(drivers)
    udfs.ST_TARGET([["premium", 0.5]])
    assert cache.stats == {"hits": 1, "misses": 1}
    changed = udfs.ST_TARGET([["premium", 1.0]])
    assert cache.stats["misses"] == 2
    assert changed == 3.9 and first != changed


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: udfs.ST_LINE("Net Proft", "2024F"), "#ST! unknown line item 'Net Proft'; did you mean 'Net Profit'?"),
        (lambda: udfs.ST_LINE("Net Profit", "2026F"), "#ST! unknown year '2026F'"),
        (lambda: udfs.ST_TARGET([["premum", 0.5]]), "#ST! unknown driver 'premum'; did you mean 'premium'?"),
        (lambda: udfs.ST_TARGET([["premium", "lots"]]), "#ST! premium: expected a number"),
        (lambda: udfs.ST_TARGET([["premium", 0.5, 1]]), "#ST! drivers must be two columns"),
        (lambda: udfs.ST_TARGET([["premium", None]]), "#ST! driver 'premium' in drivers row 1 is empty"),
        (lambda: udfs.ST_TARGET([[3.0, 0.5]]), "#ST! drivers row 1: the first column must hold a driver name"),
        (lambda: udfs.ST_TARGET([["usdcny", 0]]), "#ST! usdcny: expected a number above 0"),
        (lambda: udfs.ST_TARGET(None, "abc"), "#ST! rounded must be TRUE or FALSE, got 'abc'"),
        (lambda: udfs.ST_RATING(None, None, "mid"), "#ST! unknown cap basis 'mid'"),
        (lambda: udfs.ST_FORECAST("Incme Statement"), "#ST! unknown table 'Incme Statement'; did you mean"),
        (lambda: udfs.ST_SENSITIVITY("premium", [0.2, "x"], "usdcny", [6.75]), "#ST! row_values: 'x' is not a number"),
        (lambda: udfs.ST_SENSITIVITY("premum", [0.2], "usdcny", [6.75]), "#ST! unknown driver 'premum'"),
        (lambda: udfs.ST_DRIVER("smart_auto_growth"), "#ST! 'smart_auto_growth' is a per-year group"),
    ],
)
def test_bad_arguments_give_a_clear_text(call, text):
    out = call()
    assert isinstance(out, str) and out.startswith(text)
    assert "Traceback" not in out and "\n" not in out


def test_sensitivity_grid_has_the_base_case_on_it():
    grid = udfs.ST_SENSITIVITY("premium", [0.2, 0.4, 0.6], "usdcny", [6.5, 6.75, 7.0])
    assert grid[0][1:] == [6.5, 6.75, 7.0]
    assert [row[0] for row in grid[1:]] == [0.2, 0.4, 0.6]
    assert grid[2][2] == 2.7
    assert grid[3][1] == engine.run({"premium": 0.6, "usdcny": 6.5}).target_price
