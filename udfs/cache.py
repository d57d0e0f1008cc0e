"""Model results cached on the driver values and the actuals the range carries, so a recalculation with
unchanged inputs is a lookup.

xlwings has no cache of its own. The key is the raw range as Excel sent it, so a hit costs one tuple
conversion and a dict lookup; a changed value is a different key and is computed afresh.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import engine
from engine.drivers import DriverError
from engine.model import compile_model

from .args import STError, check_overrides, drivers_and_actuals

MAX_ENTRIES = 256
_results: OrderedDict[Any, engine.Result] = OrderedDict()
stats = {"hits": 0, "misses": 0}


def _freeze(value: Any) -> Any:
    """A hashable copy of a range: rows of cells become tuples (the C-level map keeps hits cheap)."""
    if isinstance(value, list | tuple):
        try:
            return tuple(map(tuple, value))
        except TypeError:  # a single row of scalars
            return tuple(value)
    return value


def result(drivers: Any = None, extra: tuple[tuple[str, Any], ...] = ()) -> engine.Result:
    """The model run for a drivers range plus extra overrides (a price, a cap basis); the range's actual
    rows (`actual:<line>:<year>`) put those reported figures in place of the forecasts."""
    key = (_freeze(drivers), extra)  # the raw range: its driver values and its actuals alike
    hit = _results.get(key)
    if hit is not None:
        stats["hits"] += 1
        _results.move_to_end(key)
        return hit
    stats["misses"] += 1
    pairs, actuals, years = drivers_and_actuals(drivers)
    pairs += extra
    check_overrides(pairs, years)
    try:
        res = engine.run(pairs, model=compile_model(None, actuals, years), scalar=True)
    except DriverError as e:
        raise STError(str(e)) from None
    _results[key] = res
    if len(_results) > MAX_ENTRIES:
        _results.popitem(last=False)
    return res


def clear() -> None:
    _results.clear()
    stats.update(hits=0, misses=0)
