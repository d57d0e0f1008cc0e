"""Benchmark: ST_TARGET(drivers) warm (cache hit) and cold (cache miss).

Run: python bench/bench_udfs.py. Targets (issue 6): warm under 50 microseconds, cold under 5 ms.
The drivers argument is the workbook's whole Drivers range (every driver, as xlwings passes it).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine
import udfs
from udfs import cache

Rows = list[list[float | str]]  # a two-column range as xlwings passes it: driver name, value


def main() -> None:
    full: Rows = [[name, value] for name, value in engine.base_values().items()]
    small: Rows = [["premium", 0.4]]
    udfs.ST_TARGET(full)  # import and compile once
    results: dict[str, tuple[float, float]] = {}
    for label, drivers in ((f"whole Drivers range ({len(full)} rows)", full), ("one override", small)):
        udfs.ST_TARGET(drivers)
        n = 20_000
        t = time.perf_counter()
        for _ in range(n):
            udfs.ST_TARGET(drivers)
        warm = (time.perf_counter() - t) / n
        cold: list[float] = []
        for i in range(300):
            changed = [row[:] for row in drivers]
            changed[0][1] = 0.4 + (i + 1) * 1e-6 if changed[0][0] == "premium" else changed[0][1]
            if changed[0][0] != "premium":
                changed.append(["premium", 0.4 + (i + 1) * 1e-6])
            t = time.perf_counter()
            udfs.ST_TARGET(changed)
            cold.append(time.perf_counter() - t)
        results[label] = (warm, statistics.median(cold))
    print(f"cache: {cache.stats}")
    for label, (warm_s, cold_s) in results.items():
        print(f"ST_TARGET, {label}: warm {warm_s * 1e6:7.1f} us (target < 50 us)")
        print(f"   cold {cold_s * 1e3:6.2f} ms (target < 5 ms)")
        print(f"   ratio cold / warm: {cold_s / warm_s:7.0f}x")


if __name__ == "__main__":
    main()
