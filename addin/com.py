"""Stand-ins for the Windows COM modules (pythoncom, pywintypes, win32com) where they are missing.

`xlwings.udfs` imports pywin32's COM modules at import time, although its decorators and its VBA
wrapper generator only produce metadata and text. Where pywin32 is absent (Linux: building the
add-in, and the tests), inert stand-ins are registered for the duration of the `with` block, so that
xlwings' own code runs on the real `udfs` module. On Windows the real modules are used. Nothing of
xlwings itself is replaced.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


def _module(name: str, **attributes: object) -> types.ModuleType:
    """A module object holding `attributes`, set through its namespace: ModuleType declares none of them."""
    module = types.ModuleType(name)
    vars(module).update(attributes)
    return module


def _modules() -> dict[str, types.ModuleType]:
    pythoncom = _module("pythoncom", __stand_in__=True, CoInitialize=lambda: None)
    pywintypes = _module("pywintypes", com_error=type("com_error", (Exception,), {}))
    client = _module("win32com.client", Dispatch=lambda *a, **k: None)
    win32com = _module("win32com", client=client)
    return {"pythoncom": pythoncom, "pywintypes": pywintypes, "win32com": win32com, "win32com.client": client}


def _have_pywin32() -> bool:
    try:
        import pythoncom  # noqa: F401
    except ImportError:
        return False
    return not getattr(sys.modules["pythoncom"], "__stand_in__", False)


@contextmanager
def com_stand_ins() -> Iterator[tuple[types.ModuleType, types.ModuleType]]:
    """(xlwings.udfs, udfs) with xlwings' real decorators applied; sys.modules restored afterwards."""
    saved = {name: sys.modules.get(name) for name in (*_modules(), "xlwings.udfs")}
    if not _have_pywin32():
        sys.modules.update(_modules())
        sys.modules.pop("xlwings.udfs", None)
    try:
        xlwings_udfs = importlib.import_module("xlwings.udfs")
        import udfs
        import udfs.decorators
        import udfs.functions

        importlib.reload(udfs.decorators)
        importlib.reload(udfs.functions)
        importlib.reload(udfs)
        yield xlwings_udfs, udfs
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        import udfs
        import udfs.decorators
        import udfs.functions

        importlib.reload(udfs.decorators)
        importlib.reload(udfs.functions)
        importlib.reload(udfs)
