"""The scalar path: the model as one generated Python function on plain floats.

A third reader of the line definitions (after the numpy and Excel readers in `engine/expr.py`):
each definition becomes a line of Python source, in evaluation order, compiled once. It shares no
evaluation code with the numpy path, which makes it the independent check of the vectorised engine,
and it is the fastest way to run one driver set (tens of microseconds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .expr import INPUT, Bin, Const, Drv, Expr, Fn, Neg, Ref, column_of
from .model import Model, Node, _definitions, _order, compile_model


def _div(a: float, b: float) -> float:
    """Division as numpy does it: inf or nan instead of ZeroDivisionError."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _mround(x: float, step: float) -> float:
    return round(math.copysign(math.floor(abs(x / step) + 0.5), x) * step, 12)


_OPS = {"+": "+", "-": "-", "*": "*", ">": ">", "<": "<", "=": "=="}


def _source(expr: Expr, column: str | None, names: dict[Node, str], columns: tuple[str, ...]) -> str:
    if isinstance(expr, Const):
        return repr(expr.value)
    if isinstance(expr, Ref):
        return names[(expr.key, column_of(expr, column, columns))]
    if isinstance(expr, Drv):
        return f"i[{expr.resolve(column)!r}]"
    if isinstance(expr, Neg):
        return f"(-{_source(expr.a, column, names, columns)})"
    if isinstance(expr, Bin):
        a, b = _source(expr.a, column, names, columns), _source(expr.b, column, names, columns)
        return f"_div({a}, {b})" if expr.op == "/" else f"({a} {_OPS[expr.op]} {b})"
    if isinstance(expr, Fn):
        args = [_source(x, column, names, columns) for x in expr.args]
        if expr.name == "ABS":
            return f"abs({args[0]})"
        if expr.name == "AVERAGE":
            return f"(({' + '.join(args)}) / {len(args)})"
        if expr.name == "IF":
            return f"({args[1]} if {args[0]} else {args[2]})"
        if expr.name == "MROUND":
            return f"_mround({args[0]}, {args[1]})"
        if expr.name == "NA":
            return "math.nan"
    raise TypeError(f"no scalar form for {expr!r}")


@dataclass(frozen=True)
class ScalarModel:
    nodes: tuple[Node, ...]
    function: Any  # (inputs, typed) -> tuple of node values, in `nodes` order
    fixed: dict[str, float]
    typed: dict[Node, float | str]

    def run(self, inputs: Mapping[str, float | str]) -> dict[Node, Any]:
        """Every node's value for one driver set (drivers and any adjustment overrides by name)."""
        values = {**self.fixed, **inputs}
        return dict(zip(self.nodes, self.function(values, self.typed), strict=True))


@cache
def compile_scalar(model: Model | None = None) -> ScalarModel:
    model = model or compile_model()
    columns = model.columns
    defs = _definitions(tuple(model.lines.values()), columns)
    order = _order(defs, columns)
    names = {node: f"v{k}" for k, node in enumerate(order)}
    body = []
    for node in order:
        expr = defs[node]
        if expr is INPUT or node in model.actuals:  # typed: a reported figure, or an actual over a forecast
            if node not in model.typed:
                continue
            body.append(f"    {names[node]} = t[{node!r}]")
        else:
            body.append(f"    {names[node]} = {_source(expr, node[1], names, columns)}")
    kept = tuple(n for n in order if (defs[n] is not INPUT and n not in model.actuals) or n in model.typed)
    source = "def model(i, t):\n" + "\n".join(body) + f"\n    return ({', '.join(names[n] for n in kept)},)\n"
    namespace: dict[str, Any] = {"_div": _div, "_mround": _mround, "math": math}
    exec(compile(source, "<engine.scalar>", "exec"), namespace)  # generated from our own definitions only
    return ScalarModel(kept, namespace["model"], dict(model.fixed), dict(model.typed))


def run_scalar(inputs: Mapping[str, float | str], model: Model | None = None) -> dict[Node, Any]:
    """The model for one driver set (all drivers given by name), on plain Python floats."""
    return compile_scalar(model or compile_model()).run(inputs)
