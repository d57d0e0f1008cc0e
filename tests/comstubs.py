"""Stand-ins for the Windows COM modules (pythoncom, pywintypes, win32com) that Linux lacks.

With them in sys.modules, xlwings' own `xlwings.udfs` imports here and its real decorators and VBA
wrapper generator run on the real `udfs` module. Nothing of xlwings itself is replaced.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


def _modules() -> dict[str, types.ModuleType]:
    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None  # type: ignore[attr-defined]
    pywintypes = types.ModuleType("pywintypes")
    pywintypes.com_error = type("com_error", (Exception,), {})  # type: ignore[attr-defined]
    win32com = types.ModuleType("win32com")
    client = types.ModuleType("win32com.client")
    client.Dispatch = lambda *a, **k: None  # type: ignore[attr-defined]
    win32com.client = client  # type: ignore[attr-defined]
    return {"pythoncom": pythoncom, "pywintypes": pywintypes, "win32com": win32com, "win32com.client": client}


@contextmanager
def com_stand_ins() -> Iterator[tuple[types.ModuleType, types.ModuleType]]:
    """(xlwings.udfs, udfs) with the real xlwings decorators applied; restored afterwards."""
    saved = {name: sys.modules.get(name) for name in (*_modules(), "xlwings.udfs")}
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
