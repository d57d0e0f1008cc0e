"""The benchmarks' one timer: wall-clock seconds of repeated calls, for medians and ratios."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Seconds each of `runs` calls of `fn` took."""
    out: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out
