"""`build`, `refresh` and `export` killed with SIGKILL at random moments (no handler runs): the input
still opens and audits clean, the target holds the old file or a complete new one, and the next run of
the same command leaves no temporary file (docs/files.md)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine.files import host
from workbook.audit import audit, summary

KILLS = 8  # moments per command, spread over one full run; each costs an audit and a rerun


def stmodel(*args: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "stmodel", *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def finish(*args: object) -> None:
    proc = stmodel(*args)
    assert proc.wait(timeout=300) == 0, args


def full_run(*args: object) -> float:
    """Seconds one uninterrupted run takes here: the span the kills are spread over (not a check)."""
    start = time.monotonic()
    finish(*args)
    return time.monotonic() - start


def complete(path: Path) -> bool:
    """A whole workbook: every zip member reads back and openpyxl opens it."""
    with zipfile.ZipFile(path) as z:
        if z.testzip() is not None:
            return False
    load_workbook(path, read_only=True).close()
    return True


def clean(path: Path) -> bool:
    return summary(audit(path))["error"] == 0


def temporary(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def office_of(pids: list[int]) -> list[int]:
    """LibreOffice processes still serving one of the killed `pids`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = entry.joinpath("cmdline").read_bytes().decode("latin-1")
            except OSError:
                continue
            if any(f"stmodel-lo-{pid}-" in cmd for pid in pids):
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("command", ["build", "refresh", "export"])
def test_killed_at_random_moments(built: Path, tmp_path: Path, command: str) -> None:
    rng = random.Random(f"issue 13 {command}")
    model = tmp_path / "model.xlsx"
    shutil.copyfile(built, model)
    out = tmp_path / "out.xlsx"
    args: list[object] = {
        "build": ["build", "-o", out, "--overwrite"],
        "refresh": ["refresh", model],
        "export": ["export", model, "-o", out, "--overwrite"],
    }[command]
    span = full_run(*args)  # also the target's first version
    target = model if command == "refresh" else out
    killed: list[int] = []
    left = 0  # kills that left a temporary file for the next run to sweep
    for _ in range(KILLS):
        old = target.read_bytes()
        proc = stmodel(*args)
        try:
            proc.wait(timeout=rng.uniform(0.2, span * 1.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            killed.append(proc.pid)
            left += bool(temporary(tmp_path))
        assert model.is_file() and complete(model) and clean(model), "the input opens and audits clean"
        assert target.read_bytes() == old or complete(target), "the old target or a complete new one"
    assert len(killed) >= KILLS // 2, "most runs were killed before they ended"
    if not temporary(tmp_path):  # the last kill left none (it may have come before or after the write): plant one
        gone = subprocess.Popen(["true"])
        gone.wait()
        (tmp_path / f".{target.name}.stmodel-{gone.pid}-{host()}-abcdefgh.xlsx").write_bytes(b"half a workbook")
    assert temporary(tmp_path), "something for the next run to sweep"
    finish(*args)
    assert temporary(tmp_path) == [], f"swept ({left} of {len(killed)} kills left a temporary file)"
    scratch = Path(tempfile.gettempdir())
    assert not [p for pid in killed for p in scratch.glob(f"stmodel-*-{pid}-*")], "no temporary folder left"
    assert office_of(killed) == [], "no LibreOffice left running for a killed export"
    assert complete(target) and clean(target)
