"""Statement mechanics: every driver posted on both sides, checked by hand, and hypothesis over the
plausible driver space."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.expr import Value
from engine.lines import FCST, YEARS

BASE: dict[str, float] = {k: v for k, v in engine.base_values().items() if isinstance(v, float)}
CF_LINES = ("net_operating_cf", "net_investing_cf", "net_financing_cf", "currency_adj")


def num(x: object) -> float:
    """A value of a line that is a figure in every column read here (never a text or a blank)."""
    assert isinstance(x, float), x
    return x


def scenarios(x: object) -> np.ndarray:
    """A value evaluated for several driver sets at once: one entry per scenario."""
    assert isinstance(x, np.ndarray), x
    return x


def prev(col: str) -> str:
    return YEARS[YEARS.index(col) - 1]


def delta(changed: engine.Result, base: engine.Result, key: str, col: str) -> float:
    return num(changed.value(key, col)) - num(base.value(key, col))


def assert_double_entry(r: engine.Result) -> None:
    """Both sides of the books agree and cash moves by the cash flow (plus the named gap, which is zero
    on the clean basis), in every forecast year."""
    clean = r.drivers["basis"] == "clean"
    for col in FCST:
        assets, liabilities = num(r.value("total_assets", col)), num(r.value("total_cap_liab", col))
        assert assets == pytest.approx(liabilities, rel=1e-12, abs=1e-7), (col, assets - liabilities)
        flows = sum(num(r.value(k, col)) for k in CF_LINES)
        gap = 0.0 if clean else r.model.fixed[f"cash_unreconciled_{col}"]
        move = num(r.value("cash", col)) - num(r.value("cash", prev(col)))
        assert move == pytest.approx(flows + gap, rel=1e-12, abs=1e-7), col
        assert num(r.value("chg_in_cash", col)) == pytest.approx(flows, rel=1e-12, abs=1e-7), col


@pytest.fixture(scope="module")
def base_run() -> engine.Result:
    return engine.run()


# ---------------------------------------------------------------- one driver, by hand


def test_fixed_opex_lowers_profit_and_cash_after_tax(base_run):
    r = engine.run({"fixed_opex_2023F": BASE["fixed_opex_2023F"] + 100})
    rate = BASE["tax_rate_2023F"]
    assert delta(r, base_run, "operating_profit", "2023F") == pytest.approx(-100)
    assert delta(r, base_run, "tax", "2023F") == pytest.approx(100 * rate)
    assert delta(r, base_run, "net_profit", "2023F") == pytest.approx(-100 * (1 - rate))
    assert delta(r, base_run, "equity", "2023F") == pytest.approx(-100 * (1 - rate))
    assert delta(r, base_run, "cash", "2023F") == pytest.approx(-100 * (1 - rate))
    assert_double_entry(r)


def test_variable_opex_moves_with_revenue(base_run):
    r = engine.run({"variable_opex_ratio_2024F": BASE["variable_opex_ratio_2024F"] + 0.01})
    revenue = 10393.0  # the segments of 2024F as printed: 2,960 + 3,142 + 2,285 + 2,006
    assert delta(r, base_run, "other_opng", "2024F") == pytest.approx(-0.01 * revenue)
    assert_double_entry(r)


def test_operating_leverage_more_growth_more_operating_profit(base_run):
    for col in FCST:
        r = engine.run({f"smart_business_growth_{col}": BASE[f"smart_business_growth_{col}"] + 0.2})
        extra = delta(r, base_run, "revenue", col)
        assert extra > 0
        margin = BASE[f"gross_margin_{col}"] - BASE[f"variable_opex_ratio_{col}"]
        assert margin > 0, col  # the base split: variable opex below the gross margin every year
        assert delta(r, base_run, "operating_profit", col) == pytest.approx(extra * margin)
        assert_double_entry(r)


def test_interest_follows_the_opening_balances(base_run):
    more_debt = engine.run({"long_term_debt_2022F": BASE["long_term_debt_2022F"] + 1000})
    # 2022F: the debt is drawn at the year end, no interest yet; the cash is there at the end
    assert delta(more_debt, base_run, "net_interest", "2022F") == pytest.approx(0, abs=1e-9)
    assert delta(more_debt, base_run, "cash", "2022F") == pytest.approx(1000)
    # 2023F: interest at cost_of_debt on the extra debt and cash_yield on the extra cash
    expected = 1000 * (BASE["cash_yield_2023F"] - BASE["cost_of_debt_2023F"])
    assert delta(more_debt, base_run, "net_interest", "2023F") == pytest.approx(expected)
    dearer = engine.run({"cost_of_debt_2023F": BASE["cost_of_debt_2023F"] + 0.01})
    opening_debt = 0 + 407  # ST and LT debt printed for 2022F
    assert delta(dearer, base_run, "net_interest", "2023F") == pytest.approx(-0.01 * opening_debt)
    richer = engine.run({"cash_yield_2022F": BASE["cash_yield_2022F"] + 0.001})
    assert delta(richer, base_run, "net_interest", "2022F") == pytest.approx(0.001 * 21793)  # 2021A cash
    for r in (more_debt, dearer, richer):
        assert_double_entry(r)


def test_tax_is_a_rate_on_pre_tax_profit():
    # A swing to profit: with a 95% gross margin and no fixed costs, 2024F makes a profit
    r = engine.run({"gross_margin_2024F": 0.95, "fixed_opex_2024F": 0.0, "tax_rate_2024F": 0.25})
    pbt = num(r.value("pbt", "2024F"))
    taxable = pbt - num(r.value("associates", "2024F"))  # the associates' share is taxed already
    assert taxable > 0
    assert num(r.value("tax", "2024F")) == pytest.approx(-0.25 * taxable)  # a charge
    assert num(r.value("net_profit", "2024F")) == pytest.approx(pbt - 0.25 * taxable)
    assert_double_entry(r)
    # The report's 2024F: a negative rate on a loss is a charge of 50
    base = engine.run()
    assert BASE["tax_rate_2024F"] < 0
    assert num(base.value("tax", "2024F")) == pytest.approx(-50)
    # ... which on a profit would be a credit: said, not hidden
    swing = engine.run({"gross_margin_2024F": 0.95, "fixed_opex_2024F": 0.0})
    assert any(w.startswith("tax_rate_2024F=") and "credit" in w for w in swing.warnings())


def test_a_buy_back_of_more_shares_than_there_are_is_refused():
    with pytest.raises(engine.DriverError, match="shares outstanding 2024F is not positive"):
        engine.run({"capital_issues_2024F": -100000})


def test_a_balance_that_goes_negative_is_a_warning():
    r = engine.run({"disposal_loss_2023F": 9000})
    assert any(w.startswith("Net Fixed Assets 2023F is negative") for w in r.warnings())


def test_depreciation_is_a_rate_on_opening_fixed_assets(base_run):
    r = engine.run({"depreciation_rate_2023F": BASE["depreciation_rate_2023F"] + 0.05})
    extra = 0.05 * 6524  # 2022F Net Fixed Assets as printed
    rate = BASE["tax_rate_2023F"]
    assert delta(r, base_run, "dep_amort", "2023F") == pytest.approx(extra)
    assert delta(r, base_run, "nfa", "2023F") == pytest.approx(-extra)
    assert delta(r, base_run, "operating_profit", "2023F") == pytest.approx(-extra)
    assert delta(r, base_run, "cash", "2023F") == pytest.approx(extra * rate)  # non-cash, only the tax moves
    assert_double_entry(r)


def test_capex_is_posted_twice_and_depreciates_next_year(base_run):
    r = engine.run({"capex_to_revenue_2023F": BASE["capex_to_revenue_2023F"] + 0.1})
    extra = 0.1 * 7231  # 2023F revenue: the printed segments add up to 7,231
    assert delta(r, base_run, "capex_cf", "2023F") == pytest.approx(-extra)
    assert delta(r, base_run, "nfa", "2023F") == pytest.approx(extra)
    assert delta(r, base_run, "cash", "2023F") == pytest.approx(-extra)
    assert r.value("net_profit", "2023F") == base_run.value("net_profit", "2023F")
    assert delta(r, base_run, "dep_amort", "2024F") == pytest.approx(extra * BASE["depreciation_rate_2024F"])
    assert_double_entry(r)


def test_other_current_balances_are_shares_of_revenue(base_run):
    r = engine.run({"other_current_assets_ratio_2022F": BASE["other_current_assets_ratio_2022F"] + 0.01})
    assert delta(r, base_run, "other_current_assets", "2022F") == pytest.approx(49.22)  # 1% of 4,922
    assert delta(r, base_run, "chg_wc", "2022F") == pytest.approx(-49.22)
    assert delta(r, base_run, "cash", "2022F") == pytest.approx(-49.22)
    r2 = engine.run({"other_current_liab_ratio_2022F": BASE["other_current_liab_ratio_2022F"] + 0.01})
    assert delta(r2, base_run, "other_current_liab", "2022F") == pytest.approx(49.22)
    assert delta(r2, base_run, "cash", "2022F") == pytest.approx(49.22)
    for x in (r, r2):
        assert_double_entry(x)


def test_higher_debtor_days_tie_up_cash(base_run):
    slow = engine.run({"debtor_days_2022F": 400})
    extra = 400 / 365 * 4922 - 4817  # debtors on 2022F revenue of 4,922 at 400 days, against 4,817
    assert slow.value("debtors", "2022F") == pytest.approx(4817 + extra)
    assert delta(slow, base_run, "cash", "2022F") == pytest.approx(-extra)
    assert_double_entry(slow)


@pytest.mark.parametrize(
    ("driver", "amount", "cash_sign", "other_side", "other_sign"),
    [
        ("other_investment", 500.0, -1, "other_lt_assets", 1),
        ("assoc_investment", 200.0, -1, "invt_in_associates", 1),
        ("div_from_assoc", 30.0, 1, "invt_in_associates", -1),
        ("other_investing_cf", 100.0, 1, "other_lt_assets", -1),
        ("other_financing_cf", 100.0, 1, "other_lt_liab", 1),
        ("currency_adj", 100.0, 1, "equity", 1),
        ("capital_issues", 100.0, 1, "equity", 1),
        ("short_term_debt", 100.0, 1, "short_term_debt", 1),
    ],
)
def test_each_cash_flow_driver_names_its_other_side(base_run, driver, amount, cash_sign, other_side, other_sign):
    name = f"{driver}_2023F"
    r = engine.run({name: BASE[name] + amount})
    assert delta(r, base_run, "cash", "2023F") == pytest.approx(cash_sign * amount)
    assert delta(r, base_run, other_side, "2023F") == pytest.approx(other_sign * amount)
    if other_side == "invt_in_associates":  # carried inside Other LT Assets
        assert delta(r, base_run, "other_lt_assets", "2023F") == pytest.approx(other_sign * amount)
    assert r.value("net_profit", "2023F") == base_run.value("net_profit", "2023F")
    assert_double_entry(r)
    assert other_side in engine.drivers()[name].posts


def test_associates_profit_is_not_cash_and_not_taxed_again(base_run):
    r = engine.run({"associates_2023F": BASE["associates_2023F"] + 40})
    assert delta(r, base_run, "assoc_cf", "2023F") == pytest.approx(-40)
    assert delta(r, base_run, "invt_in_associates", "2023F") == pytest.approx(40)
    assert delta(r, base_run, "other_lt_assets", "2023F") == pytest.approx(40)
    assert delta(r, base_run, "tax", "2023F") == pytest.approx(0, abs=1e-9)  # the share is after its own tax
    assert delta(r, base_run, "cash", "2023F") == pytest.approx(0, abs=1e-9)
    assert delta(r, base_run, "equity", "2023F") == pytest.approx(40)
    assert_double_entry(r)


@pytest.mark.parametrize(("driver", "other_side"), [("disposal_loss", "nfa"), ("other_operating_cf", "equity")])
def test_non_cash_charges_hit_profit_not_cash(base_run, driver, other_side):
    """A loss on disposals and share-based payments are charged in operating expenses and added back in
    the cash flow: profit falls, only the tax on it is cash; the other side is the asset written off or
    the reserve credited."""
    name = f"{driver}_2023F"
    r = engine.run({name: BASE[name] + 100})
    rate = BASE["tax_rate_2023F"]
    assert delta(r, base_run, "other_opng", "2023F") == pytest.approx(-100)
    assert delta(r, base_run, "net_profit", "2023F") == pytest.approx(-100 * (1 - rate))
    assert delta(r, base_run, "cash", "2023F") == pytest.approx(100 * rate)
    if other_side == "nfa":
        assert delta(r, base_run, "nfa", "2023F") == pytest.approx(-100)
    else:  # the charge is credited back to reserves: equity moves by the tax only
        assert delta(r, base_run, "equity", "2023F") == pytest.approx(100 * rate)
    assert_double_entry(r)


def test_the_revolver_keeps_cash_at_the_minimum(base_run):
    r = engine.run({"min_cash_2024F": 8000})
    assert num(r.value("revolver", "2024F")) == pytest.approx(8000 - 6716)  # printed 2024F cash 6,716
    assert num(r.value("cash", "2024F")) == pytest.approx(8000)
    assert delta(r, base_run, "short_term_debt", "2024F") == pytest.approx(8000 - 6716)
    assert_double_entry(r)
    # Drawn in 2023F, paid interest on in 2024F, repaid in 2024F when the minimum drops back to zero
    r = engine.run({"min_cash_2023F": 12000})
    drawn = 12000 - 9579
    assert num(r.value("revolver", "2023F")) == pytest.approx(drawn)
    assert num(r.value("revolver", "2024F")) == pytest.approx(0)
    interest = drawn * (BASE["cash_yield_2024F"] - BASE["cost_of_debt_2024F"])
    assert delta(r, base_run, "net_interest", "2024F") == pytest.approx(interest)
    assert delta(r, base_run, "cash", "2024F") == pytest.approx(interest * (1 - BASE["tax_rate_2024F"]))
    assert_double_entry(r)


def test_with_the_revolver_off_cash_can_go_negative_and_says_so():
    on = engine.run({"fixed_opex": 20000})
    assert all(num(on.value("cash", c)) >= -1e-9 for c in FCST)
    assert not any("negative" in w for w in on.warnings())
    off = engine.run({"fixed_opex": 20000, "revolver": "off"})
    assert num(off.value("cash", "2024F")) < 0
    assert any(w.startswith("Cash & ST Invt 2024F is negative") for w in off.warnings())
    assert_double_entry(off)


def test_capital_issues_issue_shares_at_the_issue_price(base_run):
    r = engine.run({"capital_issues_2023F": 1000, "issue_price": 2.0})
    hkd_per_rmb = (71889 / 9206) / 6.75  # HK$ per US$ from the market-cap line, over USDCNY
    new = 1000 * hkd_per_rmb / 2.0
    assert num(r.value("shares_out", "2023F")) == pytest.approx(33282 + new)
    assert num(r.value("eps_shares", "2024F")) - num(base_run.value("eps_shares", "2024F")) == pytest.approx(new)
    unrounded = base_run.valuation()["target_price_unrounded"] * 33282 / (33282 + new)
    assert r.valuation()["target_price_unrounded"] == pytest.approx(unrounded)
    assert_double_entry(r)


def test_a_peer_price_moves_the_target_price(base_run):
    r = engine.run({"alinnovation_price": 24.1 * 1.1})
    for col in ("FY2022E", "FY2023E", "FY2024E"):
        assert num(r.raw(f"alinnovation_ps_{col}")) == pytest.approx(1.1 * num(base_run.raw(f"alinnovation_ps_{col}")))
    old = float(base_run.raw("alinnovation_ps_FY2024E"))
    expected_average = float(base_run.raw("peer_average_ps_FY2024E")) + 0.1 * old / 6
    assert float(r.raw("peer_average_ps_FY2024E")) == pytest.approx(expected_average)
    ratio = expected_average / float(base_run.raw("peer_average_ps_FY2024E"))
    assert r.valuation()["target_price_unrounded"] == pytest.approx(
        ratio * base_run.valuation()["target_price_unrounded"]
    )
    assert num(r.raw("alinnovation_mkt_cap_usd")) == pytest.approx(1.1 * 1703)  # printed US$1,703m


def test_the_clean_basis_is_pure_double_entry():
    clean = engine.run(basis="clean")
    assert_double_entry(clean)
    assert clean.target_price == 2.7  # the valuation reads revenue only, which no adjustment touches
    assert num(clean.value("ebitda", "2022F")) == pytest.approx(
        num(clean.value("operating_profit", "2022F")) + num(clean.value("dep_amort", "2022F"))
    )


def test_premium_typed_as_a_percentage_is_accepted_with_a_warning():
    r = engine.run({"premium": 50})
    assert any("did you mean 0.5?" in w for w in r.warnings())
    assert not engine.run().warnings()


@pytest.mark.parametrize(
    "bad", [{"gross_margin_2023F": 1.5}, {"debtor_days": -1}, {"smart_auto_growth_2024F": -1}, {"cash_yield": -0.01}]
)
def test_hard_bounds_are_errors(bad):
    with pytest.raises(engine.DriverError):
        engine.run(bad)


def test_the_base_balance_sheet_is_the_printed_one(base_run):
    printed = base_run.model.report.table("Balance Sheet")
    for key, line in base_run.model.lines.items():
        if line.source != "Balance Sheet" or not line.by_year:
            continue
        for col in FCST:
            expected = printed.value(line.label, col)
            assert base_run.value(key, col) == pytest.approx(expected, abs=1e-6), (line.label, col)


# ---------------------------------------------------------------- hypothesis


def plausible_groups() -> dict[str, tuple[float, float]]:
    """Every numeric per-year driver group with its plausible range (the same in every year)."""
    out: dict[str, tuple[float, float]] = {}
    for d in engine.drivers().values():
        if d.kind == "forecast" and d.plausible is not None:
            out[d.group] = d.plausible
    return out


GROUPS = plausible_groups()


@st.composite
def driver_sets(draw, basis: bool = True):
    out: dict[str, object] = {}
    for group, (lo, hi) in GROUPS.items():
        for col in FCST:
            if draw(st.integers(0, 3)) == 0:
                out[f"{group}_{col}"] = draw(st.floats(lo, hi, allow_nan=False))
    out["premium"] = draw(st.floats(-0.5, 2.0))
    out["usdcny"] = draw(st.floats(5.0, 9.0))
    if basis:
        out["basis"] = draw(st.sampled_from(["printed", "clean"]))
    return out


@settings(max_examples=120, deadline=None)
@given(driver_sets())
def test_any_plausible_drivers_balance_and_keep_the_minimum_cash(overrides):
    r = engine.run(overrides)
    assert_double_entry(r)
    for col in FCST:
        floor = r.drivers[f"min_cash_{col}"]
        assert isinstance(floor, float)
        assert num(r.value("cash", col)) >= floor - 1e-6 * max(1.0, floor), col


@settings(max_examples=40, deadline=None)
@given(driver_sets(), st.floats(1.0, 5000.0))
def test_the_revolver_draws_and_the_books_still_balance(overrides, above):
    without = engine.run({**overrides, "min_cash": 0.0})
    floor = max(num(without.value("cash", c)) for c in FCST) + above  # above every year's cash
    r = engine.run({**overrides, "min_cash": floor})
    assert num(r.value("revolver", FCST[0])) > 0
    assert_double_entry(r)
    for col in FCST:
        assert num(r.value("cash", col)) == pytest.approx(max(floor, num(r.value("cash_before_revolver", col))))


@settings(max_examples=60, deadline=None)
@given(driver_sets(), st.floats(-0.5, 1.9), st.floats(0.001, 0.1))
def test_the_target_price_rises_with_the_premium(overrides, premium, step):
    low = engine.run({**overrides, "premium": premium})
    high = engine.run({**overrides, "premium": premium + step})
    assert high.valuation()["target_price_unrounded"] > low.valuation()["target_price_unrounded"]
    assert high.target_price >= low.target_price


PEERS = [p.key for p in engine.load_report().peers]


@settings(max_examples=60, deadline=None)
@given(driver_sets(), st.sampled_from(PEERS), st.floats(1.01, 3.0))
def test_the_target_price_rises_with_each_peer_price(overrides, peer, factor):
    price = BASE[f"{peer}_price"]
    assert isinstance(price, float)
    low = engine.run(overrides)
    high = engine.run({**overrides, f"{peer}_price": price * factor})
    assert high.valuation()["target_price_unrounded"] > low.valuation()["target_price_unrounded"]
    assert high.target_price >= low.target_price


def test_many_scenarios_at_once_equal_one_at_a_time():
    model = engine.compile_model()
    growth = np.array([0.1, 0.5, 1.2])
    values: dict[str, Value] = dict(engine.resolve({"min_cash_2024F": 7000}))
    values["smart_auto_growth_2024F"] = growth
    env = engine.evaluate(values, model)
    assert scenarios(env[("target_price", None)]).shape == (3,)
    for i, g in enumerate(growth):
        single = engine.run({"smart_auto_growth_2024F": g, "min_cash_2024F": 7000})
        unrounded = single.valuation()["target_price_unrounded"]
        assert scenarios(env[("target_price_unrounded", None)])[i] == pytest.approx(unrounded)
        assert scenarios(env[("cash", "2024F")])[i] == pytest.approx(single.value("cash", "2024F"))
        assert scenarios(env[("revolver", "2024F")])[i] == pytest.approx(single.value("revolver", "2024F"))
        assert scenarios(env[("rating", None)])[i] == single.rating
