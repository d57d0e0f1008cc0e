"""The report's printed figures, read from `engine/data/report.toml` and checked on load.

The data file is the only place the report's numbers live. A malformed file stops with a
`ReportDataError` naming the file, the key and the problem, never with a bare KeyError.
"""

from __future__ import annotations

import math
import stat
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, get_args

from .errors import StmodelError

DATA_DIR = Path(__file__).parent / "data"
REPORT_FILE = DATA_DIR / "report.toml"

Cell = float | int | str


class ReportDataError(StmodelError, ValueError):
    """A data file that cannot be used, with the file, key and problem in the message."""


@dataclass(frozen=True)
class PrintedRow:
    """One printed row of a report table."""

    label: str
    line: int
    values: dict[str, Cell]  # column -> value as printed ("" for a blank cell)
    decimals: dict[str, int]  # column -> printed decimals, numeric cells only
    section: str | None = None


@dataclass(frozen=True)
class PrintedTable:
    title: str
    key: str
    header_line: int
    columns: tuple[str, ...]
    rows: tuple[PrintedRow, ...]

    def row(self, label: str) -> PrintedRow:
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"{self.title}: no row '{label}'")

    def value(self, label: str, column: str) -> float:
        v = self.row(label).values[column]
        if isinstance(v, str):
            raise KeyError(f"{self.title} / {label} / {column} is text ('{v}'), not a number")
        return float(v)


@dataclass(frozen=True)
class Peer:
    key: str
    name: str
    ticker: str
    currency: str
    line: int
    price_local: float
    price_usd: float
    mkt_cap_usd_m: float
    sales_usd_m: dict[str, float]
    printed_ps: dict[str, float]


@dataclass(frozen=True)
class MarketDatum:
    name: str
    value: float
    unit: str
    meaning: str
    source: str  # "table / row (line N)"
    date: str = ""


@dataclass(frozen=True, eq=False)
class ReportData:
    """The whole data file; compared and hashed by identity so results can be cached on it."""

    path: Path
    source: dict[str, Any]
    market: dict[str, MarketDatum]
    rating: dict[str, Any]
    valuation: dict[str, Any]
    peers_meta: dict[str, Any]
    peers: tuple[Peer, ...]
    implied_2019: dict[str, tuple[float, str]]
    tables: dict[str, PrintedTable] = field(default_factory=dict)

    def table(self, title: str) -> PrintedTable:
        return self.tables[title]


def _need(d: dict[str, Any], key: str, where: str, path: Path, kind: Any) -> Any:
    if key not in d:
        raise ReportDataError(f"{path.name}: {where}: missing key '{key}'")
    v = d[key]
    if not isinstance(v, kind) or isinstance(v, bool):
        kinds = get_args(kind) or (kind if isinstance(kind, tuple) else (kind,))
        names = " or ".join(k.__name__ for k in kinds)
        raise ReportDataError(f"{path.name}: {where}.{key}: expected {names}, got {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ReportDataError(f"{path.name}: {where}.{key}: not a finite number ({v!r})")
    return v


def _decimals(row: dict[str, Any], columns: list[str], where: str, path: Path) -> dict[str, int]:
    raw = row.get("decimals", 0)
    values = row["values"]
    if isinstance(raw, int):
        raw = [raw if not isinstance(v, str) else -1 for v in values]
    if not isinstance(raw, list) or len(raw) != len(columns):
        raise ReportDataError(f"{path.name}: {where}.decimals: expected one integer per column")
    return {c: d for c, d, v in zip(columns, raw, values, strict=True) if not isinstance(v, str)}


def _table(t: dict[str, Any], i: int, path: Path) -> PrintedTable:
    where = f"table[{i}]"
    title = _need(t, "title", where, path, str)
    where = f"table '{title}'"
    columns = _need(t, "columns", where, path, list)
    rows = []
    for j, r in enumerate(_need(t, "rows", where, path, list)):
        label = _need(r, "label", f"{where}.rows[{j}]", path, str)
        rwhere = f"{where} row '{label}'"
        values = _need(r, "values", rwhere, path, list)
        if len(values) != len(columns):
            raise ReportDataError(f"{path.name}: {rwhere}.values: {len(values)} values for {len(columns)} columns")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float | str):
                raise ReportDataError(f"{path.name}: {rwhere}.values: {v!r} is not a number or text")
        rows.append(
            PrintedRow(
                label=label,
                line=_need(r, "line", rwhere, path, int),
                values=dict(zip(columns, values, strict=True)),
                decimals=_decimals(r, columns, rwhere, path),
                section=r.get("section"),
            )
        )
    return PrintedTable(
        title=title,
        key=_need(t, "key", where, path, str),
        header_line=_need(t, "header_line", where, path, int),
        columns=tuple(columns),
        rows=tuple(rows),
    )


