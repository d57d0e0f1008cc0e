"""The Actuals sheet (every workbook), and what a workbook built from a model file adds: the Variance
sheet and the hidden ModelFile sheet holding the file's text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.tables import table_rows

from .. import styles as st
from ..layout import (
    ACTUALS,
    ACTUALS_FREEZE,
    ACTUALS_KEY_COL,
    ACTUALS_UNIT_COL,
    ACTUALS_YEAR_LABEL,
    ACTUALS_YEAR_ROW,
    HEADER_ROW,
    LABEL_COL,
    MODEL_FILE_SHEET,
    VARIANCE,
    VARIANCE_COLUMNS,
    VARIANCE_LAST_COL,
    VARIANCE_VALUATION,
    VARIANCE_VALUATION_COLUMNS,
    at,
    place_variance,
    quote,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from ..build import Builder

ACTUALS_SUBTITLE = "Blue cells: reported figures. Where one is entered, the line's forecast formula uses it."
ACTUALS_NOTES = (
    "An actual takes the place of its line's forecast and later years grow from it; subtotals and ratios",
    "stay computed. A forecast year's headings turn from F to A (2022A) once one of its actuals is entered.",
    "Reported years (2020A, 2021A) are the blue typed cells of the statement sheets: a model file's actual",
    "for one of them is written there and restates the printed figure (listed by `stmodel variance`).",
)


def printed_labels(b: Builder) -> dict[str, str]:
    """Each line's label as its report table prints it (the first table that does)."""
    out: dict[str, str] = {}
    for title in b.layout.actuals.headings.values():
        for r in table_rows(b.model, title):
            if r.key is not None:
                out.setdefault(r.key, r.label)
    return out


def actuals(b: Builder) -> None:
    ws = b.ws(ACTUALS)
    lay = b.layout.actuals
    b.title(ws, "Actuals: reported figures over the forecasts", ACTUALS_SUBTITLE)
    b.year_header(ws, lay.header)
    for col, text in ((ACTUALS_KEY_COL, "Key"), (ACTUALS_UNIT_COL, "Unit")):
        c = ws[at(col, HEADER_ROW)]
        c.value, c.font, c.fill = text, st.BOLD, st.HEADER_FILL
    ws[at(LABEL_COL, ACTUALS_YEAR_ROW)] = ACTUALS_YEAR_LABEL
    ws[at(LABEL_COL, ACTUALS_YEAR_ROW)].font = st.SUBTITLE
    for year, col in lay.columns.items():
        c = ws[at(col, ACTUALS_YEAR_ROW)]
        c.value, c.font, c.number_format, c.alignment = int(year[:4]), st.SUBTITLE, "0", st.RIGHT
    for row, title in lay.headings.items():
        ws[at(LABEL_COL, row)] = title
        ws[at(LABEL_COL, row)].font = st.BOLD
    labels = printed_labels(b)
    for key, row in lay.rows.items():
        line = b.model.lines[key]
        ws[at(LABEL_COL, row)] = labels.get(key, line.label)
        ws[at(LABEL_COL, row)].font = st.LABEL_FONT
        ws[at(ACTUALS_KEY_COL, row)] = key
        ws[at(ACTUALS_UNIT_COL, row)] = line.unit
        for c in (ws[at(ACTUALS_KEY_COL, row)], ws[at(ACTUALS_UNIT_COL, row)]):
            c.font = st.SUBTITLE
        for year, col in lay.columns.items():
            c = ws[at(col, row)]
            c.value = b.model.actuals.get((key, year))
            c.font, c.fill, c.number_format = st.INPUT_FONT, st.INPUT_FILL, b.fmt(key)
    for row, text in enumerate(ACTUALS_NOTES, start=lay.last_row + 2):
        ws[at(LABEL_COL, row)] = text
        ws[at(LABEL_COL, row)].font = st.SUBTITLE
    ws.column_dimensions[ACTUALS_KEY_COL].width = 22
    ws.column_dimensions[ACTUALS_UNIT_COL].width = 8
    for col in lay.columns.values():
        ws.column_dimensions[col].width = 12
    b.finish_sheet(ws, b.layout.last_year_col, freeze=ACTUALS_FREEZE, width_a=34)


def _header(ws: Worksheet, row: int, titles: tuple[str, ...], numeric: tuple[str, ...]) -> None:
    for j, text in enumerate(titles, start=1):
        c = ws.cell(row, j, text)
        c.font, c.fill = st.BOLD, st.HEADER_FILL
        if text in numeric:
            c.alignment = st.RIGHT


