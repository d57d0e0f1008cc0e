"""SenseTime (20 HK) forecast and valuation engine, after DBS Group Research's initiation of 13 Jan 2023.

>>> import engine
>>> result = engine.run({"premium": 0.5})
>>> result.target_price
>>> result.frame("Income Statement")        # a pandas DataFrame
>>> engine.run(model_file="mymodel.toml")   # an analyst's drivers and actuals (engine.ModelFile)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .drivers import Driver, DriverError, base_values, drivers, resolve
from .errata import Erratum, load_errata, render_markdown
from .model import Model, compile_model, evaluate
from .model_file import ModelFile, ModelFileError
from .report import ReportData, ReportDataError, load_report
from .result import Result, run
from .tables import PEERS_TITLE, TABLE_TITLES

if TYPE_CHECKING:
    import pandas as pd

__version__ = "0.1.0"

__all__ = [
    "PEERS_TITLE",
    "TABLE_TITLES",
    "Driver",
    "DriverError",
    "Erratum",
    "Model",
    "ModelFile",
    "ModelFileError",
    "ReportData",
    "ReportDataError",
    "Result",
    "base_values",
    "compile_model",
    "drivers",
    "evaluate",
    "load_errata",
    "load_report",
    "render_markdown",
    "resolve",
    "run",
]


def table(title: str, overrides: dict[str, object] | None = None) -> pd.DataFrame:
    """A report table as a DataFrame (rows = line items, columns = years)."""
    return run(overrides).frame(title)
