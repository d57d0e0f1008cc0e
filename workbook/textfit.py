"""How wide a text prints, to size columns and rows so that nothing is clipped.

An estimate, a little on the wide side, of Arial (the workbook's font) in Excel: each character counts as
a share of the font size by its class (narrow, mid, wide, capital, other) with Arial's proportions, bold
adds a tenth, and the total 5% more. LibreOffice on a machine without Arial (a Linux server, where `stmodel
pdf` runs) draws DejaVu Sans, some 12% wider, but in columns wider in about the same measure (it sizes a
column by the digits of its own default font), so what fits in Excel fits there. The builder sizes wrapped
notes and header rows with it, and tests/test_render.py checks with it that every text cell of the Cover
and the Valuation sheet fits.
"""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils.cell import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet

from .styles import LABEL_FONT

NARROW = frozenset("iljI.,:;'!|`")
SEMI = frozenset('ftr()[]{}-/\\"*')
MID = frozenset("cksvxyzJ")
WIDE = frozenset("mwMW%@&")
EM = {"narrow": 0.25, "semi": 0.33, "space": 0.28, "mid": 0.50, "wide": 0.86, "upper": 0.70, "other": 0.56}
BOLD_FACTOR = 1.10
MARGIN = 1.05  # the estimate's safety margin
LINE_SPACING = 1.25  # a line of text takes 1.25 x the font size (points), as Excel and LibreOffice space it
PADDING = 4.0  # points a cell keeps clear at its edges (both sides together)
DEFAULT_WIDTH = 8.43  # a column without a width: Excel's default, in characters of the default font


def share(ch: str) -> float:
    """A character's width as a share of the font size (Arial's proportions, rounded up)."""
    if ch == " ":
        return EM["space"]
    if ch in NARROW:
        return EM["narrow"]
    if ch in SEMI:
        return EM["semi"]
    if ch in MID:
        return EM["mid"]
    if ch in WIDE:
        return EM["wide"]
    if ch.isupper():
        return EM["upper"]
    return EM["other"]


def text_points(text: str, size: float = 10.0, bold: bool = False) -> float:
    """The printed width of `text` on one line, in points."""
    width = sum(share(ch) for ch in text) * size * MARGIN
    return width * BOLD_FACTOR if bold else width


def column_points(width: float | None) -> float:
    """A column's width in points: an Excel width counts characters of 7 pixels, plus 5 pixels of margin."""
    w = DEFAULT_WIDTH if width is None else width
    return (w * 7 + 5) * 0.75


def column_width(ws: Worksheet, col: str) -> float | None:
    """The width a sheet gives column `col` (None: the default), without adding one: openpyxl would
    create a 13-wide column just for being asked."""
    if col in ws.column_dimensions:  # not `ws.column_dimensions[col]`, which would add it
        return ws.column_dimensions[col].width
    index = column_index_from_string(col)
    for dim in ws.column_dimensions.values():  # a loaded file's columns come in ranges (min:max)
        if dim.min is not None and dim.max is not None and dim.min <= index <= dim.max:
            return dim.width
    return None


def font_of(cell: Cell) -> tuple[float, bool]:
    """(size, bold) of a cell's font; a cell without a size has the workbook's label size."""
    font: Font = cell.font
    size = float(font.sz) if font is not None and font.sz else float(LABEL_FONT.sz)
    return size, bool(font is not None and font.b)


def lines_needed(text: str, room: float, size: float = 10.0, bold: bool = False) -> int:
    """How many lines `text` takes when wrapped at word boundaries in `room` points (its own line breaks kept)."""
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            w = text_points(word, size, bold)
            gap = text_points(" ", size, bold) if used else 0.0
            if used and used + gap + w > room:
                lines += 1
                used = w
            else:
                used += gap + w
            while used > room:  # a word longer than the line breaks inside itself
                lines += 1
                used -= room
    return lines


def row_points(lines: int, size: float = 10.0) -> float:
    """The height (points) of a row that shows `lines` lines of text at `size`."""
    return round(max(lines, 1) * size * LINE_SPACING + 3, 2)
