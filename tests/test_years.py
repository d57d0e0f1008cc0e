"""A model that moves with time (issue 17): `stmodel extend` adds forecast years, `target_year` moves the
valuation year, `stmodel market` brings prices with an as-of date. Results are checked against the
arithmetic done here by hand; every bad input is one line, exit code 2 and the model file unchanged."""

import json
import math
import re
from pathlib import Path

import pytest
from clirun import invoke, ok

import engine
from engine.model import compile_model
from engine.scalar import run_scalar
from engine.tables import PEERS_TITLE, TABLE_TITLES
from engine.years import Years
from udfs import cache

BASE = {k: v for k, v in engine.base_values().items() if isinstance(v, float)}  # the numbers
PEERS = {p.key: p for p in engine.load_report().peers}
FX = {"HKD": "hkdusd", "CNY": "usdcny", "USD": None}  # how a peer's local price becomes US$
REPORT_ONLY = ("Earnings Rev (%)", "Consensus EPS (RMB)")  # the report's own rows, typed, not forecast
SEGMENT_GROWTH = ("smart_business_growth", "smart_city_growth", "smart_life_growth", "smart_auto_growth")
# FY2025E sales (US$ m) an analyst might take from consensus: not a common scale of FY2024E.
SALES_2025 = {
    "alinnovation": 140.0,
    "cloudwalk": 190.0,
    "deep_glint": 75.0,
    "arcsoft": 140.0,
    "palantir": 3400.0,
    "ui_path": 1500.0,
}


def refused(path: Path, *args: str | Path, says: str) -> str:
    """The command fails with one line naming the problem, and the model file keeps its bytes."""
    before = path.read_bytes()
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stmodel: error: "), result.stderr
    assert says in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert path.read_bytes() == before
    return lines[0]


def mround(x: float, step: float) -> float:
    return math.copysign(math.floor(abs(x / step) + 0.5), x) * step


@pytest.fixture
def extended(tmp_path) -> Path:
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    ok("extend", "--to", "2026", "--model", path)
    return path


def set_drivers(path: Path, **values: object) -> None:
    mf = engine.ModelFile.load(path)
    for name, value in values.items():
        mf.set_driver(name, value)
    mf.save(path)


# ---------------------------------------------------------------- extend


def test_extend_adds_the_years_to_every_table_frame_and_the_json(extended):
    result = engine.run(model_file=extended)
    assert list(result.columns) == ["2020A", "2021A", "2022F", "2023F", "2024F", "2025F", "2026F"]
    tables = result.tables()
    for title in TABLE_TITLES:
        frame = result.frame(title)
        assert list(frame.columns[-2:]) == ["2025F", "2026F"], title
        computed = [
            cells
            for label, cells in tables[title].items()
            if isinstance(cells.get("2024F"), float) and label not in REPORT_ONLY
        ]
        assert computed and all("2025F" in c and "2026F" in c for c in computed), title
    payload = json.loads(ok("value", "--model", extended, "--format", "json").stdout)
    assert "2026F" in payload["tables"]["Balance Sheet"]["Total Assets"]
    text = ok("value", "--model", extended).stdout
    assert "2025F" in text and "2026F" in text


def test_every_added_year_balances_and_flows_from_the_year_before(extended):
    result = engine.run(model_file=extended)
    for col in ("2025F", "2026F"):
        assert result.raw("total_assets", col) == pytest.approx(result.raw("total_cap_liab", col), abs=1e-6)
        # the closing cash is the opening cash plus the year's net change
        opening = result.raw("cash", "2024F" if col == "2025F" else "2025F")
        assert result.raw("cash", col) == pytest.approx(opening + result.raw("chg_in_cash", col), abs=1e-6)
    assert result.warnings() == []


