"""Benchmark: where an analyst feels speed (issue 19). Prints figures and ratios measured in one run.

Run: python bench/bench_speed.py [--quick]. The machine is small and shared: compare the ratios,
which are measured side by side, not the absolute times. Measures
  - start-up: `import engine` and `stmodel value` against `import numpy` (fresh interpreters);
  - a worksheet function's cache miss (the scalar path) against the full numpy evaluation of one
    driver set, and pycel recalculating the model workbook after one change, where pycel can;
  - the vectorised target price for 10^6 scenarios (only the steps it needs) against the full
    evaluation and against a floor of 30 numpy element-wise operations on arrays of 10^6, per chunk size;
  - `stmodel simulate -n 1000000` against `stmodel value`.
LibreOffice (cold and warm) is measured by bench/bench_recalc.py.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import timed  # noqa: E402 - bench/timing.py, beside this script

import engine  # noqa: E402
from engine.model import compile_model, evaluate  # noqa: E402
from engine.vector import evaluate_many  # noqa: E402
from udfs import cache  # noqa: E402

QUICK = "--quick" in sys.argv


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(fn, repeat))


def command(*args: str) -> Callable[[], object]:
    return lambda: subprocess.run(args, check=True, capture_output=True, cwd=ROOT)


def ratio(label: str, a: float, b: float, what: str) -> None:
    print(f"  {label:<46} {a / b:6.2f}x   ({what})")


def startup() -> float:
    py = sys.executable
    repeat = 3 if QUICK else 7
    numpy_s = median_seconds(command(py, "-c", "import numpy"), repeat)
    engine_s = median_seconds(command(py, "-c", "import engine"), repeat)
    value_s = median_seconds(command(py, "-m", "stmodel", "value"), repeat)
    udf_s = median_seconds(command(py, "-c", "from udfs.functions import ST_TARGET; ST_TARGET()"), repeat)
    bare = "import sys; sys.modules['matplotlib'] = None; from udfs.functions import ST_TARGET; ST_TARGET()"
    udf_bare_s = median_seconds(command(py, "-c", bare), repeat)  # as `pip install .` gives it
    print("Start-up (fresh interpreter, median)")
    print(f"  import numpy {numpy_s:.3f} s, import engine {engine_s:.3f} s, stmodel value {value_s:.3f} s,")
    print(f"  import udfs + first ST_TARGET {udf_s:.3f} s, without matplotlib {udf_bare_s:.3f} s")
    ratio("import engine / import numpy", engine_s, numpy_s, "pandas is imported only where a DataFrame is made")
    ratio("stmodel value / import numpy", value_s, numpy_s, "the CLI's whole run")
    ratio("UDF start with / without matplotlib", udf_s, udf_bare_s, "what the optional extra saves")
    return value_s


def worksheet_function() -> None:
    repeat = 200 if QUICK else 1000
    values = iter(np.linspace(0.30, 0.50, repeat * 3))

    def miss() -> None:
        cache.result([["premium", float(next(values))]])  # a value not seen before: a cache miss

    miss_s = median_seconds(miss, repeat)
    full_s = median_seconds(lambda: engine.run({"premium": float(next(values))}), repeat // 5)
    rows = [["premium", 0.4]]
    cache.result(rows)
    hit_s = median_seconds(lambda: cache.result(rows), repeat)
    print("A worksheet function (ST_TARGET) after a driver changed (median)")
    print(f"  cache miss (scalar code) {miss_s * 1e6:.0f} us, full numpy evaluation {full_s * 1e6:.0f} us,")
    print(f"  cache hit {hit_s * 1e6:.1f} us")
    ratio("full numpy evaluation / cache miss", full_s, miss_s, "what the scalar path saves")
    print(f"  pycel, incremental recalculation of the model workbook: {pycel_incremental()}")


def pycel_incremental() -> str:
    """pycel recalculating the workbook's target price after one input changed, or why it cannot."""
    try:
        from openpyxl.workbook.defined_name import DefinedNameDict
        from pycel import ExcelCompiler
    except ImportError:
        return "pycel is not installed (pip install pycel)"
    import logging

    from workbook.build import build_workbook, save_atomic

    logging.getLogger("pycel").setLevel(logging.CRITICAL)  # it logs a traceback for an unsupported function
    book = build_workbook()
    (target,) = (f"{s}!{c.replace('$', '')}" for s, c in book.defined_names["TargetPrice"].destinations)
    (premium,) = (f"{s}!{c.replace('$', '')}" for s, c in book.defined_names["premium"].destinations)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.xlsx"
        save_atomic(book, path)
        if not hasattr(DefinedNameDict, "definedName"):  # pycel reads the list of openpyxl < 3.1
            setattr(DefinedNameDict, "definedName", property(lambda self: list(self.values())))  # noqa: B010
        try:
            xl = ExcelCompiler(filename=str(path))
            xl.evaluate(target)
        except Exception as e:  # pycel's own errors: an unsupported function, for one
            return f"cannot evaluate the model ({type(e).__name__}: {str(e).splitlines()[-1][:90]})"
        values = iter(np.linspace(0.30, 0.50, 300))

        def change() -> None:
            xl.set_value(premium, float(next(values)))
            xl.evaluate(target)

        return f"{median_seconds(change, 100) * 1e6:.0f} us"


def vectorised() -> None:
    n = 200_000 if QUICK else 1_000_000
    rng = np.random.default_rng(0)
    model = compile_model()
    values: dict = dict(engine.base_values())
    for name, d in engine.drivers().items():
        if d.kind in ("forecast", "market", "peer") and isinstance(d.base, float):
            values[name] = d.base * (1 + 0.05 * rng.standard_normal(n)) if d.base else rng.normal(0, 10, n)
    outputs = (("target_price", None),)
    print(f"Vectorised target price, {n:,} scenarios ({len(values)} drivers, the numeric ones drawn)")
    a, b = rng.random(n), rng.random(n)

    def floor() -> None:
        x = a
        for _ in range(30):
            x = x * b

    floor_s = median_seconds(floor, 3)
    timed: list[tuple[float, int]] = []
    for chunk in (8_192, 16_384, 32_768, 65_536):
        s = median_seconds(partial(evaluate_many, values, outputs, model, chunk), 3)
        print(f"  chunk {chunk:>6,}: {s:.3f} s, {n / s / 1e6:.1f} M scenarios/s")
        timed.append((s, chunk))
    pruned_s, chunk = min(timed)

    def full() -> None:
        for start in range(0, n, chunk):
            part = {k: (v[start : start + chunk] if np.ndim(v) else v) for k, v in values.items()}
            evaluate(part, model)

    full_s = median_seconds(full, 1 if QUICK else 3)
    print(f"  best chunk {chunk:,}; every step {full_s:.3f} s; 30 element-wise ops on {n:,}: {floor_s:.3f} s")
    ratio("every step / only the steps needed", full_s, pruned_s, "what pruning saves")
    ratio("target price / 30 numpy operations", pruned_s, floor_s, "aim: within 4x")


def simulate(value_s: float) -> None:
    n = "200000" if QUICK else "1000000"
    sim_s = median_seconds(command(sys.executable, "-m", "stmodel", "simulate", "-n", n, "--seed", "1"), 3)
    print(f"stmodel simulate -n {n}: {sim_s:.2f} s (median of 3)")
    ratio(f"simulate -n {n} / stmodel value", sim_s, value_s, "the draws and the model, over start-up")


if __name__ == "__main__":
    value_s = startup()
    worksheet_function()
    vectorised()
    simulate(value_s)
