"""Reported figures entered over the model: which lines take them, and how they are checked.

An actual takes the place of one line in one column. Only the lines the report types in for its
reported years can take one (segments, costs, balances, cash-flow lines); subtotals, ratios and
growth rates are always computed from them. A forecast column with an actual becomes an actual
year (`2022A`); an actual for a reported column restates the printed figure, with a warning.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from .drivers import parse_number
from .errors import StmodelError
from .expr import INPUT, Ref
from .lines import HIST, YEARS
from .model import Model, Node, compile_model
from .report import ReportData, load_report
from .tables import ALIASES, PEERS_TITLE, TABLE_TITLES, table_rows


class ActualsError(StmodelError, ValueError):
    """An actual that cannot be used: an unknown line, a subtotal, a year outside the model, a value
    that is not a number. The message names it and says what to give instead."""


# Printed lines that are typed in the reported years but follow from other lines in a forecast year:
# an actual for them would move cash with nothing on the other side of the books, so the lines they
# follow from take the actual instead (and ST/LT Debt are balances an analyst sets as drivers, under
# which the revolver draws).
DERIVED = {
    "tax_paid": "it is the Tax line in cash; give tax",
    "assoc_cf": "it reverses the associates' share; give associates",
    "chg_wc": "it is the change in the working-capital balances; give inventory, debtors, other_current_assets,"
    " creditors, other_current_liab",
    "dividend_paid": "it is the Preference Dividend in cash; give preference_dividend",
    "chg_gross_debt": "it is the change in debt; set the drivers short_term_debt and long_term_debt",
    "short_term_debt": "debt is a balance you set: the driver short_term_debt_<year>F in [drivers] (the revolver"
    " draws on top)",
    "long_term_debt": "debt is a balance you set: the driver long_term_debt_<year>F in [drivers]",
}


def actual_lines(model: Model) -> dict[str, str]:
    """The lines that can take an actual, {key: the table that prints it}, in the report's order."""
    return dict(_actual_lines(model.report))


@cache
def _actual_lines(report: ReportData) -> Mapping[str, str]:
    model = compile_model(report)  # the lines are the report's, whatever actuals a model holds
    out: dict[str, str] = {}
    for title in TABLE_TITLES:
        for row in table_rows(model, title):
            line = model.lines.get(row.key or "")
            if line is None or row.key in out or line.unit == "text" or line.key in DERIVED:
                continue
            if line.hist is INPUT and line.fcst is not None and line.fcst is not INPUT:
                out[line.key] = line.source or title
    return MappingProxyType(out)


def ordered(nodes: Iterable[tuple[Node, float]], report: ReportData | None = None) -> tuple[tuple[Node, float], ...]:
    """Actuals in the one order a model with them is compiled (and cached) under: by year, then by the
    report's order of the lines."""
    order = {key: i for i, key in enumerate(_actual_lines(report or load_report()))}
    return tuple(sorted(nodes, key=lambda item: (int(str(item[0][1])[:4]), order[item[0][0]])))


def line_records(model: Model) -> list[dict[str, object]]:
    """Every line of the model as `stmodel lines` lists it: key, label, unit, the tables that print it
    (the first is where an actual of it is read), and whether it takes an actual."""
    printed: dict[str, list[str]] = {}
    for title in (*TABLE_TITLES[2:], *TABLE_TITLES[:2]):  # the statements first, then the summaries
        for row in table_rows(model, title):
            if row.key is not None and title not in printed.setdefault(row.key, []):
                printed[row.key].append(title)
    allowed = actual_lines(model)
    out: list[dict[str, object]] = []
    for key, line in model.lines.items():
        tables = printed.get(key, [])
        if key in allowed:
            tables = [allowed[key], *(t for t in tables if t != allowed[key])]
        elif not line.by_year:
            tables = [PEERS_TITLE]
        out.append(
            {
                "key": key,
                "label": line.label,
                "unit": line.unit,
                "table": tables[0] if tables else None,
                "tables": tables,
                "actual": key in allowed,
            }
        )
    return out


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


@cache
def _labels(report: ReportData) -> Mapping[str, str]:
    """Every printed label (and a line's own label) in normal form -> line key."""
    model = compile_model(report)
    out: dict[str, str] = {}
    for title in TABLE_TITLES:
        for row in table_rows(model, title):
            if row.key is not None:
                out.setdefault(_normal(row.label), row.key)
    for (_, label), key in ALIASES.items():
        out.setdefault(_normal(label), key)
    for key, line in model.lines.items():
        if line.by_year:
            out.setdefault(_normal(line.label), key)
    return MappingProxyType(out)


def find_line(model: Model, name: str) -> str | None:
    """The key of the line `name` names, by key or printed label, whether it takes an actual or not."""
    return name.strip() if name.strip() in model.lines else _labels(model.report).get(_normal(name))


