"""Benchmark: building the workbook and recalculating it in LibreOffice.

Run: python bench/bench_workbook.py [--runs N]. Prints medians and the ratio between them; compare
ratios within one run (the machine is small and noisy). Targets (issue 4): build under 2 s,
recalculation under 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import timed  # noqa: E402 - bench/timing.py, beside this script

from workbook.build import build_workbook, save_atomic  # noqa: E402
from workbook.recalc import recalculate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.xlsx"
        build_in_process = timed(lambda: save_atomic(build_workbook(), path), args.runs)
        cli = [sys.executable, "-m", "stmodel", "build", "-o", str(path), "--overwrite"]
        build_cli = timed(lambda: subprocess.run(cli, check=True, capture_output=True, cwd=ROOT), args.runs)
        recalc = timed(lambda: recalculate(path, Path(tmp) / "recalculated.xlsx"), max(3, args.runs // 2))
    b, c, r = (statistics.median(x) for x in (build_in_process, build_cli, recalc))
    print(f"build (in process, median of {len(build_in_process)}): {b:8.3f} s   target < 2 s")
    print(f"stmodel build (new process, median of {len(build_cli)}): {c:8.3f} s   target < 2 s")
    print(f"LibreOffice recalculation (median of {len(recalc)}): {r:8.3f} s   target < 10 s")
    print(f"ratio recalculation / build: {r / b:8.1f}x")


if __name__ == "__main__":
    main()