def test_growth_fades_to_terminal_growth_and_other_drivers_carry_the_last_year(tmp_path):
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    set_drivers(path, terminal_growth=0.05, smart_auto_growth_2024F=0.9, tax_rate_2024F=0.15)
    ok("extend", "--to", "2027", "--model", path)
    values = engine.run(model_file=path).drivers
    for group in SEGMENT_GROWTH:
        last = 0.9 if group == "smart_auto_growth" else float(BASE[f"{group}_2024F"])
        for k, year in enumerate(("2025F", "2026F", "2027F"), start=1):
            assert values[f"{group}_{year}"] == pytest.approx(last + (0.05 - last) * k / 3, abs=1e-12)
    for year in ("2025F", "2026F", "2027F"):
        assert values[f"tax_rate_{year}"] == 0.15
        assert values[f"gross_margin_{year}"] == BASE["gross_margin_2024F"]
        assert values[f"fixed_opex_{year}"] == BASE["fixed_opex_2024F"]
    # a second extension fades from the last extended year over its own added years
    ok("extend", "--to", "2028", "--model", path)
    values = engine.run(model_file=path).drivers
    assert values["smart_life_growth_2028F"] == pytest.approx(0.05)
    # the revenue of an added year is last year's grown by the drivers
    result = engine.run(model_file=path)
    by_hand = sum(
        result.raw(seg, "2027F") * (1 + float(values[f"{seg}_growth_2028F"]))
        for seg in ("smart_business", "smart_city", "smart_life", "smart_auto")
    )
    assert result.raw("revenue", "2028F") == pytest.approx(by_hand, rel=1e-12)


def test_extend_never_shortens_and_refuses_a_year_not_after_the_last(extended):
    for year in ("2026", "2024", "2020"):
        refused(extended, "extend", "--to", year, "--model", extended, says="is not after the last column 2026F")
    refused(extended, "extend", "--to", "next", "--model", extended, says="expected a four-digit year")
    refused(extended, "extend", "--to", "2200", "--model", extended, says="beyond")


def test_the_scalar_path_and_the_udfs_agree_with_the_engine_on_an_extended_model(extended):
    result = engine.run(model_file=extended)
    scalar = run_scalar(dict(result.drivers), result.model)
    for col in ("2025F", "2026F"):
        for key in ("revenue", "net_profit", "cash", "total_assets"):
            assert scalar[(key, col)] == pytest.approx(float(result.raw(key, col)), rel=1e-12)
    # the workbook's Drivers range names the added years' drivers: the add-in infers the years from them
    rows = [[name, value] for name, value in result.drivers.items()]
    cache.clear()
    assert cache.result(rows).raw("target_price_unrounded") == pytest.approx(
        float(result.raw("target_price_unrounded"))
    )


# ---------------------------------------------------------------- target_year


def peer_ps_by_hand(column: str, sales: dict[str, float], prices: dict[str, float] | None = None) -> float:
    """The peers' average P/S of a column: price in US$ x shares over sales."""
    values = []
    for key, peer in PEERS.items():
        price = (prices or {}).get(key, peer.price_local)
        fx = FX[peer.currency]
        price_usd = price / float(BASE[fx]) if fx else price
        values.append(price_usd * float(BASE[f"{key}_shares_m"]) / sales[key])
    return sum(values) / len(values)


def test_target_year_2025_values_the_2025_revenue_at_the_peers_2025_ps(extended):
    set_drivers(extended, target_year="2025F", **{f"{k}_sales_FY2025E": v for k, v in SALES_2025.items()})
    result = engine.run(model_file=extended)
    multiple = peer_ps_by_hand("FY2025E", SALES_2025) * (1 + float(BASE["premium"]))
    valuation = multiple * float(result.raw("revenue", "2025F")) / float(BASE["usdcny"])
    unrounded = valuation * float(BASE["hkdusd"]) / float(result.raw("shares_out", "2025F"))
    assert result.raw("target_multiple") == pytest.approx(multiple, rel=1e-12)
    assert float(result.raw("target_price_unrounded")) == pytest.approx(unrounded, rel=1e-12)
    assert result.target_price == pytest.approx(mround(unrounded, 0.1))
    assert result.valuation()["target_year"] == 2025
    # and the peers table carries the FY2025E sales and P/S
    palantir = result.tables()[PEERS_TITLE]["Palantir"]
    assert palantir["Sales FY2025E"] == 3400.0 and "P/S FY2025E" in palantir


def test_target_year_2023_uses_the_2023_figures_of_the_report(base):
    result = engine.run({"target_year": 2023})
    multiple = base.raw("peer_average_ps_FY2023E") * (1 + float(BASE["premium"]))
    unrounded = (
        multiple * base.raw("revenue", "2023F") / BASE["usdcny"] * BASE["hkdusd"] / base.raw("shares_out", "2023F")
    )
    assert float(result.raw("target_price_unrounded")) == pytest.approx(unrounded, rel=1e-12)
    assert engine.run({"target_year": "2024F"}).target_price == base.target_price == 2.7


