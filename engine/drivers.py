"""The named assumptions that drive the model, their base values and their validation.

A per-year driver is named `<name>_<column>` (`smart_auto_growth_2024F`); setting `<name>` sets
every forecast year at once. Rates are fractions (0.40, not 40). Names are valid Excel defined
names, so the workbook can use them as they are.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from .calibration import forecast_drivers
from .lines import FCST
from .report import ReportData, load_report

DriverValue = float | str


class DriverError(ValueError):
    """A driver name or value that cannot be used; the message names it and says what is expected."""


@dataclass(frozen=True)
class Driver:
    name: str
    group: str  # the name without its column; equal to `name` for single drivers
    column: str | None
    unit: str
    meaning: str
    base: DriverValue
    kind: str  # "forecast", "market", "valuation", "peer"
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    source: str = ""

    def check(self, value: object) -> DriverValue:
        """Return the value converted for this driver, or raise DriverError saying why."""
        if self.choices:
            if not isinstance(value, str) or value.strip().lower() not in self.choices:
                allowed = " or ".join(repr(c) for c in self.choices)
                raise DriverError(f"{self.name}: expected {allowed}, got {value!r}")
            return value.strip().lower()
        if isinstance(value, bool) or value is None:
            raise DriverError(f"{self.name}: expected a number ({self.unit}), got {value!r}")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise DriverError(f"{self.name}: expected a number ({self.unit}), got {value!r}") from None
        if not math.isfinite(number):
            raise DriverError(f"{self.name}: expected a finite number ({self.unit}), got {value!r}")
        if self.positive and number <= 0:
            raise DriverError(f"{self.name}: expected a number above 0 ({self.unit}), got {value!r}")
        if self.minimum is not None and number < self.minimum:
            raise DriverError(f"{self.name}: expected at least {self.minimum:g} ({self.unit}), got {value!r}")
        if self.maximum is not None and number > self.maximum:
            raise DriverError(f"{self.name}: expected at most {self.maximum:g} ({self.unit}), got {value!r}")
        return number


# Per-year forecast drivers: name -> (unit, meaning, bounds)
_FORECAST: dict[str, tuple[str, str, dict[str, object]]] = {
    "smart_business_growth": ("fraction", "Smart Business revenue growth", {"minimum": -1.0, "maximum": 10.0}),
    "smart_city_growth": ("fraction", "Smart City revenue growth", {"minimum": -1.0, "maximum": 10.0}),
    "smart_life_growth": ("fraction", "Smart Life revenue growth", {"minimum": -1.0, "maximum": 10.0}),
    "smart_auto_growth": ("fraction", "Smart Auto revenue growth", {"minimum": -1.0, "maximum": 10.0}),
    "gross_margin": ("fraction", "Gross profit over revenue", {"maximum": 1.0}),
    "opex_ratio": ("fraction", "Operating expenses excluding D&A over revenue", {}),
    "other_non_opg": ("RMB m", "Other non-operating income (expense)", {}),
    "associates": ("RMB m", "Share of associates' and JVs' profit", {}),
    "net_interest": ("RMB m", "Net interest income (expense)", {}),
    "dividend_income": ("RMB m", "Dividend income", {}),
    "exceptional": ("RMB m", "Exceptional gain (loss)", {}),
    "tax": ("RMB m", "Tax credit (charge) in the P&L", {}),
    "minority_interest": ("RMB m", "Minorities' share of profit (negative: of the loss)", {}),
    "preference_dividend": ("RMB m", "Preference dividend, paid in cash", {}),
    "dep_amort": ("RMB m", "Depreciation and amortisation (in operating expenses)", {}),
    "capex": ("RMB m", "Capital expenditure, net (a positive spend)", {}),
    "debtor_days": ("days", "Closing debtors over revenue x 365", {"minimum": 0.0}),
    "inventory_days": ("days", "Closing inventory over cost of goods sold x 365", {"minimum": 0.0}),
    "creditor_days": ("days", "Closing creditors over cost of goods sold x 365", {"minimum": 0.0}),
    "other_current_assets": ("RMB m", "Other current assets, closing balance", {}),
    "other_current_liab": ("RMB m", "Other current liabilities, closing balance", {}),
    "short_term_debt": ("RMB m", "Short-term debt, closing balance", {"minimum": 0.0}),
    "long_term_debt": ("RMB m", "Long-term debt, closing balance", {"minimum": 0.0}),
    "capital_issues": ("RMB m", "Shares issued for cash", {}),
}

_MARKET_BOUNDS: dict[str, dict[str, object]] = {
    "last_price": {"positive": True},
    "shares_m": {"positive": True},
    "eps_shares_m": {"positive": True},
    "usdcny": {"positive": True},
    "premium": {"minimum": -1.0},
}


@cache
def _registry(report: ReportData) -> dict[str, Driver]:
    out: dict[str, Driver] = {}

    def add(d: Driver) -> None:
        out[d.name] = d

    base = forecast_drivers(report)
    for group, (unit, meaning, bounds) in _FORECAST.items():
        for col in FCST:
            add(
                Driver(
                    name=f"{group}_{col}",
                    group=group,
                    column=col,
                    unit=unit,
                    meaning=f"{meaning}, {col}",
                    base=base[group][col],
                    kind="forecast",
                    source="implied from the report's forecast tables (engine/calibration.py)",
                    **bounds,  # type: ignore[arg-type]
                )
            )
    m = report.market
    for name in ("premium", "usdcny", "last_price", "shares_m", "eps_shares_m"):
        d = m[name]
        add(Driver(name, name, None, d.unit, d.meaning, d.value, "market", source=d.source, **_MARKET_BOUNDS[name]))  # type: ignore[arg-type]
    add(
        Driver(
            "hkdusd",
            "hkdusd",
            None,
            "HK$ per US$",
            "HK$ per US$, implied by the market cap line (HK$ m / US$ m)",
            m["mkt_cap_hkd_m"].value / m["mkt_cap_usd_m"].value,
            "market",
            positive=True,
            source=m["mkt_cap_hkd_m"].source,
        )
    )
    add(
        Driver(
            "cap_basis",
            "cap_basis",
            None,
            "choice",
            "Which DBS rating thresholds apply: large or small cap",
            "large",
            "valuation",
            choices=("large", "small"),
            source="DBS rating definitions (line 1120)",
        )
    )
    v, r = report.valuation, report.rating
    for name, value, unit, meaning, bounds, src in (
        (
            "tp_rounding",
            v["tp_rounding"],
            "HK$",
            "Step the target price is rounded to",
            {"positive": True},
            v["tp_rounding_note"],
        ),
        (
            "days_per_year",
            v["days_per_year"],
            "days",
            "Days in a year for turnover days",
            {"positive": True},
            "report convention",
        ),
        (
            "buy_threshold_large",
            r["buy_threshold_large"],
            "fraction",
            "BUY above this upside (large caps)",
            {},
            f"line {r['line_buy']}",
        ),
        (
            "buy_threshold_small",
            r["buy_threshold_small"],
            "fraction",
            "BUY above this upside (small caps)",
            {},
            f"line {r['line_buy']}",
        ),
        (
            "fully_valued_threshold",
            r["fully_valued_threshold"],
            "fraction",
            "FULLY VALUED below this upside",
            {},
            f"line {r['line_fully_valued']}",
        ),
    ):
        add(Driver(name, name, None, unit, meaning, float(value), "valuation", source=src, **bounds))  # type: ignore[arg-type]
    fx = {"HKD": "HK$", "CNY": "CNY", "USD": "US$"}
    for peer in report.peers:
        src = f"Valuation & Peers comparison / {peer.name} (line {peer.line})"
        add(
            Driver(
                f"{peer.key}_price",
                f"{peer.key}_price",
                None,
                fx[peer.currency],
                f"{peer.name} share price (local)",
                peer.price_local,
                "peer",
                positive=True,
                source=src,
            )
        )
        add(
            Driver(
                f"{peer.key}_mkt_cap",
                f"{peer.key}_mkt_cap",
                None,
                "US$ m",
                f"{peer.name} market cap",
                peer.mkt_cap_usd_m,
                "peer",
                positive=True,
                source=src,
            )
        )
        for col, sales in peer.sales_usd_m.items():
            add(
                Driver(
                    f"{peer.key}_sales_{col}",
                    f"{peer.key}_sales",
                    col,
                    "US$ m",
                    f"{peer.name} sales {col}",
                    sales,
                    "peer",
                    positive=True,
                    source=src,
                )
            )
    return out


def drivers(report: ReportData | None = None) -> dict[str, Driver]:
    """Every driver by name, in a stable order."""
    return _registry(report or load_report())


def base_values(report: ReportData | None = None) -> dict[str, DriverValue]:
    return {name: d.base for name, d in drivers(report).items()}


def expand(name: str, report: ReportData | None = None) -> list[Driver]:
    """The drivers a name sets: itself, or every column of a per-year group."""
    reg = drivers(report)
    if name in reg:
        return [reg[name]]
    group = [d for d in reg.values() if d.group == name]
    if group:
        return group
    from .calibration import adjustments

    fixed = adjustments(report or load_report())
    if name in fixed or any(name == f"{k}_{col}" for k, cols in fixed.items() for col in cols):
        raise DriverError(f"'{name}' is a fixed report adjustment, not a driver (see docs/errata.md)")
    close = difflib.get_close_matches(name, list(reg) + sorted({d.group for d in reg.values()}), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise DriverError(f"unknown driver '{name}'{hint} (stmodel drivers lists them)")


def resolve(
    overrides: Mapping[str, object] | Iterable[tuple[str, object]], report: ReportData | None = None
) -> dict[str, DriverValue]:
    """Base values with overrides applied and checked; raises DriverError on the first bad one."""
    values = base_values(report)
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    for name, raw in items:
        for d in expand(name, report):
            values[d.name] = d.check(raw)
    return values


_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def parse_assignment(text: str) -> tuple[str, str]:
    """Split 'NAME=VALUE' (as given to --set); the value stays text until the driver checks it."""
    m = _ASSIGN.match(text)
    if not m or m.group(2) == "":
        raise DriverError(f"--set {text!r}: expected NAME=VALUE, e.g. premium=0.5")
    return m.group(1), m.group(2)
