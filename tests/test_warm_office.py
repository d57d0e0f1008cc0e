"""The warm LibreOffice (`workbook/recalc.py` WarmOffice, `workbook/uno_bridge.py` under the system Python):
the same values as a cold start, cell by cell; restarted after a kill; a time limit that kills it and a next
call that works; calls isolated from each other; a cold start wherever it cannot run; and no LibreOffice left
when the process that used it ends, however it ends."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from procs import running

import engine
from workbook import recalc
from workbook.layout import make_layout
from workbook.recalc import RecalcError, WarmOffice, recalculate, recalculated_values, recalculated_values_of

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def named_value(values: Workbook, name: str) -> object:
    (sheet, cell), *_ = values.defined_names[name].destinations
    return values[sheet][cell.replace("$", "")].value


def with_premium(built: Path, path: Path, premium: float) -> Path:
    wb = load_workbook(built)
    wb["Assumptions"][make_layout().input_cell("premium")] = premium
    wb.save(path)
    return path


def cells(wb: Workbook) -> dict[tuple[str, str], object]:
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}


def gone(pids: list[int], within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(running(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def office_processes(office: WarmOffice) -> list[int]:
    """The instance's soffice.bin (LibreOffice itself, not its launcher)."""
    return [p for p in office.processes() if "soffice.bin" in Path(f"/proc/{p}/cmdline").read_text("latin-1")]


@pytest.fixture
def office():
    """A private warm instance for a test that kills it (the session's one stays as it is)."""
    with WarmOffice() as private:
        yield private


def test_the_session_shares_one_warm_instance(warm_office: WarmOffice, built: Path) -> None:
    assert recalc.warm_office() is warm_office
    recalculated_values(built)
    starts = warm_office.starts
    assert warm_office.unavailable is None, warm_office.unavailable
    assert warm_office.running() and starts >= 1
    recalculated_values(built)
    assert warm_office.starts == starts, "reused, not started again"


def test_warm_and_cold_recalculations_agree_cell_by_cell(built, tmp_path, warm_office, monkeypatch):
    changed = with_premium(built, tmp_path / "changed.xlsx", 0.5)
    warm = recalculated_values_of([built, changed])
    assert warm_office.running()
    monkeypatch.setattr(recalc, "_warm", None)  # the cold start: both files in one LibreOffice run
    cold = recalculated_values_of([built, changed])
    for w, c in zip(warm, cold, strict=True):
        assert w.sheetnames == c.sheetnames
        assert list(w.defined_names) == list(c.defined_names)
        a, b = cells(w), cells(c)
        assert a.keys() == b.keys()
        assert [k for k in a if a[k] != b[k]] == []
        assert len(a) > 5000
    assert named_value(warm[0], "TargetPrice") == 2.7
    assert named_value(warm[1], "TargetPrice") == engine.run({"premium": 0.5}).target_price != 2.7


