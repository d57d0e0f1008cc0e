"""Each forecasting driver changed in the workbook, recalculated by LibreOffice, against the engine.

For every driver of issue 15 (operating leverage, rates on opening balances, ratios of revenue, the
revolver, share issues, the cash-flow drivers posted on both sides, the live peers, the clean basis):
every line cell equals `engine.run` with the same override (1e-9 relative), the balance sheet still
balances, and the change in cash equals Chg in Cash: exactly on the clean basis, and on the printed
basis up to the named report adjustments, which the driver does not change. All workbooks go through
one LibreOffice run (`recalculated_values_of`), so the whole file costs one start-up.
"""

from __future__ import annotations

from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

import engine
from engine.drivers import drivers
from engine.lines import FCST, YEARS
from workbook.layout import make_layout
from workbook.recalc import recalculated_values_of
from workbook.verify import compare

pytestmark = pytest.mark.slow

# case -> driver overrides, the first one the driver under test
CASES: dict[str, dict[str, object]] = {
    "fixed_opex": {"fixed_opex_2023F": 6000.0},
    "variable_opex_ratio": {"variable_opex_ratio_2024F": 0.3},
    "cash_yield": {"cash_yield_2023F": 0.03},
    "cost_of_debt": {"cost_of_debt_2024F": 0.08},
    "tax_rate": {"tax_rate_2023F": 0.15},
    "depreciation_rate": {"depreciation_rate_2023F": 0.3},
    "capex_to_revenue": {"capex_to_revenue_2024F": 0.2},
    "other_current_assets_ratio": {"other_current_assets_ratio_2023F": 0.05},
    "other_current_liab_ratio": {"other_current_liab_ratio_2022F": 0.1},
    "min_cash": {"min_cash_2024F": 9000.0},  # above the base 2024F cash (6,716): the revolver draws
    "issue_price": {"issue_price": 3.0, "capital_issues_2023F": 2000.0},
    "other_investment": {"other_investment_2023F": 1500.0},
    "assoc_investment": {"assoc_investment_2023F": -300.0},
    "div_from_assoc": {"div_from_assoc_2024F": 50.0},
    "other_investing_cf": {"other_investing_cf_2022F": -400.0},
    "disposal_loss": {"disposal_loss_2023F": 800.0},
    "other_operating_cf": {"other_operating_cf_2023F": -500.0},
    "other_financing_cf": {"other_financing_cf_2024F": 300.0},
    "currency_adj": {"currency_adj_2022F": 150.0},
    "peer price": {"palantir_price": 9.0},
    "ps_row_usdcny": {"ps_row_usdcny": 7.0},
    "basis clean": {"basis": "clean"},
    "clean, several drivers": {
        "basis": "clean",
        "fixed_opex_2023F": 6000.0,
        "min_cash_2024F": 9000.0,
        "issue_price": 3.0,
        "capital_issues_2023F": 2000.0,
        "tax_rate_2023F": 0.15,
        "other_investment_2023F": 1500.0,
        "other_financing_cf_2024F": 300.0,
    },
    # opex up by 10,448 in 2023F takes cash below zero; with the revolver off nothing stops it
    "revolver off": {"revolver": "off", "fixed_opex_2023F": 15000.0},
    # warnings: a percentage typed as a whole number, and an opex ratio above the gross margin
    "implausible": {"premium": 50.0, "variable_opex_ratio_2024F": 0.65},
}
NOT_MOVED = {"basis", "revolver"}  # switches that move nothing in the base case: checked by their effect below


def set_inputs(wb: Workbook, overrides: dict[str, object]) -> None:
    layout = make_layout()
    for name, value in overrides.items():
        wb["Assumptions"][layout.input_cell(name)].value = value


@pytest.fixture(scope="module")
def recalculated(built, tmp_path_factory) -> dict[str, Workbook]:
    """Every case's workbook, recalculated in one LibreOffice run."""
    folder = tmp_path_factory.mktemp("drivers")
    paths = []
    for i, overrides in enumerate(CASES.values()):
        wb = load_workbook(built)
        set_inputs(wb, overrides)
        path = folder / f"case{i}.xlsx"
        wb.save(path)
        paths.append(path)
    return dict(zip(CASES, recalculated_values_of(paths), strict=True))


def value(values: Workbook, key: str, year: str | None) -> Any:
    sheet, cell = make_layout().homes[(key, year)]
    return values[sheet][cell].value


def named(values: Workbook, name: str) -> Any:
    (sheet, cell), *_ = values.defined_names[name].destinations
    return values[sheet][cell.replace("$", "")].value


def number(result: engine.Result, key: str, year: str | None = None) -> float:
    """A line's value as the model (and the workbook) holds it: percentages as fractions."""
    return float(result.raw(key, year))


def gaps(get, year: str) -> tuple[float, float]:
    """(Total Assets - Total Cap. & Liab., change in cash - Chg in Cash) of a forecast year."""
    prev = YEARS[YEARS.index(year) - 1]
    balance = get("total_assets", year) - get("total_cap_liab", year)
    tie = get("cash", year) - get("cash", prev) - get("chg_in_cash", year)
    return float(balance), float(tie)


