"""Evaluate every line for one or many driver sets at once.

The model is compiled once into an ordered list of (line, column) steps. Evaluation runs the
steps on numpy arrays whose leading axis is the scenario: one driver set is N = 1. DataFrames
never enter this path; `engine/tables.py` builds them from a finished result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

import numpy as np

from .calibration import CLOSING, FX_DRIVER, Printed, adjustments, historical_inputs
from .expr import INPUT, Compiled, Env, Expr, Value, compile_expr, line_deps
from .lines import COLUMNS, FCST, LINES, Line, peer_lines
from .report import ReportData, load_report

Node = tuple[str, str | None]


@dataclass(frozen=True, eq=False)
class Model:
    """The compiled model: its lines, the fixed inputs and the evaluation order."""

    report: ReportData
    lines: Mapping[str, Line]  # read-only views: the compiled model is cached and shared
    fixed: Mapping[str, float]  # adjustments, by `<name>_<column>`
    typed: Mapping[Node, float | str]  # reported figures typed into INPUT cells, and actuals
    steps: tuple[tuple[Node, Compiled], ...]
    actuals: Mapping[Node, float] = field(default_factory=lambda: MappingProxyType({}))  # entered over the report

    @property
    def actual_columns(self) -> tuple[str, ...]:
        """The forecast columns that hold an actual, in column order: they are actual years now."""
        return tuple(c for c in FCST if any(col == c for _, col in self.actuals))

    def column_label(self, column: str) -> str:
        """How a column is headed: `2022F` becomes `2022A` once an actual of 2022 is entered. The column's
        name (and the names of its drivers, `smart_auto_growth_2022F`) does not change."""
        return column[:-1] + "A" if column in self.actual_columns else column

    def column_named(self, label: str) -> str:
        """The column a heading names: `2022A` is the column 2022F once it holds an actual."""
        for column in COLUMNS:
            if label in (column, self.column_label(column)):
                return column
        return label


def all_lines(report: ReportData) -> tuple[Line, ...]:
    peers = [(p.key, FX_DRIVER[p.currency]) for p in report.peers]
    v = report.valuation
    meta = report.peers_meta
    return LINES + peer_lines(peers, meta["sales_columns"], meta["ps_columns"], v["peer_column"])


def _definitions(lines: tuple[Line, ...]) -> dict[Node, Expr]:
    out: dict[Node, Expr] = {}
    for line in lines:
        for col in COLUMNS if line.by_year else (None,):
            expr = line.definition(col)
            if expr is not None:
                out[(line.key, col)] = expr
    return out


def _order(defs: dict[Node, Expr]) -> list[Node]:
    """Topological order of the (line, column) nodes; a cycle is a modelling error.

    A node that needs a figure the model does not have (a 2020A growth rate of a line with no
    2019 figure) is left out: that cell is blank, as in the report.
    """
    defs = dict(defs)
    while True:
        missing = [n for n, e in defs.items() if not line_deps(e, n[1], COLUMNS) <= set(defs)]
        if not missing:
            break
        for n in missing:
            del defs[n]
    deps = {n: line_deps(e, n[1], COLUMNS) for n, e in defs.items()}
    order: list[Node] = []
    state: dict[Node, int] = {}

    def visit(n: Node, path: tuple[Node, ...]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise ValueError(f"circular definition: {' -> '.join(map(str, (*path, n)))}")
        state[n] = 1
        for d in sorted(deps[n], key=str):
            visit(d, (*path, n))
        state[n] = 2
        order.append(n)

    for n in sorted(defs, key=str):
        visit(n, ())
    return order


@cache
def compile_model(report: ReportData | None = None, actuals: tuple[tuple[Node, float], ...] = ()) -> Model:
    """The model of the report's data; `actuals` ((line, column), value) are reported figures that take
    the place of those cells' definitions: a forecast column's actual makes that year an actual year
    (later years grow from it), a reported column's restates the printed figure."""
    base = _compile_report(report or load_report())
    if not actuals:
        return base
    given = dict(actuals)
    steps = tuple((node, fn) for node, fn in base.steps if node not in given)
    typed = MappingProxyType({**base.typed, **given})
    return Model(base.report, base.lines, base.fixed, typed, steps, MappingProxyType(given))


@cache
def _compile_report(report: ReportData) -> Model:
    lines = all_lines(report)
    defs = _definitions(lines)
    # Keyed by Node like every (line, column) of the model, though a typed figure always has a column.
    typed: dict[Node, float | str] = {node: value for node, value in historical_inputs(report).items()}
    steps: list[tuple[Node, Compiled]] = []
    for node in _order(defs):
        expr = defs[node]
        if expr is INPUT:
            continue
        steps.append((node, compile_expr(expr, node[1], COLUMNS)))
    fixed = {f"{name}_{col}": v for name, cols in adjustments(report).items() for col, v in cols.items()}
    by_key = MappingProxyType({line.key: line for line in lines})
    draft = Model(report, by_key, MappingProxyType(fixed), MappingProxyType(typed), tuple(steps))
    fixed.update(_closing_adjustments(draft))
    return Model(report, by_key, MappingProxyType(fixed), MappingProxyType(typed), tuple(steps))


def _closing_adjustments(model: Model) -> dict[str, float]:
    """The corkscrew adjustments, re-taken on the model's own flows until every printed balance is hit.

    The report's subtotals are rounded independently (2023F Operating Profit is one less than Gross
    Profit plus Other Opng; 2024F Net Operating CF one more than its lines), and a balance feeds the
    next year's interest and depreciation, so the amounts are found by a few passes (the model is
    triangular in time: each pass fixes one more year; they settle to float precision).
    """
    from .drivers import base_values

    p = Printed(model.report)
    values: dict[str, Value] = {**base_values(model.report), **model.fixed}
    out: dict[str, float] = {}
    for _ in range(2 * len(FCST) + 2):
        env = evaluate(values, model)
        worst = 0.0
        for key, label, name in CLOSING:
            for col in FCST:
                gap = p.BS(label, col) - float(env[(key, col)])
                out[f"{name}_{col}"] = float(values.get(f"{name}_{col}", 0.0)) + gap
                worst = max(worst, abs(gap))
        values.update(out)
        if worst < 1e-9:
            break
    return out


def evaluate(
    inputs: Mapping[str, Value],
    model: Model | None = None,
    typed: Mapping[tuple[str, str], float | str] | None = None,
) -> Env:
    """Run the model. `inputs` maps every driver name to a scalar or an array of scenarios.

    Fixed adjustments can be overridden through `inputs` too, and reported figures through `typed`
    ((line key, column) -> value): a workbook refresh passes what the workbook holds.
    """
    model = model or compile_model()
    values: dict[str, Value] = dict(model.fixed)
    for name, v in inputs.items():
        values[name] = v if isinstance(v, str) else np.asarray(v, dtype=float)
    env: Env = {}
    for figures in (model.typed, typed or {}):  # the workbook's figures over the model's own
        for node, value in figures.items():
            env[node] = value if isinstance(value, str) else np.float64(value)
    # A ratio over a zero balance is a blank cell (Excel would show #DIV/0!), not a warning.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for node, fn in model.steps:
            env[node] = fn(env, values)
    return env
