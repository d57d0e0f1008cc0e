"""The building blocks of line definitions: the Line record, the years, and the formula shorthands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict, Unpack

from ..expr import INPUT, Const, Drv, Expr, Ref, abs_, if_
from ..years import COLUMNS as COLUMNS  # the report's columns (engine/years.py), re-exported
from ..years import FCST as FCST
from ..years import HIST as HIST
from ..years import PRIOR as PRIOR
from ..years import YEARS as YEARS


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    unit: str  # "RMB m", "%", "x", "days", "RMB", "HK$", "US$ m", "m shares", "text"
    hist: Expr | None = None
    fcst: Expr | None = None
    value: Expr | None = None  # a single-value line (not by year)
    source: str | None = None  # report table whose printed row feeds INPUT cells
    y2019: bool = False  # an implied 2019 figure exists (engine/data/report.toml)
    meaning: str = ""

    @property
    def by_year(self) -> bool:
        return self.value is None

    def definition(self, column: str | None) -> Expr | None:
        if column is None:
            return self.value
        if column == PRIOR:
            return INPUT if self.y2019 else None
        return self.hist if column in HIST else self.fcst


def R(key: str) -> Ref:
    return Ref(key)


def D(name: str) -> Drv:
    """A per-year input: driver or fixed adjustment `<name>_<column>`."""
    return Drv(name)


def A(name: str) -> Expr:
    """A fixed report adjustment `<name>_<column>` (an erratum), zero on the clean basis."""
    return if_(P("basis").eq("clean"), Const(0), D(name))


def P(name: str) -> Drv:
    """A single input (market datum, valuation parameter)."""
    return Drv(name, per_year=False)


def growth(key: str) -> Expr:
    """x / prev - 1, the convention of rows whose sign does not flip."""
    return (R(key) - R(key).prev) / R(key).prev


def growth_abs(key: str) -> Expr:
    """(x - prev) / |prev|: the report's convention for loss-making lines."""
    return (R(key) - R(key).prev) / abs_(R(key).prev)


class Extras(TypedDict, total=False):
    """The optional fields of a Line that `both` and `typed` pass through."""

    y2019: bool
    meaning: str


def both(key: str, label: str, unit: str, expr: Expr, **kw: Unpack[Extras]) -> Line:
    return Line(key, label, unit, hist=expr, fcst=expr, **kw)


def typed(key: str, label: str, unit: str, fcst: Expr, source: str, **kw: Unpack[Extras]) -> Line:
    return Line(key, label, unit, hist=INPUT, fcst=fcst, source=source, **kw)


SEG = "Segmental Breakdown"
IS = "Income Statement"
BS = "Balance Sheet"
CF = "Cash Flow Statement"
FV = "Forecasts and Valuation"

SEGMENTS = (
    ("smart_business", "Smart Business"),
    ("smart_city", "Smart City"),
    ("smart_life", "Smart Life"),
    ("smart_auto", "Smart Auto"),
)

days = P("days_per_year")
hkd_per_rmb = Ref("hkd_per_rmb", single=True)