@pytest.mark.parametrize("case", CASES)
def test_the_workbook_moves_as_the_engine_does(recalculated, case):
    overrides = CASES[case]
    values = recalculated[case]
    result = engine.run(overrides)
    differences = compare(values, make_layout(), result.env)
    assert differences == [], "\n".join(map(str, differences[:30]))

    base = engine.run()
    clean = overrides.get("basis") == "clean"
    for year in FCST:
        balance, tie = gaps(lambda k, y: value(values, k, y), year)
        if clean:  # pure double entry: no adjustment anywhere
            assert balance == pytest.approx(0, abs=1e-6), year
            assert tie == pytest.approx(0, abs=1e-6), year
        else:  # the named adjustments carry the report's gaps, the same as in the base case
            base_balance, base_tie = gaps(lambda k, y: number(base, k, y), year)
            assert balance == pytest.approx(base_balance, abs=1e-6), year
            assert tie == pytest.approx(base_tie, abs=1e-6), year
            assert tie == pytest.approx(float(base.model.fixed.get(f"cash_unreconciled_{year}", 0.0)), abs=1e-6)

    name = next(iter(overrides))
    if name not in NOT_MOVED:  # the money went somewhere: a line the driver posts to moved
        posts = drivers()[name].posts
        assert posts, name
        moved = [
            (k, y)
            for k in posts
            for y in ((None,) if (k, None) in base.env else FCST)
            if (k, y) in base.env and value(values, k, y) != pytest.approx(number(base, k, y), rel=1e-9)
        ]
        assert moved, f"{name} moved none of {posts}"


@pytest.mark.parametrize("case", [c for c in CASES if c not in ("revolver off",)])
def test_every_check_is_green_on_both_bases(recalculated, case):
    assert named(recalculated[case], "MasterCheck") == "All checks pass"


def test_negative_cash_fails_the_master_check_only_with_the_revolver_off(recalculated):
    values = recalculated["revolver off"]
    assert value(values, "cash", "2023F") < 0
    assert value(values, "revolver", "2023F") == 0
    master = named(values, "MasterCheck")
    assert master.startswith("Failing: ") and "Cash not negative 2023F" in master
    assert "Balance sheet" not in master and "Cash flow ties" not in master
    assert any("negative" in w for w in engine.run(CASES["revolver off"]).warnings())


def test_the_revolver_draws_to_the_minimum_cash(recalculated):
    for case in ("min_cash", "clean, several drivers"):
        values = recalculated[case]
        assert value(values, "revolver", "2024F") > 0
        assert value(values, "cash", "2024F") == pytest.approx(9000.0, rel=1e-9)


def test_capital_issues_issue_shares_at_the_issue_price(recalculated):
    values = recalculated["issue_price"]
    base = engine.run()
    shares = value(values, "shares_out", "2023F")
    assert shares > number(base, "shares_out", "2023F")
    assert value(values, "shares_out", "2022F") == pytest.approx(number(base, "shares_out", "2022F"))


def test_a_peer_price_moves_its_market_cap_the_average_and_the_target(recalculated):
    values, base = recalculated["peer price"], engine.run()
    result = engine.run(CASES["peer price"])
    column = base.model.report.valuation["peer_column"]
    for key in ("palantir_price_local", "palantir_mkt_cap_usd", f"palantir_ps_{column}", f"peer_average_ps_{column}"):
        assert value(values, key, None) != pytest.approx(number(base, key, None), rel=1e-9), key
        assert value(values, key, None) == pytest.approx(number(result, key, None), rel=1e-9), key
    unrounded = number(base, "target_price_unrounded")
    assert named(values, "TargetPriceUnrounded") != pytest.approx(unrounded, rel=1e-9)
    assert named(values, "TargetPriceUnrounded") == pytest.approx(number(result, "target_price_unrounded"), rel=1e-9)


def test_the_ps_row_uses_its_own_usdcny(recalculated):
    values, base = recalculated["ps_row_usdcny"], engine.run()
    assert value(values, "ps_ratio", "2024F") != pytest.approx(number(base, "ps_ratio", "2024F"), rel=1e-9)
    assert named(values, "TargetPrice") == base.target_price  # the printed row, not the valuation


def test_warnings_are_a_note_not_a_failed_check(recalculated):
    values = recalculated["implausible"]
    regs = drivers()
    outside = [n for n, v in CASES["implausible"].items() if isinstance(v, float) and regs[n].warning(v)]
    warnings = engine.run(CASES["implausible"]).warnings()
    assert len(outside) == 2 and any("did you mean 0.5?" in w for w in warnings)
    assert named(values, "MasterCheck") == "All checks pass"
    negative = [w for w in warnings if "is negative" in w]  # the engine's own count of negative balances
    assert named(values, "ModelWarnings") == (
        "2 driver(s) outside plausible range; 1 year(s) opex ratio >= gross margin; "
        f"{len(negative)} negative balance(s)"
    )
    assert named(recalculated["fixed_opex"], "ModelWarnings") == "No warnings"
