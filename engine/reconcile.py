"""How closely the model reproduces the report: every printed numeric cell against the model.

A cell is reproduced when the model's value is within one unit of the printed value's last digit
(the report's own inputs are rounded, which moves derived figures by up to that much).
"""

from __future__ import annotations

from dataclasses import dataclass

from .result import Result, run
from .tables import TABLE_TITLES, table_rows


@dataclass(frozen=True)
class CellCheck:
    table: str
    label: str
    column: str
    printed: float
    model: float | str | None
    tolerance: float
    line: int

    @property
    def ok(self) -> bool:
        if not isinstance(self.model, float):
            return False
        return abs(self.model - self.printed) <= self.tolerance + 1e-9


def check_cells(result: Result | None = None) -> list[CellCheck]:
    """One check per printed numeric cell of the five model tables."""
    result = result or run()
    model = result.model
    out: list[CellCheck] = []
    for title in TABLE_TITLES:
        printed = model.report.table(title)
        keys = {row.label: row.key for row in table_rows(model, title) if row.key}
        for prow in printed.rows:
            for col, value in prow.values.items():
                if isinstance(value, str):
                    continue
                out.append(
                    CellCheck(
                        table=title,
                        label=prow.label,
                        column=col,
                        printed=float(value),
                        model=result.value(keys[prow.label], col),
                        tolerance=10.0 ** -prow.decimals[col],
                        line=prow.line,
                    )
                )
    return out


def check_peers(result: Result | None = None) -> list[CellCheck]:
    """Printed peer P/S ratios, USD prices and averages against the model."""
    result = result or run()
    report = result.model.report
    title = "Valuation & Peers comparison"
    out = []
    for p in report.peers:
        out.append(
            CellCheck(title, p.name, "Price (USD)", p.price_usd, result.value(f"{p.key}_price_usd"), 0.01, p.line)
        )
        for col, ps in p.printed_ps.items():
            out.append(CellCheck(title, p.name, f"P/S {col}", ps, result.value(f"{p.key}_ps_{col}"), 0.1, p.line))
    avg = report.peers_meta["printed_average_ps"]
    for col, ps in zip(report.peers_meta["ps_columns"], avg["values"], strict=True):
        out.append(
            CellCheck(title, "Average", f"P/S {col}", ps, result.value(f"peer_average_ps_{col}"), 0.1, avg["line"])
        )
    return out
