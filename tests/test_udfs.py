"""The ST_* functions: xlwings metadata and VBA wrappers from xlwings' own code, direct calls, cache."""

import io
import json
import types
from typing import Any

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


def test_a_forecast_year_may_be_named_as_headed_once_it_holds_actuals():
    from udfs.args import year

    assert year("2022A") == year("2022F") == year(2022) == "2022F"
    assert year("2021A") == "2021A"


# ------------------------------------------------------------------ actuals in the Drivers range

SEGMENTS = ("smart_business", "smart_city", "smart_life", "smart_auto")


def with_actuals(scale: float = 0.8) -> tuple[list[list[Any]], engine.ModelFile]:
    """The workbook's Drivers range (every driver, then an actual row per line and forecast year, blank but
    for the 2022 segments at `scale` x the report's forecast) and the model file holding the same actuals."""
    from engine.actuals import actual_lines
    from engine.lines import FCST

    base = engine.run()
    mf = engine.ModelFile.new()
    rows: list[list[Any]] = [[name, value] for name, value in engine.base_values().items()]
    for key in actual_lines(engine.compile_model()):
        for col in FCST:
            value: object = ""
            if key in SEGMENTS and col == "2022F":
                value = float(base.raw(key, col)) * scale
                mf.set_actual(2022, key, value)
            rows.append([f"actual:{key}:{col[:4]}", value])
    return rows, mf


def test_actual_rows_of_the_drivers_range_move_the_target_as_the_engine_does():
    cache.clear()
    rows, mf = with_actuals()
    expected = engine.run(model_file=mf)
    assert udfs.ST_TARGET(rows) == expected.target_price != 2.7
    assert udfs.ST_TARGET(rows, False) == pytest.approx(float(expected.raw("target_price_unrounded")), rel=1e-12)
    assert udfs.ST_RATING(rows) == expected.rating
    assert udfs.ST_VALUATION(rows) == pytest.approx(float(expected.raw("valuation_usd_m")), rel=1e-12)
    assert udfs.ST_LINE("Revenue", "2022A", rows) == pytest.approx(float(expected.raw("revenue", "2022F")))
    assert udfs.ST_FORECAST("Segments", rows)[0][1:] == ["2020A", "2021A", "2022A", "2023F", "2024F"]
    # the cache keys on the actuals too: the same range with other actuals is computed afresh
    other, mf2 = with_actuals(0.9)
    assert udfs.ST_TARGET(other, False) == pytest.approx(
        float(engine.run(model_file=mf2).raw("target_price_unrounded"))
    )
    assert udfs.ST_TARGET(other, False) != udfs.ST_TARGET(rows, False)
    # blank actual rows (the workbook with nothing typed on its Actuals sheet) are the base case
    blank = [[name, "" if name.startswith("actual:") else value] for name, value in rows]
    assert udfs.ST_TARGET(blank) == 2.7 and udfs.ST_TARGET([*blank, [None, None]], False) == udfs.ST_TARGET(None, False)


def test_the_built_workbooks_drivers_range_carries_the_actuals_sheet():
    """Its actual rows are the Actuals cells as `IF(ISNUMBER(...),...,"")`, named as the UDFs read them."""
    from udfs.args import drivers_and_actuals
    from workbook.build import build_workbook
    from workbook.layout import make_layout

    wb = build_workbook()
    layout = make_layout()
    (sheet, rng), *_ = wb.defined_names["Drivers"].destinations
    cells = list(wb[sheet][rng.replace("$", "")])
    names = [r[0].value for r in cells]
    assert names[: len(engine.drivers())] == list(engine.drivers())
    actual = [(r[0].value, r[1].value) for r in cells[len(engine.drivers()) :] if r[0].value is not None]
    assert all(r[1].value is None for r in cells if r[0].value is None)  # a blank row and the heading's
    assert len(actual) == len(layout.actuals.rows) * 3
    source = f"Actuals!{layout.actuals.cell('smart_business', '2022F')}"
    assert ("actual:smart_business:2022", f'=IF(ISNUMBER({source}),{source},"")') in actual
    as_typed = [[name, 1.0] for name, _ in actual]  # every name the workbook writes is one the UDFs take
    assert len(drivers_and_actuals(as_typed)[1]) == len(actual)


@pytest.mark.parametrize(
    ("row", "text"),
    [
        (["actual:gross_profit:2022", 1000.0], "#ST! 'actual:gross_profit:2022' in drivers row 2: 'gross_profit'"),
        (["actual:smart_business:2026", 1000.0], "#ST! 'actual:smart_business:2026' in drivers row 2: year '2026'"),
        (["actual:smart_busines:2022", 1000.0], "#ST! 'actual:smart_busines:2022' in drivers row 2: unknown line"),
        (["actual:gross_profit:2022", ""], "#ST! 'actual:gross_profit:2022' in drivers row 2: 'gross_profit'"),
        (["actual:smart_business", 1000.0], "#ST! 'actual:smart_business' in drivers row 2: an actual row is named"),
        (["actual:smart_business:2022", "lots"], "#ST! 'actual:smart_business:2022' in drivers row 2: expected a"),
    ],
)
def test_a_bad_actual_row_gives_a_clear_text(row, text):
    out = udfs.ST_TARGET([["premium", 0.4], row])
    assert isinstance(out, str) and out.startswith(text), out
    assert "\n" not in out
    assert "subtotal" in udfs.ST_TARGET([["actual:gross_profit:2022", 1000.0]])


def test_an_actual_given_twice_is_an_error():
    twice = [["actual:smart_business:2022", 1.0], ["actual:Smart Business:2022F", 2.0]]
    assert udfs.ST_TARGET(twice).startswith("#ST! 'actual:Smart Business:2022F' in drivers row 2: smart_business 2022")


@pytest.mark.slow
def test_actuals_typed_on_the_actuals_sheet_reach_st_target_through_the_drivers_range(built, tmp_path):
    """In LibreOffice: 2022 segments typed on the Actuals sheet move the native TargetPrice; the recalculated
    Drivers range, handed to ST_TARGET as Excel would, gives the same (and the engine's with those actuals)."""
    from openpyxl import load_workbook

    from workbook.build import save_atomic
    from workbook.layout import ACTUALS, make_layout
    from workbook.natives import evaluate_udf
    from workbook.recalc import recalculated_values

    rows, mf = with_actuals()
    typed = {name: value for name, value in rows}
    wb = load_workbook(built)
    for key in SEGMENTS:
        wb[ACTUALS][make_layout().actuals.cell(key, "2022F")] = typed[f"actual:{key}:2022"]
    path = tmp_path / "typed.xlsx"
    save_atomic(wb, path)
    values = recalculated_values(path)
    (sheet, rng), *_ = values.defined_names["Drivers"].destinations
    drivers = [[c.value for c in row] for row in values[sheet][rng.replace("$", "")]]
    (sheet, cell), *_ = values.defined_names["TargetPrice"].destinations
    native = values[sheet][cell.replace("$", "")].value
    expected = engine.run(model_file=mf)
    cache.clear()
    assert udfs.ST_TARGET(drivers) == native == expected.target_price != 2.7
    assert udfs.ST_TARGET(drivers, False) == pytest.approx(float(expected.raw("target_price_unrounded")), rel=1e-9)
    assert udfs.ST_RATING(drivers) == expected.rating
    assert evaluate_udf("=ST_TARGET(Drivers)", values) == native  # the export's path for a call without a twin
