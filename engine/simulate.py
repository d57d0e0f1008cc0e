"""Monte Carlo over driver distributions: percentiles of the target price and rating probabilities.

Draws are made chunk by chunk from a seeded generator, so memory stays bounded and the same seed
gives the same result. The spec (`engine/data/simulation.toml` by default) is checked entry by entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .drivers import TERMINAL, Driver, DriverError, base_values, expand
from .errors import StmodelError
from .model import Model, compile_model
from .report import DATA_DIR, ReportDataError, load_toml
from .vector import CHUNK, evaluate_many
from .years import Years

SPEC_FILE = DATA_DIR / "simulation.toml"
PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
# Scenarios one simulation may draw: its results take about 16 bytes each (a target price and a
# rating), so 10 million need about 160 MB, and percentiles a copy more.
MAX_SCENARIOS = 10_000_000
RATINGS = ("BUY", "HOLD", "FULLY VALUED")


class SpecError(StmodelError, ValueError):
    """A simulation spec entry that cannot be used; the message names it."""


@dataclass(frozen=True)
class Distribution:
    entry: str  # the spec's table name (a driver or a group)
    driver: Driver
    dist: str
    params: dict[str, float]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.params
        if self.dist == "normal":
            x = rng.normal(p["mean"], p["sd"], n)
        elif self.dist == "triangular":
            x = rng.triangular(p["low"], p["mode"], p["high"], n) if p["low"] < p["high"] else np.full(n, p["mode"])
        else:
            x = rng.uniform(p["low"], p["high"], n)
        lo, hi = self.driver.bounds or (-np.inf, np.inf)
        if lo in (self.driver.above, 0.0 if self.driver.positive else None):
            lo = float(np.nextafter(lo, np.inf))  # a strict lower bound: just above it
        return np.clip(x, lo, hi)


def _number(entry: str, key: str, value: Any, base: float) -> float:
    if value == "base":
        return base
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(f'[{entry}] {key}: expected a number or "base", got {value!r}')
    return float(value)


def parse_spec(raw: dict[str, Any], source: str = "spec", years: Years | None = None) -> list[Distribution]:
    """The distributions of a spec; a group (`smart_auto_growth`) draws every year of `years` (a model's
    columns, the report's by default)."""
    if not raw:
        raise SpecError(f'{source}: no distributions; expected one table per driver, e.g. [premium] dist = "normal"')
    out = []
    base = base_values(None, years)
    for entry, table in raw.items():
        if not isinstance(table, dict):
            raise SpecError(f"{source}: [{entry}] must be a table (dist = ..., parameters)")
        if entry == TERMINAL:
            raise SpecError(f"{source}: [{entry}] moves no line (`stmodel extend` uses it for the years it adds)")
        try:
            targets = expand(entry, None, years)
        except DriverError as e:
            raise SpecError(f"{source}: [{entry}]: {e}") from e
        dist = table.get("dist")
        for d in targets:
            if isinstance(d.base, str):
                raise SpecError(f"{source}: [{entry}]: {d.name} is a choice, not a number")
            b = float(base[d.name])
            if dist == "normal":
                mean = _number(entry, "mean", table.get("mean", "base"), b)
                if "sd" in table:
                    sd = _number(entry, "sd", table["sd"], b)
                elif "sd_rel" in table:
                    sd = _number(entry, "sd_rel", table["sd_rel"], b) * abs(mean)
                else:
                    raise SpecError(f"{source}: [{entry}] normal needs sd or sd_rel")
                if sd < 0:
                    raise SpecError(f"{source}: [{entry}] standard deviation must not be negative (got {sd:g})")
                params = {"mean": mean, "sd": sd}
            elif dist == "triangular":
                low, mode, high = (_number(entry, k, table.get(k, "base"), b) for k in ("low", "mode", "high"))
                if not low <= mode <= high:
                    raise SpecError(
                        f"{source}: [{entry}] impossible triangle: needs low <= mode <= high, got "
                        f"{low:g}, {mode:g}, {high:g}"
                    )
                params = {"low": low, "mode": mode, "high": high}
            elif dist == "uniform":
                low, high = (_number(entry, k, table.get(k), b) for k in ("low", "high"))
                if low > high:
                    raise SpecError(f"{source}: [{entry}] uniform needs low <= high, got {low:g} > {high:g}")
                params = {"low": low, "high": high}
            else:
                raise SpecError(f"{source}: [{entry}] dist: expected normal, triangular or uniform, got {dist!r}")
            out.append(Distribution(entry, d, dist, params))
    return out


def load_spec(path: Path | None = None, years: Years | None = None) -> list[Distribution]:
    path = path or SPEC_FILE
    try:
        raw = load_toml(path)
    except ReportDataError as e:
        raise SpecError(str(e)) from None
    return parse_spec(raw, path.name, years)


@dataclass(frozen=True)
class Simulation:
    n: int
    seed: int
    target_price: np.ndarray  # unrounded, HK$
    rating: np.ndarray

    def percentiles(self) -> dict[int, float]:
        return {p: float(v) for p, v in zip(PERCENTILES, np.percentile(self.target_price, PERCENTILES), strict=True)}

    def rating_probabilities(self) -> dict[str, float]:
        return {r: float(np.mean(self.rating == r)) for r in RATINGS}

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "seed": self.seed,
            "target_price_mean": float(np.mean(self.target_price)),
            "target_price_percentiles": {f"p{p}": v for p, v in self.percentiles().items()},
            "rating_probabilities": self.rating_probabilities(),
        }


def simulate(
    n: int,
    seed: int,
    spec: list[Distribution] | None = None,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    model: Model | None = None,
) -> Simulation:
    """`n` model runs with drivers drawn from `spec`; reproducible for a given seed. `model` is the
    compiled model to run (one with an analyst's actuals, `ModelFile.compiled()`); the report's by default."""
    if not 1 <= n <= MAX_SCENARIOS:
        raise SpecError(f"-n must be from 1 to {MAX_SCENARIOS:,}, got {n:,}")
    if seed < 0:
        raise SpecError(f"--seed must be 0 or more, got {seed}")
    from .drivers import resolve

    model = model or compile_model()
    spec = load_spec(None, model.years) if spec is None else spec
    fixed = dict(resolve(overrides or {}, model.report, model.years))
    streams = np.random.SeedSequence(seed).spawn(math.ceil(n / CHUNK))
    tp = np.empty(n)
    rating = np.empty(n, dtype=object)
    for k, start in enumerate(range(0, n, CHUNK)):
        size = min(CHUNK, n - start)
        rng = np.random.default_rng(streams[k])
        values: dict[str, Any] = dict(fixed)
        for dist in spec:
            values[dist.driver.name] = dist.sample(rng, size)
        out = evaluate_many(
            values, outputs=(("target_price_unrounded", None), ("rating", None)), model=model, chunk=size
        )
        tp[start : start + size] = out[("target_price_unrounded", None)]
        rating[start : start + size] = out[("rating", None)]
        if progress:
            progress(size)
    if bad := int(np.count_nonzero(~np.isfinite(tp))):
        entries = ", ".join(dict.fromkeys(d.entry for d in spec)) or "none"
        raise SpecError(
            f"{bad:,} of {n:,} scenarios give a target price that is not a finite number; narrow the spec's "
            f"distributions ({entries}) or the --set values; every result must be a finite number"
        )
    return Simulation(n, seed, tp, rating)


__all__ = ["MAX_SCENARIOS", "RATINGS", "Simulation", "SpecError", "load_spec", "parse_spec", "simulate"]
