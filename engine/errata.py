"""The report's inconsistencies as data (`engine/data/errata.toml`), and their Markdown page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import DATA_DIR, ReportDataError, load_toml

ERRATA_FILE = DATA_DIR / "errata.toml"
HANDLINGS = ("adjustment", "convention", "not reproduced", "narrative")


@dataclass(frozen=True)
class Erratum:
    id: str
    title: str
    table: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    printed: tuple[Any, ...]
    handling: str
    reproduced_by: str
    evidence: str
    adjustment: str | None = None
    amounts: dict[str, float] | None = None


def load_errata(path: Path = ERRATA_FILE) -> list[Erratum]:
    raw = load_toml(path)
    records = raw.get("erratum")
    if not isinstance(records, list):
        raise ReportDataError(f"{path.name}: missing [[erratum]] records")
    out, seen = [], set()
    for i, r in enumerate(records):
        where = f"{path.name}: erratum[{i}]"
        for key in ("id", "title", "table", "handling", "reproduced_by", "evidence"):
            if not isinstance(r.get(key), str):
                raise ReportDataError(f"{where}: key '{key}' must be text")
        if r["id"] in seen:
            raise ReportDataError(f"{where}: duplicate id '{r['id']}'")
        seen.add(r["id"])
        if r["handling"] not in HANDLINGS:
            raise ReportDataError(f"{where}.handling: expected one of {', '.join(HANDLINGS)}, got {r['handling']!r}")
        if r["handling"] == "adjustment" and not (r.get("adjustment") and isinstance(r.get("amounts"), dict)):
            raise ReportDataError(f"{where}: an 'adjustment' erratum needs 'adjustment' and 'amounts'")
        if r["handling"] != "adjustment" and ("adjustment" in r or "amounts" in r):
            raise ReportDataError(f"{where}: only an 'adjustment' erratum has 'adjustment' and 'amounts'")
        amounts = r.get("amounts") or {}
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in amounts.values()):
            raise ReportDataError(f"{where}.amounts: expected a number per column, got {amounts!r}")
        out.append(
            Erratum(
                id=r["id"],
                title=r["title"],
                table=r["table"],
                rows=tuple(r.get("rows", ())),
                columns=tuple(r.get("columns", ())),
                printed=tuple(r.get("printed", ())),
                handling=r["handling"],
                reproduced_by=r["reproduced_by"],
                evidence=r["evidence"],
                adjustment=r.get("adjustment"),
                amounts={k: float(v) for k, v in r["amounts"].items()} if r.get("amounts") else None,
            )
        )
    return out


def _fmt(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int | float):
        return f"({abs(v):,})" if v < 0 else f"{v:,}"
    return str(v)


def render_markdown(errata: list[Erratum] | None = None) -> str:
    """docs/errata.md, generated from the records (`stmodel errata`)."""
    errata = errata if errata is not None else load_errata()
    lines = [
        "# Errata: where the DBS report contradicts itself",
        "",
        "Generated from `engine/data/errata.toml` by `stmodel errata`; do not edit by hand.",
        "Line numbers refer to the report's text. Handling: *adjustment* (a fixed, named amount carries",
        "the difference and the cells are reproduced), *convention* (a stated formula reproduces them),",
        "*not reproduced* (the model computes what the report's own figures give), *narrative* (prose only).",
        "",
        "| id | handling | table | cells |",
        "|---|---|---|---|",
    ]
    for e in errata:
        cells = ", ".join(e.rows) + (f" ({', '.join(e.columns)})" if e.columns else "")
        lines.append(f"| [{e.id}](#{e.id}) | {e.handling} | {e.table} | {cells or '-'} |")
    for e in errata:
        lines += ["", f"## {e.id}", "", f"**{e.title}**", ""]
        if e.rows:
            lines.append(
                f"- Cells: {e.table} / {', '.join(e.rows)}" + (f" / {', '.join(e.columns)}" if e.columns else "")
            )
        if e.printed:
            lines.append(f"- Printed: {', '.join(_fmt(v) for v in e.printed)}")
        lines.append(f"- Handling: {e.handling}")
        if e.adjustment:
            amounts = ", ".join(f"{k}: {_fmt(v)}" for k, v in (e.amounts or {}).items())
            lines.append(f"- Adjustment `{e.adjustment}`: {amounts}")
        lines.append(f"- Model: {e.reproduced_by}")
        lines.append(f"- Evidence: {e.evidence}")
    return "\n".join(lines) + "\n"
