"""A warm headless LibreOffice, driven through UNO, for many recalculations in one process.

Run by the SYSTEM Python (`/usr/bin/python3`, where Debian's `python3-uno` installs `uno`), never imported
by the project: `workbook/recalc.py` (`WarmOffice`) starts it as a subprocess, since the project's own
Python (a venv) cannot import `uno`. This file imports nothing of the project and only the standard library
and `uno`.

    /usr/bin/python3 uno_bridge.py SOFFICE PROFILE PIPE

starts `SOFFICE --headless --accept=pipe,name=PIPE;urp;` with the user profile folder PROFILE (in a session
of the bridge's process group, so the client ends both with one `killpg`), connects to it, prints one JSON
line, `{"ready": true, "pid": N}` or `{"ready": false, "error": "..."}`, then answers one JSON line per
request line on stdin:

    {"op": "recalc", "src": PATH, "dst": PATH}  ->  {"ok": true} | {"ok": false, "error": "...", "fatal": bool}
    {"op": "quit"}                              ->  LibreOffice ended, the bridge exits

`recalc` loads `src` (the client's private copy: hidden, macros never run, links not updated), recalculates
every formula (`calculateAll`), stores it as .xlsx at `dst` and closes it. `fatal` means LibreOffice is gone
(crashed or killed): the bridge exits after answering and the client starts another. End of input (the
client ended, even by SIGKILL) ends LibreOffice and the bridge.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CALC_XLSX = "Calc MS Excel 2007 XML"
START_TIMEOUT = 60.0


def _answer(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def _props(**values: Any) -> tuple[Any, ...]:
    from com.sun.star.beans import PropertyValue

    out = []
    for name, value in values.items():
        p = PropertyValue()
        p.Name, p.Value = name, value
        out.append(p)
    return tuple(out)


class Office:
    """One headless LibreOffice and the UNO connection to it."""

    def __init__(self, soffice: str, profile: Path, pipe: str) -> None:
        self.pipe = pipe
        cmd = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ]
        env = dict(os.environ, HOME=str(profile.parent))
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        try:
            self.desktop = self._connect(START_TIMEOUT)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise

    def _connect(self, timeout: float) -> Any:
        import uno
        from com.sun.star.connection import NoConnectException

        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + timeout
        while True:
            try:
                ctx = resolver.resolve(f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            except NoConnectException:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"LibreOffice exited with code {self.proc.returncode} at start") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"LibreOffice did not accept a connection within {timeout:.0f} s") from None
                time.sleep(0.05)

    def load(self, src: str) -> Any:
        """The document at `src`, loaded hidden, its macros never run, its links not updated."""
        import uno

        doc = self.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(os.path.abspath(src)),
            "_blank",
            0,
            _props(Hidden=True, MacroExecutionMode=0, UpdateDocMode=0, ReadOnly=False),
        )
        if doc is None:
            raise RuntimeError("LibreOffice could not open it")
        return doc

    def recalc(self, src: str, dst: str) -> None:
        import uno

        doc = self.load(src)
        try:
            doc.calculateAll()
            doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dst)), _props(FilterName=CALC_XLSX, Overwrite=True))
        finally:
            close(doc)

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            return False
        try:
            self.desktop.getComponents()
        except Exception:
            return False
        return True

    def quit(self) -> None:
        with contextlib.suppress(Exception):
            self.desktop.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def close(doc: Any) -> None:
    try:
        doc.close(True)
    except Exception:
        with contextlib.suppress(Exception):
            doc.dispose()


def serve(office: Office) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            _answer(ok=False, error="not a JSON request", fatal=False)
            continue
        op = request.get("op")
        if op == "quit":
            return
        if op != "recalc":
            _answer(ok=False, error=f"unknown request {op!r}", fatal=False)
            continue
        try:
            office.recalc(request["src"], request["dst"])
        except Exception as e:  # UNO raises its own exception types: every one is an answer, not an exit
            if not office.alive():
                _answer(ok=False, error=f"LibreOffice is gone ({type(e).__name__})", fatal=True)
                return
            message = (getattr(e, "Message", "") or str(e)).strip()
            _answer(ok=False, error=message.splitlines()[0] if message else type(e).__name__, fatal=False)
            continue
        _answer(ok=True)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` ends LibreOffice
    soffice, profile, pipe = argv
    try:
        import uno  # noqa: F401
    except ImportError as e:
        _answer(ready=False, error=f"{sys.executable} cannot import uno ({e}): apt-get install python3-uno")
        return 1
    office = None
    try:
        try:
            office = Office(soffice, Path(profile), pipe)
        except Exception as e:
            _answer(ready=False, error=str(e) or type(e).__name__)
            return 1
        _answer(ready=True, pid=office.proc.pid)
        serve(office)
    finally:
        if office is not None:
            office.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