def line_key(model: Model, name: str) -> str:
    """The line an actual names, by key (`smart_business`) or printed label ("Smart Business")."""
    allowed = actual_lines(model)
    key = find_line(model, name)
    if key is not None and key in allowed:
        return key
    if key in DERIVED:
        raise ActualsError(f"'{name}' ({model.lines[key].label}) takes no actual: {DERIVED[key]}")
    if key is not None and key in model.lines:
        line = model.lines[key]
        if not line.by_year or line.unit == "text" or line.fcst is INPUT or line.fcst is None:
            raise ActualsError(
                f"'{name}' ({line.label}) is not a line of the statements by year, so it takes no actual"
                " (`stmodel lines` marks the lines that do)"
            )
        givable = ", ".join(_parts(model, key, allowed)) or "the lines it is computed from"
        kinds = {"RMB m": "a subtotal", "%": "a ratio", "x": "a ratio", "days": "a ratio"}
        kind = kinds.get(line.unit, "a figure")
        raise ActualsError(f"'{name}' ({line.label}) is {kind} computed from other lines; give {givable} instead")
    # the nearest names among the lines of the statements, those that take an actual or not (a subtotal
    # named with a typo is better answered by its name: the next try says what to give instead)
    statement = [k for k, line in model.lines.items() if line.by_year and line.unit != "text"]
    names = {k: k for k in statement} | {model.lines[k].label: k for k in statement}
    close = dict.fromkeys(names[c] for c in difflib.get_close_matches(name.strip(), list(names), n=6))
    shown = [f"'{k}' ({model.lines[k].label}{'' if k in allowed else ', computed'})" for k in list(close)[:3]]
    hint = f"; did you mean {' or '.join(shown)}?" if shown else ""
    raise ActualsError(f"unknown line '{name}'{hint} (`stmodel lines` lists them)")


def _parts(model: Model, key: str, allowed: Mapping[str, str], seen: frozenset[str] = frozenset()) -> list[str]:
    """The lines that can take an actual that a subtotal adds up, through the subtotals it reads."""
    expr = model.lines[key].fcst
    out: list[str] = []
    for ref in expr.walk() if expr is not None else ():
        if not isinstance(ref, Ref) or ref.lag or ref.key in seen or ref.key == key:
            continue
        if ref.key in allowed:
            out.append(ref.key)
        elif model.lines[ref.key].unit == "RMB m":
            out += _parts(model, ref.key, allowed, seen | {key})
    return list(dict.fromkeys(out))


def column_of(year: object, years: tuple[str, ...] = YEARS) -> str:
    """The model column of a year given as 2022, "2022", "2022F" or "2022A" (`years`: the model's)."""
    text = str(year).strip()
    match = re.fullmatch(r"(\d{4})[AaFf]?", text)
    columns = {c[:4]: c for c in years}
    if match is None or match.group(1) not in columns:
        later = match is not None and int(match.group(1)) > int(years[-1][:4])
        hint = f"; stmodel extend --to {match.group(1)} --model FILE adds it" if match and later else ""
        raise ActualsError(f"year {text!r} is not a column of the model ({years[0][:4]}-{years[-1][:4]}){hint}")
    return columns[match.group(1)]


def number(value: object, where: str) -> float:
    """A figure as a float. Text as a results announcement prints it is read too: `1,464.3`, and
    `(1,266.2)` for a negative."""
    if isinstance(value, bool):
        raise ActualsError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        negative = len(text) > 2 and text[0] == "(" and text[-1] == ")"
        text = text[1:-1].strip() if negative else text
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?", text):
            text = text.replace(",", "")
        parsed = parse_number(text)
        if parsed is None:
            raise ActualsError(f"{where}: expected a number, got {value!r}")
        value = -parsed if negative else parsed
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ActualsError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def checked(model: Model, actuals: Mapping[Any, Mapping[str, Any]]) -> tuple[tuple[Node, float], ...]:
    """{year: {line key or label: value}} as ((line, column), value) pairs, each checked."""
    out: dict[Node, float] = {}
    for year, lines in actuals.items():
        col = column_of(year, model.years.years)
        for name, value in lines.items():
            key = line_key(model, name)
            if (key, col) in out:
                raise ActualsError(f"{key} {col[:4]} is given twice")
            out[(key, col)] = number(value, f"actual {key} {col[:4]}")
    return ordered(out.items(), model.report)


def restatements(model: Model, nodes: Iterable[tuple[Node, float]]) -> list[str]:
    """A warning for each actual of a reported column: it replaces a printed figure."""
    out = []
    for (key, col), value in nodes:
        if col in HIST:
            line = model.lines[key]
            printed = model.report.table(line.source or "").value(line.label, col)
            restated = f"the printed {line.label} {col} ({printed:,.1f})"
            out.append(f"actual {key} {col[:4]} = {value:,.1f} restates {restated}")
    return out
