"""A small expression language for line items.

Each line of the model is defined once, as a tree of these nodes. The same tree has two readers:
`compile_expr` turns it into a numpy function (scenarios on the leading axis), and `to_excel`
renders it as an Excel formula once a layout says which cell holds which line and year. Nothing
else in the project writes a formula for a line or computes a line by hand, so the engine and the
workbook cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeAlias, cast

import numpy as np

Value: TypeAlias = np.ndarray | float | str
"""A line's or an input's value: an array over scenarios, a number, or a text ("BUY", "CASH")."""
Num: TypeAlias = np.ndarray | float
"""What arithmetic reads and returns: a `Value` that is not a text."""
Env: TypeAlias = dict[tuple[str, str | None], Value]
Inputs: TypeAlias = dict[str, Value]
Compiled: TypeAlias = Callable[[Env, Inputs], Value]


class ExcelContext(Protocol):
    """What a layout must answer for an expression to become a formula."""

    def cell(self, key: str, column: str | None) -> str:
        """Address of line `key` in `column` (None for a single-value line)."""

    def name(self, name: str) -> str:
        """Workbook defined name of a driver, parameter or adjustment."""


class Expr:
    """Base of all nodes; operators build trees."""

    def __add__(self, other: ExprLike) -> Expr:
        return Bin("+", self, lift(other))

    def __radd__(self, other: ExprLike) -> Expr:
        return Bin("+", lift(other), self)

    def __sub__(self, other: ExprLike) -> Expr:
        return Bin("-", self, lift(other))

    def __rsub__(self, other: ExprLike) -> Expr:
        return Bin("-", lift(other), self)

    def __mul__(self, other: ExprLike) -> Expr:
        return Bin("*", self, lift(other))

    def __rmul__(self, other: ExprLike) -> Expr:
        return Bin("*", lift(other), self)

    def __truediv__(self, other: ExprLike) -> Expr:
        return Bin("/", self, lift(other))

    def __rtruediv__(self, other: ExprLike) -> Expr:
        return Bin("/", lift(other), self)

    def __neg__(self) -> Expr:
        return Neg(self)

    def __gt__(self, other: ExprLike) -> Expr:
        return Bin(">", self, lift(other))

    def __lt__(self, other: ExprLike) -> Expr:
        return Bin("<", self, lift(other))

    def eq(self, other: ExprLike) -> Expr:
        return Bin("=", self, lift(other))

    def children(self) -> tuple[Expr, ...]:
        return ()

    def walk(self) -> Iterator[Expr]:
        yield self
        for child in self.children():
            yield from child.walk()


ExprLike = Expr | float | int | str


def lift(x: ExprLike) -> Expr:
    return x if isinstance(x, Expr) else Const(x)


@dataclass(frozen=True, eq=False)
class Const(Expr):
    """A literal. The model uses text literals (ratings, "CASH") and no bare numbers."""

    value: float | int | str


@dataclass(frozen=True, eq=False)
class Ref(Expr):
    """Another line: same column, `lag` columns back, or a fixed column `at`."""

    key: str
    lag: int = 0
    at: str | None = None
    single: bool = False  # a single-value line, read the same from every column

    @property
    def prev(self) -> Ref:
        return Ref(self.key, self.lag + 1, self.at, self.single)


@dataclass(frozen=True, eq=False)
class Drv(Expr):
    """A named input. `per_year` inputs resolve to `<name>_<column>`, others to `name`."""

    name: str
    per_year: bool = True

    def resolve(self, column: str | None) -> str:
        if self.per_year:
            if column is None:
                raise ValueError(f"per-year input '{self.name}' used in a single-value line")
            return f"{self.name}_{column}"
        return self.name


@dataclass(frozen=True, eq=False)
class Bin(Expr):
    op: str
    a: Expr
    b: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.a, self.b)


@dataclass(frozen=True, eq=False)
class Neg(Expr):
    a: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.a,)


@dataclass(frozen=True, eq=False)
class Fn(Expr):
    """A function both Excel and LibreOffice know: ABS, AVERAGE, IF, MROUND, NA (no value: #N/A)."""

    name: str
    args: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.args


@dataclass(frozen=True, eq=False)
class Raw(Expr):
    """Formula text written as it is (a cell address in a grid); only the Excel reader knows it."""

    text: str


class _Input(Expr):
    """Marks a cell whose value is typed (a reported figure), not computed."""

    def __repr__(self) -> str:
        return "INPUT"


INPUT = _Input()


def abs_(x: ExprLike) -> Expr:
    return Fn("ABS", (lift(x),))


def avg(*xs: ExprLike) -> Expr:
    return Fn("AVERAGE", tuple(lift(x) for x in xs))


def if_(cond: Expr, then: ExprLike, other: ExprLike) -> Expr:
    return Fn("IF", (cond, lift(then), lift(other)))


def mround(x: ExprLike, step: ExprLike) -> Expr:
    return Fn("MROUND", (lift(x), lift(step)))


def na() -> Expr:
    """No value: #N/A in Excel, NaN in numpy (a choice none of whose cases applies)."""
    return Fn("NA", ())


def choose(selector: Expr, cases: tuple[tuple[ExprLike, ExprLike], ...]) -> Expr:
    """The value of the case whose key equals `selector`, #N/A when none does: a chain of IFs, which
    every reader (numpy, Excel, the scalar code) already knows."""
    out = na()
    for key, value in reversed(cases):
        out = if_(selector.eq(key), value, out)
    return out


def total(*xs: ExprLike) -> Expr:
    """A sum written as a chain of `+`, the way the report's subtotals read."""
    out = lift(xs[0])
    for x in xs[1:]:
        out = out + x
    return out


# ---------------------------------------------------------------- dependencies


def column_of(ref: Ref, column: str | None, columns: tuple[str, ...]) -> str | None:
    """The column a reference points at, or None when it falls before the first column."""
    if ref.at is not None:
        return ref.at
    if column is None or ref.single:
        return None
    i = columns.index(column) - ref.lag
    return columns[i] if i >= 0 else None


def line_deps(expr: Expr, column: str | None, columns: tuple[str, ...]) -> set[tuple[str, str | None]]:
    out: set[tuple[str, str | None]] = set()
    for node in expr.walk():
        if isinstance(node, Ref):
            out.add((node.key, column_of(node, column, columns)))
    return out


# ---------------------------------------------------------------- numpy reader

_ARITH_OPS: dict[str, Callable[[Num, Num], Num]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: np.divide(a, b),
}
_COMPARE_OPS: dict[str, Callable[[Value, Value], Value]] = {
    ">": lambda a, b: np.greater(a, b),
    "<": lambda a, b: np.less(a, b),
    "=": lambda a, b: np.equal(a, b),
}


def _mround(x: Value, step: Value) -> Value:
    # Excel's MROUND rounds halves away from zero; numpy's round would round them to even.
    # The final rounding to 12 places drops binary noise (39 x 0.1 = 3.9000000000000004).
    return np.round(np.sign(x) * np.floor(np.abs(np.divide(x, step)) + 0.5) * step, 12)


def _if(cond: Value, a: Value, b: Value) -> Value:
    if any(isinstance(x, str) or (isinstance(x, np.ndarray) and x.dtype.kind == "O") for x in (a, b)):
        a_arr = np.asarray(a, dtype=object)
        b_arr = np.asarray(b, dtype=object)
        return np.where(cond, a_arr, b_arr)
    return np.where(cond, a, b)


def _operand(f: Compiled) -> Callable[[Env, Inputs], Num]:
    """`f` as an operand of arithmetic (+ - * /, unary -, AVERAGE).

    Known from the line definitions, not checked per evaluation: text (ratings, "CASH", "NA", the
    cap basis) is only ever compared with = or chosen by IF, never computed with, so a compiled
    operand of arithmetic yields a number or an array.
    """
    return cast(Callable[[Env, Inputs], Num], f)


def compile_expr(expr: Expr, column: str | None, columns: tuple[str, ...]) -> Compiled:
    """Turn a tree into a function of (line values, input values) for one column."""
    if isinstance(expr, Const):
        value = expr.value
        return lambda env, inputs: value
    if isinstance(expr, Ref):
        target = (expr.key, column_of(expr, column, columns))
        return lambda env, inputs: env[target]
    if isinstance(expr, Drv):
        name = expr.resolve(column)
        return lambda env, inputs: inputs[name]
    if isinstance(expr, Neg):
        inner = _operand(compile_expr(expr.a, column, columns))
        return lambda env, inputs: -inner(env, inputs)
    if isinstance(expr, Bin):
        fa = compile_expr(expr.a, column, columns)
        fb = compile_expr(expr.b, column, columns)
        if expr.op in _ARITH_OPS:
            arith = _ARITH_OPS[expr.op]
            na, nb = _operand(fa), _operand(fb)
            return lambda env, inputs: arith(na(env, inputs), nb(env, inputs))
        op = _COMPARE_OPS[expr.op]
        return lambda env, inputs: op(fa(env, inputs), fb(env, inputs))
    if isinstance(expr, Fn):
        fs = [compile_expr(a, column, columns) for a in expr.args]
        if expr.name == "ABS":
            return lambda env, inputs: np.abs(fs[0](env, inputs))
        if expr.name == "AVERAGE":
            terms = [_operand(f) for f in fs]
            n = len(terms)
            return lambda env, inputs: sum(f(env, inputs) for f in terms) / n
        if expr.name == "IF":
            return lambda env, inputs: _if(fs[0](env, inputs), fs[1](env, inputs), fs[2](env, inputs))
        if expr.name == "MROUND":
            return lambda env, inputs: _mround(fs[0](env, inputs), fs[1](env, inputs))
        if expr.name == "NA":
            return lambda env, inputs: np.nan
    raise TypeError(f"cannot compile {expr!r}")


# ---------------------------------------------------------------- Excel reader

_PRECEDENCE = {"=": 0, ">": 0, "<": 0, "+": 1, "-": 1, "*": 2, "/": 2}


def to_excel(expr: Expr, column: str | None, columns: tuple[str, ...], ctx: ExcelContext) -> str:
    """Render a tree as an Excel formula body (without the leading '=')."""
    return _render(expr, column, columns, ctx, 0)


def _render(expr: Expr, column: str | None, columns: tuple[str, ...], ctx: ExcelContext, parent: int) -> str:
    if isinstance(expr, Const):
        if isinstance(expr.value, str):
            return '"' + expr.value.replace('"', '""') + '"'
        return repr(expr.value)
    if isinstance(expr, Ref):
        return ctx.cell(expr.key, column_of(expr, column, columns))
    if isinstance(expr, Raw):
        return expr.text
    if isinstance(expr, Drv):
        return ctx.name(expr.resolve(column))
    if isinstance(expr, Neg):
        return "-" + _render(expr.a, column, columns, ctx, 3)
    if isinstance(expr, Bin):
        p = _PRECEDENCE[expr.op]
        # Right operands of - and / bind tighter so that a-(b-c) keeps its brackets.
        right_p = p + 1 if expr.op in "-/" else p
        body = _render(expr.a, column, columns, ctx, p) + expr.op + _render(expr.b, column, columns, ctx, right_p)
        return f"({body})" if p < parent else body
    if isinstance(expr, Fn):
        args = ",".join(_render(a, column, columns, ctx, 0) for a in expr.args)
        return f"{expr.name}({args})"
    raise TypeError(f"cannot render {expr!r}")


def inline(expr: Expr, definitions: dict[str, Expr], replace: dict[str, Expr]) -> Expr:
    """`expr` with the drivers in `replace` substituted, and every single-value line that depends on
    them expanded into its definition (so a grid cell can vary a driver without its own model copy)."""

    def depends(e: Expr) -> bool:
        return any(
            (isinstance(n, Drv) and not n.per_year and n.name in replace)
            or (isinstance(n, Ref) and n.key in definitions and n.at is None and depends(definitions[n.key]))
            for n in e.walk()
        )

    def go(e: Expr) -> Expr:
        if isinstance(e, Drv) and not e.per_year and e.name in replace:
            return replace[e.name]
        if isinstance(e, Ref) and e.key in definitions and e.at is None and depends(definitions[e.key]):
            return go(definitions[e.key])
        if isinstance(e, Bin):
            return Bin(e.op, go(e.a), go(e.b))
        if isinstance(e, Neg):
            return Neg(go(e.a))
        if isinstance(e, Fn):
            return Fn(e.name, tuple(go(a) for a in e.args))
        return e

    return go(expr)
