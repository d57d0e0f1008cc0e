"""The model's columns: the report's years, the forecast years an analyst adds, and peer sales years.

The report prints 2020A-2024F (with implied 2019 figures some 2020A ratios need). An analyst extends
the forecast (`stmodel extend --to 2026`) and gives the peers' sales for later years
(`palantir_sales_FY2025E`); a `Years` says which columns one model has, so the compiled model, the
driver registry and the workbook are all built for the same columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HIST = ("2020A", "2021A")
FCST = ("2022F", "2023F", "2024F")
YEARS = HIST + FCST
PRIOR = "2019A"  # implied 2019 figures that some 2020A ratios need
COLUMNS = (PRIOR, *YEARS)
LAST_YEAR = 2100  # the furthest year a model can be extended to

# A peer's sales column beyond the report's: FY<year>E (palantir_sales_FY2025E).
PEER_SALES = re.compile(r"^(?P<peer>[a-z0-9_]+)_sales_(?P<column>FY(?P<year>\d{4})E)$")


class YearError(ValueError):
    """A year that is not one the model can use; the message says which years are."""


@dataclass(frozen=True)
class Years:
    """The columns of one model: the report's reported years, its forecast years (the report's and
    any added), and the peers' sales columns beyond the report's, as (peer key, "FY2025E")."""

    forecast: tuple[str, ...] = FCST
    peer_sales: tuple[tuple[str, str], ...] = ()

    hist = HIST
    prior = PRIOR

    @property
    def years(self) -> tuple[str, ...]:
        return (*HIST, *self.forecast)

    @property
    def columns(self) -> tuple[str, ...]:
        return (PRIOR, *self.years)

    @property
    def added(self) -> tuple[str, ...]:
        """The forecast columns beyond the report's (2025F, 2026F after `extend --to 2026`)."""
        return self.forecast[len(FCST) :]

    @property
    def last(self) -> int:
        return int(self.forecast[-1][:4])

    def through(self, year: int) -> Years:
        """These years with the forecast running to `year`; never shorter."""
        if year <= self.last:
            raise YearError(f"{year} is not after the last column {self.forecast[-1]}; extend never shortens a model")
        if year > LAST_YEAR:
            raise YearError(f"{year} is beyond {LAST_YEAR}")
        added = tuple(f"{y}F" for y in range(self.last + 1, year + 1))
        return Years((*self.forecast, *added), self.peer_sales)

    def with_peer_sales(self, names: list[str] | tuple[str, ...], peers: tuple[str, ...]) -> Years:
        """These years plus the peer sales columns that `names` (driver names) give, for known `peers`."""
        found = set(self.peer_sales)
        for name in names:
            m = PEER_SALES.match(name)
            if m and m["peer"] in peers:
                found.add((m["peer"], m["column"]))
        return Years(self.forecast, tuple(sorted(found)))


_FORECAST_DRIVER = re.compile(r"_(\d{4})F$")


def years_for(names: list[str] | tuple[str, ...], peers: tuple[str, ...], through: int = 0) -> Years:
    """The columns a set of driver names needs (`smart_auto_growth_2026F`: a forecast to 2026; a peer's
    `_sales_FY2025E`: that sales column), running at least to `through`: how a workbook's Drivers range
    tells the add-in which years its model has."""
    last = max([Years().last, through, *(int(m[1]) for n in names if (m := _FORECAST_DRIVER.search(n)))])
    years = Years() if last == Years().last else Years().through(last)
    return years.with_peer_sales(names, peers)


def forecast_years(raw: object) -> tuple[str, ...]:
    """The forecast columns a model file's `[model] years` lists: the report's years, then consecutive
    forecast years (2025F, 2026F ...); raises YearError saying what is expected."""
    expected = f"a list of columns starting {list(YEARS)}, then later forecast years ('2025F', ...)"
    if not isinstance(raw, list | tuple) or not all(isinstance(y, str) for y in raw):
        raise YearError(f"years must be {expected}")
    years = list(raw)
    if years[: len(YEARS)] != list(YEARS):
        raise YearError(f"years = {years} must start with the report's columns {list(YEARS)}")
    forecast = tuple(years[len(HIST) :])
    for i, col in enumerate(forecast[len(FCST) :], start=len(FCST)):
        want = f"{int(forecast[i - 1][:4]) + 1}F"
        if col != want:
            raise YearError(f"years: expected {want!r} after {forecast[i - 1]!r}, got {col!r}")
    return forecast


def year_number(value: object, what: str = "year") -> int:
    """A four-digit year from 2025, "2025", "2025F", "2025A", "FY2025" or "FY2025E"."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    m = re.fullmatch(r"(?:FY)?(\d{4})[AFE]?", text, flags=re.IGNORECASE)
    if not m:
        raise YearError(f"{what}: expected a four-digit year like 2025 (or 2025F), got {value!r}")
    return int(m[1])
