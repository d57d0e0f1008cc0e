"""Recalculate a workbook with headless LibreOffice and read the results back.

openpyxl writes formulas without results; LibreOffice computes them. Each call uses a fresh user
profile (concurrent or stale profiles make soffice fail silently), forces recalculation on load,
runs under a time limit, and checks that the output exists, because soffice exits 0 on failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from engine.errors import StmodelError
from engine.files import WriteError, replacing

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


class RecalcError(StmodelError):
    """LibreOffice could not recalculate the file; the message says why."""


def soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise RecalcError("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")


def recalculate(src: Path, dst: Path, timeout: float = 120.0) -> Path:
    """Open `src` in LibreOffice, recalculate every formula, save as .xlsx at `dst`."""
    src = Path(src)
    if not src.is_file():
        raise RecalcError(f"{src}: no such file")
    try:
        with replacing(Path(dst)) as target:
            _convert(src, target, timeout)
    except WriteError as e:
        raise RecalcError(str(e)) from None
    return Path(dst)


def _convert(src: Path, target: Path, timeout: float) -> None:
    """LibreOffice's recalculated copy of `src`, written to `target`."""
    with tempfile.TemporaryDirectory(prefix="stmodel-lo-") as tmp:
        profile = Path(tmp) / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        outdir = Path(tmp) / "out"
        outdir.mkdir()
        work = Path(tmp) / ("in" + src.suffix)
        shutil.copyfile(src, work)
        cmd = [
            soffice(),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            str(work),
        ]
        env = dict(os.environ, HOME=tmp)
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise RecalcError(f"{src}: LibreOffice did not finish within {timeout:.0f} s") from None
        out = outdir / "in.xlsx"
        if not out.is_file() or out.stat().st_size == 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise RecalcError(f"{src}: LibreOffice wrote no output ({detail[-1] if detail else 'no message'})")
        shutil.copyfile(out, target)


def recalculated_values(src: Path, timeout: float = 120.0) -> Workbook:
    """Recalculate `src` in a temporary copy and return it opened with cached values (data_only)."""
    with tempfile.TemporaryDirectory(prefix="stmodel-recalc-") as tmp:
        out = recalculate(Path(src), Path(tmp) / "recalculated.xlsx", timeout)
        return load_workbook(out, data_only=True)
