"""Recalculate a workbook with headless LibreOffice and read the results back (or print it to PDF).

openpyxl writes formulas without results; LibreOffice computes them. Each call uses a fresh user
profile (concurrent or stale profiles make soffice fail silently), forces recalculation on load,
runs under a time limit, and checks that the output exists, because soffice exits 0 on failure.
LibreOffice runs in its own process group, ended on every way out (error, time limit, SIGTERM,
Ctrl-C); one left by a process killed outright is ended by the next recalculation (docs/files.md).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from engine.errors import StmodelError
from engine.files import WriteError, check_target, process_alive, replacing, scratch

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


def recalculate(src: Path, dst: Path, timeout: float = 120.0, overwrite: bool = True, lock: bool | None = None) -> Path:
    """Open `src` in LibreOffice, recalculate every formula, save as .xlsx at `dst` (never over `src`;
    over another existing file only with `overwrite`; `lock` is `engine.files.replacing`'s)."""
    from .audit.container import check_container
    from .audit.findings import AuditError

    src = Path(src)
    try:
        check_container(src)  # the checks every reader makes: LibreOffice must never see a hostile file
    except AuditError as e:
        raise RecalcError(str(e)) from None
    check_target(Path(dst), [src], overwrite)
    try:
        with replacing(Path(dst), inputs=[src], overwrite=overwrite, lock=lock) as target:
            _convert(src, target, timeout)
    except WriteError as e:
        raise RecalcError(str(e)) from e
    return Path(dst)


_PROFILE = re.compile(r"-env:UserInstallation=file://\S*/stmodel-lo-(\d{1,10})-")


def _processes() -> Iterator[tuple[int, str]]:
    """(pid, command line) of the processes this one can see (Linux's /proc; nothing elsewhere)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                cmdline = entry.joinpath("cmdline").read_bytes()
            except OSError:
                continue
            yield int(entry.name), cmdline.replace(b"\0", b" ").decode("utf-8", "replace")


def end_orphans() -> int:
    """End the LibreOffice processes of stmodel processes that were killed outright (SIGKILL runs no
    handler): each one's profile folder names the stmodel process it served. Returns how many."""
    ended = 0
    for pid, cmdline in _processes():
        m = _PROFILE.search(cmdline)
        if not m:
            continue
        if process_alive(int(m.group(1))):
            continue  # its stmodel process still runs (or the name is not a pid stmodel wrote)
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            ended += 1
    return ended


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[str, bool]:
    """Run LibreOffice in a session of its own; (its messages, finished in time). Its whole process
    group is ended on the way out, however this function is left."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        return output or "", True
    except subprocess.TimeoutExpired:
        return "", False
    finally:
        with suppress(OSError):
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)  # its session's group: soffice.bin as well
            else:
                proc.kill()
        proc.wait()


def _convert(src: Path, target: Path, timeout: float) -> None:
    """LibreOffice's recalculated copy of `src`, written to `target`."""
    _convert_all([(src, target)], timeout)


FILTERS = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "pdf": "pdf:calc_pdf_Export"}  # what LibreOffice writes


def _convert_all(jobs: list[tuple[Path, Path]], timeout: float, to: str = "xlsx") -> None:
    """LibreOffice's recalculated copy of each source (`to` "xlsx"), or its print ("pdf"), written to its
    target, in one LibreOffice run."""
    end_orphans()
    with scratch("lo") as tmp:
        profile = tmp / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        outdir = tmp / "out"
        outdir.mkdir()
        works = []
        for i, (src, _) in enumerate(jobs):
            work = tmp / (f"in{i if len(jobs) > 1 else ''}" + src.suffix)
            shutil.copyfile(src, work)
            works.append(work)
        cmd = [
            soffice(),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            FILTERS[to],
            "--outdir",
            str(outdir),
            *map(str, works),
        ]
        output, finished = _run(cmd, dict(os.environ, HOME=str(tmp)), timeout)
        first = jobs[0][0]
        if not finished:
            raise RecalcError(f"{first}: LibreOffice did not finish within {timeout:g} s")
        for (src, target), work in zip(jobs, works, strict=True):
            out = outdir / f"{work.stem}.{to}"
            if not out.is_file() or out.stat().st_size == 0:
                detail = output.strip().splitlines()
                raise RecalcError(f"{src}: LibreOffice wrote no output ({detail[-1] if detail else 'no message'})")
            shutil.copyfile(out, target)


def print_pdf(src: Path, dst: Path, timeout: float = 120.0, overwrite: bool = False) -> Path:
    """Print `src` to PDF at `dst` with LibreOffice, as its page setup says (every formula recalculated
    first); the file appears whole or not at all, never over `src`, over another file only with `overwrite`."""
    from .audit.container import check_container
    from .audit.findings import AuditError

    src = Path(src)
    try:
        check_container(src)  # as `recalculate`: LibreOffice never sees a hostile file
    except AuditError as e:
        raise RecalcError(str(e)) from None
    check_target(Path(dst), [src], overwrite)
    try:
        with replacing(Path(dst), suffix=".pdf", inputs=[src], overwrite=overwrite) as target:
            _convert_all([(src, target)], timeout, to="pdf")
            if not target.read_bytes().startswith(b"%PDF-"):
                raise RecalcError(f"{src}: LibreOffice wrote something other than a PDF")
    except WriteError as e:
        raise RecalcError(str(e)) from e
    return Path(dst)


def recalculated_values_of(sources: list[Path], timeout: float = 240.0) -> list[Workbook]:
    """Several workbooks recalculated in one LibreOffice run (one start-up instead of one each), each
    returned opened with cached values (data_only), in the order given."""
    from .audit.container import check_container
    from .audit.findings import AuditError

    if not sources:
        return []
    for src in sources:
        try:
            check_container(Path(src))  # as `recalculate`: LibreOffice never sees a hostile file
        except AuditError as e:
            raise RecalcError(str(e)) from None
    with scratch("recalc") as tmp:
        jobs = [(Path(src), tmp / f"recalculated{i}.xlsx") for i, src in enumerate(sources)]
        _convert_all(jobs, timeout)
        return [load_workbook(target, data_only=True) for _, target in jobs]


def recalculated_values(src: Path, timeout: float = 120.0) -> Workbook:
    """Recalculate `src` in a temporary copy and return it opened with cached values (data_only)."""
    with scratch("recalc") as tmp:
        out = recalculate(Path(src), tmp / "recalculated.xlsx", timeout, lock=False)  # private: no lock file
        return load_workbook(out, data_only=True)