def test_formulas_are_recalculated_not_their_recorded_values(built, tmp_path):
    """The warm profile does not recalculate on load (calculateAll does, once): a file whose recorded values
    are stale (an input changed in the XML, results recorded for the old one) gets fresh results."""
    recorded = tmp_path / "recorded.xlsx"
    recalculate(built, recorded)  # every formula with its value recorded
    assert named_value(load_workbook(recorded, data_only=True), "TargetPrice") == 2.7
    cell = make_layout().input_cell("premium")
    with zipfile.ZipFile(recorded) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    book = parts["xl/workbook.xml"].decode()
    rid = re.search(r'<sheet name="Assumptions"[^>]*r:id="(\w+)"', book)
    assert rid
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
    assert target
    name = "xl/" + (target.group(1) or target.group(2)).removeprefix("/xl/")
    sheet, n = re.subn(rf'(<c r="{cell}"[^>]*>)<v>0\.4</v>', r"\g<1><v>0.5</v>", parts[name].decode())
    assert n == 1
    parts[name] = sheet.encode()
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(stale, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts.items():
            z.writestr(part, data)
    assert named_value(load_workbook(stale, data_only=True), "TargetPrice") == 2.7  # recorded, stale
    values = recalculated_values(stale)
    assert named_value(values, "TargetPrice") == engine.run({"premium": 0.5}).target_price != 2.7


def test_calls_are_isolated(built, tmp_path):
    """Each call recalculates its own copy: the inputs stay as they were, outputs never mix, and calls from
    two threads at once each get their own file's values."""
    changed = with_premium(built, tmp_path / "changed.xlsx", 0.5)
    before = built.read_bytes(), changed.read_bytes()
    expected = 2.7, engine.run({"premium": 0.5}).target_price
    got = recalculated_values_of([built, changed, built])
    assert [named_value(v, "TargetPrice") for v in got] == [expected[0], expected[1], expected[0]]
    results: dict[int, object] = {}

    def work(i: int, path: Path) -> None:
        results[i] = named_value(recalculated_values(path), "TargetPrice")

    threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate((built, changed))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert results == {0: expected[0], 1: expected[1]}
    assert (built.read_bytes(), changed.read_bytes()) == before
    out = tmp_path / "out.xlsx"
    recalculate(changed, out)
    recalculate(built, tmp_path / "other.xlsx")
    assert named_value(load_workbook(out, data_only=True), "TargetPrice") == expected[1]


def test_a_killed_instance_is_started_again(office, built, tmp_path):
    out = tmp_path / "out.xlsx"
    office.convert_all([(built, out)], 120)
    assert office.starts == 1
    (soffice,) = office_processes(office)
    os.kill(soffice, signal.SIGKILL)  # LibreOffice alone: the bridge finds it gone
    assert gone([soffice])
    out.unlink()
    office.convert_all([(built, out)], 120)
    assert office.starts == 2 and out.is_file()
    everything = office.processes()
    os.killpg(os.getpgid(everything[0]), signal.SIGKILL)  # the bridge and LibreOffice
    assert gone(everything)
    office.convert_all([(built, tmp_path / "again.xlsx")], 120)
    assert office.starts == 3
    assert named_value(load_workbook(tmp_path / "again.xlsx", data_only=True), "TargetPrice") == 2.7


def test_a_call_past_its_time_limit_kills_the_instance_and_the_next_call_works(warm_office, built, tmp_path):
    recalculated_values(built)  # started (the limit is for the recalculation, not the start)
    before = warm_office.processes()
    starts = warm_office.starts
    out = tmp_path / "out.xlsx"
    with pytest.raises(RecalcError, match=r"model\.xlsx: LibreOffice did not finish within 0 s"):
        recalculate(built, out, timeout=0.01)
    assert not out.exists(), "nothing written"
    assert not warm_office.running() and gone(before)
    assert [p.name for p in tmp_path.iterdir()] == [], "no temporary file left"
    assert named_value(recalculated_values(built), "TargetPrice") == 2.7
    assert warm_office.starts == starts + 1


@pytest.mark.parametrize("python", [sys.executable, "/nonexistent/python3"], ids=["no uno", "no python"])
def test_where_the_bridge_cannot_run_every_call_is_a_cold_start(built, monkeypatch, python):
    """The venv's Python cannot import uno (Debian's python3-uno serves the system Python only)."""
    office = WarmOffice(python)
    monkeypatch.setattr(recalc, "_warm", office)
    assert named_value(recalculated_values(built), "TargetPrice") == 2.7
    assert office.unavailable and ("cannot import uno" in office.unavailable or "No such file" in office.unavailable)
    assert not office.running() and office.processes() == []
    assert named_value(recalculated_values(built), "TargetPrice") == 2.7
    assert office.starts <= 1, "not tried again on every call"


def test_a_bridge_that_does_not_answer_in_time_is_ended_and_a_cold_start_serves(built, monkeypatch, tmp_path):
    slow = tmp_path / "slow_python"
    slow.write_text("#!/bin/sh\nexec sleep 600\n")
    slow.chmod(0o755)
    office = WarmOffice(str(slow), start_timeout=1)
    monkeypatch.setattr(recalc, "_warm", office)
    assert named_value(recalculated_values(built), "TargetPrice") == 2.7
    assert office.unavailable == "LibreOffice did not start within 1 s"
    assert not office.running()


SCRIPT = """
import json, sys, time
from pathlib import Path
from workbook import recalc
office = recalc.use_warm_office()
recalc.recalculated_values(Path(sys.argv[1]))
print(json.dumps(office.processes()), flush=True)
if sys.argv[2] == "wait":
    time.sleep(600)
"""


@pytest.mark.parametrize("end", ["exit", "SIGTERM", "SIGKILL"])
def test_no_libreoffice_outlives_the_process_that_used_it(built, end):
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(built), "exit" if end == "exit" else "wait"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.stdout is not None
    pids = json.loads(proc.stdout.readline())
    assert len(pids) >= 2, "the bridge and LibreOffice"
    if end != "exit":
        proc.send_signal(getattr(signal, end))
    proc.wait(timeout=60)
    assert gone(pids), "LibreOffice outlived the process"
    with recalc.scratch("x"):  # a killed process's folders go with the next command's scratch
        pass
    assert not list(Path(tempfile.gettempdir()).glob(f"stmodel-*-{proc.pid}-*"))


def test_the_bridge_ships_in_the_package_and_imports_nothing_of_the_project():
    text = recalc.BRIDGE.read_text()
    assert recalc.BRIDGE.parent == ROOT / "workbook"
    imports = re.findall(r"^\s*(?:from|import) (\w+)", text, flags=re.M)
    assert not {"engine", "workbook", "udfs", "addin", "stmodel"} & set(imports)
    assert shutil.which(recalc.SYSTEM_PYTHON) or Path(recalc.SYSTEM_PYTHON).exists()
