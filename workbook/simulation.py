"""The Monte Carlo summary written into a saved model workbook (a Simulation sheet of values)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from engine.files import updating

from .book import OpenpyxlBook, open_for_update, save_atomic
from .layout import SIMULATION


def write_simulation(path: Path, summary: dict[str, Any], spec: str) -> None:
    """The Monte Carlo summary as values on a Simulation sheet of a saved workbook: locked from its
    reading to its writing, so a refresh running at the same time loses nothing (docs/files.md)."""
    with updating(Path(path)) as since:
        wb = open_for_update(Path(path))
        _write(wb, summary, spec)
        save_atomic(wb, Path(path), since=since)


def _write(wb: Any, summary: dict[str, Any], spec: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    rows: list[list[Any]] = [
        ["Monte Carlo simulation of the target price (values, written by stmodel simulate)"],
        ["Written", stamp],
        ["Scenarios", summary["n"]],
        ["Seed", summary["seed"]],
        ["Spec", spec],
        [],
        ["Target price (HK$, unrounded)", "value"],
        ["mean", summary["target_price_mean"]],
        *([k, v] for k, v in summary["target_price_percentiles"].items()),
        [],
        ["Rating", "probability"],
        *([k, v] for k, v in summary["rating_probabilities"].items()),
    ]
    OpenpyxlBook(wb).write_block(SIMULATION, rows)
