"""The ST_* worksheet functions. Each is thin: check the Excel arguments, call the engine, shape the result.

The parameters carry no type hints on purpose: xlwings reads a hint as a conversion instruction, and
these functions take Excel's values as xlwings hands them over (floats, None, 2-D lists).

Results are in the report's units (RMB m; percentage rows as printed, 13.9 for 13.9%) except where
a function says otherwise (ST_UPSIDE is a fraction). Bad arguments return a text starting with
"#ST!" that names the problem; no function ever shows a Python traceback.
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Callable
from typing import Any

import numpy as np

import engine
from engine import versions
from engine.drivers import expand
from engine.expr import Value
from engine.tables import PEERS_TITLE, TABLE_TITLES, table_columns, table_rows

from .args import PREFIX, STError, choose, flag, numbers, year
from .cache import result
from .decorators import arg, func

CATEGORY = "SenseTime"
DRIVERS_DOC = (
    "Optional two-column range of driver names and values (e.g. the workbook's Drivers range, whose"
    " actual:<line>:<year> rows carry the Actuals sheet)"
)
TABLE_ALIASES = {
    "segments": "Segmental Breakdown",
    "cash flow": "Cash Flow Statement",
    "cover": "Forecasts and Valuation",
    "valuation": PEERS_TITLE,
    "peers": PEERS_TITLE,
}


# Checked once, when Excel's UDF server imports this module: with another xlwings than the package was
# built for, every cell says so instead of computing (ST_INFO still shows its table, the versions in it).
XLWINGS_PROBLEM = versions.mismatch(versions.pinned_xlwings(), versions.installed_xlwings(), "the SenseTime package")


def guarded(f: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any exception into a one-line '#ST!' text for the cell."""

    @functools.wraps(f)
    def wrapper(*args: Any) -> Any:
        if XLWINGS_PROBLEM and f.__name__ != "ST_INFO":
            return PREFIX + XLWINGS_PROBLEM
        try:
            return f(*args)
        except STError as e:
            return str(e)
        except Exception as e:  # a cell must never show a traceback
            return f"{PREFIX}internal error in {f.__name__}: {type(e).__name__}: {e}"

    return wrapper


def _labels() -> dict[str, str]:
    """Every row label of the report's tables (and every line label) -> line key."""
    model = engine.compile_model()
    out = {line.label: key for key, line in model.lines.items() if line.by_year}
    for title in TABLE_TITLES:
        for row in table_rows(model, title):
            if row.key:
                out.setdefault(row.label, row.key)
    return out


LABELS = _labels()


@func(category=CATEGORY)
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@arg("rounded", doc="TRUE (default) for the target price rounded to HK$0.1 as the report does; FALSE unrounded")
@guarded
def ST_TARGET(drivers=None, rounded=True):  # noqa: N802 - Excel function names
    """12-month target price in HK$ per share from the SenseTime model (DBS, 13 Jan 2023)."""
    res = result(drivers)
    key = "target_price" if flag(rounded, "rounded", default=True) else "target_price_unrounded"
    return float(res.raw(key))


@func(category=CATEGORY)
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@arg("price", doc="Optional share price in HK$ (default: the model's last price, HK$2.16)")
@guarded
def ST_UPSIDE(drivers=None, price=None):  # noqa: N802
    """Upside from the price to the rounded target price, as a fraction (0.25 = 25%)."""
    return float(result(drivers, _price(price)).raw("upside"))


@func(category=CATEGORY)
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@arg("price", doc="Optional share price in HK$ (default: the model's last price)")
@arg("cap", doc='"large" (default) or "small": which DBS rating thresholds apply')
@guarded
def ST_RATING(drivers=None, price=None, cap=None):  # noqa: N802
    """DBS rating from the upside: BUY, HOLD or FULLY VALUED."""
    extra = _price(price)
    if cap is not None and cap != "":
        extra += (("cap_basis", choose(cap, ("large", "small"), "cap basis")),)
    return str(result(drivers, extra).rating)


@func(category=CATEGORY)
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@guarded
def ST_VALUATION(drivers=None):  # noqa: N802
    """Equity valuation in US$ m: target P/S multiple x the valuation year's revenue / USDCNY."""
    return float(result(drivers).raw("valuation_usd_m"))


@func(category=CATEGORY)
@arg("item", doc='Report row label, e.g. "Net Profit" or "Debtors Turn (avg days)"')
@arg("fiscal_year", doc='Year column: "2020A" to the last forecast year, e.g. "2024F" (or 2024)')
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@guarded
def ST_LINE(item, fiscal_year, drivers=None):  # noqa: N802
    """One line item for one year, in the report's units (RMB m; percentage rows as printed)."""
    label = choose(item, list(LABELS), "line item")
    res = result(drivers)
    col = year(fiscal_year, res.model.years.years)
    value = res.value(LABELS[label], col)
    if value is None:
        raise STError(f"'{label}' has no value in {col}")
    return value


