"""The Valuation sheet: per-share rows, market data, the peer table and chart, the target price
and the sensitivity grid."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.expr import Expr, Raw, inline
from engine.sensitivity import default_axes

from .. import styles as st
from ..layout import (
    LABEL_COL,
    LIVE_PREFIX,
    MARKET_LINES,
    SINGLE_COL,
    TARGET_LINES,
    TARGET_YEAR_LABEL,
    VALUATION,
    at,
)
from ..textfit import PADDING, column_points, column_width, font_of, lines_needed, row_points
from .statements import year_rows

if TYPE_CHECKING:
    from ..build import Builder


def valuation(b: Builder) -> None:
    ws = b.ws(VALUATION)
    lay = b.layout.valuation
    b.title(
        ws,
        "Valuation: P/S on the valuation year's revenue, peers and the 12-month target price",
        "RMB m unless stated",
    )
    b.year_header(ws)
    year_rows(b, ws)
    _heading(ws, lay.market_row, "Market data and FX")
    for key in MARKET_LINES:
        b.single(ws, key)
    peer_table(b, ws)
    _heading(ws, lay.target_row, "Target price")
    ws[at(LABEL_COL, lay.target_year_row)] = TARGET_YEAR_LABEL
    year = ws[at(SINGLE_COL, lay.target_year_row)]
    year.value, year.font, year.number_format = f"={LIVE_PREFIX}target_year", st.LINK_FONT, "0"
    for key in TARGET_LINES:
        b.single(ws, key)
    for key in (*MARKET_LINES, *TARGET_LINES):
        ws[b.home_cell(key)].alignment = st.RIGHT  # the rating too, under the figures
    year.alignment = st.RIGHT
    ws[b.home_cell("target_peer_ps")].number_format = "0.00"
    ws[b.home_cell("target_multiple")].number_format = "0.00"
    ws[b.home_cell("target_price_unrounded")].number_format = "0.0000"
    ws[b.home_cell("target_price")].number_format = "0.00"
    for header in lay.peers.headers[1:]:
        ws.column_dimensions[lay.peers.column(header)].width = 12
    for col in b.layout.year_column.values():
        ws.column_dimensions[col].width = 12
    sensitivity_grid(b, ws)
    last = max(lay.peers.last_column, b.layout.last_year_col, key=column_index_from_string)
    width = chart_width(ws, lay.chart_cell, last)
    last = max(last, chart_end(ws, lay.chart_cell, width), key=column_index_from_string)
    header_height(ws, lay.peers.header_row, lay.peers.headers, lay.peers.column)
    b.finish_sheet(ws, last, width_a=LABEL_WIDTH, pages_tall=1)
    peer_chart(b, ws, width)


LABEL_WIDTH = 40  # column A: "Shares outstanding, valuation year (m)"
TEXT_COLUMNS = ("Company", "Ticker")
HEADER_TEXT = Alignment(horizontal="left", vertical="bottom", wrap_text=True)
HEADER_FIGURES = Alignment(horizontal="right", vertical="bottom", wrap_text=True)


def header_height(ws: Worksheet, row: int, headers: tuple[str, ...], column: Callable[[str], str]) -> None:
    """The peer table's header row as tall as its longest wrapped title ("Mkt cap (USD mn)" on two
    lines), so that no title runs into the first peer's row."""
    lines = max(
        lines_needed(h, column_points(column_width(ws, column(h))) - PADDING, *font_of(ws[at(column(h), row)]))
        for h in headers
    )
    ws.row_dimensions[row].height = row_points(lines)


def _heading(ws: Worksheet, row: int, text: str) -> None:
    ws[at(LABEL_COL, row)] = text
    ws[at(LABEL_COL, row)].font = st.BOLD


def peer_table(b: Builder, ws: Worksheet) -> None:
    """Peers' prices and sales (links to their inputs), market caps and P/S multiples (formulas), then the average."""
    table = b.layout.valuation.peers
    _heading(ws, table.heading_row, "Valuation & Peers comparison (US$ m; prices in local currency)")
    for header in table.headers:
        c = ws[at(table.column(header), table.header_row)]
        c.value = header
        c.font, c.fill = st.BOLD, st.HEADER_FILL
        c.alignment = HEADER_TEXT if header in TEXT_COLUMNS else HEADER_FIGURES  # over the figures' side
    for peer in b.model.report.peers:
        r = table.rows[peer.key]
        ws[at(table.column("Company"), r)] = peer.name
        ws[at(table.column("Ticker"), r)] = peer.ticker
        lines = {f"{peer.key}_price_local": 2, f"{peer.key}_price_usd": 2, f"{peer.key}_mkt_cap_usd": 0}
        lines |= {f"{peer.key}_sales_{c}": 0 for c in b.model.sales_columns[peer.key]}
        for key, decimals in lines.items():
            b.write_home(ws, b.home_cell(key), key, None)
            ws[b.home_cell(key)].number_format = st.number_format("US$ m", decimals)
        for c in b.model.ps_columns:
            key = f"{peer.key}_ps_{c}"
            b.write_home(ws, b.home_cell(key), key, None)
    _heading(ws, table.average_row, "Average")
    for c in b.model.ps_columns:
        key = f"peer_average_ps_{c}"
        b.write_home(ws, b.home_cell(key), key, None)
        ws[b.home_cell(key)].font = st.BOLD