def test_a_target_year_without_peer_sales_or_without_a_forecast_is_a_clear_error(extended):
    set_drivers(extended, palantir_sales_FY2025E=3400.0)  # one peer only
    line = refused(extended, "value", "--model", extended, "--set", "target_year=2025", says="target_year=2025")
    for key, peer in PEERS.items():
        if key != "palantir":
            assert peer.name in line and f"{key}_sales_FY2025E" in line
    assert "palantir_sales" not in line
    refused(extended, "value", "--model", extended, "--set", "target_year=2027", says="not a forecast year")
    refused(extended, "value", "--model", extended, "--set", "target_year=25", says="target_year")
    # in the file itself, the same error names the file
    before = extended.read_bytes()
    extended.write_text(extended.read_text() + "target_year = 2026\n")
    refused(extended, "value", "--model", extended, says="target_year=2026: no FY2026E sales")
    extended.write_bytes(before)


# ---------------------------------------------------------------- market


def write_market(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "market.csv"
    path.write_text(text)
    return path


def test_market_data_moves_upside_rating_and_peer_ps_as_the_arithmetic_says(extended, tmp_path):
    csv = write_market(tmp_path, "field,value\nas_of,2024-03-28\npalantir_price,16.5\n")
    assert "as of 2024-03-28" in ok("market", csv, "--model", extended).stdout
    tp = engine.run(model_file=extended).target_price
    # a price at which the upside is 5%: HOLD (BUY needs more than 10% for a large cap)
    price = round(tp / 1.05, 4)
    csv = write_market(tmp_path, f"field,value\nas_of,2024-03-28\nlast_price,{price}\n")
    assert "rating HOLD (was BUY)" in ok("market", csv, "--model", extended).stdout
    after = engine.run(model_file=extended)
    assert after.market_as_of == "2024-03-28" and after.valuation()["as_of"] == "2024-03-28"
    # the peer's P/S follows its price (x shares), and the target multiple with it
    palantir = after.tables()[PEERS_TITLE]["Palantir"]
    assert palantir["P/S FY2024E"] == pytest.approx(
        16.5 * BASE["palantir_shares_m"] / PEERS["palantir"].sales_usd_m["FY2024E"]
    )
    sales_2024 = {k: p.sales_usd_m["FY2024E"] for k, p in PEERS.items()}
    multiple = peer_ps_by_hand("FY2024E", sales_2024, {"palantir": 16.5}) * (1 + BASE["premium"])
    assert after.raw("target_multiple") == pytest.approx(multiple, rel=1e-12)
    upside = after.target_price / price - 1
    assert after.raw("upside") == pytest.approx(upside, rel=1e-12)
    assert after.rating == ("BUY" if upside > 0.10 else "HOLD" if upside >= -0.10 else "FULLY VALUED")
    # a price 20% above the target: FULLY VALUED
    high = round(after.target_price * 1.25, 4)
    ok("market", write_market(tmp_path, f"as_of,2024-04-02\nlast_price,{high}\n"), "--model", extended)
    final = engine.run(model_file=extended)
    assert final.raw("upside") == pytest.approx(final.target_price / high - 1, rel=1e-12)
    assert final.rating == "FULLY VALUED"
    assert engine.ModelFile.load(extended).market["palantir_price"] == 16.5  # kept from the first file
    assert "2024-04-02" in ok("value", "--model", extended).stdout


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("as_of,2021-06-30\nlast_price,2.0\n", "before 2021-12-31"),
        ("as_of,2024-03-28\nlast_price,0\n", "last_price: expected a number above 0"),
        ("as_of,2024-03-28\nlast_price,-1.5\n", "last_price: expected a number above 0"),
        ("as_of,2024-03-28\npalantir_price,0\n", "palantir_price: expected a number above 0"),
        ("as_of,2024-03-28\nusdcny,0\n", "usdcny: expected a number above 0"),
        ("as_of,2024-03-28\nprice,2.0\n", "unknown field 'price'"),
        ("as_of,28/03/2024\nlast_price,2.0\n", "as_of: expected a date written YYYY-MM-DD"),
        ("last_price,2.0\n", "no as_of date"),
        ("as_of,2024-03-28\nlast_price,2.0\nlast_price,2.1\n", "given twice"),
        ("as_of,2024-03-28\nlast_price,two\n", "last_price: expected a number"),
    ],
)
def test_a_bad_market_file_is_refused_and_the_model_file_unchanged(extended, tmp_path, text, says):
    refused(extended, "market", write_market(tmp_path, text), "--model", extended, says=says)


