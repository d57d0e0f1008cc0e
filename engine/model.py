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
from .lines import FCST, LINES, Line, peer_lines
from .report import ReportData, load_report
from .years import Years

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
    years: Years = field(default_factory=Years)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column, the implied 2019 one first: 2019A, 2020A ... the last forecast year."""
        return self.years.columns

    @property
    def forecast(self) -> tuple[str, ...]:
        """The forecast columns (those holding actuals included): 2022F ... the last."""
        return self.years.forecast

    @property
    def actual_columns(self) -> tuple[str, ...]:
        """The forecast columns that hold an actual, in column order: they are actual years now."""
        return tuple(c for c in self.forecast if any(col == c for _, col in self.actuals))

    @property
    def sales_columns(self) -> dict[str, tuple[str, ...]]:
        """Each peer's sales columns: the report's, then those the analyst gave (FY2025E)."""
        return peer_sales(self.report, self.years)

    @property
    def ps_columns(self) -> tuple[str, ...]:
        """The P/S columns: those every peer has sales for."""
        return ps_columns(self.report, self.years)

    @property
    def targets(self) -> tuple[tuple[int, str, str], ...]:
        """What `target_year` can choose: (year, forecast column, P/S column)."""
        return targets(self.report, self.years)

    def target_problem(self, year: Value) -> str | None:
        """Why `target_year` = `year` (one, or an array of scenarios) cannot be valued (no forecast
        column, or peers without sales), or None."""
        allowed = _target_years(self)
        if isinstance(year, float) and year in allowed:  # one scenario: the common case, kept quick
            return None
        wrong = [int(y) for y in np.unique(np.asarray(year, dtype=float)) if y not in allowed]
        if not wrong:
            return None
        y = wrong[0]
        if f"{y}F" not in self.forecast:
            last = self.forecast[-1][:4]
            return (
                f"target_year={y} is not a forecast year of this model ({self.forecast[0]}-{self.forecast[-1]}); "
                f"extend it first: stmodel extend --to {y} --model FILE"
                if y > int(last)
                else f"target_year={y} is not a forecast year of this model ({self.forecast[0]}-{self.forecast[-1]})"
            )
        column = f"FY{y}E"
        sales = self.sales_columns
        missing = [p for p in self.report.peers if not any(c[2:6] == str(y) for c in sales[p.key])]
        names = ", ".join(p.name for p in missing)
        inputs = ", ".join(f"{p.key}_sales_{column}" for p in missing)
        return f"target_year={y}: no {column} sales for {names}; set {inputs} in [drivers] (US$ m)"

    def column_label(self, column: str) -> str:
        """How a column is headed: `2022F` becomes `2022A` once an actual of 2022 is entered. The column's
        name (and the names of its drivers, `smart_auto_growth_2022F`) does not change."""
        return column[:-1] + "A" if column in self.actual_columns else column

    def column_named(self, label: str) -> str:
        """The column a heading names: `2022A` is the column 2022F once it holds an actual."""
        for column in self.columns:
            if label in (column, self.column_label(column)):
                return column
        return label


@cache
def _target_years(model: Model) -> frozenset[float]:
    return frozenset(float(t[0]) for t in model.targets)


def peer_sales(report: ReportData, years: Years) -> dict[str, tuple[str, ...]]:
    extra = years.peer_sales
    return {
        p.key: (*report.peers_meta["sales_columns"], *(c for k, c in extra if k == p.key and c)) for p in report.peers
    }


def ps_columns(report: ReportData, years: Years) -> tuple[str, ...]:
    sales = peer_sales(report, years)
    extra = sorted({c for _, c in years.peer_sales if all(c in cols for cols in sales.values())})
    return (*report.peers_meta["ps_columns"], *(c for c in extra if c not in report.peers_meta["ps_columns"]))


def targets(report: ReportData, years: Years) -> tuple[tuple[int, str, str], ...]:
    by_year = {c[2:6]: c for c in ps_columns(report, years)}
    return tuple((int(col[:4]), col, by_year[col[:4]]) for col in years.forecast if col[:4] in by_year)


def all_lines(report: ReportData, years: Years | None = None) -> tuple[Line, ...]:
    years = years or Years()
    peers = [(p.key, FX_DRIVER[p.currency]) for p in report.peers]
    return LINES + peer_lines(peers, peer_sales(report, years), ps_columns(report, years), targets(report, years))


def _definitions(lines: tuple[Line, ...], columns: tuple[str, ...]) -> dict[Node, Expr]:
    out: dict[Node, Expr] = {}
    for line in lines:
        for col in columns if line.by_year else (None,):
            expr = line.definition(col)
            if expr is not None:
                out[(line.key, col)] = expr
    return out


def _order(defs: dict[Node, Expr], columns: tuple[str, ...]) -> list[Node]:
    """Topological order of the (line, column) nodes; a cycle is a modelling error.

    A node that needs a figure the model does not have (a 2020A growth rate of a line with no
    2019 figure) is left out: that cell is blank, as in the report.
    """
    defs = dict(defs)
    while True:
        missing = [n for n, e in defs.items() if not line_deps(e, n[1], columns) <= set(defs)]
        if not missing:
            break
        for n in missing:
            del defs[n]
    deps = {n: line_deps(e, n[1], columns) for n, e in defs.items()}
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


def compile_model(
    report: ReportData | None = None, actuals: tuple[tuple[Node, float], ...] = (), years: Years | None = None
) -> Model:
    """The model of the report's data over `years` (the report's columns unless given); `actuals`
    ((line, column), value) are reported figures that take the place of those cells' definitions: a
    forecast column's actual makes that year an actual year (later years grow from it), a reported
    column's restates the printed figure. Compiled once per (report, actuals, years) and shared."""
    return _compile(report or load_report(), tuple(actuals), years or Years())


