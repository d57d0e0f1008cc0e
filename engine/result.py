"""A finished model run and the ways to read it: valuation, tables, DataFrames, JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .drivers import DriverValue, resolve
from .expr import Env
from .model import Model, compile_model, evaluate
from .tables import PEERS_TITLE, TABLE_TITLES, display, peers_dict, table_dict, table_frame


@dataclass(frozen=True)
class Result:
    model: Model
    drivers: dict[str, DriverValue]
    env: Env

    def value(self, key: str, column: str | None = None) -> float | str | None:
        """One line's value as the report prints it (percent lines x 100)."""
        return display(self.model, key, self.env.get((key, column)))

    def raw(self, key: str, column: str | None = None) -> Any:
        """One line's value as the model holds it (percent lines as fractions)."""
        return self.env[(key, column)]

    @property
    def target_price(self) -> float:
        return float(self.raw("target_price"))

    @property
    def rating(self) -> str:
        return str(self.raw("rating").item() if hasattr(self.raw("rating"), "item") else self.raw("rating"))

    def valuation(self) -> dict[str, Any]:
        cols = self.model.report.peers_meta["ps_columns"]
        return {
            "target_price": self.target_price,
            "target_price_unrounded": float(self.raw("target_price_unrounded")),
            "last_price": float(self.drivers["last_price"]),
            "upside_pct": float(self.raw("upside")) * 100,
            "rating": self.rating,
            "target_multiple": float(self.raw("target_multiple")),
            "valuation_usd_m": float(self.raw("valuation_usd_m")),
            "peer_average_ps": {c: float(self.raw(f"peer_average_ps_{c}")) for c in cols},
        }

    def tables(self) -> dict[str, dict[str, dict[str, float | str]]]:
        out = {title: table_dict(self.model, self.env, title) for title in TABLE_TITLES}
        out[PEERS_TITLE] = peers_dict(self.model, self.env)
        return out

    def frame(self, title: str) -> pd.DataFrame:
        """A report table as a DataFrame (rows = line items, columns = years)."""
        if title not in (*TABLE_TITLES, PEERS_TITLE):
            raise KeyError(f"unknown table '{title}'; tables are: {', '.join((*TABLE_TITLES, PEERS_TITLE))}")
        return table_frame(self.model, self.env, title)

    def to_json(self) -> dict[str, Any]:
        return {"valuation": self.valuation(), "tables": self.tables()}


def run(
    overrides: Mapping[str, object] | Iterable[tuple[str, object]] | None = None, model: Model | None = None
) -> Result:
    """Run the model on the base case with `overrides` (driver name or group -> value)."""
    model = model or compile_model()
    values = resolve(overrides or {}, model.report)
    env = evaluate(values, model)
    return Result(model, values, env)
