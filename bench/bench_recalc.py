"""Benchmark: LibreOffice recalculating the model workbook, cold and warm (issue 19).

Run: python bench/bench_recalc.py [--cold 3] [--full 10] [--incremental 50]. Prints, in one run:

- cold: `workbook.recalc.recalculate` starting LibreOffice for the call (`soffice --convert-to`, as every
  `stmodel recalc`, `audit --recalc` and `export` does): start-up, load, recalculation, .xlsx written;
- warm, full: the same call through the warm instance the tests share (`use_warm_office`: UNO, the system
  Python's bridge): a private copy loaded, every formula recalculated (calculateAll), .xlsx stored, checked;
- warm, incremental: one input cell (`premium`) changed through UNO in a loaded document, `calculate()`
  (dirty cells only), the target price cell read back (checked against the engine);
- for reference, the engine's own single-scenario run (`engine.run` with one driver changed);

with each ratio and what it measures. The machine is small and shared: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import timed  # noqa: E402 - bench/timing.py, beside this script

import engine  # noqa: E402
from workbook import recalc  # noqa: E402
from workbook.build import build_workbook, save_atomic  # noqa: E402

# Run by the system Python (it can import uno): the bridge's Office, one document loaded, N changes timed.
INCREMENTAL = """
import json, sys, time
from pathlib import Path
bridge, book, profile, runs = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, bridge)
import uno_bridge
office = uno_bridge.Office(sys.argv[5], profile, "stmodel-bench-" + str(time.time_ns()))
try:
    doc = office.load(book)
    doc.calculateAll()
    doc.enableAutomaticCalculation(False)
    names = doc.NamedRanges
    premium = names.getByName("premium").getReferredCells().getCellByPosition(0, 0)
    target = names.getByName("TargetPrice").getReferredCells().getCellByPosition(0, 0)
    times, prices = [], []
    for i in range(runs):
        value = 0.3 + 0.01 * (i % 20)
        t = time.perf_counter()
        premium.setValue(value)
        doc.calculate()
        price = target.getValue()
        times.append(time.perf_counter() - t)
        prices.append([value, price])
    uno_bridge.close(doc)
finally:
    office.quit()
print(json.dumps({"times": times, "prices": prices}))
"""


def incremental(book: Path, runs: int, tmp: Path) -> tuple[list[float], list[list[float]]]:
    profile = tmp / "bench-profile"
    (profile / "user").mkdir(parents=True)
    done = subprocess.run(
        [
            recalc.SYSTEM_PYTHON,
            "-c",
            INCREMENTAL,
            str(recalc.BRIDGE.parent),
            str(book),
            str(profile),
            str(runs),
            recalc.soffice(),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={"HOME": str(tmp), "PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        raise SystemExit(f"warm incremental run failed: {done.stderr.strip().splitlines()[-1:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["times"], out["prices"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--full", type=int, default=10)
    parser.add_argument("--incremental", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        book = tmp / "model.xlsx"
        save_atomic(build_workbook(), book)
        out = tmp / "recalculated.xlsx"

        recalc.use_warm_office(False)
        cold = timed(lambda: recalc.recalculate(book, out), args.cold)

        office = recalc.use_warm_office()
        assert office is not None
        first = timed(lambda: recalc.recalculate(book, out), 1)[0]
        if office.unavailable or not office.running():
            raise SystemExit(f"the warm instance cannot run here: {office.unavailable}")
        full = timed(lambda: recalc.recalculate(book, out), args.full)
        assert office.starts == 1, "one instance for every call"
        recalc.use_warm_office(False)  # ended: the incremental run starts its own

        inc, prices = incremental(book, args.incremental, tmp)
        wrong = [(v, p) for v, p in prices if abs(p - engine.run({"premium": v}).target_price) > 1e-9]
        if wrong:
            raise SystemExit(f"LibreOffice's target price differs from the engine's: {wrong[:3]}")
        runs = [0.3 + 0.01 * (i % 20) for i in range(args.incremental)]
        eng = [timed(partial(engine.run, {"premium": v}), 1)[0] for v in runs]

    c, f, i, e = (statistics.median(x) for x in (cold, full, inc, eng))
    rows = [
        (f"cold start per call, recalculate() (median of {len(cold)})", f"{c:9.3f} s"),
        ("warm, first call (starts the instance, then recalculates)", f"{first:9.3f} s"),
        (f"warm, full recalculation through UNO (median of {len(full)})", f"{f:9.3f} s"),
        (f"warm, incremental through UNO (median of {len(inc)})", f"{i * 1e3:9.3f} ms"),
        (f"engine.run, one driver changed (median of {len(eng)}; reference)", f"{e * 1e3:9.3f} ms"),
    ]
    ratios = [
        (
            "cold / warm full",
            c / f,
            "a whole-file recalculation (load a copy, calculate every formula, store .xlsx, check it) "
            "once LibreOffice is warm: what each recalculation in the tests saves",
        ),
        (
            "warm first call / warm full",
            first / f,
            "the warm instance's one-off start, in warm calls: it pays from a process's second recalculation on",
        ),
        (
            "warm full / warm incremental",
            f / i,
            "a whole-file round trip against one input changed in a loaded document (calculate() recalculates "
            "the dirty cells only; the target price read back)",
        ),
        ("cold / warm incremental", c / i, "a cold start per what-if against a live document answering it"),
        (
            "warm incremental / engine.run",
            i / e,
            "LibreOffice's incremental recalculation (three UNO calls: set, calculate, read) against the engine "
            "evaluating the whole model for one scenario",
        ),
    ]
    print("LibreOffice recalculating the model workbook (one run; medians):")
    for label, value in rows:
        print(f"  {label:<66}{value}")
    print("ratios (compare these, not the absolute times, across runs):")
    for label, ratio, meaning in ratios:
        print(f"  {label:<30}{ratio:10.2f}x  {meaning}")
    print(f"checked: {len(prices)} incremental target prices equal engine.run's for the same premium")


if __name__ == "__main__":
    main()
