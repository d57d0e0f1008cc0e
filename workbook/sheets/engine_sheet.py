"""The Engine sheet's frame: title, status, year header, each line's label and key; Refresh forecasts
fills in the values (workbook.refresh writes the same frame, from workbook.layout.engine_frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import styles as st
from ..layout import (
    ENGINE,
    ENGINE_FREEZE,
    ENGINE_NOTE,
    ENGINE_TITLE,
    NOT_REFRESHED,
    at,
    engine_frame,
)

if TYPE_CHECKING:
    from ..build import Builder


def engine_sheet(b: Builder) -> None:
    ws = b.ws(ENGINE)
    lay = b.layout
    labels = lay.engine_labels
    header, key_col = lay.engine_header, lay.engine_key_col
    b.title(ws, ENGINE_TITLE, ENGINE_NOTE)
    headings = {y: b.year_heading(y, ENGINE) for y in header.columns}
    for r, values in enumerate(engine_frame(labels, (NOT_REFRESHED, None, None), headings, header), start=1):
        for c, value in enumerate(values, start=1):
            if value is not None:
                ws.cell(r, c, value)
    b.year_header(ws, header)
    ws[at(key_col, header.row)].font = st.BOLD
    for row, (_, key) in labels.items():
        ws[at(key_col, row)].font = st.SUBTITLE
        for col in header.columns.values():
            ws[at(col, row)].number_format = b.fmt(key)
    for col in header.columns.values():
        ws.column_dimensions[col].width = 12
    ws.column_dimensions[key_col].width = 26
    ws.sheet_properties.tabColor = "808080"
    b.finish_sheet(ws, key_col, freeze=ENGINE_FREEZE, width_a=34, header_row=header.row, fit_subtitle=False)
