"""Statement mechanics: no plug, double entry, and hypothesis over the driver space."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.expr import Value
from engine.lines import FCST, YEARS

FORECAST_RANGES = {
    "smart_business_growth": (-0.5, 2.0),
    "smart_city_growth": (-0.5, 2.0),
    "smart_life_growth": (-0.5, 2.0),
    "smart_auto_growth": (-0.5, 3.0),
    "gross_margin": (0.1, 0.9),
    "opex_ratio": (0.1, 2.0),
    "associates": (-500.0, 500.0),
    "net_interest": (-500.0, 500.0),
    "tax": (-500.0, 500.0),
    "minority_interest": (-200.0, 200.0),
    "preference_dividend": (0.0, 100.0),
    "dep_amort": (0.0, 3000.0),
    "capex": (0.0, 6000.0),
    "debtor_days": (0.0, 800.0),
    "inventory_days": (0.0, 400.0),
    "creditor_days": (0.0, 800.0),
    "other_current_assets": (0.0, 500.0),
    "other_current_liab": (0.0, 500.0),
    "short_term_debt": (0.0, 2000.0),
    "long_term_debt": (0.0, 2000.0),
    "capital_issues": (0.0, 5000.0),
}


def num(x: object) -> float:
    """A value of a line that is a figure in every column read here (never a text or a blank)."""
    assert isinstance(x, float), x
    return x


def scenarios(x: object) -> np.ndarray:
    """A value evaluated for several driver sets at once: one entry per scenario."""
    assert isinstance(x, np.ndarray), x
    return x


@st.composite
def driver_sets(draw):
    out = {}
    for group, (lo, hi) in FORECAST_RANGES.items():
        for col in FCST:
            if draw(st.booleans()):
                out[f"{group}_{col}"] = draw(st.floats(lo, hi, allow_nan=False))
    out["premium"] = draw(st.floats(-0.5, 3.0))
    out["usdcny"] = draw(st.floats(5.0, 9.0))
    return out


@settings(max_examples=150, deadline=None)
@given(driver_sets())
def test_the_balance_sheet_balances_for_any_drivers(overrides):
    r = engine.run(overrides)
    for col in FCST:
        assets, liabilities = num(r.value("total_assets", col)), num(r.value("total_cap_liab", col))
        assert assets == pytest.approx(liabilities, rel=1e-12, abs=1e-7), (col, assets - liabilities)


@settings(max_examples=60, deadline=None)
@given(driver_sets(), st.floats(-0.9, 3.0), st.floats(0.001, 1.0))
def test_the_target_price_rises_with_the_premium(overrides, premium, step):
    low = engine.run({**overrides, "premium": premium})
    high = engine.run({**overrides, "premium": premium + step})
    assert high.valuation()["target_price_unrounded"] > low.valuation()["target_price_unrounded"]
    assert high.target_price >= low.target_price


def test_cash_comes_from_the_cash_flow(base):
    gap = base.model.fixed
    for i, col in enumerate(FCST):
        prev = YEARS[YEARS.index(col) - 1]
        expected = base.value("cash", prev) + base.value("chg_in_cash", col) + gap[f"cash_unreconciled_{col}"]
        assert base.value("cash", col) == pytest.approx(expected, abs=1e-9), i


def test_a_capex_change_is_posted_twice():
    base, more = engine.run(), engine.run({"capex_2023F": 885 + 500})
    assert num(more.value("nfa", "2023F")) - num(base.value("nfa", "2023F")) == pytest.approx(500)
    assert num(more.value("cash", "2023F")) - num(base.value("cash", "2023F")) == pytest.approx(-500)
    assert num(more.value("cash", "2024F")) - num(base.value("cash", "2024F")) == pytest.approx(-500)
    assert more.value("net_profit", "2023F") == base.value("net_profit", "2023F")


def test_higher_debtor_days_tie_up_cash():
    base, slow = engine.run(), engine.run({"debtor_days_2022F": 400})
    extra = 400 / 365 * 4922 - 4817  # debtors on 2022F revenue of 4,922 at 400 days, against 4,817
    assert slow.value("debtors", "2022F") == pytest.approx(4817 + extra)
    assert num(slow.value("cash", "2022F")) - num(base.value("cash", "2022F")) == pytest.approx(-extra)
    # The following year releases it again through Chg in Wkg.Cap.
    assert num(slow.value("chg_wc", "2023F")) - num(base.value("chg_wc", "2023F")) == pytest.approx(extra)


def test_the_base_balance_sheet_is_the_printed_one(base):
    printed = base.model.report.table("Balance Sheet")
    for label in ("Cash & ST Invt", "Shareholder's Equity", "Total Assets", "Debtors", "Net Fixed Assets"):
        key = next(k for k, line in base.model.lines.items() if line.label == label)
        for col in FCST:
            assert base.value(key, col) == pytest.approx(printed.value(label, col), abs=1.0 + 1e-9), (label, col)


def test_many_scenarios_at_once_equal_one_at_a_time():
    model = engine.compile_model()
    growth = np.array([0.1, 0.5, 1.2])
    values: dict[str, Value] = dict(engine.resolve({}))
    values["smart_auto_growth_2024F"] = growth
    env = engine.evaluate(values, model)
    assert scenarios(env[("target_price", None)]).shape == (3,)
    for i, g in enumerate(growth):
        single = engine.run({"smart_auto_growth_2024F": g})
        unrounded = single.valuation()["target_price_unrounded"]
        assert scenarios(env[("target_price_unrounded", None)])[i] == pytest.approx(unrounded)
        assert scenarios(env[("cash", "2024F")])[i] == pytest.approx(single.value("cash", "2024F"))
        assert scenarios(env[("rating", None)])[i] == single.rating
