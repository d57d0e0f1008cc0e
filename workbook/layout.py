"""Where everything sits in the model workbook: the map from (line, year) and driver to a cell.

The layout is the only place that knows cell addresses. The builder writes what it says, the
formula renderer asks it for references, and the tests and the auditor use it to find a line's
cells again. Each line has one home cell per year; other places that show the line (the Cover's
table, Revenue on the Income Statement) hold a plain link to that home.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from openpyxl.utils import get_column_letter

from engine.drivers import Driver, drivers
from engine.lines import PRIOR, YEARS
from engine.model import Model, compile_model
from engine.tables import layout as table_layout

YEAR_COLUMN = {year: get_column_letter(i + 2) for i, year in enumerate(YEARS)}  # 2020A -> B ... 2024F -> F
HEADER_ROW = 3
FIRST_ROW = 4

COVER = "Cover"
ASSUMPTIONS = "Assumptions"
SEGMENTS = "Segments"
INCOME = "Income Statement"
BALANCE = "Balance Sheet"
CASH_FLOW = "Cash Flow"
VALUATION = "Valuation"
CHECKS = "Checks"
SOURCES = "Sources"
ENGINE = "Engine"  # values written by Refresh forecasts: an output area
SHEETS = (COVER, ASSUMPTIONS, SEGMENTS, INCOME, BALANCE, CASH_FLOW, VALUATION, CHECKS, SOURCES, ENGINE)

# Statement sheets and the report table each one shows.
STATEMENTS = (
    (SEGMENTS, "Segmental Breakdown", "Segmental Breakdown (RMB m)"),
    (INCOME, "Income Statement", "Income Statement (RMB m)"),
    (BALANCE, "Balance Sheet", "Balance Sheet (RMB m)"),
    (CASH_FLOW, "Cash Flow Statement", "Cash Flow Statement (RMB m)"),
)
# The target-price block of the Valuation sheet, in order.
TARGET_LINES = (
    "target_multiple",
    "valuation_usd_m",
    "target_price_unrounded",
    "target_price",
    "upside",
    "buy_threshold",
    "rating",
)
# Lines shown on several statement sheets live where most formulas read them.
HOME_SHEET = {"revenue": INCOME}
# Lines that no report table prints, shown as memo rows.
MEMO = {"capital_employed": BALANCE, "eps_shares": VALUATION}

# Assumptions sheet: one input per row. The named (Base) value stays in column B; the scenario columns
# sit beside it and the Live column holds the value the model uses (Base, or the selected scenario's).
NAME_COL, VALUE_COL, BEAR_COL, BULL_COL, LIVE_COL = "A", "B", "C", "D", "E"
UNIT_COL, MEANING_COL, SOURCE_COL = "F", "G", "H"
DRIVERS_NAME_COL, DRIVERS_VALUE_COL = "J", "K"  # the Drivers range: name and live value, for the UDFs
SCENARIO_COLUMNS = {"Base": VALUE_COL, "Bear": BEAR_COL, "Bull": BULL_COL}
SCENARIO_ROW = 4  # the scenario selector: A4 label, B4 the named input `scenario`
FIRST_INPUT_ROW = 7
LIVE_PREFIX = "live_"


@dataclass(frozen=True)
class YearRow:
    """A row of a year-by-year sheet: a heading (key None), a line's home, or a link to it."""

    sheet: str
    row: int
    label: str
    key: str | None
    home: bool


@dataclass(frozen=True)
class InputRow:
    """A typed input on the Assumptions sheet with its defined name."""

    row: int
    name: str
    value: float | str
    unit: str
    meaning: str
    source: str
    kind: str  # "driver", "adjustment", "implied 2019"


def quote(sheet: str) -> str:
    return f"'{sheet}'" if not sheet.isalnum() else sheet


