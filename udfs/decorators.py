"""xlwings' UDF decorators: the real ones where xlwings.udfs can load, no-ops elsewhere.

On Windows (pywin32 present) `xlwings.func` is `xlwings.udfs.xlfunc`. On Linux xlwings swaps in
no-ops, and `xlwings.udfs` needs the COM modules; with stand-in COM modules installed (the tests do)
the real decorators load, so the metadata and VBA wrappers can be checked here.
"""

from __future__ import annotations

try:
    from xlwings.udfs import xlarg as arg
    from xlwings.udfs import xlfunc as func
    from xlwings.udfs import xlret as ret
except ImportError:  # no COM modules: xlwings' own no-op decorators
    from xlwings import arg, func, ret

__all__ = ["arg", "func", "ret"]
