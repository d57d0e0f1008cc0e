"""The driver table and the forecast-line tables of docs/model.md, generated from the records of
`engine/data/drivers.toml` and the line definitions of `engine/lines/`.

Each sits between marker comments so that a test can tell when it is out of date with the records
or the lines; `python -m engine.driver_docs [docs/model.md]` rewrites both.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .calibration import adjustments
from .drivers import Driver, Record, expanded, text_context
from .expr import INPUT, Bin, Const, Drv, Expr, Fn, Neg, Ref
from .lines import LINES, Line
from .report import ReportData, ReportDataError, load_report

START, END = "<!-- drivers:start -->", "<!-- drivers:end -->"
LINES_START, LINES_END = "<!-- lines:start -->", "<!-- lines:end -->"
MODEL_MD = Path(__file__).resolve().parents[1] / "docs" / "model.md"
_DENOMINATORS = {
    "revenue": "revenue",
    "cost_of_sales": "cost of sales",
    "taxable_profit": "Pre-tax Profit less associates",
}


def _cell(c: Mapping[str, Any], first: bool = True) -> str:
    text = f'{c["table"]} "{c["row"]}"'
    if c.get("sign", 1) == -1:
        return f"-{text}" if first else f" - {text}"
    return text if first else f" + {text}"


def describe(spec: Mapping[str, Any]) -> str:
    """Where a base value comes from, in words: one phrase per kind of `implied`."""
    kind = spec["kind"]
    if kind == "growth":
        return f"{_cell(spec)} over the previous year, less 1"
    if kind == "ratio":
        cells = spec["numerator"]
        terms = "".join(_cell(c, i == 0) for i, c in enumerate(cells))
        terms = f"({terms})" if len(cells) > 1 else terms
        return f"{terms} over {_denominator(spec['denominator'])}"
    if kind == "days":
        return f"{_cell(spec)} over {_denominator(spec['denominator'])} x days_per_year"
    if kind == "printed":
        return _cell(spec)
    if kind == "market":
        over = f" over `[market.{spec['divided_by']}]`" if "divided_by" in spec else ""
        return f"report.toml `[market.{spec['key']}]`{over}"
    if kind == "report":
        section, key = spec["key"].split(".", 1)
        return f"report.toml `[{section}] {key}`"
    if kind == "constant":
        value = spec["value"]
        shown = f'"{value}"' if isinstance(value, str) else f"{value:g}"
        return f"`{shown}` (the report prints no value)"
    if kind == "rule":
        return f"rule `{spec['rule']}` (engine/calibration.py)"
    return f"report.toml `[[peers.company]] {spec['field']}`"


def _denominator(d: Any) -> str:
    if isinstance(d, Mapping):
        return ("opening " if d.get("lag", 0) == 1 else "") + _cell(d)
    return _DENOMINATORS[d]


def _number(v: object) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    x = float(v)  # type: ignore[arg-type]
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _bounds(b: Mapping[str, Any]) -> str:
    parts = ["> 0"] if b.get("positive") else []
    parts += [f"> {b['above']:g}"] if "above" in b else []
    parts += [f">= {b['minimum']:g}"] if "minimum" in b else []
    parts += [f"<= {b['maximum']:g}"] if "maximum" in b else []
    parts += [" or ".join(f'"{c}"' for c in b.get("choices", ()))] if "choices" in b else []
    return ", ".join(parts) or "-"


def _plausible(rec: Record) -> str:
    if "plausible" in rec.ranges:
        low, high = rec.ranges["plausible"]
        return f"{low:g} to {high:g}"
    if "plausible_factor" in rec.ranges:
        low, high = rec.ranges["plausible_factor"]
        return f"{low:g}x to {high:g}x the base"
    return "-"


def _posts(rec: Record) -> str:
    ctx = {"peer": SimpleNamespace(key="<peer>"), "column": "(year)"}
    return ", ".join(f"`{key.format_map(ctx)}`" for key in rec.posts) or "-"


def _row(rec: Record, ds: list[Driver], report: ReportData) -> str:
    d = ds[0]
    peer = SimpleNamespace(key="<peer>", name="(peer)")  # a per-peer record stands for every peer
    ctx = text_context(report, peer=peer, local_unit="local currency", column="(year)")
    templated = rec.per_peer or d.column is not None
    unit, meaning = (rec.texts[k].format_map(ctx) if templated else getattr(d, k) for k in ("unit", "meaning"))
    name = f"`{rec.name.format_map(ctx)}`"
    if d.column is not None:
        columns = [x.column for x in ds if x.group == d.group]
        name += f" ({columns[0]}-{columns[-1]})"
    base = "as printed, per peer" if rec.per_peer else ", ".join(_number(x.base) for x in ds)
    cells = [name, unit, meaning, _bounds(rec.bounds), _plausible(rec), base, _posts(rec), describe(rec.implied)]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown_table(report: ReportData | None = None) -> str:
    """The driver table with its markers: one row per driver or per-year group, in registry order."""
    report = report or load_report()
    grouped: dict[int, tuple[Record, list[Driver]]] = {}
    for rec, ds in expanded(report):
        grouped.setdefault(id(rec), (rec, []))[1].extend(ds)
    lines = [
        START,
        "<!-- Generated from engine/data/drivers.toml by `python -m engine.driver_docs`; do not edit by hand. -->",
        "",
        "| driver | unit | meaning | hard bounds | plausible | base value | posts to | base implied from |",
        "|---|---|---|---|---|---|---|---|",
        *(_row(rec, ds, report) for rec, ds in grouped.values()),
        "",
        "A per-year driver is `<driver>_<year>`; setting `<driver>` sets every year, and a year set too wins",
        "over its group whatever the order (`--set smart_auto_growth=0.1 --set smart_auto_growth_2024F=0.3`).",
        "A name given twice to `--set` is an error; values are plain numbers (`1000`, `0.5`, `1e-3`, not",
        "`1_000`), and a value whose results overflow or leave the target price non-finite is refused, naming",
        "the driver. A value outside its hard bounds is an error; outside its plausible range, a warning.",
        "`posts to` names the line keys a driver moves, on both sides of the books. `<peer>` is each company of",
        "the peer table:",
        f"{', '.join(f'`{p.key}`' for p in report.peers)}.",
        END,
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- forecast lines

# The statements whose forecast lines docs/model.md lists (report tables, the segments with the
# income statement), then the model's memo lines, which no table of the report prints.
STATEMENTS: dict[str, tuple[str, ...]] = {
    "Income Statement (with the segments)": ("Segmental Breakdown", "Income Statement"),
    "Balance Sheet": ("Balance Sheet",),
    "Cash Flow Statement": ("Cash Flow Statement",),
    "Memo lines (not printed by the report)": (),
}
MEMO = "Memo lines (not printed by the report)"
_AMOUNT_UNITS = ("RMB m", "m shares")
_PRECEDENCE = {"=": 0, ">": 0, "<": 0, "+": 1, "-": 1, "*": 2, "/": 2}


def forecast_lines(report: ReportData | None = None) -> list[tuple[str, Line]]:
    """(statement, line) of every amount line with a forecast definition, in statement order."""
    report = report or load_report()
    home: dict[str, str] = {}
    for statement, titles in STATEMENTS.items():
        for title in titles:
            for row in report.table(title).rows:
                home.setdefault(row.label, statement)
    lines = [x for x in LINES if x.fcst is not None and x.fcst is not INPUT and x.unit in _AMOUNT_UNITS]
    return [(statement, x) for statement in STATEMENTS for x in lines if home.get(x.label, MEMO) == statement]


def _adjustment(e: Expr) -> str | None:
    """The name of a fixed report adjustment `A(name)`: IF(basis="clean", 0, name), or None."""
    if isinstance(e, Fn) and e.name == "IF" and isinstance(e.args[0], Bin) and isinstance(e.args[2], Drv):
        cond = e.args[0]
        if isinstance(cond.a, Drv) and cond.a.name == "basis" and isinstance(cond.b, Const):
            return e.args[2].name
    return None


def rule_text(
    expr: Expr,
    labels: Mapping[str, str],
    balances: frozenset[str],
    parent: int = 0,
    fixed: frozenset[str] = frozenset(),
) -> str:
    """A forecast definition in words: lines by their labels ("opening" for last year's balance),
    drivers in backticks, a fixed report adjustment in [brackets] (`fixed`: those kept on both bases)."""
    if (name := _adjustment(expr)) is not None:
        return f"[{name}]"
    if isinstance(expr, Const):
        return f'"{expr.value}"' if isinstance(expr.value, str) else f"{expr.value:g}"
    if isinstance(expr, Ref):
        label = labels.get(expr.key, expr.key)
        if expr.lag == 0:
            return label
        return f"opening {label}" if expr.key in balances else f"{label} (previous year)"
    if isinstance(expr, Drv):
        return f"[{expr.name}] (on both bases)" if expr.name in fixed else f"`{expr.name}`"
    if isinstance(expr, Neg):
        return "-" + rule_text(expr.a, labels, balances, 3, fixed)
    if isinstance(expr, Bin):
        p = _PRECEDENCE[expr.op]
        right = p + 1 if expr.op in "-/" else p
        op = {"*": " x ", "/": " / "}.get(expr.op, f" {expr.op} ")
        b_expr = expr.b
        if expr.op in "+-" and isinstance(b_expr, Neg):  # a + -b reads a - b, a - -b reads a + b
            op, b_expr = (" - " if expr.op == "+" else " + "), b_expr.a
        a, b = rule_text(expr.a, labels, balances, p, fixed), rule_text(b_expr, labels, balances, right, fixed)
        return f"({a}{op}{b})" if p < parent else f"{a}{op}{b}"
    if isinstance(expr, Fn):
        args = ", ".join(rule_text(a, labels, balances, 0, fixed) for a in expr.args)
        return f"{expr.name}({args})"
    raise TypeError(f"cannot describe {expr!r}")


def _same_year_refs(expr: Expr) -> set[str]:
    return {n.key for n in expr.walk() if isinstance(n, Ref) and n.lag == 0 and n.at is None}


def lines_tables(report: ReportData | None = None) -> str:
    """One table per statement: each forecast line, its rule, and the lines of the other statements
    it moves (its other side), with the markers."""
    report = report or load_report()
    rows = forecast_lines(report)
    labels = {line.key: line.label for line in LINES}
    fixed = frozenset(adjustments(report))
    balances = frozenset(line.key for title, line in rows if title == "Balance Sheet")
    moves: dict[str, list[str]] = {}
    for title, line in rows:
        for key in _same_year_refs(line.fcst or INPUT):
            moves.setdefault(key, []).append(f"{line.label} ({title.split(' (')[0]})")
    out = [
        LINES_START,
        "<!-- Generated from engine/lines/ by `python -m engine.driver_docs`; do not edit by hand. -->",
    ]
    for title in STATEMENTS:
        out += ["", f"**{title}**", "", "| line | forecast (each forecast year) | note | moves, in other statements |"]
        out.append("|---|---|---|---|")
        for t, line in rows:
            if t != title:
                continue
            other = [m for m in moves.get(line.key, []) if not m.endswith(f"({title.split(' (')[0]})")]
            rule = rule_text(line.fcst or INPUT, labels, balances, 0, fixed)
            cells = [line.label, rule, line.meaning or "", ", ".join(other) or "-"]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += [
        "",
        "`backticks`: a driver (per year: `<driver>_<year>`); [brackets]: a fixed report adjustment, zero on",
        'the clean basis unless marked "on both bases"; opening: last year\'s closing balance. Lines not listed',
        "(totals of reported years, ratios, growth rates, per-share figures) follow from these.",
        LINES_END,
    ]
    return "\n".join(out)


def _replace(text: str, start: str, end: str, body: str) -> str:
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ReportDataError(f"expected one {start} ... {end} section")
    head, rest = text.split(start)
    return head + body + rest.split(end, 1)[1]


def update_markdown(text: str, table: str | None = None, report: ReportData | None = None) -> str:
    """`text` with the part between the driver markers (markers included) replaced by the generated
    table, and the forecast-line section too when `text` has its markers."""
    text = _replace(text, START, END, table if table is not None else markdown_table(report))
    if LINES_START in text or LINES_END in text:
        text = _replace(text, LINES_START, LINES_END, lines_tables(report))
    return text


def main(argv: list[str] | None = None) -> None:
    """Rewrite the driver table and the forecast-line tables of docs/model.md (or the file given)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else MODEL_MD
    path.write_text(update_markdown(path.read_text()))


if __name__ == "__main__":
    main()