def parse_report(raw: dict[str, Any], path: Path) -> ReportData:
    """Validate the raw TOML structure; raise ReportDataError on the first problem."""
    market = {}
    for name, m in _need(raw, "market", "top level", path, dict).items():
        where = f"market.{name}"
        source = f"{m.get('table', '?')} / {m.get('row', '?')} (line {_need(m, 'line', where, path, int)})"
        market[name] = MarketDatum(
            name=name,
            value=float(_need(m, "value", where, path, int | float)),
            unit=_need(m, "unit", where, path, str),
            meaning=_need(m, "meaning", where, path, str),
            source=source,
            date=str(m.get("date", "")),
        )
    peers_meta = _need(raw, "peers", "top level", path, dict)
    sales_cols = _need(peers_meta, "sales_columns", "peers", path, list)
    ps_cols = _need(peers_meta, "ps_columns", "peers", path, list)
    peers = []
    for k, p in enumerate(_need(peers_meta, "company", "peers", path, list)):
        where = f"peers.company[{k}]"
        sales = _need(p, "sales_usd_m", where, path, list)
        printed_ps = _need(p, "printed_ps", where, path, list)
        if len(sales) != len(sales_cols) or len(printed_ps) != len(ps_cols):
            raise ReportDataError(f"{path.name}: {where}: sales or printed_ps has the wrong length")
        currency = _need(p, "currency", where, path, str)
        if currency not in {"HKD", "CNY", "USD"}:
            raise ReportDataError(f"{path.name}: {where}.currency: expected HKD, CNY or USD, got {currency!r}")
        peers.append(
            Peer(
                key=_need(p, "key", where, path, str),
                name=_need(p, "name", where, path, str),
                ticker=_need(p, "ticker", where, path, str),
                currency=currency,
                line=_need(p, "line", where, path, int),
                price_local=float(_need(p, "price_local", where, path, int | float)),
                price_usd=float(_need(p, "price_usd", where, path, int | float)),
                mkt_cap_usd_m=float(_need(p, "mkt_cap_usd_m", where, path, int | float)),
                sales_usd_m={c: float(v) for c, v in zip(sales_cols, sales, strict=True)},
                printed_ps={c: float(v) for c, v in zip(ps_cols, printed_ps, strict=True)},
            )
        )
    implied = {
        k: (float(_need(v, "value", f"implied_2019.{k}", path, int | float)), v.get("implied_by", ""))
        for k, v in _need(raw, "implied_2019", "top level", path, dict).items()
    }
    tables = {}
    for i, t in enumerate(_need(raw, "table", "top level", path, list)):
        table = _table(t, i, path)
        tables[table.title] = table
    return ReportData(
        path=path,
        source=_need(raw, "source", "top level", path, dict),
        market=market,
        rating=_need(raw, "rating", "top level", path, dict),
        valuation=_need(raw, "valuation", "top level", path, dict),
        peers_meta=peers_meta,
        peers=tuple(peers),
        implied_2019=implied,
        tables=tables,
    )


MAX_TOML = 10 * 1024 * 1024  # bytes: the packaged data files are a few tens of KB


def read_toml_text(path: Path) -> str:
    """A TOML file's text; anything else (a directory, a device, a binary or huge file) is one line."""
    path = Path(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ReportDataError(f"{path}: is a directory, not a TOML file")
        if not stat.S_ISREG(st.st_mode):
            raise ReportDataError(f"{path}: not a regular file (a device, pipe or socket), not a TOML file")
        if st.st_size > MAX_TOML:
            raise ReportDataError(f"{path}: {st.st_size:,} bytes; a TOML file here is at most {MAX_TOML:,}")
        with path.open("rb") as f:
            data = f.read(MAX_TOML + 1)
    except FileNotFoundError:
        raise ReportDataError(f"{path}: file not found") from None
    except OSError as e:
        raise ReportDataError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as some editors on Windows write, is dropped
    except UnicodeDecodeError:
        raise ReportDataError(f"{path}: not a TOML file (not UTF-8 text)") from None


def load_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict (see `read_toml_text` for what is refused)."""
    text = read_toml_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ReportDataError(f"{Path(path).name}: not valid TOML: {e}") from None


def load_report(path: Path | None = None) -> ReportData:
    """Read and validate a report data file (the packaged one by default)."""
    if path is None:
        return _packaged_report()
    return parse_report(load_toml(path), path)


@cache
def _packaged_report() -> ReportData:
    return parse_report(load_toml(REPORT_FILE), REPORT_FILE)
