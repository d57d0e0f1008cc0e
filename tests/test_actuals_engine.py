"""Actuals in the engine: a reported figure takes a line's place, later years grow from it, the
valuation follows, and a balance sheet that does not balance is said, not plugged."""

import pytest

import engine
from engine.model import compile_model
from engine.variance import variance

BASE: dict[str, float] = {k: v for k, v in engine.base_values().items() if isinstance(v, float)}
SEGMENTS = ("smart_business", "smart_city", "smart_life", "smart_auto")
# The report's 2022F segments (Segmental Breakdown) and cost of sales (Income Statement)
PRINTED_2022 = {"smart_business": 2018.0, "smart_city": 1821.0, "smart_life": 780.0, "smart_auto": 303.0}
# 80%, 125%, 80% and 125% of the report's figures
ACTUAL_2022 = {"smart_business": 1614.4, "smart_city": 2276.25, "smart_life": 624.0, "smart_auto": 378.75}
COGS_2022 = -2490.0  # printed (2,075), 20% more


def actual_file() -> engine.ModelFile:
    mf = engine.ModelFile.new()
    for key, value in ACTUAL_2022.items():
        mf.set_actual(2022, key, value)
    mf.set_actual(2022, "Cost of Goods Sold", COGS_2022)
    return mf


def test_the_actuals_are_each_at_least_five_percent_away_from_the_report():
    base = engine.run()
    for key, value in ACTUAL_2022.items():
        assert base.value(key, "2022F") == pytest.approx(PRINTED_2022[key])
        assert abs(value / PRINTED_2022[key] - 1) >= 0.05
    assert abs(COGS_2022 / -2075 - 1) >= 0.05


def test_an_actual_year_is_headed_a_and_its_lines_take_the_actuals():
    r = engine.run(model_file=actual_file())
    assert r.columns == {"2020A": "2020A", "2021A": "2021A", "2022F": "2022A", "2023F": "2023F", "2024F": "2024F"}
    revenue = sum(ACTUAL_2022.values())
    assert r.value("revenue", "2022A") == pytest.approx(revenue)
    assert r.value("gross_profit", "2022A") == pytest.approx(revenue + COGS_2022)
    assert list(r.tables()["Income Statement"]["Revenue"]) == ["2020A", "2021A", "2022A", "2023F", "2024F"]
    assert list(r.frame("Balance Sheet").columns) == ["2020A", "2021A", "2022A", "2023F", "2024F"]
    # Lines not given follow their forecast definition on the actual inputs: gross margin is computed
    assert r.value("gross_margin_pct", "2022A") == pytest.approx((revenue + COGS_2022) / revenue * 100)


def test_later_years_grow_from_the_actual_base_and_the_valuation_follows():
    r = engine.run(model_file=actual_file())
    base = engine.run()
    for col, prev in (("2023F", None), ("2024F", "2023F")):
        for key in SEGMENTS:
            start = ACTUAL_2022[key] if prev is None else r.value(key, prev)
            assert isinstance(start, float)
            assert r.value(key, col) == pytest.approx(start * (1 + BASE[f"{key}_growth_{col}"]))
    revenue_2024 = sum(
        ACTUAL_2022[k] * (1 + BASE[f"{k}_growth_2023F"]) * (1 + BASE[f"{k}_growth_2024F"]) for k in SEGMENTS
    )
    assert r.value("revenue", "2024F") == pytest.approx(revenue_2024)
    scale = revenue_2024 / 10393  # the printed segments of 2024F add up to 10,393
    unrounded = base.valuation()["target_price_unrounded"] * scale
    assert r.valuation()["target_price_unrounded"] == pytest.approx(unrounded)
    assert r.target_price == pytest.approx(round(unrounded * 10) / 10)


def test_the_books_still_balance_with_profit_and_loss_actuals():
    r = engine.run(model_file=actual_file())
    for col in ("2022F", "2023F", "2024F"):
        assert r.raw("total_assets", col) == pytest.approx(r.raw("total_cap_liab", col), abs=1e-7)
    assert not [w for w in r.warnings() if "does not balance" in w]