def test_market_data_is_no_older_than_the_last_actual_year(extended, tmp_path):
    mf = engine.ModelFile.load(extended)
    mf.set_actual(2022, "smart_business", 1850.0)
    mf.save(extended)
    says = "before 2022-12-31, the end of the model's last actual year 2022"
    refused(
        extended, "market", write_market(tmp_path, "as_of,2022-06-30\nlast_price,2\n"), "--model", extended, says=says
    )
    ok("market", write_market(tmp_path, "as_of,2022-12-31\nlast_price,2\n"), "--model", extended)


def test_a_market_field_set_in_drivers_too_is_an_error(extended, tmp_path):
    set_drivers(extended, last_price=2.5)
    csv = write_market(tmp_path, "as_of,2024-03-28\nlast_price,2.0\n")
    refused(extended, "market", csv, "--model", extended, says="last_price is set in [drivers]")
    market = '\n[market]\nas_of = "2024-03-28"\nlast_price = 2.0\n\n[drivers]\n'
    extended.write_text(extended.read_text().replace("\n[drivers]\n", market, 1))
    refused(extended, "value", "--model", extended, says="last_price is set in both [market] and [drivers]")


def test_years_a_model_file_may_list(tmp_path):
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    text = path.read_text()
    for years, says in (
        ('["2020A", "2021A", "2022F", "2023F", "2024F", "2026F"]', "expected '2025F' after '2024F'"),
        ('["2020A", "2021A", "2022F", "2023F"]', "must start with the report's columns"),
    ):
        path.write_text(text.replace('years = ["2020A", "2021A", "2022F", "2023F", "2024F"]', f"years = {years}"))
        refused(path, "value", "--model", path, says=says)
    assert Years().through(2026).added == ("2025F", "2026F")
    assert compile_model(None, (), Years().through(2025)).forecast[-1] == "2025F"


# ---------------------------------------------------------------- docs/model.md


