"""Native Excel equivalents of ST_* calls, for workbooks that must work without the add-in.

`=ST_TARGET(Drivers)` computes exactly what the defined name `TargetPrice` holds, because the
workbook's `Drivers` range feeds both; such calls have a native twin. Calls with other arguments
(a different drivers range, a spilled table) have none and are replaced by their values instead.
"""

from __future__ import annotations

from typing import Any

from .formulas import Token, normalised, scan
from .layout import Layout

# The add-in's worksheet functions (`udfs.__all__`; a test keeps the two equal): an `ST_` call of any other
# name is not the model's (see `formulas.reaches_outside`). Written out rather than imported, because
# importing `udfs` imports xlwings, a third of a second every audit and export would spend on a list of names.
ADDIN_FUNCTIONS = frozenset(
    {
        "ST_DRIVER",
        "ST_FORECAST",
        "ST_INFO",
        "ST_LINE",
        "ST_PEERS",
        "ST_RATING",
        "ST_SENSITIVITY",
        "ST_TARGET",
        "ST_UPSIDE",
        "ST_VALUATION",
    }
)

# (function, arguments after Drivers) -> native formula text
SIMPLE = {
    ("ST_TARGET", ()): "TargetPrice",
    ("ST_TARGET", ("TRUE",)): "TargetPrice",
    ("ST_TARGET", ("1",)): "TargetPrice",
    ("ST_TARGET", ("FALSE",)): "TargetPriceUnrounded",
    ("ST_TARGET", ("0",)): "TargetPriceUnrounded",
    ("ST_UPSIDE", ()): "Upside",
    ("ST_RATING", ()): "Rating",
    ("ST_VALUATION", ()): "Valuation",
}


def _calls(tokens: list[Token]) -> list[tuple[int, int, str, list[str]]]:
    """(first token, last token, function, argument texts) of each outermost ST_* call."""
    out = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.is_udf and i + 1 < len(tokens):
            depth, j, args, current = 0, i + 1, [], ""
            while j < len(tokens):
                text = tokens[j].text
                if text == "(":
                    depth += 1
                    if depth == 1:
                        j += 1
                        continue
                elif text == ")":
                    depth -= 1
                    if depth == 0:
                        break
                if text == "," and depth == 1:
                    args.append(current.strip())
                    current = ""
                else:
                    current += text
                j += 1
            if current.strip() or args:
                args.append(current.strip())
            out.append((i, j, t.function_name(), args))
            i = j + 1
        else:
            i += 1
    return out


def _native_call(name: str, args: list[str], layout: Layout | None) -> str | None:
    if not args or args[-1 if name in ("ST_LINE", "ST_DRIVER") else 0].upper() != "DRIVERS":
        return None
    if name in ("ST_LINE", "ST_DRIVER"):
        literal = [a.strip('"') for a in args[:-1]]
        if name == "ST_DRIVER" and len(literal) == 1 and args[0].startswith('"'):
            return literal[0]
        if name == "ST_LINE" and len(literal) == 2 and layout is not None:
            from udfs.args import STError, year
            from udfs.functions import LABELS

            try:
                key, col = LABELS[literal[0]], year(literal[1])
            except (KeyError, STError):
                return None
            if (key, col) in layout.homes:
                return layout.absolute(key, col)
        return None
    return SIMPLE.get((name, tuple(normalised(a)[1:] for a in args[1:])))  # TRUE(), true and 1.0 alike


def native_formula(formula: str, layout: Layout | None = None) -> str | None:
    """`formula` with every ST_* call replaced by its native twin; None when a call has none."""
    tokens = list(scan(formula))
    calls = _calls(tokens)
    if not calls:
        return formula
    pieces, last = [], 0
    for first, end, name, args in calls:
        native = _native_call(name, args, layout)
        if native is None:
            return None
        pieces.append("".join(t.text for t in tokens[last:first]))
        pieces.append(native)
        last = end + 1
    pieces.append("".join(t.text for t in tokens[last:]))
    return "=" + "".join(pieces)


def has_udf(formula: str) -> bool:
    return any(t.is_udf for t in scan(formula))


def evaluate_udf(formula: str, values: Any) -> Any:
    """Call the Python function behind a lone ST_* call whose arguments are literals, names or ranges
    (read from `values`, a workbook of cached results): the value of a call that has no native twin."""
    from udfs import functions

    tokens = list(scan(formula))
    calls = _calls(tokens)
    if len(calls) != 1:
        return None
    _, _, name, args = calls[0]
    fn = getattr(functions, name, None)
    if fn is None:
        return None
    parsed = [_argument(a, values) for a in args]
    return fn(*parsed)


def _argument(text: str, values: Any) -> Any:
    text = text.strip()
    if not text:
        return None
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('""', '"')
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    try:
        return float(text)
    except ValueError:
        pass
    target = values.defined_names.get(text)
    if target is not None:
        (sheet, rng), *_ = target.destinations
        return [[c.value for c in row] for row in values[sheet][rng.replace("$", "")]]
    sheet, _, rng = text.rpartition("!")
    ws = values[sheet.strip("'")] if sheet else values.active
    cells = ws[rng.replace("$", "")]
    if isinstance(cells, tuple):
        return [[c.value for c in row] for row in cells]
    return cells.value
