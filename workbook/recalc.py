"""Recalculate a workbook with headless LibreOffice and read the results back (or print it to PDF).

openpyxl writes formulas without results; LibreOffice computes them. Each call uses a fresh user
profile (concurrent or stale profiles make soffice fail silently), forces recalculation on load,
runs under a time limit, and checks that the output exists, because soffice exits 0 on failure.
LibreOffice runs in its own process group, ended on every way out (error, time limit, SIGTERM,
Ctrl-C); one left by a process killed outright is ended by the next recalculation (docs/files.md).

Where many recalculations run in one process (the tests, batch scripts), `use_warm_office()` sends them to
one warm LibreOffice instead (`WarmOffice`: driven through UNO by `uno_bridge.py` under the system Python,
started at the first recalculation, reused, restarted if it died, ended at exit), each call still isolated:
its own copy of the file, a time limit that kills the instance, the output checked. Where the system Python
cannot `import uno` (Debian: `python3-uno`) or the bridge does not start, every call is a cold start as above.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from engine.errors import StmodelError
from engine.files import WriteError, check_target, host, process_alive, remove_stale, replacing, scratch

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
    target: a recalculation by the warm instance when one is in use and can run here, else (and every
    print) in one cold LibreOffice run."""
    office = _warm
    if to == "xlsx" and office is not None and office.usable():
        try:
            office.convert_all(jobs, timeout)
            return
        except WarmUnavailableError:
            pass  # it cannot start here, or died twice in this call: the cold start, as without it
    _cold_convert_all(jobs, timeout, to)


def _cold_convert_all(jobs: list[tuple[Path, Path]], timeout: float, to: str = "xlsx") -> None:
    """LibreOffice's recalculated copy (or print) of each source, written to its target, in one cold
    LibreOffice run."""
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


# One warm LibreOffice for many recalculations ------------------------------------------------------------

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-uno serves this one, not a venv's
BRIDGE = Path(__file__).with_name("uno_bridge.py")
START_TIMEOUT = 60.0  # seconds for the bridge to start LibreOffice and connect to it

# The warm profile recalculates only when asked (calculateAll), not a second time on load.
_RECALC_ON_REQUEST = _RECALC_ALWAYS.replace("<value>0</value>", "<value>1</value>")


class WarmUnavailableError(Exception):
    """The warm instance cannot serve this call (it cannot start here, or died twice): use a cold start."""


