"""Target-price grids over two drivers, evaluated in one vectorised pass."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .drivers import TERMINAL, DriverError, ImplausibleResultError, base_values, expand, parse_number, resolve
from .model import Model, compile_model
from .vector import evaluate_many
from .years import Years

MAX_VALUES = 200  # per axis: a grid is at most 200 x 200 target prices
_RANGE = re.compile(r"^\s*([^=\s]+)\s*=\s*(.+?)\s*$")


@dataclass(frozen=True)
class Axis:
    driver: str  # a driver or per-year group name
    values: tuple[float, ...]


def parse_axis(text: str, overrides: Mapping[str, Any] | None = None, years: Years | None = None) -> Axis:
    """'premium=0.2:0.6:0.1' (start:stop:step, the stop included) or 'premium=0.2,0.4,0.6'.

    The axis must contain the driver's value in the case it varies (the base, after overrides), so
    that one cell of the grid is the unchanged case.
    """
    m = _RANGE.match(text)
    if not m:
        raise DriverError(f"axis {text!r}: expected NAME=START:STOP:STEP or NAME=V1,V2,...")
    name, spec = m.groups()
    if name == TERMINAL:
        raise DriverError(f"axis {name}: {TERMINAL} moves no line (`stmodel extend` uses it for the years it adds)")
    targets = expand(name, None, years)
    parsed = [parse_number(x) for x in spec.split(":" if ":" in spec else ",")]
    numbers = [x for x in parsed if x is not None]
    if len(numbers) != len(parsed):
        hint = " (write 1000, not 1_000)" if "_" in spec else ""
        raise DriverError(f"axis {name}: {spec!r} is not a list of numbers{hint}")
    if ":" in spec:
        if len(numbers) != 3:
            raise DriverError(f"axis {name}: expected START:STOP:STEP, got {spec!r}")
        start, stop, step = numbers
        if step <= 0 or stop < start:
            raise DriverError(f"axis {name}: START:STOP:STEP needs STEP > 0 and STOP >= START")
        span = (stop - start) / step
        if not math.isfinite(span) or span >= MAX_VALUES:
            raise DriverError(f"axis {name}: {spec} gives more than {MAX_VALUES} values; at most {MAX_VALUES}")
        count = math.floor(span + 1e-9) + 1
        values = [round(start + k * step, 12) for k in range(count)]
        if not math.isclose(values[-1], stop, rel_tol=1e-9, abs_tol=1e-12):
            raise DriverError(f"axis {name}: {spec} does not land on its end ({values[-1]:g} then {stop:g})")
    else:
        values = numbers
    if len(values) > MAX_VALUES:
        raise DriverError(f"axis {name}: {len(values)} values; at most {MAX_VALUES}")
    for d in targets:
        for v in values:
            d.check(v)
    current = resolve(overrides or {}, None, years)
    for d in targets:
        if not any(math.isclose(v, float(current[d.name]), rel_tol=1e-9, abs_tol=1e-12) for v in values):
            raise DriverError(f"axis {name}: the values do not include the current {d.name} ({current[d.name]:g})")
    return Axis(name, tuple(values))


def grid(
    rows: Axis,
    cols: Axis,
    overrides: Mapping[str, Any] | None = None,
    key: str = "target_price",
    model: Model | None = None,
) -> np.ndarray:
    """`key` (target price by default) for every (row value, column value) pair; `model` is the compiled
    model to run (one with an analyst's actuals), the report's by default."""
    model = model or compile_model()
    years = model.years
    current = resolve(overrides or {}, None, years)
    values: dict[str, Any] = dict(current)
    r, c = np.meshgrid(np.array(rows.values), np.array(cols.values), indexing="ij")
    for axis, mesh in ((rows, r), (cols, c)):
        for d in expand(axis.driver, None, years):
            values[d.name] = mesh.ravel()
    if problem := model.target_problem(values["target_year"]):
        raise DriverError(problem)
    out = evaluate_many(values, outputs=((key, None),), model=model)[(key, None)].reshape(r.shape)
    bad = np.argwhere(~np.isfinite(np.asarray(out, dtype=float)))
    if len(bad):
        i, j = bad[0]
        at = ((rows, rows.values[i]), (cols, cols.values[j]))
        # The cause: the axes whose value at that cell differs from the case the grid varies (the base,
        # after overrides); both when neither does (the case itself fails).
        moved = [(a, v) for a, v in at if any(not _same(v, current[d.name]) for d in expand(a.driver, None, years))]
        changed = moved or list(at)
        raise ImplausibleResultError(
            f"{', '.join(f'{a.driver}={v:g}' for a, v in changed)}: {key} is not a finite number "
            f"({len(bad)} of {out.size} cells); every result must be a finite number",
            tuple(a.driver for a, _ in changed),
        )
    return out


def _same(value: float, current: Any) -> bool:
    return math.isclose(value, float(current), rel_tol=1e-9, abs_tol=1e-12)


def default_axes() -> tuple[Axis, Axis]:
    """The grid the workbook shows: premium x USDCNY around the base case."""
    base = base_values()
    premium, usdcny = float(base["premium"]), float(base["usdcny"])
    rows = Axis("premium", tuple(round(premium + 0.1 * k, 12) for k in range(-2, 3)))
    cols = Axis("usdcny", tuple(round(usdcny + 0.1 * k, 12) for k in range(-3, 4)))
    return rows, cols