def variance(b: Builder) -> None:
    """Each actual against the report's forecast (typed from the engine run without actuals), and the
    valuation before (typed, the model file's drivers without its actuals) and after (live)."""
    from engine.variance import variance as engine_variance

    assert b.model_file is not None
    ws = b.ws(VARIANCE)
    found = engine_variance(b.model_file)
    lines: list[dict[str, Any]] = found["lines"]
    lay = place_variance(len(lines))
    b.title(
        ws,
        "Variance: actuals against the report's forecasts",
        "Report forecast: the engine's base case without actuals, typed when the workbook was built (blue); "
        "actual, difference and the valuation after: live formulas",
    )
    _header(ws, lay.header_row, VARIANCE_COLUMNS, VARIANCE_COLUMNS[2:-1])
    columns = {title: i + 1 for i, title in enumerate(VARIANCE_COLUMNS)}
    for row, item in zip(lay.rows, lines, strict=True):
        key = item["line"]
        column = b.model.column_named(item["column"])
        line = b.model.lines[key]
        fmt = b.fmt(key)

        def cell(title: str, value: Any, font: Any = st.FORMULA_FONT, number_format: str = fmt, r: int = row) -> None:
            c = ws.cell(r, columns[title], value)
            c.font, c.number_format = font, number_format

        cell("Line", line.label, st.LABEL_FONT, "General")
        cell("Key", key, st.SUBTITLE, "General")
        forecast, actual = at(columns["Report forecast"], row), at(columns["Actual"], row)
        if column in b.model.forecast:
            heading = f"{quote(ACTUALS)}!{b.layout.actuals.header.columns[column]}${HEADER_ROW}"
            cell("Year", f"={heading}", st.LINK_FONT, "General")
            source = b.layout.actual_ref(key, column, VARIANCE)
            cell("Actual", f'=IF(ISNUMBER({source}),{source},"")', st.LINK_FONT)
        else:
            cell("Year", column, st.LABEL_FONT, "General")
            cell("Actual", f"={b.layout.ref(key, column, VARIANCE)}", st.LINK_FONT)
        ws.cell(row, columns["Year"]).alignment = st.RIGHT
        cell("Report forecast", item["forecast"], st.INPUT_FONT)
        ws.cell(row, columns["Report forecast"]).fill = st.INPUT_FILL
        # A cleared actual shows blank, not a difference against zero
        cell("Difference", f'=IF(ISNUMBER({actual}),{actual}-{forecast},"")')
        percent = f'=IF(OR(NOT(ISNUMBER({actual})),{forecast}=0),"",({actual}-{forecast})/ABS({forecast}))'
        cell("Difference %", percent, number_format="0.0%")
        table = line.source or ""
        what = "printed figure" if column not in b.model.forecast else "forecast"
        source = f"{table} / {line.label} {column}: the report's {what} (engine, no actuals)"
        cell("Forecast source", source, st.SUBTITLE, "General")
    _header(ws, lay.valuation_header_row, VARIANCE_VALUATION_COLUMNS, VARIANCE_VALUATION_COLUMNS[1:])
    before = found["before"]
    specs = {
        "target_price": ("12-month target price (HK$)", before["target_price"], "=TargetPrice", "0.00"),
        "upside": ("Upside to target price", before["upside_pct"] / 100, "=Upside", "0.0%"),
        "rating": ("Rating", before["rating"], "=Rating", "General"),
    }
    for key in VARIANCE_VALUATION:
        row = lay.valuation_rows[key]
        label, was, now, fmt = specs[key]
        ws.cell(row, 1, label).font = st.LABEL_FONT
        typed, live, change = (ws.cell(row, j) for j in (2, 3, 4))
        typed.value, typed.font = was, st.LABEL_FONT
        live.value, live.font = now, st.LINK_FONT
        b_ref, c_ref = typed.coordinate, live.coordinate
        change.value = f'=IF({c_ref}={b_ref},"unchanged","changed")' if key == "rating" else f"={c_ref}-{b_ref}"
        change.font = st.FORMULA_FONT
        for c in (typed, live, change):
            c.number_format, c.alignment = fmt, st.RIGHT
    note = lay.valuation_rows[VARIANCE_VALUATION[-1]] + 2
    ws.cell(note, 1, "Before: the model file's drivers without its actuals, valued by the engine at build.")
    ws.cell(note, 1).font = st.SUBTITLE
    widths = {"A": 34, "B": 22, "C": 12, "D": 16, "E": 12, "F": 12, "G": 13, "H": 62}
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    b.finish_sheet(
        ws, VARIANCE_LAST_COL, freeze=at(LABEL_COL, lay.header_row + 1), width_a=widths["A"], header_row=lay.header_row
    )


def model_file_sheet(b: Builder) -> None:
    """The model file's text, one line a row in column A (hidden): what audit, refresh and export rebuild
    the template from."""
    assert b.model_file is not None
    write_model_text(b.ws(MODEL_FILE_SHEET), b.model_file.text())


def write_model_text(ws: Worksheet, text: str) -> None:
    for row in ws.iter_rows():
        for c in row:
            c.value = None
    for r, line in enumerate(text.splitlines(), start=1):
        c = ws.cell(r, 1)
        c.value = line if line else None
        if line.startswith("="):
            c.data_type = "s"  # a TOML line is text, never a formula
    ws.sheet_state = "hidden"


__all__ = ["actuals", "model_file_sheet", "variance", "write_model_text"]
