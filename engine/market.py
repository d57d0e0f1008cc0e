"""Market data with an as-of date: the prices and exchange rates a valuation is struck at.

An analyst updates them before every note (`stmodel market FILE.csv --model M`); the model file keeps
them in its `[market]` table with the date they are as of, and every output says which date it used.
The fields are the report's market drivers plus each peer's price.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from .drivers import DriverError, DriverValue, drivers
from .errors import StmodelError
from .report import ReportData, load_report

AS_OF = "as_of"
PRICES = ("last_price", "usdcny", "hkdusd")


class MarketError(StmodelError, ValueError):
    """Market data that cannot be used; the message names the field and what is expected."""


def fields(report: ReportData | None = None) -> tuple[str, ...]:
    """Every field a market file may give: as_of, the share price, the two FX rates, each peer's price."""
    report = report or load_report()
    return (AS_OF, *PRICES, *(f"{p.key}_price" for p in report.peers))


def as_of_date(value: object, where: str) -> dt.date:
    """A date written YYYY-MM-DD (2024-03-28), not after today; or MarketError."""
    text = value.isoformat() if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else value
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise MarketError(f"{where}: as_of: expected a date written YYYY-MM-DD like 2024-03-28, got {value!r}")
    try:
        date = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise MarketError(f"{where}: as_of: {text.strip()} is not a date") from None
    if date > dt.date.today():
        raise MarketError(f"{where}: as_of {date.isoformat()} is after today: market data has happened")
    return date


def checked(
    given: Mapping[str, object], last_actual_year: int, where: str, report: ReportData | None = None
) -> dict[str, DriverValue | str]:
    """The market data `given` (field -> value as written), checked: known fields only, an as-of date
    no earlier than 31 December of the last actual year, every price and rate above zero."""
    report = report or load_report()
    allowed = fields(report)
    registry = drivers(report)
    out: dict[str, DriverValue | str] = {}
    for name, value in given.items():
        if name not in allowed:
            raise MarketError(f"{where}: unknown field {name!r}; the fields are {', '.join(allowed)}")
        if name == AS_OF:
            date = as_of_date(value, where)
            year_end = dt.date(last_actual_year, 12, 31)
            if date < year_end:
                raise MarketError(
                    f"{where}: as_of {date.isoformat()} is before {year_end.isoformat()}, the end of the model's"
                    f" last actual year {last_actual_year}: market data older than the figures it values"
                    " (`stmodel market FILE.csv --model FILE` brings newer)"
                )
            out[AS_OF] = date.isoformat()
            continue
        try:
            out[name] = registry[name].check(value)
        except DriverError as e:
            raise MarketError(f"{where}: {e}") from None
    if given and AS_OF not in out:
        raise MarketError(f"{where}: no as_of date; market data says the day it is from (as_of,2024-03-28)")
    return out
