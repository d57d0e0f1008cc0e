"""Where the Valuation sheet puts things: per-share rows, market data, the peer table, the target
price block and the sensitivity grid, top to bottom."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from engine.model import Model
from engine.tables import table_rows

from .cells import FIRST_ROW, LABEL_COL, VALUATION, at, year_columns
from .statements import Homes, YearRow, place_home

PER_SHARE_HEADING = "Per share and valuation ratios"
MARKET_LINES = ("hkd_per_rmb", "mkt_cap_hkd_m", "mkt_cap_usd_m")
# The target-price block of the Valuation sheet, in order, below the valuation year (the `target_year` driver).
TARGET_YEAR_LABEL = "Valuation year (target_year)"
TARGET_LINES = (
    "target_peer_ps",
    "target_revenue",
    "target_shares",
    "target_multiple",
    "valuation_usd_m",
    "target_price_unrounded",
    "target_price",
    "upside",
    "buy_threshold",
    "rating",
)
SINGLE_COL = "B"  # a single value sits beside its label
PEER_COLUMNS = ("Company", "Ticker", "Price (Local)", "Price (USD)", "Mkt cap (USD mn)")  # then Sales, P/S
PEER_CHART_CELL = at("H", FIRST_ROW)  # the peer P/S chart, right of the per-share rows (the report's years)
PEER_CHART_GAP = 2  # columns from the last year's to the chart's left edge
GRID_FIRST_COL = 2  # the sensitivity grid's values start in column B, its row values in column A


@dataclass(frozen=True, eq=False)
class PeerTable:
    """The peer comparison: a header row of column titles, one row per peer, then the average."""

    heading_row: int
    header_row: int
    headers: tuple[str, ...]
    rows: Mapping[str, int]  # peer key -> row
    average_row: int

    def col(self, header: str) -> int:
        return self.headers.index(header) + 1

    def column(self, header: str) -> str:
        """The column letter of a header, e.g. "P/S 2024F"."""
        return get_column_letter(self.col(header))

    @property
    def last_column(self) -> str:
        return get_column_letter(len(self.headers))


@dataclass(frozen=True)
class SensitivityGrid:
    """Target price by one driver (rows, values in column A) and another (columns, values on a header row)."""

    top: int  # the title row

    @property
    def header_row(self) -> int:
        return self.top + 1

    def row(self, i: int) -> int:
        return self.header_row + 1 + i

    def column(self, j: int) -> str:
        return get_column_letter(GRID_FIRST_COL + j)


@dataclass(frozen=True, eq=False)
class ValuationLayout:
    market_row: int  # the "Market data and FX" heading
    peers: PeerTable
    target_row: int  # the "Target price" heading
    grid: SensitivityGrid
    chart_cell: str = PEER_CHART_CELL  # the peer P/S chart's top left, right of the last year's column

    @property
    def target_year_row(self) -> int:
        """The valuation year (a link to the `target_year` driver), first in the target-price block."""
        return self.target_row + 1


def sales_columns(model: Model) -> tuple[str, ...]:
    """The peer table's sales columns: the report's, then those any peer has beyond them (FY2025E)."""
    out: dict[str, None] = {}
    for columns in model.sales_columns.values():
        out.update(dict.fromkeys(columns))
    report = model.report.peers_meta["sales_columns"]
    return (*report, *sorted(c for c in out if c not in report))


def peer_headers(model: Model) -> tuple[str, ...]:
    return (
        *PEER_COLUMNS,
        *(f"Sales {c}" for c in sales_columns(model)),
        *(f"P/S {c}" for c in model.ps_columns),
    )


def place_valuation(
    model: Model, homes: Homes, rows: list[YearRow], singles: dict[str, tuple[str, str]]
) -> ValuationLayout:
    """Per-share rows (the page-one lines that no statement holds), then market data, peers, target."""
    row = FIRST_ROW
    rows.append(YearRow(VALUATION, row, PER_SHARE_HEADING, None, False))
    row += 1
    for key in ("shares_out", "eps_shares"):
        place_home(model, homes, rows, VALUATION, row, key)
        row += 1
    for r in table_rows(model, "Forecasts and Valuation"):
        if r.key is not None and (r.key, model.years.years[0]) not in homes:
            place_home(model, homes, rows, VALUATION, row, r.key)
            row += 1
    row += 1
    market_row = row
    row = _singles(homes, singles, MARKET_LINES, row + 1)
    peers = _peers(model, homes, row + 1)
    target_row = peers.average_row + 2
    row = _singles(homes, singles, TARGET_LINES, target_row + 2)  # the valuation year first
    last_year = year_columns(model.years.years)[model.years.years[-1]]
    chart = at(get_column_letter(column_index_from_string(last_year) + PEER_CHART_GAP), FIRST_ROW)
    return ValuationLayout(market_row, peers, target_row, SensitivityGrid(row + 1), chart)


def _singles(homes: Homes, singles: dict[str, tuple[str, str]], keys: tuple[str, ...], row: int) -> int:
    """Single values, one a row: label in column A, value beside it; returns the next free row."""
    for key in keys:
        homes[(key, None)] = (VALUATION, at(SINGLE_COL, row))
        singles[key] = (VALUATION, at(LABEL_COL, row))
        row += 1
    return row


def _peers(model: Model, homes: Homes, heading_row: int) -> PeerTable:
    header_row = heading_row + 1
    keys = [peer.key for peer in model.report.peers]
    rows = {key: header_row + 1 + i for i, key in enumerate(keys)}
    table = PeerTable(heading_row, header_row, peer_headers(model), MappingProxyType(rows), header_row + 1 + len(keys))
    ps = {c: table.column(f"P/S {c}") for c in model.ps_columns}
    sales = model.sales_columns
    for key, row in rows.items():
        for line, header in (
            (f"{key}_price_local", "Price (Local)"),
            (f"{key}_price_usd", "Price (USD)"),
            (f"{key}_mkt_cap_usd", "Mkt cap (USD mn)"),
            *((f"{key}_sales_{c}", f"Sales {c}") for c in sales[key]),  # a peer without a column: blank
        ):
            homes[(line, None)] = (VALUATION, at(table.column(header), row))
        for c, col in ps.items():
            homes[(f"{key}_ps_{c}", None)] = (VALUATION, at(col, row))
    for c, col in ps.items():
        homes[(f"peer_average_ps_{c}", None)] = (VALUATION, at(col, table.average_row))
    return table
