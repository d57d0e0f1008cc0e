"""xlwings' UDF decorators: the real ones where xlwings.udfs can load, no-ops elsewhere.

On Windows (pywin32 present) `xlwings.func` is `xlwings.udfs.xlfunc`. On Linux xlwings swaps in
no-ops, and `xlwings.udfs` needs the COM modules; with stand-in COM modules installed (the tests do)
the real decorators load, so the metadata and VBA wrappers can be checked here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

_F = TypeVar("_F", bound=Callable[..., Any])


class FuncDecorator(Protocol):
    """`func` as this package calls it: with options only, `@func(category=...)`."""

    def __call__(self, **options: Any) -> Callable[[_F], _F]: ...


try:
    from xlwings.udfs import xlarg as arg
    from xlwings.udfs import xlfunc
    from xlwings.udfs import xlret as ret

    # xlwings annotates `xlfunc` as returning `_F | Callable[[_F], _F]` for every call, without the
    # overloads its no-op `func` has; called with options only, it returns the decorator.
    func = cast(FuncDecorator, xlfunc)
except ImportError:  # no COM modules: xlwings' own no-op decorators
    import xlwings
    from xlwings import arg, ret

    func = cast(FuncDecorator, xlwings.func)

__all__ = ["arg", "func", "ret"]
