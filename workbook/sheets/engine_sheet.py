"""The Engine sheet's frame: title, status, year header, each line's label and key; Refresh forecasts
fills in the values (workbook.refresh writes the same frame, from workbook.layout.engine_frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import styles as st
from ..layout import (
    ENGINE,
    ENGINE_FREEZE,
    ENGINE_HEADER,
    ENGINE_KEY_COL,
    ENGINE_NOTE,
    ENGINE_TITLE,
    NOT_REFRESHED,
    YEAR_COLUMN,
    at,
    engine_frame,
)

if TYPE_CHECKING:
    from ..build import Builder


def engine_sheet(b: Builder) -> None:
    ws = b.ws(ENGINE)
    labels = b.layout.engine_labels
    b.title(ws, ENGINE_TITLE, ENGINE_NOTE)
    for r, values in enumerate(
        engine_frame(labels, (NOT_REFRESHED, None, None), {y: b.year_heading(y, ENGINE) for y in YEAR_COLUMN}), start=1
    ):
        for c, value in enumerate(values, start=1):
            if value is not None:
                ws.cell(r, c, value)
    b.year_header(ws, ENGINE_HEADER)
    ws[at(ENGINE_KEY_COL, ENGINE_HEADER.row)].font = st.BOLD
    for row, (_, key) in labels.items():
        ws[at(ENGINE_KEY_COL, row)].font = st.SUBTITLE
        for col in YEAR_COLUMN.values():
            ws[at(col, row)].number_format = b.fmt(key)
    for col in YEAR_COLUMN.values():
        ws.column_dimensions[col].width = 12
    ws.column_dimensions[ENGINE_KEY_COL].width = 26
    ws.sheet_properties.tabColor = "808080"
    b.finish_sheet(ws, ENGINE_KEY_COL, freeze=ENGINE_FREEZE, width_a=34)