@dataclass
class Layout:
    model: Model
    homes: dict[tuple[str, str | None], tuple[str, str]] = field(default_factory=dict)
    year_rows: list[YearRow] = field(default_factory=list)
    inputs: list[InputRow] = field(default_factory=list)
    singles: dict[str, tuple[str, str]] = field(default_factory=dict)  # label cells of single lines
    drivers_range: str = ""
    grid_row: int = 0  # first row of the sensitivity grid on the Valuation sheet
    engine_cells: dict[tuple[str, str | None], str] = field(default_factory=dict)  # Engine sheet values
    engine_labels: dict[int, tuple[str, str]] = field(default_factory=dict)  # Engine row -> (label, key)

    # ------------------------------------------------------------ lookups
    def input_row(self, name: str) -> InputRow:
        for i in self.inputs:
            if i.name == name:
                return i
        raise KeyError(name)

    def input_cell(self, name: str) -> str:
        """The typed (Base) cell of an input: where its defined name points."""
        return f"{VALUE_COL}{self.input_row(name).row}"

    def live_cell(self, name: str) -> str:
        """The cell holding the value the model uses for a driver (Base or the selected scenario)."""
        return f"{LIVE_COL}{self.input_row(name).row}"

    def is_driver(self, name: str) -> bool:
        return any(i.name == name and i.kind == "driver" for i in self.inputs)

    def absolute_input(self, name: str) -> str:
        cell = self.input_cell(name)
        return f"{ASSUMPTIONS}!${cell[0]}${cell[1:]}"

    def address(self, key: str, column: str | None) -> tuple[str, str]:
        if column == PRIOR:
            return ASSUMPTIONS, self.input_cell(f"{key}_2019A")
        return self.homes[(key, column)]

    def ref(self, key: str, column: str | None, from_sheet: str) -> str:
        """A reference to a line's home cell, as written in a formula on `from_sheet`."""
        if column == PRIOR:
            return f"{key}_2019A"
        sheet, cell = self.homes[(key, column)]
        if column is None:  # a single value: the same cell from every column
            cell = "$" + "".join(c for c in cell if c.isalpha()) + "$" + "".join(c for c in cell if c.isdigit())
        return cell if sheet == from_sheet else f"{quote(sheet)}!{cell}"

    def absolute(self, key: str, column: str | None = None) -> str:
        sheet, cell = self.address(key, column)
        col = "".join(c for c in cell if c.isalpha())
        row = "".join(c for c in cell if c.isdigit())
        return f"{quote(sheet)}!${col}${row}"

    def rows_of(self, sheet: str) -> list[YearRow]:
        return [r for r in self.year_rows if r.sheet == sheet]


class FormulaContext:
    """What engine.expr.to_excel needs, for formulas written on one sheet."""

    def __init__(self, layout: Layout, sheet: str) -> None:
        self.layout = layout
        self.sheet = sheet

    def cell(self, key: str, column: str | None) -> str:
        return self.layout.ref(key, column, self.sheet)

    def name(self, name: str) -> str:
        """Drivers are read from their Live cell (defined name `live_<driver>`); other inputs by name."""
        return LIVE_PREFIX + name if self.layout.is_driver(name) else name


def _place_statements(lay: Layout) -> None:
    model = lay.model
    for sheet, title, _ in STATEMENTS:
        row = FIRST_ROW
        for r in table_layout(model, title):
            if r.key is None:
                lay.year_rows.append(YearRow(sheet, row, r.label, None, False))
            else:
                home = (r.key, YEARS[0]) not in lay.homes and HOME_SHEET.get(r.key, sheet) == sheet
                lay.year_rows.append(YearRow(sheet, row, r.label, r.key, home))
                if home:
                    for y in YEARS:
                        lay.homes[(r.key, y)] = (sheet, f"{YEAR_COLUMN[y]}{row}")
            row += 1
        memo = [k for k, s in MEMO.items() if s == sheet]
        if memo:
            row += 1
            lay.year_rows.append(YearRow(sheet, row, "Memo", None, False))
            row += 1
            for key in memo:
                _home_row(lay, sheet, row, key)
                row += 1


def _home_row(lay: Layout, sheet: str, row: int, key: str) -> None:
    lay.year_rows.append(YearRow(sheet, row, lay.model.lines[key].label, key, True))
    for y in YEARS:
        lay.homes[(key, y)] = (sheet, f"{YEAR_COLUMN[y]}{row}")


def _place_valuation(lay: Layout) -> int:
    """Per-share rows (the page-one lines that no statement holds), then market data, peers, target."""
    model = lay.model
    row = FIRST_ROW
    lay.year_rows.append(YearRow(VALUATION, row, "Per share and valuation ratios", None, False))
    row += 1
    _home_row(lay, VALUATION, row, "eps_shares")
    row += 1
    for r in table_layout(model, "Forecasts and Valuation"):
        if r.key is not None and (r.key, YEARS[0]) not in lay.homes:
            _home_row(lay, VALUATION, row, r.key)
            row += 1
    row += 1
    lay.singles["__market_heading"] = (VALUATION, f"A{row}")
    row += 1
    for key in ("hkd_per_rmb", "mkt_cap_hkd_m", "mkt_cap_usd_m"):
        lay.homes[(key, None)] = (VALUATION, f"B{row}")
        lay.singles[key] = (VALUATION, f"A{row}")
        row += 1
    row += 1
    lay.singles["__peers_heading"] = (VALUATION, f"A{row}")
    row += 1
    lay.singles["__peers_header"] = (VALUATION, f"A{row}")
    row += 1
    meta = model.report.peers_meta
    n_sales = len(meta["sales_columns"])
    for peer in model.report.peers:
        lay.singles[f"__peer_{peer.key}"] = (VALUATION, f"A{row}")
        lay.homes[(f"{peer.key}_price_usd", None)] = (VALUATION, f"D{row}")
        for j, col in enumerate(meta["ps_columns"]):
            lay.homes[(f"{peer.key}_ps_{col}", None)] = (VALUATION, f"{get_column_letter(6 + n_sales + j)}{row}")
        row += 1
    lay.singles["__peer_average"] = (VALUATION, f"A{row}")
    for j, col in enumerate(meta["ps_columns"]):
        lay.homes[(f"peer_average_ps_{col}", None)] = (VALUATION, f"{get_column_letter(6 + n_sales + j)}{row}")
    row += 2
    lay.singles["__target_heading"] = (VALUATION, f"A{row}")
    row += 1
    for key in TARGET_LINES:
        lay.homes[(key, None)] = (VALUATION, f"B{row}")
        lay.singles[key] = (VALUATION, f"A{row}")
        row += 1
    lay.grid_row = row + 1
    return row