def test_balance_sheet_actuals_that_do_not_balance_are_shown_not_plugged():
    mf = actual_file()
    mf.set_actual(2022, "debtors", 5000)
    mf.set_actual(2022, "cash", 15000)
    r = engine.run(model_file=mf)
    assert r.value("debtors", "2022A") == 5000
    assert r.value("cash", "2022A") == 15000
    gap = float(r.raw("total_assets", "2022F") - r.raw("total_cap_liab", "2022F"))
    assert abs(gap) > 1
    (warning,) = [w for w in r.warnings() if "does not balance" in w]
    assert f"2022A {gap:,.1f}" in warning and "cash 2022" in warning and "debtors 2022" in warning


def test_a_restated_printed_figure_is_a_warning():
    mf = engine.ModelFile.new()
    mf.set_actual(2021, "debtors", 5000)
    r = engine.run(model_file=mf)
    assert r.value("debtors", "2021A") == 5000
    assert r.columns["2022F"] == "2022F"  # a reported year's actual does not make a forecast year actual
    assert any("restates the printed Debtors 2021A (5,776.0)" in w for w in r.warnings())


def test_variance_against_the_report():
    v = variance(actual_file())
    rows = {row["line"]: row for row in v["lines"]}
    for key, value in ACTUAL_2022.items():
        assert rows[key]["forecast"] == pytest.approx(PRINTED_2022[key])
        assert rows[key]["difference"] == pytest.approx(value - PRINTED_2022[key])
        assert rows[key]["difference_pct"] == pytest.approx((value / PRINTED_2022[key] - 1) * 100)
        assert rows[key]["column"] == "2022A"
    assert rows["cogs"]["difference"] == pytest.approx(COGS_2022 + 2075)
    assert v["before"]["target_price"] == 2.7
    revenue_2024 = sum(
        ACTUAL_2022[k] * (1 + BASE[f"{k}_growth_2023F"]) * (1 + BASE[f"{k}_growth_2024F"]) for k in SEGMENTS
    )
    unrounded = engine.run().valuation()["target_price_unrounded"] * revenue_2024 / 10393
    assert v["after"]["target_price_unrounded"] == pytest.approx(unrounded)
    assert v["after"]["target_price"] == pytest.approx(round(unrounded * 10) / 10)


def test_the_vectorised_path_takes_the_actuals_too():
    mf = actual_file()
    model = mf.compiled()
    assert model is compile_model(None, mf.actual_nodes())  # cached: one compiled model per set of actuals
    from engine.vector import evaluate_many

    values = dict(engine.resolve({}))
    out = evaluate_many(values, outputs=(("target_price_unrounded", None),), model=model)
    single = engine.run(model_file=mf).valuation()["target_price_unrounded"]
    assert float(out[("target_price_unrounded", None)][0]) == pytest.approx(single)


def test_a_restated_balance_sheet_figure_that_unbalances_its_year_is_said():
    mf = engine.ModelFile.new()
    mf.set_actual(2021, "debtors", 5000)  # printed 5,776: the 2021A books are 776 short, and stay so
    r = engine.run(model_file=mf)
    gaps = [w for w in r.warnings() if "does not balance" in w]
    # 2021A: 776 short against the report's own -1; every later year carries it: all are said
    (gap,) = gaps
    assert "2021A -777.0, 2022F -776.0, 2023F -776.0, 2024F -776.0" in gap and "debtors 2021" in gap
    assert not [w for w in engine.run().warnings() if "does not balance" in w]  # the report's own -1 is no news


@pytest.mark.parametrize(
    "line", ["chg_wc", "tax_paid", "assoc_cf", "dividend_paid", "chg_gross_debt", "short_term_debt"]
)
def test_lines_that_follow_from_others_take_no_actual_and_say_what_to_give(line):
    with pytest.raises(engine.ModelFileError, match="takes no actual"):
        engine.ModelFile.parse(f"[actuals.2022]\n{line} = 100\n")