@func(category=CATEGORY)
@arg("table", doc='Report table title ("Income Statement") or sheet name ("Cash Flow"); default page one')
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@guarded
def ST_FORECAST(table=None, drivers=None):  # noqa: N802
    """A whole report table with its headers, spilling as a dynamic array."""
    title = _table(table)
    res = result(drivers)
    if title == PEERS_TITLE:
        return _peers(res)
    columns = list(table_columns(res.model, title))
    rows: list[list[Any]] = [[title, *(res.model.column_label(c) for c in columns)]]  # 2022A with its actuals
    for row in table_rows(res.model, title):
        if row.key is None:  # a section heading, as the report prints it
            rows.append([row.label, *("" for _ in columns)])
            continue
        cells = [res.value(row.key, c) for c in columns]
        rows.append([row.label, *("" if v is None else v for v in cells)])
    return rows


@func(category=CATEGORY)
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@guarded
def ST_PEERS(drivers=None):  # noqa: N802
    """The peer table with computed P/S ratios and averages, spilling."""
    return _peers(result(drivers))


@func(category=CATEGORY)
@arg("row_driver", doc="Driver (or per-year group) that varies down the rows, e.g. premium")
@arg("row_values", ndim=1, doc="Values for the rows (a range or array)")
@arg("col_driver", doc="Driver (or per-year group) that varies across the columns, e.g. usdcny")
@arg("col_values", ndim=1, doc="Values for the columns (a range or array)")
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@guarded
def ST_SENSITIVITY(row_driver, row_values, col_driver, col_values, drivers=None):  # noqa: N802
    """Target-price grid (HK$, rounded) for two drivers, spilling with its headers."""
    rows = numbers(row_values, "row_values")
    cols = numbers(col_values, "col_values")
    if len(rows) * len(cols) > 10_000:
        raise STError("the grid is limited to 10,000 cells")
    base = result(drivers)
    values: dict[str, Value] = dict(base.drivers)  # two drivers become arrays over the grid
    grid_r, grid_c = np.meshgrid(rows, cols, indexing="ij")
    for name, grid in ((row_driver, grid_r), (col_driver, grid_c)):
        try:
            targets = expand(str(name), None, base.model.years)
        except engine.DriverError as e:
            raise STError(str(e)) from None
        for d in targets:
            for v in set(grid.ravel().tolist()):
                try:
                    d.check(v)
                except engine.DriverError as e:
                    raise STError(str(e)) from None
            values[d.name] = grid.ravel()
    if problem := base.model.target_problem(values["target_year"]):
        raise STError(problem)
    env = engine.evaluate(values, base.model)
    tp = np.broadcast_to(env[("target_price", None)], grid_r.size).reshape(grid_r.shape)
    out: list[list[Any]] = [[f"{row_driver} \\ {col_driver}", *cols]]
    for i, r in enumerate(rows):
        out.append([r, *(float(x) for x in tp[i])])
    return out


@func(category=CATEGORY)
@arg("driver", doc="Driver name, e.g. premium or smart_auto_growth_2024F")
@arg("drivers", ndim=2, doc=DRIVERS_DOC)
@guarded
def ST_DRIVER(driver, drivers=None):  # noqa: N802
    """The value of one driver (after the overrides in drivers)."""
    res = result(drivers)
    name = str(driver or "").strip()
    if name not in res.drivers:
        try:
            expand(name, None, res.model.years)
        except engine.DriverError as e:
            raise STError(str(e)) from None
        raise STError(f"'{name}' is a per-year group; name one year, e.g. {name}_{res.model.forecast[-1]}")
    return res.drivers[name]


@func(category=CATEGORY)
@guarded
def ST_INFO():  # noqa: N802
    """Model, Python and xlwings versions, data source and driver count, spilling as a small table."""
    source = engine.load_report().source
    return [
        ["model version", engine.__version__],
        ["data source", f"{source['publisher']}, SenseTime Group (20 HK), {source['date']}"],
        ["drivers", len(engine.drivers())],
        ["python", platform.python_version()],
        ["xlwings installed", versions.installed_xlwings() or "none"],
        ["xlwings required", versions.pinned_xlwings() or "unknown (package not installed)"],
        ["xlwings problem", XLWINGS_PROBLEM or "none"],
    ]


def _price(price: Any) -> tuple[tuple[str, Any], ...]:
    if price is None or price == "":
        return ()
    return (("last_price", price),)


def _table(table: Any) -> str:
    if table is None or table == "":
        return "Forecasts and Valuation"
    text = str(table).strip()
    if text.lower() in TABLE_ALIASES:
        return TABLE_ALIASES[text.lower()]
    return choose(text, [*TABLE_TITLES, PEERS_TITLE, "Segments", "Cash Flow"], "table")


def _peers(res: engine.Result) -> list[list[Any]]:
    data = res.peers()
    columns = list(next(iter(data.values())).keys())
    rows: list[list[Any]] = [["Company", *columns]]
    for name, cells in data.items():
        rows.append([name, *(cells.get(c, "") for c in columns)])
    return rows
