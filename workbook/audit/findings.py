"""What the auditor reports: a finding per problem, in one order for every output (table, JSON, ribbon)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.errors import StmodelError

SEVERITIES = ("error", "warning", "info")


class AuditError(StmodelError):
    """The file cannot be audited; the message says why (exit code 2)."""


@dataclass(frozen=True)
class Finding:
    """One problem: made only through a registered rule (`Rule.finding`), so its rule and severity are known."""

    severity: str
    sheet: str
    cell: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{self.severity.upper():7} {where:28} {self.rule:24} {self.message}"


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then by sheet, cell (row before column) and rule; ties keep the order found."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (rank[f.severity], f.sheet, _cell_order(f.cell), f.rule))


def _cell_order(cell: str) -> tuple[int, str]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", cell or "")
    return (int(m.group(2)), m.group(1)) if m else (0, cell)


def summary(findings: list[Finding]) -> dict[str, int]:
    """Findings counted by severity (every severity present, zero included)."""
    return {s: sum(f.severity == s for f in findings) for s in SEVERITIES}


def to_json(findings: list[Finding], path: Path) -> dict[str, Any]:
    """The `--format json` document."""
    return {"file": str(path), "summary": summary(findings), "findings": [asdict(f) for f in findings]}
