"""Benchmark: auditing the built workbook, and synthetic workbooks of 10k and 100k formula cells.

Run: python bench/bench_audit.py. Targets (issue 5): the built workbook under 1 s; 100,000 formula
cells under 10 s, with time growing linearly (the 100k / 10k ratio near 10).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbook.audit import audit  # noqa: E402
from workbook.build import build_workbook, save_atomic  # noqa: E402


def synthetic(path: Path, formulas: int) -> None:
    """The model (only the model is audited) with a sheet of inputs and a chain of formula cells that read
    them and the row above."""
    wb = build_workbook()
    ws = wb.create_sheet("Data")
    rows = formulas // 4
    for r in range(1, rows + 1):
        prev = r - 1 if r > 1 else 1
        ws.append([r, r * 0.5, f"=A{r}+B{r}", f"=C{r}*B{r}", f"=D{r}-A{r}", f"=E{prev}+C{r}" if r > 1 else f"=C{r}"])
    wb.save(path)


def timed(path: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        audit(path)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.xlsx"
        save_atomic(build_workbook(), model)
        audit(model)  # warm the engine and template caches
        t_model = timed(model, 5)
        results = {}
        for n in (10_000, 100_000):
            path = Path(tmp) / f"synthetic_{n}.xlsx"
            synthetic(path, n)
            results[n] = timed(path, 3 if n == 10_000 else 1)
    print(f"audit of the built workbook (median of 5):     {t_model:7.3f} s   target < 1 s")
    for n, t in results.items():
        print(f"audit of {n:>7,} formula cells:                 {t:7.3f} s   ({t / n * 1e6:5.1f} us per cell)")
    print(f"ratio 100k / 10k: {results[100_000] / results[10_000]:5.1f}x (10x is linear)   target 100k < 10 s")


if __name__ == "__main__":
    main()