def sensitivity_grid(b: Builder, ws: Worksheet) -> None:
    """Target price by premium (rows) and USDCNY (columns): native formulas, one per cell."""
    rows, cols = default_axes()
    grid = b.layout.valuation.grid
    _heading(
        ws, grid.top, f"Sensitivity: 12-mth target price (HK$) by {rows.driver} (rows) and {cols.driver} (columns)"
    )
    corner = ws[at(LABEL_COL, grid.header_row)]
    corner.value, corner.font = f"{rows.driver} (down) \\ {cols.driver} (across)", st.BOLD
    definitions = {k: line.value for k, line in b.model.lines.items() if not line.by_year and line.value}
    target = b.model.lines["target_price"].value
    assert target is not None, "target_price is a single-value line"
    for j, v in enumerate(cols.values):
        c = ws[at(grid.column(j), grid.header_row)]
        c.value = v
        c.font, c.fill, c.number_format = st.INPUT_FONT, st.INPUT_FILL, "0.00"
    for i, rv in enumerate(rows.values):
        r = grid.row(i)
        c = ws[at(LABEL_COL, r)]
        c.value = rv  # read as "premium = 0.20", beside the grid (the label column is wide)
        c.font, c.fill, c.number_format = st.INPUT_FONT, st.INPUT_FILL, f'"{rows.driver} = "0.00'
        c.alignment = st.RIGHT
        for j in range(len(cols.values)):
            col = grid.column(j)
            at_point: dict[str, Expr] = {
                rows.driver: Raw(f"${LABEL_COL}{r}"),
                cols.driver: Raw(f"{col}${grid.header_row}"),
            }
            expr = inline(target, definitions, at_point)
            cell = ws[at(col, r)]
            cell.value = "=" + b.render(expr, None, ws.title)
            cell.font, cell.number_format = st.FORMULA_FONT, "0.00"


def peer_chart(b: Builder, ws: Worksheet, width: float = 16) -> None:
    """The peers' P/S multiples as bars, beside the per-share rows."""
    table = b.layout.valuation.peers
    ps = [f"P/S {c}" for c in b.model.ps_columns]
    last_peer = table.header_row + len(table.rows)
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Peer P/S (x)"
    data = Reference(
        ws, min_col=table.col(ps[0]), max_col=table.col(ps[-1]), min_row=table.header_row, max_row=last_peer
    )
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=table.col("Company"), min_row=table.header_row + 1, max_row=last_peer))
    chart.height, chart.width = CHART_HEIGHT, width
    chart.y_axis.number_format = "0"  # whole multiples on the value axis: its labels stay apart
    ws.add_chart(chart, b.layout.valuation.chart_cell)


CHART_HEIGHT, CHART_WIDTHS = 9, (12, 16)  # the peer chart (cm): its height, its narrowest and widest
POINTS_PER_CM = 72 / 2.54


def chart_width(ws: Worksheet, anchor: str, last: str) -> float:
    """The peer chart's width (cm): what the columns from `anchor` to `last` hold, within CHART_WIDTHS."""
    first = column_index_from_string(anchor.rstrip("0123456789"))
    room = sum(
        column_points(column_width(ws, get_column_letter(c))) for c in range(first, column_index_from_string(last) + 1)
    )
    return min(max(room / POINTS_PER_CM - 0.2, CHART_WIDTHS[0]), CHART_WIDTHS[1])


def chart_end(ws: Worksheet, anchor: str, width: float) -> str:
    """The last column a chart `width` cm wide covers from `anchor`, so that the print area takes it in
    whole (the chart moves right with the years of an extended model)."""
    col = column_index_from_string(anchor.rstrip("0123456789"))
    room = width * POINTS_PER_CM
    while room > column_points(column_width(ws, get_column_letter(col))):
        room -= column_points(column_width(ws, get_column_letter(col)))
        col += 1
    return get_column_letter(col)
