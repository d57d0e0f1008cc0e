"""Benchmark: scalar vs vectorised model runs, and LibreOffice recalculating the workbook.

Run: python bench/bench_engine.py. Targets (issue 9): scalar full model under 200 us; vectorised at
least 1,000,000 full-model scenarios per second on 2 cores with peak memory under 2 GiB; time linear
in N. Every forecast driver, the premium, FX and the peers' market caps vary in each scenario.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine
from engine.scalar import compile_scalar
from engine.vector import evaluate_many
from workbook.build import build_workbook, save_atomic
from workbook.recalc import recalculate


def random_drivers(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    base = engine.base_values()
    values: dict = dict(base)
    for name, d in engine.drivers().items():
        if isinstance(d.base, str):
            continue
        if d.kind == "forecast" or name in ("premium", "usdcny") or name.endswith("_mkt_cap"):
            values[name] = float(d.base) * (1 + 0.05 * rng.standard_normal(n)) if d.base else rng.normal(0, 10, n)
    return values


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    base = engine.base_values()
    scalar = compile_scalar()
    scalar.run(base)
    sets = [dict(base, premium=0.3 + 0.2 * k / 1000) for k in range(1000)]
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for s in sets:
            scalar.run(s)
        times.append((time.perf_counter() - t) / len(sets))
    per_scalar = statistics.median(times)
    engine_scalar = []
    for _ in range(3):
        t = time.perf_counter()
        for s in sets[:200]:
            engine.evaluate(s)
        engine_scalar.append((time.perf_counter() - t) / 200)
    print(f"scalar full model (generated code): {per_scalar * 1e6:8.1f} us per scenario   target < 200 us")
    print(f"numpy path with N = 1:              {statistics.median(engine_scalar) * 1e6:8.1f} us per scenario")

    rates = {}
    for n in (10_000, 100_000, 1_000_000):
        values = random_drivers(n)
        elapsed = statistics.median(_timed(partial(evaluate_many, values)) for _ in range(3 if n < 10**6 else 2))
        tracemalloc.start()  # a separate, traced run: tracing slows numpy's allocations
        out = evaluate_many(values)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        inputs_mb = sum(np.asarray(v).nbytes for v in values.values() if not isinstance(v, str)) / 2**20
        rates[n] = n / elapsed
        buy = float(np.mean(out[("rating", None)] == "BUY"))
        print(
            f"vectorised N = {n:>9,}: {elapsed:7.3f} s  {rates[n]:>12,.0f} scenarios/s  "
            f"peak working memory {peak / 2**20:6.1f} MiB (inputs {inputs_mb:6.1f} MiB)  BUY share {buy:.3f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"peak resident memory of this process: {rss:,.0f} MiB   target < 2 GiB")
    print(f"time per scenario, N = 10^6 vs 10^4: {rates[10_000] / rates[1_000_000]:5.2f}x (1.0 = linear)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.xlsx"
        save_atomic(build_workbook(), path)
        lo = []
        for _ in range(3):
            t = time.perf_counter()
            recalculate(path, Path(tmp) / "out.xlsx")
            lo.append(time.perf_counter() - t)
    recalc = statistics.median(lo)
    one = 1 / rates[1_000_000]
    print(f"LibreOffice recalculation of the built workbook: {recalc:7.3f} s (median of 3)")
    print(f"ratio LibreOffice recalculation / one vectorised scenario: {recalc / one:,.0f}x")
    print(f"ratio LibreOffice recalculation / one scalar scenario:     {recalc / per_scalar:,.0f}x")


if __name__ == "__main__":
    main()
