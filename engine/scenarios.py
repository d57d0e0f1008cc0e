"""Named scenarios (Base / Bear / Bull) from `engine/data/scenarios.toml`: illustrative driver overrides."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .drivers import DriverError, expand
from .report import DATA_DIR, ReportDataError, load_toml

SCENARIO_FILE = DATA_DIR / "scenarios.toml"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    rationale: str
    overrides: dict[str, Any]


@cache
def load_scenarios(path: Path = SCENARIO_FILE) -> dict[str, Scenario]:
    raw = load_toml(path)
    out = {}
    for key, entry in raw.items():
        where = f"{path.name}: [{key}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("overrides"), dict):
            raise ReportDataError(f"{where}: needs an 'overrides' table")
        for name, value in entry["overrides"].items():
            try:
                for d in expand(name):
                    d.check(value)
            except DriverError as e:
                raise ReportDataError(f"{where}.overrides.{name}: {e}") from e
        out[key] = Scenario(
            key, str(entry.get("label", key.title())), str(entry.get("rationale", "")), entry["overrides"]
        )
    if "base" not in out:
        raise ReportDataError(f"{path.name}: needs a [base] scenario")
    return out


def scenario(name: str) -> Scenario:
    """A scenario by name, case-insensitive; a DriverError suggests the closest otherwise."""
    scenarios = load_scenarios()
    key = name.strip().lower()
    if key in scenarios:
        return scenarios[key]
    close = difflib.get_close_matches(key, list(scenarios), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise DriverError(f"unknown scenario '{name}'{hint} (scenarios: {', '.join(scenarios)})")