def _place_inputs(lay: Layout) -> None:
    model = lay.model
    row = FIRST_INPUT_ROW
    regs: dict[str, Driver] = drivers(model.report)
    first = row
    for d in regs.values():
        lay.inputs.append(InputRow(row, d.name, d.base, d.unit, d.meaning, d.source, "driver"))
        row += 1
    lay.drivers_range = f"{ASSUMPTIONS}!${DRIVERS_NAME_COL}${first}:${DRIVERS_VALUE_COL}${row - 1}"
    row += 2
    from engine.calibration import adjustments

    for name, cols in adjustments(model.report).items():
        for col in cols:
            full = f"{name}_{col}"
            lay.inputs.append(
                InputRow(
                    row, full, model.fixed[full], "RMB m", _ADJ_MEANING.get(name, name), "docs/errata.md", "adjustment"
                )
            )
            row += 1
    lay.inputs.append(
        InputRow(
            row,
            "ps_row_usdcny",
            model.fixed["ps_row_usdcny"],
            "CNY per US$",
            "USDCNY the printed P/S (X) row implies (stale rate)",
            "docs/errata.md (ps_row_stale_fx)",
            "adjustment",
        )
    )
    row += 3
    for key, (value, why) in model.report.implied_2019.items():
        unit = "RMB m"
        lay.inputs.append(
            InputRow(row, f"{key}_2019A", value, unit, f"2019 {model.lines[key].label}", why, "implied 2019")
        )
        row += 1


_ADJ_MEANING = {
    "ebitda_adjustment": "EBITDA not explained by Operating Profit + Other Non Opg + D&A",
    "np_pre_ex_adjustment": "Net Profit before Except. beyond Net Profit less exceptionals",
    "tax_timing": "Tax paid less the P&L tax",
    "assoc_cf": "Cash flow: Assoc. & JV Inc/(loss) (report amount)",
    "disposal_loss": "Cash flow: (Pft)/ Loss on disposal of FAs (report amount)",
    "other_operating_cf": "Cash flow: Other Operating CF (report amount)",
    "other_invt": "Cash flow: Other Invt.(net) (report amount)",
    "invt_in_assoc_cf": "Cash flow: Invt in Assoc. & JV (report amount)",
    "div_from_assoc": "Cash flow: Div from Assoc & JV (report amount)",
    "other_investing_cf": "Cash flow: Other Investing CF (report amount)",
    "other_financing_cf": "Cash flow: Other Financing CF (report amount)",
    "currency_adj": "Cash flow: Currency Adjustments (report amount)",
    "wc_unlinked": "Chg in Wkg.Cap. beyond the balance-sheet change",
    "debt_unlinked": "Chg in Gross Debt beyond the balance-sheet change",
    "cash_unreconciled": "Change in Cash & ST Invt not explained by Chg in Cash",
    "nfa_other": "Net Fixed Assets movement beyond capex less D&A",
    "equity_other": "Equity movement beyond Net Profit and Capital Issues",
    "mi_other": "Minority Interests movement beyond the P&L share",
    "invt_in_associates": "Invt in Associates & JVs (report balance, memo)",
    "other_lt_assets": "Other LT Assets (report balance)",
    "other_lt_liab": "Other LT Liabilities (report balance)",
}


ENGINE_HEADER_ROW = 6


def _place_engine(lay: Layout) -> None:
    """The Engine sheet: every line the engine computes, at fixed cells the Checks sheet reads."""
    row = ENGINE_HEADER_ROW + 1
    for r in lay.year_rows:
        if r.key is None or not r.home:
            continue
        lay.engine_labels[row] = (r.label, r.key)
        for y in YEARS:
            lay.engine_cells[(r.key, y)] = f"{YEAR_COLUMN[y]}{row}"
        row += 1
    row += 1
    for key, line in lay.model.lines.items():
        if line.by_year:
            continue
        lay.engine_labels[row] = (line.label, key)
        lay.engine_cells[(key, None)] = f"B{row}"
        row += 1


@cache
def make_layout(model: Model | None = None) -> Layout:
    model = model or compile_model()
    lay = Layout(model)
    _place_statements(lay)
    _place_valuation(lay)
    _place_inputs(lay)
    _place_engine(lay)
    missing = [k for k, line in model.lines.items() if line.by_year and (k, YEARS[0]) not in lay.homes]
    missing += [k for k, line in model.lines.items() if not line.by_year and (k, None) not in lay.homes]
    if missing:
        raise ValueError(f"lines without a place in the workbook: {missing}")
    return lay


__all__ = ["FormulaContext", "Layout", "make_layout"]
