"""Run every `stmodel ...` command of the README and record what it printed and wrote.

Used to show that a refactoring changed no behaviour: record before, record after, compare.

    python bench/readme_commands.py record before.json      # on the old code
    python bench/readme_commands.py record after.json       # on the new code
    python bench/readme_commands.py compare before.json after.json

Each command runs with the installed `stmodel` in one scratch folder, in the README's order (later
commands read the files earlier ones wrote). A workbook is recorded as its cells (formulas and typed
values, sheet by sheet); timestamps that change from run to run (the Engine sheet's "Refreshed" cell,
the Simulation sheet's "Written" cell) are blanked; other files by their bytes' hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRICES = "field,value\nas_of,2023-03-31\nlast_price,1.95\nusdcny,6.87\nhkdusd,7.85\n"  # a market file
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")


def readme_commands() -> list[str]:
    return [
        line.split("  #")[0].strip()
        for line in ROOT.joinpath("README.md").read_text().splitlines()
        if line.startswith("stmodel ")
    ]


def workbook_cells(path: Path) -> dict[str, Any]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out: dict[str, Any] = {"sheets": wb.sheetnames, "names": sorted(wb.defined_names)}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                value = c.value if isinstance(c.value, int | float | str | bool) else str(c.value)
                if isinstance(value, str):
                    value = STAMP.sub("<stamp>", value)
                cells[c.coordinate] = value
        out[ws.title] = cells
    return out


def file_record(path: Path) -> Any:
    if path.suffix == ".xlsx":
        return workbook_cells(path)
    if path.suffix in (".md", ".json", ".txt"):
        return path.read_text()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record(out: Path) -> None:
    stmodel = shutil.which("stmodel", path=str(Path(sys.executable).parent)) or "stmodel"
    results = []
    with tempfile.TemporaryDirectory(prefix="stmodel-readme-") as tmp:
        work = Path(tmp)
        (work / "docs").mkdir()
        (work / "prices.csv").write_text(PRICES)  # what `stmodel market prices.csv` reads
        env = dict(os.environ, COLUMNS="200", TERM="dumb")
        for line in readme_commands():
            before = {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()}
            run = subprocess.run(
                [stmodel, *shlex.split(line)[1:]], cwd=work, capture_output=True, text=True, env=env, timeout=600
            )
            written = sorted(p for p in work.rglob("*") if p.is_file() and before.get(p) != p.stat().st_mtime_ns)
            results.append(
                {
                    "command": line,
                    "exit": run.returncode,
                    "stdout": STAMP.sub("<stamp>", run.stdout),
                    "stderr": STAMP.sub("<stamp>", run.stderr),
                    "files": {str(p.relative_to(work)): file_record(p) for p in written},
                }
            )
            print(f"{run.returncode}  {line}", file=sys.stderr)
    out.write_text(json.dumps(results, indent=1, sort_keys=True))


def compare(a: Path, b: Path) -> int:
    left, right = json.loads(a.read_text()), json.loads(b.read_text())
    differences = 0
    for x, y in zip(left, right, strict=False):
        for field in ("command", "exit", "stdout", "stderr", "files"):
            if x[field] != y[field]:
                differences += 1
                print(f"DIFFERENT {field}: {x['command']}")
                if field == "files":
                    for name in sorted(set(x["files"]) | set(y["files"])):
                        if x["files"].get(name) != y["files"].get(name):
                            print(f"   file {name}")
    if len(left) != len(right):
        differences += 1
        print(f"DIFFERENT number of commands: {len(left)} vs {len(right)}")
    print(f"{len(left)} commands compared, {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
