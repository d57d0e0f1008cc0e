"""Actuals against the forecasts they replace: the first thing an analyst reads after results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .model import compile_model
from .model_file import ModelFile
from .model_file import load as load_model_file
from .result import run


@dataclass(frozen=True)
class Variance:
    """One reported figure against the report's forecast of it (or its printed figure, for a reported year;
    for a year the analyst added, their model file's own forecast of it, before any actual)."""

    line: str
    label: str
    column: str  # as headed: 2022A
    forecast: float
    actual: float
    difference: float
    difference_pct: float | None  # of the forecast's size; None when the forecast is zero
    restated: bool  # a printed figure of a reported year replaced


VALUATION_KEYS = ("target_price", "target_price_unrounded", "upside_pct", "rating")


def variance(
    model_file: str | Path | ModelFile, overrides: Iterable[tuple[str, object]] | Mapping[str, object] = ()
) -> dict[str, Any]:
    """Each actual against the report's figure for that line and year, and the valuation before
    (the file's drivers and `overrides`, no actuals) and after (with the actuals)."""
    mf = load_model_file(model_file)
    extra = list(overrides.items() if isinstance(overrides, Mapping) else overrides)
    report_run = run()
    before = run([*mf.overrides(), *extra], model=compile_model(None, (), mf.years))
    after = run(extra, model_file=mf)
    rows = []
    for (key, col), actual in after.model.actuals.items():
        assert col is not None
        forecast = (report_run if col in report_run.columns else before).value(key, col)
        assert isinstance(forecast, float)
        difference = actual - forecast
        rows.append(
            Variance(
                line=key,
                label=after.model.lines[key].label,
                column=after.model.column_label(col),
                forecast=forecast,
                actual=actual,
                difference=difference,
                difference_pct=difference / abs(forecast) * 100 if forecast else None,
                restated=not col.endswith("F"),
            )
        )
    return {
        "lines": [asdict(r) for r in rows],
        "before": {k: before.valuation()[k] for k in VALUATION_KEYS},
        "after": {k: after.valuation()[k] for k in VALUATION_KEYS},
    }