@cache
def _compile(report: ReportData, actuals: tuple[tuple[Node, float], ...], years: Years) -> Model:
    base = _compile_report(report, years)
    if not actuals:
        return base
    given = dict(actuals)
    steps = tuple((node, fn) for node, fn in base.steps if node not in given)
    typed = MappingProxyType({**base.typed, **given})
    return Model(base.report, base.lines, base.fixed, typed, steps, MappingProxyType(given), base.years)


@cache
def _compile_report(report: ReportData, years: Years) -> Model:
    lines = all_lines(report, years)
    defs = _definitions(lines, years.columns)
    order = [n for n in _order(defs, years.columns) if defs[n] is not INPUT]
    steps = tuple((n, compile_expr(defs[n], n[1], years.columns)) for n in order)
    by_key = MappingProxyType({line.key: line for line in lines})
    if years != Years():
        # The report's adjustments (errata, corkscrews measured on the printed balances) are the
        # report's model's; the added years carry none: they are the analyst's years.
        base = _compile_report(report, Years())
        fixed = {**base.fixed, **{f"{name}_{c}": 0.0 for name in _fixed_names(base) for c in years.added}}
        return Model(report, by_key, MappingProxyType(fixed), base.typed, steps, years=years)
    # Keyed by Node like every (line, column) of the model, though a typed figure always has a column.
    typed: dict[Node, float | str] = {node: value for node, value in historical_inputs(report).items()}
    fixed = {f"{name}_{col}": v for name, cols in adjustments(report).items() for col, v in cols.items()}
    draft = Model(report, by_key, MappingProxyType(fixed), MappingProxyType(typed), steps)
    fixed.update(_closing_adjustments(draft))
    return Model(report, by_key, MappingProxyType(fixed), MappingProxyType(typed), steps)


def _fixed_names(model: Model) -> set[str]:
    """The per-year adjustments' names (`tax_timing` of `tax_timing_2022F`)."""
    return {name.rsplit("_", 1)[0] for name in model.fixed}


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


@cache
def _needs(model: Model) -> Mapping[Node, frozenset[Node]]:
    """Each computed node's direct inputs among the model's nodes."""
    lines, columns = model.lines, model.columns
    return {
        node: frozenset(line_deps(expr, node[1], columns))
        for node in (n for n, _ in model.steps)
        if (expr := lines[node[0]].definition(node[1])) is not None
    }


@cache
def plan(model: Model, outputs: tuple[Node, ...]) -> tuple[tuple[Node, Compiled], ...]:
    """The steps `outputs` depend on, in evaluation order: a target price needs 27 of the model's
    steps, not all of them. Planned once per output set (cached with the model)."""
    needs = _needs(model)
    wanted: set[Node] = set()
    todo = [node for node in outputs if node in needs]
    while todo:
        node = todo.pop()
        if node not in wanted:
            wanted.add(node)
            todo.extend(n for n in needs[node] if n in needs)
    return tuple(step for step in model.steps if step[0] in wanted)


def evaluate(
    inputs: Mapping[str, Value],
    model: Model | None = None,
    typed: Mapping[tuple[str, str], float | str] | None = None,
    outputs: tuple[Node, ...] | None = None,
) -> Env:
    """Run the model. `inputs` maps every driver name to a scalar or an array of scenarios.

    Fixed adjustments can be overridden through `inputs` too, and reported figures through `typed`
    ((line key, column) -> value): a workbook refresh passes what the workbook holds. With `outputs`
    only the steps they depend on run (`plan`); the other nodes are left out of the result.
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
        for node, fn in model.steps if outputs is None else plan(model, outputs):
            env[node] = fn(env, values)
    return env
