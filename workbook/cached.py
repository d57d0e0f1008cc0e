"""Give every formula of an openpyxl-written workbook its cached value, from a LibreOffice recalculation.

openpyxl writes formulas with empty results, so previews, mail clients and `data_only` readers show
blanks. LibreOffice computes the results; rather than keep LibreOffice's re-saved file (which drops
some of our formatting, such as frozen panes), the results are written into our own file's XML.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl.utils.datetime import to_excel

from engine.files import replacing

from .recalc import recalculated_values
from .verify import ERROR_VALUES

_CELL = re.compile(r'<c r="(?P<ref>[A-Z]+\d+)"(?P<attrs>[^>]*)><f>(?P<f>[^<]*)</f>(?:<v\s*/>|<v>[^<]*</v>)?</c>')


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part, from the workbook and its relationships."""
    workbook = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<sheet[^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook):
        target = targets[rid].lstrip("/")
        out[name.replace("&amp;", "&")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def _value_xml(value: Any) -> tuple[str, str] | None:
    """(type attribute, <v> text) for a cached value, or None to leave the cell without one."""
    if value is None:
        return ("str", "")
    if isinstance(value, bool):
        return ("b", "1" if value else "0")
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return ("n", repr(float(to_excel(value))))  # a date result (market_as_of on the Cover) is a serial number
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        return ("n", repr(float(value)) if isinstance(value, float) else str(value))
    text = str(value)
    if text.startswith(ERROR_VALUES):
        return ("e", text)
    return ("str", escape(text))


def fill_cached_values(path: Path, timeout: float = 120.0) -> int:
    """Recalculate `path` in LibreOffice and store each formula's result in it; returns the count."""
    values = recalculated_values(path, timeout)
    filled = 0
    with zipfile.ZipFile(path) as zin, replacing(path) as tmp:
        parts = {v: k for k, v in _sheet_parts(zin).items()}
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                sheet = parts.get(info.filename)
                if sheet is not None and sheet in values.sheetnames:
                    ws = values[sheet]

                    def fill(m: re.Match[str], ws: Any = ws) -> str:
                        nonlocal filled
                        cached = _value_xml(ws[m.group("ref")].value)
                        if cached is None:
                            return m.group(0)
                        kind, text = cached
                        attrs = re.sub(r'\s+t="[^"]*"', "", m.group("attrs"))
                        type_attr = "" if kind == "n" else f' t="{kind}"'
                        filled += 1
                        return f'<c r="{m.group("ref")}"{attrs}{type_attr}><f>{m.group("f")}</f><v>{text}</v></c>'

                    data = _CELL.sub(fill, data.decode()).encode()
                zout.writestr(info, data)
    return filled