class WarmOffice:
    """One headless LibreOffice reused across recalculations, through UNO (`uno_bridge.py` run by
    `python`, the system Python that can `import uno`). Started at the first call, restarted if it died,
    ended by `close()` (at exit when `use_warm_office` made it the process's instance). Each call is
    isolated: its sources are copied to a private scratch folder, the instance loads each copy, recalculates
    every formula, stores an .xlsx and closes the document; the output must be a workbook openpyxl opens.
    A call that outlives its time limit kills the instance (the next call starts another). Its profile
    folder, `stmodel-lo-PID-HOST-...`, names this process, so `end_orphans` ends it if this process is
    killed outright; the bridge also ends LibreOffice when this process goes (its input closes)."""

    def __init__(self, python: str = SYSTEM_PYTHON, start_timeout: float = START_TIMEOUT) -> None:
        self.python = python
        self.start_timeout = start_timeout
        self.unavailable: str | None = None  # why it cannot run here (every call is then a cold start)
        self.starts = 0  # instances started so far (a restart after a kill or a time limit counts)
        self._owner = os.getpid()
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[str] | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._folder: Path | None = None
        self._pipe = ""

    def __enter__(self) -> WarmOffice:
        return self

    def __exit__(self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def usable(self) -> bool:
        """Not known to be unable to run here, and this process's (a forked child uses cold starts)."""
        return self.unavailable is None and os.getpid() == self._owner

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def processes(self) -> list[int]:
        """The running instance's processes: the bridge and LibreOffice's, its process group (Linux)."""
        proc = self._proc
        if proc is None:
            return []
        found = []
        for pid, _ in _processes():
            with suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[2]) == proc.pid and stat[0] != "Z":
                    found.append(pid)
        return found

    def convert_all(self, jobs: list[tuple[Path, Path]], timeout: float) -> None:
        """As `_cold_convert_all`, by the warm instance; `timeout` bounds the recalculations (not the
        instance's start, which has `start_timeout`). Raises WarmUnavailableError when it cannot serve."""
        if not self.usable():
            raise WarmUnavailableError(self.unavailable or "another process's instance")
        with self._lock, scratch("lo") as tmp:
            deadline: float | None = None
            for i, (src, target) in enumerate(jobs):
                work = tmp / f"in{i}{src.suffix}"
                shutil.copyfile(src, work)
                out = tmp / f"out{i}.xlsx"
                deadline = self._recalc(src, work, out, timeout, deadline)
                _check_output(src, out)
                shutil.copyfile(out, target)

    def _recalc(self, src: Path, work: Path, out: Path, timeout: float, deadline: float | None) -> float:
        """`work` recalculated to `out`, on a second instance if the first is found dead; the deadline."""
        for _ in range(2):
            self._ensure_started()
            if deadline is None:
                deadline = time.monotonic() + timeout
            answer = self._ask({"op": "recalc", "src": str(work), "dst": str(out)}, deadline)
            if answer is None:  # timed out: the instance is killed, the next call starts another
                raise RecalcError(f"{src}: LibreOffice did not finish within {timeout:.0f} s")
            if answer.get("fatal") or "ok" not in answer:  # it died (killed, crashed): once more on a new one
                self._stop(kill=True)
                continue
            if not answer["ok"]:
                raise RecalcError(f"{src}: LibreOffice wrote no output ({answer.get('error') or 'no message'})")
            return deadline
        raise WarmUnavailableError("LibreOffice died twice in one call")

    def _ask(self, request: dict[str, str], deadline: float) -> dict[str, object] | None:
        """The bridge's answer; None when the deadline passed (the instance is then killed); {} when the
        bridge is gone."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            return {}
        try:
            line = self._answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self._stop(kill=True)
            return None
        if line is None:
            return {}
        try:
            answer = json.loads(line)
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    def _ensure_started(self) -> None:
        if self.running():
            return
        self._stop(kill=True)  # what is left of a dead one: its process group, folder and pipe
        try:
            self._start()
        except WarmUnavailableError as e:
            self._stop(kill=True)
            self.unavailable = str(e)
            raise

    def _start(self) -> None:
        program = soffice()  # not installed: the same RecalcError as a cold start
        end_orphans()
        remove_stale(Path(tempfile.gettempdir()))
        folder = Path(tempfile.mkdtemp(prefix=f"stmodel-lo-{os.getpid()}-{host()}-"))
        self._folder = folder
        profile = folder / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ON_REQUEST)
        self._pipe = f"stmodel-{os.getpid()}-{secrets.token_hex(6)}"
        answers: queue.Queue[str | None] = queue.Queue()
        self._answers = answers
        try:
            with open(folder / "bridge.log", "w") as log:
                self._proc = subprocess.Popen(
                    [self.python, str(BRIDGE), program, str(profile), self._pipe],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=dict(os.environ, HOME=str(folder)),
                    text=True,
                    start_new_session=True,  # its own process group: the bridge and LibreOffice end together
                )
        except OSError as e:
            raise WarmUnavailableError(f"{self.python}: {e.strerror or e}") from None
        self.starts += 1
        threading.Thread(target=_read_lines, args=(self._proc, answers), daemon=True).start()
        try:
            line = answers.get(timeout=self.start_timeout)
        except queue.Empty:
            raise WarmUnavailableError(f"LibreOffice did not start within {self.start_timeout:.0f} s") from None
        try:
            ready = json.loads(line) if line else {}
        except ValueError:
            ready = {}
        if not isinstance(ready, dict) or not ready.get("ready"):
            why = ready.get("error") if isinstance(ready, dict) else None
            if not why:
                logged = (folder / "bridge.log").read_text(errors="replace").strip().splitlines()
                why = logged[-1] if logged else "the bridge exited"
            raise WarmUnavailableError(str(why))

    def _stop(self, kill: bool) -> None:
        """End the instance: asked to quit (or killed outright), its group killed, its folder removed."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if not kill and proc.poll() is None and proc.stdin is not None:
                with suppress(OSError, ValueError):
                    proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                    proc.stdin.flush()
                with suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=15)
            with suppress(OSError):
                if hasattr(os, "killpg"):
                    os.killpg(proc.pid, signal.SIGKILL)  # soffice.bin as well, even when the bridge is gone
                else:
                    proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with suppress(OSError, ValueError):
                        stream.close()
        if self._pipe:
            with suppress(OSError):  # the socket a killed LibreOffice could not remove (Linux: /tmp)
                Path("/tmp", f"OSL_PIPE_{os.getuid()}_{self._pipe}").unlink()
            self._pipe = ""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def kill(self) -> None:
        """End the running instance outright (the next call starts another)."""
        with self._lock:
            self._stop(kill=True)

    def close(self) -> None:
        """End the instance (the next call would start another)."""
        if os.getpid() != self._owner:
            return  # a forked child's copy: the instance is its parent's
        with self._lock:
            self._stop(kill=False)


def _read_lines(proc: subprocess.Popen[str], answers: queue.Queue[str | None]) -> None:
    """The bridge's answers, one line each; None at its end."""
    assert proc.stdout is not None
    with suppress(OSError, ValueError):
        for line in proc.stdout:
            answers.put(line)
    answers.put(None)


def _check_output(src: Path, out: Path) -> None:
    """The output exists and is a workbook openpyxl opens."""
    if not out.is_file() or out.stat().st_size == 0:
        raise RecalcError(f"{src}: LibreOffice wrote no output (no file)")
    try:
        load_workbook(out, read_only=True).close()
    except Exception as e:
        raise RecalcError(f"{src}: LibreOffice wrote no readable output ({type(e).__name__}: {e})") from None


_warm: WarmOffice | None = None


def use_warm_office(enabled: bool = True, python: str = SYSTEM_PYTHON) -> WarmOffice | None:
    """From now on this process's recalculations go through one warm LibreOffice (started at the first,
    ended at exit), or, with `enabled` False, each through a cold start again (the warm one is ended).
    Returns the instance in use. Where it cannot run, every call falls back to a cold start."""
    global _warm
    old, _warm = _warm, None
    if old is not None:
        old.close()
    if enabled:
        _warm = WarmOffice(python)
        atexit.register(_warm.close)
    return _warm


def warm_office() -> WarmOffice | None:
    """The warm instance in use, if any."""
    return _warm
