"""The statement sheets (Segments, Income Statement, Balance Sheet, Cash Flow) and the segment chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.chart import BarChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

from engine.lines import SEGMENTS as SEGMENT_LINES

from .. import styles as st
from ..layout import (
    CHART_ROWS,
    HEADER_ROW,
    LABEL_COL,
    SEGMENT_CHART_GAP,
    SEGMENTS,
    STATEMENTS,
    TITLE_CELL,
    at,
    column_number,
)
from ..printing import mark_subtotals, shade_forecasts, subtotal_rows

if TYPE_CHECKING:
    from ..build import Builder


def statements(b: Builder) -> None:
    source = b.model.report.source
    for sheet, _, heading in STATEMENTS:
        ws = b.ws(sheet)
        publisher = source["publisher"].split(" (")[0]  # "DBS Group Research": the subtitle fits the page
        b.title(ws, heading, f"{publisher}, {source['date']}; {LEGEND}")
        b.year_header(ws)
        year_rows(b, ws)
        for col in b.layout.year_column.values():
            ws.column_dimensions[col].width = 12
        b.finish_sheet(ws, b.layout.last_year_col, pages_tall=1)


LEGEND = "blue = reported/typed, black = formula, shaded = forecast, bold = subtotal"


def year_rows(b: Builder, ws: Worksheet) -> None:
    """The sheet's rows from the layout: headings in bold, each line's home cells or links to its home,
    figures right-aligned (a text figure, "N/A" or "CASH", as well); subtotals bold over a thin rule, and
    the forecast columns shaded."""
    rows = b.layout.rows_of(ws.title)
    for r in rows:
        label = ws[at(LABEL_COL, r.row)]
        label.value = r.label
        label.font = st.BOLD if r.key is None else st.LABEL_FONT
        if r.key is None:
            continue
        for y, col in b.layout.year_column.items():
            cell = at(col, r.row)
            if r.home:
                b.write_home(ws, cell, r.key, y)
            else:
                b.write_link(ws, cell, r.key, y)
            ws[cell].alignment = st.RIGHT
    columns = b.layout.year_column
    mark_subtotals(ws, subtotal_rows(b.model, rows), columns.values())
    shade_forecasts(ws, HEADER_ROW, columns, max(r.row for r in rows))


def segment_chart(b: Builder) -> None:
    """Revenue by segment, stacked, under the segment lines."""
    ws = b.ws(SEGMENTS)
    segment_keys = {k for k, _ in SEGMENT_LINES}
    rows = [r for r in b.layout.rows_of(SEGMENTS) if r.key in segment_keys]
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title = "Revenue by segment (RMB m)"
    chart.y_axis.title = "RMB m"
    first, last = column_number(b.layout.first_year_col), column_number(b.layout.last_year_col)
    data = Reference(ws, min_col=column_number(LABEL_COL), max_col=last, min_row=rows[0].row, max_row=rows[-1].row)
    chart.add_data(data, from_rows=True, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=first, max_col=last, min_row=HEADER_ROW, max_row=HEADER_ROW))
    chart.height, chart.width = 8, 16
    anchor = rows[-1].row + SEGMENT_CHART_GAP
    ws.add_chart(chart, at(LABEL_COL, anchor))
    ws.print_area = f"{TITLE_CELL}:{at(b.layout.last_year_col, anchor + CHART_ROWS)}"
