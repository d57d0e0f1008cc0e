"""Every driver's `posts` (engine/data/drivers.toml) is true: bumping the driver moves each line it
names, and a forecast driver that moves a statement line moves one on the other side of the books."""

import numpy as np
import pytest

import engine
from engine.drivers import Driver
from engine.tables import table_rows

DRIVERS = engine.drivers()
MODEL = engine.compile_model()
STATEMENTS = ("Segmental Breakdown", "Income Statement", "Balance Sheet", "Cash Flow Statement")
# Where each line is printed: the statements whose rows it fills
PRINTED_IN: dict[str, set[str]] = {}
for title in STATEMENTS:
    for row in table_rows(MODEL, title):
        if row.key is not None:
            PRINTED_IN.setdefault(row.key, set()).add(title)
# Drivers whose posts only move in a setting: the revolver once it has something to draw, the issue
# price once shares are issued.
SETTINGS: dict[str, dict[str, object]] = {
    "revolver": {"min_cash_2023F": 12000.0},
    "min_cash": {"min_cash_2023F": 12000.0},
    "issue_price": {"capital_issues_2023F": 1000.0},
    "buy_threshold_small": {"cap_basis": "small"},
    "fully_valued_threshold": {"buy_threshold_large": 0.5},  # not a BUY, so HOLD or FULLY VALUED
    "target_year": {"capital_issues_2024F": 1000.0},  # shares that differ between valuation years
}


def bumped(d: Driver) -> object:
    """A value inside the hard bounds that differs from the base."""
    if d.choices:
        return next(c for c in d.choices if c != d.base)
    assert isinstance(d.base, float)
    if d.unit == "year":
        return d.base - 1  # the valuation year before
    low, high = d.bounds or (-np.inf, np.inf)
    for candidate in (d.base * 1.1 + 1.0, d.base * 0.9 - 1.0, d.base + 0.01, d.base - 0.01):
        if low < candidate <= high:
            return candidate
    raise AssertionError(f"no bump for {d.name}")


def changed(a: engine.Result, b: engine.Result, key: str) -> bool:
    cols = [None] if not MODEL.lines[key].by_year else [c for (k, c) in a.env if k == key]
    for col in cols:
        x, y = a.value(key, col), b.value(key, col)
        if isinstance(x, float) and isinstance(y, float):
            if not np.isclose(x, y, rtol=1e-12, atol=1e-9):
                return True
        elif x != y:
            return True
    return False


def representatives() -> list[Driver]:
    """One driver per group (its 2023F column for per-year ones), so the test stays quick."""
    seen: dict[str, Driver] = {}
    for d in DRIVERS.values():
        if d.group not in seen or d.column == "2023F":
            seen[d.group] = d
    return list(seen.values())


@pytest.mark.parametrize("driver", representatives(), ids=lambda d: d.name)
def test_posts_name_lines_that_move(driver):
    for key in driver.posts:
        assert key in MODEL.lines, f"{driver.name} posts to unknown line {key}"
    if driver.name == "basis":
        return  # the basis moves every adjustment; tests/test_statements.py checks it
    setting = SETTINGS.get(driver.group, {})
    before = engine.run(setting)
    after = engine.run({**setting, driver.name: bumped(driver)})
    still = [key for key in driver.posts if not changed(before, after, key)]
    assert not still, f"{driver.name}={bumped(driver)} does not move {still}"


@pytest.mark.parametrize("driver", [d for d in representatives() if d.kind == "forecast"], ids=lambda d: d.name)
def test_forecast_drivers_post_on_both_sides(driver):
    """The lines a forecast driver moves, run through the model, span two statements at least."""
    setting = SETTINGS.get(driver.group, {})
    before = engine.run(setting)
    after = engine.run({**setting, driver.name: bumped(driver)})
    moved = [key for key in driver.posts if changed(before, after, key)]
    statements = set().union(*(PRINTED_IN.get(k, set()) for k in moved))
    assert len(statements) >= 2, (driver.name, moved, statements)
