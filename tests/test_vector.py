"""Vectorised path against the independent scalar path; scenarios, sensitivity and simulation."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import engine
from engine.scalar import run_scalar
from engine.scenarios import load_scenarios
from engine.sensitivity import default_axes, grid, parse_axis
from engine.simulate import SpecError, parse_spec, simulate
from engine.vector import evaluate_many
from stmodel.cli import app

RANGES = {  # inside each driver's plausible range
    "smart_business_growth": (-0.5, 2.0),
    "smart_city_growth": (-0.5, 2.0),
    "smart_life_growth": (-0.5, 2.0),
    "smart_auto_growth": (-0.5, 3.0),
    "gross_margin": (0.2, 0.9),
    "variable_opex_ratio": (0.05, 0.6),
    "fixed_opex": (1000.0, 20000.0),
    "depreciation_rate": (0.03, 0.5),
    "capex_to_revenue": (0.0, 1.0),
    "debtor_days": (50.0, 700.0),
    "creditor_days": (50.0, 700.0),
    "tax_rate": (-0.1, 0.4),
    "cost_of_debt": (0.0, 0.15),
    "cash_yield": (0.0, 0.08),
    "other_current_assets_ratio": (0.0, 0.5),
    "capital_issues": (-2000.0, 10000.0),
    "min_cash": (0.0, 20000.0),  # high enough that the revolver draws in some sets
}
SINGLE = {
    "premium": (-0.5, 2.0),
    "usdcny": (5.5, 8.5),
    "last_price": (0.5, 6.0),
    "issue_price": (0.5, 6.0),
    "palantir_price": (1.5, 30.0),
    "cloudwalk_price": (4.0, 60.0),
}
OUTPUTS = (
    ("target_price", None),
    ("target_price_unrounded", None),
    ("net_profit", "2024F"),
    ("cash", "2024F"),
    ("total_assets", "2024F"),
    ("revolver", "2024F"),
    ("shares_out", "2024F"),
    ("rating", None),
)


@st.composite
def driver_sets(draw, n):
    base = engine.base_values()
    sets = []
    for _ in range(n):
        values = dict(base)
        for group, (lo, hi) in RANGES.items():
            for col in ("2022F", "2023F", "2024F"):
                values[f"{group}_{col}"] = draw(st.floats(lo, hi))
        for name, (lo, hi) in SINGLE.items():
            values[name] = draw(st.floats(lo, hi))
        sets.append(values)
    return sets


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.large_base_example])
@given(driver_sets(6))
def test_vectorised_equals_scalar(sets):
    names = [k for k, v in sets[0].items() if not isinstance(v, str)]
    stacked: dict[str, np.ndarray | str] = {k: np.array([s[k] for s in sets]) for k in names}
    stacked.update((k, v) for k, v in sets[0].items() if isinstance(v, str))  # cap_basis, basis, revolver
    many = evaluate_many(stacked, outputs=OUTPUTS, chunk=3)  # several chunks, a short last one
    for i, values in enumerate(sets):
        one = run_scalar(values)
        for node in OUTPUTS:
            if node == ("rating", None):
                assert many[node][i] == one[node]
            else:
                assert many[node][i] == pytest.approx(one[node], rel=1e-10, abs=1e-9), (node, i)


def test_vectorised_equals_scalar_where_the_revolver_draws_and_where_it_is_off():
    base = engine.base_values()
    sets = [
        {**base, **{f"min_cash_{c}": 12000.0 for c in ("2022F", "2023F", "2024F")}},  # draws from 2023F
        {**base, "capital_issues_2023F": 5000.0, "issue_price": 2.5},
        {**base, **{f"fixed_opex_{c}": 15000.0 for c in ("2022F", "2023F", "2024F")}, "revolver": "off"},
    ]
    for values in sets:
        one = run_scalar(values)
        many = evaluate_many(values, outputs=OUTPUTS)
        for node in OUTPUTS:
            got = many[node][0] if np.ndim(many[node]) else many[node]
            assert got == (one[node] if node == ("rating", None) else pytest.approx(one[node], rel=1e-10)), node
    # 2023F cash before the revolver: 9,579 printed, so 12,000 needs 2,421 drawn.
    drawn = run_scalar(sets[0])
    assert drawn[("revolver", "2022F")] == 0  # 13,618 printed is above 12,000
    assert drawn[("revolver", "2023F")] == pytest.approx(12000 - 9579)
    assert drawn[("cash", "2023F")] == pytest.approx(12000.0)
    assert drawn[("cash", "2024F")] == pytest.approx(12000.0)
    assert drawn[("revolver", "2024F")] > 0
    # Off: cash goes negative and no revolver is drawn.
    off = run_scalar(sets[2])
    assert off[("cash", "2024F")] < 0 and off[("revolver", "2024F")] == 0


def test_scalar_path_is_the_report():
    out = run_scalar(engine.base_values())
    assert out[("target_price", None)] == 2.7
    assert out[("rating", None)] == "BUY"
    assert out[("revenue", "2024F")] == pytest.approx(10393)
    assert out[("net_profit", "2024F")] == pytest.approx(-2112)
    assert out[("cash", "2024F")] == pytest.approx(6716)


def test_base_scenario_is_the_report_and_others_are_labelled_illustrative():
    scenarios = load_scenarios()
    assert set(scenarios) == {"base", "bear", "bull"}
    assert engine.run(scenarios["base"].overrides).target_price == 2.7
    assert "llustrative" in scenarios["bear"].rationale and "llustrative" in scenarios["bull"].rationale
    bear, bull = (engine.run(scenarios[k].overrides).target_price for k in ("bear", "bull"))
    assert bear < 2.7 < bull


def test_value_scenario_flag():
    runner = CliRunner()
    bull = json.loads(runner.invoke(app, ["value", "--scenario", "bull", "-f", "json"]).stdout)["valuation"]
    expected = engine.run(load_scenarios()["bull"].overrides).valuation()
    assert bull == expected
    bad = runner.invoke(app, ["value", "--scenario", "bul"])
    assert bad.exit_code == 2 and "did you mean 'bull'" in bad.stderr


def test_sensitivity_grid_base_cell_is_the_base_target_price():
    rows, cols = parse_axis("premium=0.2:0.6:0.1"), parse_axis("usdcny=6.45:7.05:0.1")
    assert rows.values == (0.2, 0.3, 0.4, 0.5, 0.6) and cols.values[-1] == 7.05
    table = grid(rows, cols)
    assert table[rows.values.index(0.4), cols.values.index(6.75)] == 2.7
    assert table[0, 0] == engine.run({"premium": 0.2, "usdcny": 6.45}).target_price
    data = json.loads(
        CliRunner()
        .invoke(app, ["sensitivity", "--rows", "premium=0.2:0.6:0.1", "--cols", "usdcny=6.45:7.05:0.1", "-f", "json"])
        .stdout
    )
    assert data["target_price"][2][3] == 2.7


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("premium=0.25:0.65:0.1", "do not include the current premium"),
        ("premium=0.2:0.65:0.1", "does not land on its end"),
        ("premium=0.6:0.2:0.1", "STOP >= START"),
        ("premum=0.2:0.6:0.1", "did you mean 'premium'"),
        ("premium", "expected NAME=START:STOP:STEP"),
        ("usdcny=-1,6.75", "usdcny: expected a number above 0"),
    ],
)
def test_sensitivity_bad_axes(rows, message):
    result = CliRunner().invoke(app, ["sensitivity", "--rows", rows, "--cols", "usdcny=6.65:6.85:0.1"])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_same_seed_same_simulation():
    a, b = simulate(70_000, seed=11), simulate(70_000, seed=11)
    assert np.array_equal(a.target_price, b.target_price)
    assert a.summary() == b.summary()
    c = simulate(70_000, seed=12)
    assert not np.array_equal(a.target_price, c.target_price)
    probs = a.rating_probabilities()
    assert sum(probs.values()) == pytest.approx(1.0)


def test_a_degenerate_spec_reproduces_the_base_case():
    spec = parse_spec({"premium": {"dist": "uniform", "low": 0.4, "high": 0.4}})
    sim = simulate(1000, seed=0, spec=spec)
    assert np.allclose(sim.target_price, engine.run().valuation()["target_price_unrounded"])
    assert sim.rating_probabilities()["BUY"] == 1.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ('[premum]\ndist = "normal"\nsd = 0.1\n', "[premum]: unknown driver 'premum'; did you mean 'premium'?"),
        ('[usdcny]\ndist = "normal"\nmean = 6.75\nsd = -0.1\n', "[usdcny] standard deviation must not be negative"),
        ('[premium]\ndist = "triangular"\nlow = 0.5\nmode = 0.2\nhigh = 0.6\n', "[premium] impossible triangle"),
        ('[premium]\ndist = "uniform"\nlow = 0.6\nhigh = 0.2\n', "[premium] uniform needs low <= high"),
        ('[premium]\ndist = "lognormal"\n', "[premium] dist: expected normal, triangular or uniform"),
        ('[premium]\ndist = "normal"\nmean = "x"\nsd = 1\n', '[premium] mean: expected a number or "base"'),
    ],
)
def test_bad_spec_entries(tmp_path, spec, message):
    path = tmp_path / "spec.toml"
    path.write_text(spec)
    result = CliRunner().invoke(app, ["simulate", "-n", "100", "--spec", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(SpecError):
        from engine.simulate import load_spec

        load_spec(path)


def test_simulate_cli_json_histogram_and_workbook(tmp_path):
    from openpyxl import load_workbook

    from workbook.build import build_workbook, save_atomic

    wb_path = tmp_path / "model.xlsx"
    save_atomic(build_workbook(), wb_path)
    png = tmp_path / "tp.png"
    result = CliRunner().invoke(
        app,
        ["simulate", "-n", "5000", "--seed", "3", "-f", "json", "--histogram", str(png), "--workbook", str(wb_path)],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n"] == 5000 and set(summary["rating_probabilities"]) == {"BUY", "HOLD", "FULLY VALUED"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sheet = load_workbook(wb_path)["Simulation"]
    assert sheet["B3"].value == 5000


def test_default_axes_hold_the_base_values():
    rows, cols = default_axes()
    assert 0.4 in rows.values and 6.75 in cols.values


def test_the_default_spec_draws_peer_prices_spanning_the_old_market_cap_ranges():
    from engine.simulate import load_spec

    spec = {d.driver.name: d for d in load_spec()}
    assert not any(name.endswith("_mkt_cap") for name in spec)
    # (low, high) market caps in US$ m the spec used to draw, and the printed price and market cap.
    ranges = {
        "alinnovation": (1200, 2200, 24.1, 1703),
        "cloudwalk": (1200, 2200, 15.48, 1684),
        "deep_glint": (450, 850, 24.52, 644),
        "arcsoft": (1000, 1800, 23.37, 1402),
    }
    for peer, (lo, hi, price, mkt_cap) in ranges.items():
        d = spec[f"{peer}_price"]
        assert d.dist == "uniform"
        # price x shares is proportional to the price: the range scales by printed market cap / price.
        assert d.params["low"] * mkt_cap / price == pytest.approx(lo, rel=1e-3)
        assert d.params["high"] * mkt_cap / price == pytest.approx(hi, rel=1e-3)
    for peer in ("palantir", "ui_path"):
        d = spec[f"{peer}_price"]
        assert d.params["mean"] == engine.drivers()[f"{peer}_price"].base
        assert d.params["sd"] == pytest.approx(0.2 * d.params["mean"])


def test_draws_are_clipped_inside_the_hard_bounds():
    spec = parse_spec({"smart_auto_growth": {"dist": "uniform", "low": -3.0, "high": -2.0}})
    x = spec[0].sample(np.random.default_rng(0), 100)
    assert np.all(x > -1.0) and np.all(x < -0.999999)  # above -1, strictly
    spec = parse_spec({"gross_margin": {"dist": "uniform", "low": 1.5, "high": 2.0}})
    assert np.all(spec[0].sample(np.random.default_rng(0), 100) == 1.0)
