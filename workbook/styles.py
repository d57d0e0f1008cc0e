"""Fonts, fills and number formats the analysts expect (inputs blue, formulas black)."""

from __future__ import annotations

from openpyxl.styles import Alignment, Font, PatternFill

INPUT_FONT = Font(name="Arial", size=10, color="0000FF")
FORMULA_FONT = Font(name="Arial", size=10, color="000000")
LINK_FONT = Font(name="Arial", size=10, color="006100")
LABEL_FONT = Font(name="Arial", size=10)
BOLD = Font(name="Arial", size=10, bold=True)
TITLE = Font(name="Arial", size=14, bold=True, color="1F3864")
SUBTITLE = Font(name="Arial", size=9, italic=True, color="595959")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
WARNING_FILL = PatternFill("solid", fgColor="F8CBAD")  # a value outside its plausible range
RIGHT = Alignment(horizontal="right")
WRAP = Alignment(wrap_text=True, vertical="top")


def number_format(unit: str, decimals: int | None = None) -> str:
    """The report's style: thousands separators, parentheses for negatives, ratios to one decimal."""
    if unit == "text":
        return "General"
    if unit == "%":
        d = 1 if decimals is None else decimals
        body = "0" + ("." + "0" * d if d else "") + "%"
        return f"{body};({body});{body}"
    if decimals is None:
        decimals = {"RMB m": 0, "US$ m": 0, "HK$ m": 0, "m shares": 0, "days": 1, "x": 1}.get(unit, 2)
    body = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f"{body};({body});{body}"
