"""The driver table of docs/model.md, generated from the records of `engine/data/drivers.toml`.

The table sits between marker comments so that a test can tell when it is out of date with the
records; `python -m engine.driver_docs [docs/model.md]` rewrites it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .drivers import Driver, Record, expanded, text_context
from .report import ReportData, ReportDataError, load_report

START, END = "<!-- drivers:start -->", "<!-- drivers:end -->"
MODEL_MD = Path(__file__).resolve().parents[1] / "docs" / "model.md"
_DENOMINATORS = {"revenue": "revenue", "cost_of_sales": "cost of sales"}


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
        return f"{terms} over {_DENOMINATORS[spec['denominator']]}"
    if kind == "days":
        return f"{_cell(spec)} over {_DENOMINATORS[spec['denominator']]} x days_per_year"
    if kind == "printed":
        return _cell(spec)
    if kind == "market":
        over = f" over `[market.{spec['divided_by']}]`" if "divided_by" in spec else ""
        return f"report.toml `[market.{spec['key']}]`{over}"
    if kind == "report":
        section, key = spec["key"].split(".", 1)
        return f"report.toml `[{section}] {key}`"
    if kind == "constant":
        return f'`"{spec["value"]}"` (the report prints no value)'
    return f"report.toml `[[peers.company]] {spec['field']}`"


def _number(v: object) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    x = float(v)  # type: ignore[arg-type]
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _bounds(b: Mapping[str, Any]) -> str:
    parts = ["> 0"] if b.get("positive") else []
    parts += [f">= {b['minimum']:g}"] if "minimum" in b else []
    parts += [f"<= {b['maximum']:g}"] if "maximum" in b else []
    parts += [" or ".join(f'"{c}"' for c in b.get("choices", ()))] if "choices" in b else []
    return ", ".join(parts) or "-"


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
    cells = [name, unit, meaning, _bounds(rec.bounds), base, describe(rec.implied)]
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
        "| driver | unit | meaning | bounds | base value | base implied from |",
        "|---|---|---|---|---|---|",
        *(_row(rec, ds, report) for rec, ds in grouped.values()),
        "",
        "A per-year driver is `<driver>_<year>`; setting `<driver>` sets every year, and a year set too wins",
        "over its group whatever the order (`--set smart_auto_growth=0.1 --set smart_auto_growth_2024F=0.3`).",
        "A name given twice to `--set` is an error; values are plain numbers (`1000`, `0.5`, `1e-3`, not",
        "`1_000`), and a value whose results overflow or leave the target price non-finite is refused, naming",
        "the driver. `<peer>` is each company of the peer table:",
        f"{', '.join(f'`{p.key}`' for p in report.peers)}.",
        END,
    ]
    return "\n".join(lines)


def update_markdown(text: str, table: str | None = None) -> str:
    """`text` with the part between the markers (markers included) replaced by the generated table."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ReportDataError(f"expected one {START} ... {END} section")
    head, rest = text.split(START)
    return head + (table if table is not None else markdown_table()) + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> None:
    """Rewrite the driver table of docs/model.md (or the file given) from the records."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else MODEL_MD
    path.write_text(update_markdown(path.read_text()))


if __name__ == "__main__":
    main()