def test_the_roll_forward_of_docs_model_md_gives_the_figures_it_quotes(tmp_path):
    """The five steps of "A roll-forward in one go", run as written, print what the page says."""
    doc = (Path(__file__).parents[1] / "docs" / "model.md").read_text()
    section = doc.split("## A roll-forward in one go", 1)[1].split("\n## ", 1)[0]
    actuals_doc = (Path(__file__).parents[1] / "docs" / "actuals.md").read_text()
    results = actuals_doc.split("```text\n", 1)[1].split("```", 1)[0]
    drivers = section.split("```toml\n", 1)[1].split("```", 1)[0]
    market_csv = section.split("```text\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "mymodel.toml"
    (tmp_path / "results-2022.csv").write_text(results)
    (tmp_path / "market.csv").write_text(market_csv)
    ok("init", "-o", path)
    ok("actuals", "import", tmp_path / "results-2022.csv", "--year", "2022", "--model", path)
    step1 = engine.run(model_file=path)
    assert f"HK${step1.target_price:.2f} ({float(step1.raw('target_price_unrounded')):.3f} unrounded)" in section
    extend = ok("extend", "--to", "2025", "--model", path).stdout
    assert extend.strip().replace(str(path), "mymodel.toml") in section
    path.write_text(path.read_text().replace("\n[drivers]\n", "\n" + drivers, 1))
    step3 = engine.run(model_file=path)
    v = step3.valuation()
    assert f"{v['peer_average_ps']['FY2025E']:.2f}x at the report's prices: {v['target_multiple']:.2f}x" in section
    assert f"HK${v['target_price']:.2f} a share ({v['target_price_unrounded']:.3f} unrounded)" in section
    assert f"{v['upside_pct']:.1f}% above" in section and v["rating"] == "BUY"
    printed = ok("market", tmp_path / "market.csv", "--model", path).stdout.splitlines()
    assert printed[0] in section.replace("market-2023-03-31.csv", str(tmp_path / "market.csv")).replace(
        "mymodel.toml", str(path)
    )
    assert printed[-1] in section
    final = engine.run(model_file=path).valuation()
    quoted = f"target price HK${final['target_price']:.2f} ({final['target_price_unrounded']:.4f} unrounded)"
    assert quoted in section and f"upside {final['upside_pct']:.1f}%, {final['rating']}" in section


# ---------------------------------------------------------------- found in review


def test_peer_sales_an_analyst_gives_leave_the_reports_figures_alone():
    report = engine.load_report()
    before = {p.key: dict(p.sales_usd_m) for p in report.peers}
    engine.drivers(None, Years().with_peer_sales(["palantir_sales_FY2025E"], tuple(PEERS)))
    assert {p.key: dict(p.sales_usd_m) for p in report.peers} == before
    assert "palantir_sales_FY2025E" not in engine.drivers(None, Years().through(2027))


def test_extend_and_market_leave_the_file_as_it_was_when_the_model_would_not_run(tmp_path):
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    set_drivers(path, capital_issues_2024F=-12000.0)  # a buy-back the later years repeat until no shares
    refused(path, "extend", "--to", "2030", "--model", path, says="unchanged")
    csv = write_market(tmp_path, "as_of,2024-03-28\nusdcny,1e-310\n")
    refused(path, "market", csv, "--model", path, says="unchanged")


def test_a_group_the_file_sets_keeps_reaching_the_added_years(tmp_path):
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    set_drivers(path, gross_margin=0.65, smart_auto_growth=0.3)
    ok("extend", "--to", "2026", "--model", path)
    text = path.read_text()
    assert "gross_margin_2025F" not in text and "smart_auto_growth_2025F = 0.165" in text
    path.write_text(text.replace("gross_margin = 0.65", "gross_margin = 0.6"))
    assert engine.run(model_file=path).drivers["gross_margin_2026F"] == 0.6


def test_extend_keeps_a_comment_with_the_table_it_heads(tmp_path):
    path = tmp_path / "m.toml"
    ok("init", "-o", path)
    path.write_text(path.read_text() + "\n# my 2022 figures\n[actuals.2022]\nsmart_auto = 400.0\n")
    ok("extend", "--to", "2025", "--model", path)
    ok("market", write_market(tmp_path, "as_of,2023-03-31\nlast_price,2\n"), "--model", path)
    text = path.read_text()
    assert re.search(r"# my 2022 figures\n\n?\[actuals\.2022\]", text)
    assert text.index("\n[market]\n") < text.index("\n[drivers]\n") < text.index("smart_auto_growth_2025F")


def test_the_scenario_commands_and_functions_know_the_added_years(extended, tmp_path):
    sales_2025 = {f"{k}_sales_FY2025E": v for k, v in SALES_2025.items()}
    sales = [f"--set={name}={v}" for name, v in sales_2025.items()]
    grid = json.loads(
        ok(
            "sensitivity", "--rows", "smart_auto_growth_2026F=0.03,0.5", "--cols", "target_year=2024,2025",
            "--model", extended, "--format", "json", *sales,
        ).stdout
    )  # fmt: skip
    for i, growth in enumerate((0.03, 0.5)):
        for j, year in enumerate((2024, 2025)):
            overrides = {
                "smart_auto_growth_2026F": growth,
                "target_year": year,
                **sales_2025,
            }
            assert grid["target_price"][i][j] == engine.run(overrides, model_file=extended).target_price
    says = "target_year=2026"
    refused(
        extended,
        "sensitivity",
        "--rows",
        "target_year=2024,2026",
        "--cols",
        "premium=0.4",
        "--model",
        extended,
        says=says,
    )
    refused(
        extended,
        "sensitivity",
        "--rows",
        "terminal_growth=0.03,0.1",
        "--cols",
        "premium=0.4",
        "--model",
        extended,
        says="moves no line",
    )
    spec = tmp_path / "spec.toml"
    spec.write_text('[smart_auto_growth_2026F]\ndist = "uniform"\nlow = 0.0\nhigh = 0.1\n')
    ok("simulate", "-n", "200", "--spec", spec, "--model", extended)
    # the add-in's sensitivity grid on a Drivers range of the extended model
    from udfs.functions import ST_SENSITIVITY

    rows = [[name, value] for name, value in engine.run(model_file=extended).drivers.items()]
    out = ST_SENSITIVITY("smart_auto_growth_2026F", [0.03, 0.5], "premium", [0.4], rows)
    assert out[2][1] == engine.run({"smart_auto_growth_2026F": 0.5}, model_file=extended).target_price


@pytest.mark.parametrize("as_of", ["20230331", "2023-W13-5", "2023-02-30", "2999-01-01", "2023-03-31T10:00"])
def test_an_as_of_date_is_a_past_day_written_yyyy_mm_dd(extended, tmp_path, as_of):
    refused(
        extended, "market", write_market(tmp_path, f"as_of,{as_of}\nlast_price,2\n"), "--model", extended, says="as_of"
    )
