"""Build the model workbook with openpyxl from the engine's line definitions.

Every computed cell is a native formula rendered from the line's one definition (engine/lines.py);
typed cells are the drivers, the fixed report adjustments and the reported figures, in blue.
Nothing here computes a model number: values come from the engine only to check the build.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

import engine
from engine.errata import load_errata
from engine.expr import INPUT, Raw, inline, to_excel
from engine.lines import COLUMNS, YEARS
from engine.lines import SEGMENTS as SEGMENT_LINES
from engine.model import Model, compile_model
from engine.scenarios import load_scenarios
from engine.sensitivity import default_axes

from . import styles as st
from .files import WriteError, replacing
from .layout import (
    ASSUMPTIONS,
    BEAR_COL,
    BULL_COL,
    CHECKS,
    COVER,
    DRIVERS_NAME_COL,
    DRIVERS_VALUE_COL,
    ENGINE,
    ENGINE_HEADER_ROW,
    FIRST_INPUT_ROW,
    FIRST_ROW,
    HEADER_ROW,
    INCOME,
    LIVE_COL,
    LIVE_PREFIX,
    MEANING_COL,
    NAME_COL,
    SCENARIO_ROW,
    SEGMENTS,
    SHEETS,
    SOURCE_COL,
    SOURCES,
    STATEMENTS,
    TARGET_LINES,
    UNIT_COL,
    VALUATION,
    VALUE_COL,
    YEAR_COLUMN,
    FormulaContext,
    Layout,
    make_layout,
)

OUTPUT_NAMES = {
    "TargetPrice": "target_price",
    "TargetPriceUnrounded": "target_price_unrounded",
    "Upside": "upside",
    "Rating": "rating",
    "Valuation": "valuation_usd_m",
    "TargetMultiple": "target_multiple",
}
NEEDS_ADDIN = "needs the SenseTime add-in"
UDF_PANEL = (
    ("Target price (HK$)", "ST_TARGET(Drivers)", "TargetPrice", "0.00"),
    ("Rating", "ST_RATING(Drivers)", "Rating", "General"),
    ("Valuation (US$ m)", "ST_VALUATION(Drivers)", "Valuation", "#,##0"),
)
ENGINE_NOTE = "Values only, never inputs. Click Refresh forecasts (SenseTime tab) or run `stmodel refresh FILE`."
# Lines whose Engine values the Checks sheet compares with the native formulas, live.
ENGINE_CHECKED = (
    "revenue",
    "gross_profit",
    "operating_profit",
    "pbt",
    "net_profit",
    "ebitda",
    "total_assets",
    "total_cap_liab",
    "cash",
    "equity",
    "chg_in_cash",
)
ENGINE_CHECKED_SINGLE = ("target_price_unrounded", "target_price", "upside", "valuation_usd_m", "rating")
CHECK_TOLERANCE = 0.001  # RMB m: a check passes when it is this close to the recorded amount


def resolve_names(overrides: dict) -> list[tuple[str, object]]:
    """Scenario overrides by full driver name (a per-year group sets every year)."""
    from engine.drivers import expand

    return [(d.name, value) for name, value in overrides.items() for d in expand(name)]


class BuildError(ValueError):
    """The workbook cannot be written (the message says where and why)."""


def _decimals(model: Model) -> dict[str, int]:
    """Printed decimals per line, from the first report row that shows it."""
    from engine.tables import TABLE_TITLES, layout

    out: dict[str, int] = {}
    for title in TABLE_TITLES:
        printed = model.report.table(title)
        for row in layout(model, title):
            if row.key and row.key not in out:
                decs = list(printed.row(row.label).decimals.values())
                if decs:
                    out[row.key] = max(decs)
    return out


class Builder:
    def __init__(self, model: Model | None = None) -> None:
        self.model = model or compile_model()
        self.layout: Layout = make_layout(self.model)
        self.env = engine.evaluate(engine.base_values(self.model.report), self.model)
        self.decimals = _decimals(self.model)
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        for name in SHEETS:
            self.wb.create_sheet(name)

    # ------------------------------------------------------------ helpers
    def ws(self, name: str) -> Worksheet:
        return self.wb[name]

    def fmt(self, key: str) -> str:
        line = self.model.lines[key]
        return st.number_format(line.unit, self.decimals.get(key))

    def formula(self, key: str, column: str | None, sheet: str) -> str:
        expr = self.model.lines[key].definition(column)
        return "=" + to_excel(expr, column, COLUMNS, FormulaContext(self.layout, sheet))

    def has_value(self, key: str, column: str | None) -> bool:
        return (key, column) in self.env

    def write_home(self, ws: Worksheet, cell: str, key: str, column: str | None) -> None:
        """A line's own cell: its typed figure or the formula of its definition."""
        if not self.has_value(key, column):
            return
        c = ws[cell]
        if self.model.lines[key].definition(column) is INPUT:
            value = self.model.typed.get((key, column))
            if value is None or value == "":
                return
            c.value = value
            c.font = st.INPUT_FONT
        else:
            c.value = self.formula(key, column, ws.title)
            c.font = st.FORMULA_FONT
        c.number_format = self.fmt(key)

    def write_link(self, ws: Worksheet, cell: str, key: str, column: str | None) -> None:
        if not self.has_value(key, column):
            return
        if self.model.lines[key].definition(column) is INPUT and self.model.typed.get((key, column)) in (None, ""):
            return
        c = ws[cell]
        c.value = "=" + self.layout.ref(key, column, ws.title)
        c.font = st.LINK_FONT
        c.number_format = self.fmt(key)

    def title(self, ws: Worksheet, text: str, subtitle: str) -> None:
        ws["A1"] = text
        ws["A1"].font = st.TITLE
        ws["A2"] = subtitle
        ws["A2"].font = st.SUBTITLE

    def year_header(self, ws: Worksheet, row: int, label: str = "FY Dec") -> None:
        ws[f"A{row}"] = label
        for y, col in YEAR_COLUMN.items():
            ws[f"{col}{row}"] = y
        for col in ("A", *YEAR_COLUMN.values()):
            ws[f"{col}{row}"].font = st.BOLD
            ws[f"{col}{row}"].fill = st.HEADER_FILL
            if col != "A":
                ws[f"{col}{row}"].alignment = st.RIGHT

    def finish_sheet(self, ws: Worksheet, last_col: str, freeze: str | None = "B4", width_a: int = 34) -> None:
        ws.column_dimensions["A"].width = width_a
        if freeze:
            ws.freeze_panes = freeze
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.print_area = f"A1:{last_col}{max(ws.max_row, 1)}"
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}" if freeze == "B4" else None

    def name(self, name: str, target: str) -> None:
        self.wb.defined_names[name] = DefinedName(name, attr_text=target)

    # ------------------------------------------------------------ sheets
    def statements(self) -> None:
        source = self.model.report.source
        for sheet, _, heading in STATEMENTS:
            ws = self.ws(sheet)
            self.title(ws, heading, f"{source['publisher']}, {source['date']}; blue = reported/typed, black = formula")
            self.year_header(ws, HEADER_ROW)
            self.year_rows(ws)
            for col in YEAR_COLUMN.values():
                ws.column_dimensions[col].width = 12
            self.finish_sheet(ws, "F")

    def year_rows(self, ws: Worksheet) -> None:
        for r in self.layout.rows_of(ws.title):
            label = ws[f"A{r.row}"]
            label.value = r.label
            label.font = st.BOLD if r.key is None else st.LABEL_FONT
            if r.key is None:
                continue
            for y in YEARS:
                cell = f"{YEAR_COLUMN[y]}{r.row}"
                if r.home:
                    self.write_home(ws, cell, r.key, y)
                else:
                    self.write_link(ws, cell, r.key, y)

    def valuation(self) -> None:
        ws = self.ws(VALUATION)
        lay = self.layout
        self.title(ws, "Valuation: P/S on FY2024E, peers and the 12-month target price", "RMB m unless stated")
        self.year_header(ws, HEADER_ROW)
        self.year_rows(ws)
        _sheet, cell = lay.singles["__market_heading"]
        ws[cell] = "Market data and FX"
        ws[cell].font = st.BOLD
        for key in ("hkd_per_rmb", "mkt_cap_hkd_m", "mkt_cap_usd_m"):
            self.single(ws, key)
        _, cell = lay.singles["__peers_heading"]
        ws[cell] = "Valuation & Peers comparison (US$ m; prices in local currency)"
        ws[cell].font = st.BOLD
        _, cell = lay.singles["__peers_header"]
        header_row = int(cell[1:])
        meta = self.model.report.peers_meta
        headers = [
            "Company",
            "Ticker",
            "Price (Local)",
            "Price (USD)",
            "Mkt cap (USD mn)",
            *(f"Sales {c}" for c in meta["sales_columns"]),
            *(f"P/S {c}" for c in meta["ps_columns"]),
        ]
        for j, text in enumerate(headers, start=1):
            c = ws.cell(header_row, j, text)
            c.font, c.fill, c.alignment = st.BOLD, st.HEADER_FILL, st.WRAP
        for peer in self.model.report.peers:
            _, cell = lay.singles[f"__peer_{peer.key}"]
            r = int(cell[1:])
            ws.cell(r, 1, peer.name)
            ws.cell(r, 2, peer.ticker)
            links = [f"{peer.key}_price", None, f"{peer.key}_mkt_cap"]
            links += [f"{peer.key}_sales_{c}" for c in meta["sales_columns"]]
            for j, name in enumerate(links, start=3):
                if name:
                    c = ws.cell(r, j, f"={name}")
                    c.font, c.number_format = st.LINK_FONT, st.number_format("US$ m", 2 if j == 3 else 0)
            self.write_home(ws, f"D{r}", f"{peer.key}_price_usd", None)
            ws[f"D{r}"].number_format = st.number_format("US$", 2)
            for c in meta["ps_columns"]:
                key = f"{peer.key}_ps_{c}"
                self.write_home(ws, lay.homes[(key, None)][1], key, None)
        _, cell = lay.singles["__peer_average"]
        ws[cell] = "Average"
        ws[cell].font = st.BOLD
        for c in meta["ps_columns"]:
            key = f"peer_average_ps_{c}"
            self.write_home(ws, lay.homes[(key, None)][1], key, None)
            ws[lay.homes[(key, None)][1]].font = st.BOLD
        _, cell = lay.singles["__target_heading"]
        ws[cell] = "Target price"
        ws[cell].font = st.BOLD
        for key in TARGET_LINES:
            self.single(ws, key)
        ws[lay.homes[("target_multiple", None)][1]].number_format = "0.00"
        ws[lay.homes[("target_price_unrounded", None)][1]].number_format = "0.0000"
        ws[lay.homes[("target_price", None)][1]].number_format = "0.00"
        for j in range(2, len(headers) + 1):
            ws.column_dimensions[ws.cell(1, j).column_letter].width = 12
        self.sensitivity_grid(ws)
        self.finish_sheet(ws, ws.cell(1, len(headers)).column_letter)
        self.peer_chart(ws, header_row, len(self.model.report.peers), 5 + len(meta["sales_columns"]) + 1)

    def sensitivity_grid(self, ws: Worksheet) -> None:
        """Target price by premium (rows) and USDCNY (columns): native formulas, one per cell."""
        rows, cols = default_axes()
        top = self.layout.grid_row
        ws[f"A{top}"] = f"Sensitivity: 12-mth target price (HK$) by {rows.driver} (rows) and {cols.driver} (columns)"
        ws[f"A{top}"].font = st.BOLD
        header = top + 1
        ws[f"A{header}"] = f"{rows.driver} \\ {cols.driver}"
        ws[f"A{header}"].font = st.BOLD
        definitions = {k: line.value for k, line in self.model.lines.items() if not line.by_year and line.value}
        target = self.model.lines["target_price"].value
        for j, v in enumerate(cols.values):
            c = ws.cell(header, 2 + j, v)
            c.font, c.fill, c.number_format = st.INPUT_FONT, st.INPUT_FILL, "0.00"
        for i, rv in enumerate(rows.values):
            r = header + 1 + i
            c = ws.cell(r, 1, rv)
            c.font, c.fill, c.number_format = st.INPUT_FONT, st.INPUT_FILL, "0.00"
            for j in range(len(cols.values)):
                col = ws.cell(header, 2 + j).column_letter
                expr = inline(target, definitions, {rows.driver: Raw(f"$A{r}"), cols.driver: Raw(f"{col}${header}")})
                cell = ws.cell(r, 2 + j, "=" + to_excel(expr, None, COLUMNS, FormulaContext(self.layout, ws.title)))
                cell.number_format = "0.00"

    def single(self, ws: Worksheet, key: str) -> None:
        _, label_cell = self.layout.singles[key]
        ws[label_cell] = self.model.lines[key].label
        self.write_home(ws, self.layout.homes[(key, None)][1], key, None)

    def assumptions(self) -> None:
        ws = self.ws(ASSUMPTIONS)
        lay = self.layout
        self.title(
            ws,
            "Assumptions: every input of the model",
            "Blue cells are inputs; the defined name in column A points at the Base value (column B). The model "
            "uses the Live column: Base, or the selected scenario's value where it has one.",
        )
        headers = {
            NAME_COL: "Name",
            VALUE_COL: "Base",
            BEAR_COL: "Bear",
            BULL_COL: "Bull",
            LIVE_COL: "Live (used)",
            UNIT_COL: "Unit",
            MEANING_COL: "Meaning",
            SOURCE_COL: "Source",
            DRIVERS_NAME_COL: "Driver",
            DRIVERS_VALUE_COL: "Live value",
        }
        for col, text in headers.items():
            c = ws[f"{col}{HEADER_ROW}"]
            c.value, c.font, c.fill = text, st.BOLD, st.HEADER_FILL
        ws[f"A{SCENARIO_ROW}"] = "Scenario in use"
        ws[f"A{SCENARIO_ROW}"].font = st.BOLD
        selector = ws[f"{VALUE_COL}{SCENARIO_ROW}"]
        selector.value, selector.font, selector.fill = "Base", st.INPUT_FONT, st.INPUT_FILL
        ws[f"{BEAR_COL}{SCENARIO_ROW}"] = "Bear and Bull are illustrative (the report publishes the base case only)"
        ws[f"{BEAR_COL}{SCENARIO_ROW}"].font = st.SUBTITLE
        self.name("scenario", f"{ASSUMPTIONS}!${VALUE_COL}${SCENARIO_ROW}")
        pick = DataValidation(type="list", formula1='"Base,Bear,Bull"', allow_blank=False)
        pick.error, pick.errorTitle = "Choose Base, Bear or Bull", "scenario"
        ws.add_data_validation(pick)
        pick.add(f"{VALUE_COL}{SCENARIO_ROW}")
        headings = {"driver": "Drivers", "adjustment": "Fixed report adjustments (not drivers; see docs/errata.md)"}
        headings["implied 2019"] = "2019 figures implied from the report's 2020A ratios"
        scenarios = load_scenarios()
        overrides = {
            label: dict(resolve_names(scenarios[key].overrides)) for key, label in (("bear", "Bear"), ("bull", "Bull"))
        }
        first_col, last_col = f"${VALUE_COL}${HEADER_ROW}", f"${BULL_COL}${HEADER_ROW}"
        seen = set()
        for i in lay.inputs:
            if i.kind not in seen:
                seen.add(i.kind)
                ws.cell(i.row - 1, 1, headings[i.kind]).font = st.BOLD
            ws[f"{NAME_COL}{i.row}"] = i.name
            cells = [ws[f"{VALUE_COL}{i.row}"]]
            cells[0].value = i.value
            if i.kind == "driver":
                for label, col in (("Bear", BEAR_COL), ("Bull", BULL_COL)):
                    c = ws[f"{col}{i.row}"]
                    if i.name in overrides[label]:
                        c.value = overrides[label][i.name]
                    cells.append(c)
                base, bear, bull = (f"{col}{i.row}" for col in (VALUE_COL, BEAR_COL, BULL_COL))
                live = ws[f"{LIVE_COL}{i.row}"]
                live.value = (
                    f"=CHOOSE(MATCH(scenario,{first_col}:{last_col},0),{base},"
                    f"IF(ISBLANK({bear}),{base},{bear}),IF(ISBLANK({bull}),{base},{bull}))"
                )
                live.font = st.FORMULA_FONT
                self.name(LIVE_PREFIX + i.name, f"{ASSUMPTIONS}!${LIVE_COL}${i.row}")
                ws[f"{DRIVERS_NAME_COL}{i.row}"] = i.name
                link = ws[f"{DRIVERS_VALUE_COL}{i.row}"]
                link.value, link.font = f"={LIVE_COL}{i.row}", st.LINK_FONT
                cells.append(live)
                cells.append(link)
            for c in cells:
                if c.column_letter in (VALUE_COL, BEAR_COL, BULL_COL):
                    c.font, c.fill = st.INPUT_FONT, st.INPUT_FILL
                if i.unit == "fraction":
                    c.number_format = "0.0000"
                elif isinstance(i.value, float) and not i.value.is_integer():
                    c.number_format = "#,##0.0000;(#,##0.0000)"
            ws[f"{UNIT_COL}{i.row}"] = i.unit
            ws[f"{MEANING_COL}{i.row}"] = i.meaning
            ws[f"{SOURCE_COL}{i.row}"] = i.source
            self.name(i.name, lay.absolute_input(i.name))
        self.name("Drivers", lay.drivers_range)
        choices = DataValidation(type="list", formula1='"large,small"', allow_blank=True)
        choices.error, choices.errorTitle = "Choose large or small", "cap_basis"
        ws.add_data_validation(choices)
        row = lay.input_row("cap_basis").row
        choices.add(f"{VALUE_COL}{row}:{BULL_COL}{row}")
        widths = {"A": 30, VALUE_COL: 12, BEAR_COL: 12, BULL_COL: 12, LIVE_COL: 12, UNIT_COL: 12}
        widths |= {MEANING_COL: 56, SOURCE_COL: 56, DRIVERS_NAME_COL: 26, DRIVERS_VALUE_COL: 12}
        for col, width in widths.items():
            ws.column_dimensions[col].width = width
        self.finish_sheet(ws, SOURCE_COL, freeze=f"B{FIRST_INPUT_ROW}", width_a=30)

    def checks(self) -> None:
        ws = self.ws(CHECKS)
        lay = self.layout
        self.title(ws, "Checks", "Each check passes when the difference equals the amount recorded in docs/errata.md")
        self.year_header(ws, HEADER_ROW, "Check")
        errata = {e.id: e for e in load_errata()}
        tol_row = FIRST_ROW
        ws[f"A{tol_row}"] = "Tolerance (RMB m)"
        tol = ws[f"B{tol_row}"]
        tol.value, tol.font, tol.fill = CHECK_TOLERANCE, st.INPUT_FONT, st.INPUT_FILL
        self.name("check_tolerance", f"{CHECKS}!$B${tol_row}")
        income_revenue = next(r for r in lay.rows_of(INCOME) if r.key == "revenue")
        segment_keys = [k for k, _ in SEGMENT_LINES]

        def balance(y: str) -> str:
            return f"={lay.ref('total_assets', y, CHECKS)}-{lay.ref('total_cap_liab', y, CHECKS)}"

        def segments(y: str) -> str:
            parts = "+".join(lay.ref(k, y, CHECKS) for k in segment_keys)
            return f"={parts}-'{INCOME}'!{YEAR_COLUMN[y]}{income_revenue.row}"

        def cash(y: str) -> str | None:
            i = YEARS.index(y)
            if i == 0:
                return None
            prev = YEARS[i - 1]
            return f"={lay.ref('cash', y, CHECKS)}-{lay.ref('cash', prev, CHECKS)}-{lay.ref('chg_in_cash', y, CHECKS)}"

        specs = [
            ("Balance sheet balances (Total Assets - Total Cap. & Liab.)", balance, errata["balance_sheet_rounding"]),
            ("Segments sum to revenue (segments - Income Statement revenue)", segments, None),
            ("Cash flow ties to balance-sheet cash (change in cash - Chg in Cash)", cash, errata["cash_flow_not_tied"]),
        ]
        row = tol_row + 2
        passes: list[tuple[str, str]] = []
        for title, make, erratum in specs:
            ws[f"A{row}"] = title
            ws[f"A{row}"].font = st.BOLD
            ws[f"A{row + 1}"] = "  difference"
            ws[f"A{row + 2}"] = f"  recorded ({erratum.id})" if erratum else "  recorded"
            ws[f"A{row + 3}"] = "  pass"
            for y in YEARS:
                col = YEAR_COLUMN[y]
                f = make(y)
                if f is None:
                    continue
                ws[f"{col}{row + 1}"] = f
                ws[f"{col}{row + 1}"].number_format = st.number_format("RMB m", 0)
                recorded = ws[f"{col}{row + 2}"]
                recorded.value = (erratum.amounts or {}).get(y, 0.0) if erratum else 0.0
                recorded.font, recorded.fill = st.INPUT_FONT, st.INPUT_FILL
                recorded.number_format = st.number_format("RMB m", 0)
                ws[f"{col}{row + 3}"] = f"=ABS({col}{row + 1}-{col}{row + 2})<=check_tolerance"
                passes.append((f"{col}{row + 3}", f"{title.split(' (')[0]} {y}"))
            row += 5
        ws[f"A{row}"] = "Engine agrees with the workbook (blank until Refresh forecasts)"
        ws[f"A{row}"].font = st.BOLD
        row += 1
        for key in ENGINE_CHECKED:
            ws[f"A{row}"] = f"  engine: {self.model.lines[key].label}"
            for y in YEARS:
                col = YEAR_COLUMN[y]
                eng = f"{ENGINE}!{self.layout.engine_cells[(key, y)]}"
                native = lay.ref(key, y, CHECKS)
                ws[f"{col}{row}"] = f"=IF(ISBLANK({eng}),TRUE,ABS({native}-{eng})<=check_tolerance)"
                passes.append((f"{col}{row}", f"Engine {self.model.lines[key].label} {y}"))
            row += 1
        for key in ENGINE_CHECKED_SINGLE:
            ws[f"A{row}"] = f"  engine: {self.model.lines[key].label}"
            eng = f"{ENGINE}!{self.layout.engine_cells[(key, None)]}"
            native = lay.ref(key, None, CHECKS)
            test = (
                f"{native}={eng}" if self.model.lines[key].unit == "text" else f"ABS({native}-{eng})<=check_tolerance"
            )
            ws[f"B{row}"] = f"=IF(ISBLANK({eng}),TRUE,{test})"
            passes.append((f"B{row}", f"Engine {self.model.lines[key].label}"))
            row += 1
        row += 1
        ws[f"A{row}"] = "Master check"
        ws[f"A{row}"].font = st.BOLD
        cells = ",".join(c for c, _ in passes)
        failing = "&".join(f'IF({c},"","{label}; ")' for c, label in passes)
        ws[f"B{row}"] = f'=IF(AND({cells}),"All checks pass","Failing: "&{failing})'
        ws[f"B{row}"].font = st.BOLD
        self.name("MasterCheck", f"{CHECKS}!$B${row}")
        self.finish_sheet(ws, "F", width_a=64)

    def cover(self) -> None:
        ws = self.ws(COVER)
        src = self.model.report.source
        market = self.model.report.market
        ws["A1"] = "SenseTime Group (20 HK): equity research model"
        ws["A1"].font = st.TITLE
        ws["A2"] = f"After {src['publisher']}, initiation of {src['date']}: {src['title']}"
        ws["A2"].font = st.SUBTITLE
        rows = [
            ("Rating", "=Rating", "General"),
            ("12-month target price (HK$)", "=TargetPrice", "0.00"),
            ("Upside to target price", "=Upside", "0.0%"),
            ("Last price (HK$)", "=LastPrice", "0.00"),
            ("Last price date", market["last_price"].date, "General"),
            ("Model checks", "=MasterCheck", "General"),
        ]
        for i, (label, value, fmt) in enumerate(rows, start=4):
            ws[f"A{i}"] = label
            ws[f"B{i}"] = value
            ws[f"B{i}"].number_format = fmt
            ws[f"B{i}"].font = st.BOLD
            ws[f"B{i}"].alignment = st.RIGHT
        top = 11
        ws[f"A{top}"] = "Forecasts and Valuation"
        ws[f"A{top}"].font = st.BOLD
        printed = self.model.report.table("Forecasts and Valuation")
        header = top + 1
        ws[f"A{header}"] = "FY Dec (RMBm)"
        fv_cols = {y: chr(ord("B") + j) for j, y in enumerate(printed.columns)}
        for y, col in fv_cols.items():
            ws[f"{col}{header}"] = y
        for col in ("A", *fv_cols.values()):
            ws[f"{col}{header}"].font, ws[f"{col}{header}"].fill = st.BOLD, st.HEADER_FILL
            ws[f"{col}{header}"].alignment = st.RIGHT if col != "A" else st.WRAP
        from engine.tables import layout

        r = header + 1
        for row in layout(self.model, "Forecasts and Valuation"):
            ws[f"A{r}"] = row.label
            if row.key:
                for y, col in fv_cols.items():
                    self.write_link(ws, f"{col}{r}", row.key, y)
            r += 1
        r += 1
        r = self.udf_panel(ws, r)
        ws[f"A{r}"] = "Read me"
        ws[f"A{r}"].font = st.BOLD
        notes = [
            f"Source: {src['publisher']}, initiation report of {src['date']} (BUY, TP HK$2.70). Figures and their "
            "report lines are on the Sources sheet.",
            "Inputs are blue on the Assumptions sheet (one row each, with its defined name) and the reported "
            "2020A-2021A figures on the statement sheets. Every other number is a formula: change an input and the "
            "target price moves.",
            "The Checks sheet must read 'All checks pass'. Known inconsistencies of the report are recorded there "
            "with their amounts (docs/errata.md).",
            "Audit a copy with `stmodel audit FILE`; this workbook needs no add-in and no macros.",
        ]
        for text in notes:
            r += 1
            ws[f"A{r}"] = text
        ws.column_dimensions["A"].width = 42
        for col in fv_cols.values():
            ws.column_dimensions[col].width = 12
        self.finish_sheet(ws, "E", freeze=None)
        ws.page_setup.fitToHeight = 1

    def udf_panel(self, ws: Worksheet, r: int) -> int:
        """A few ST_* calls beside their native twins; without the add-in they read as a plain note."""
        ws[f"A{r}"] = "With the SenseTime add-in (Python engine)"
        ws[f"A{r}"].font = st.BOLD
        ws[f"B{r}"], ws[f"C{r}"] = "Add-in", "Native"
        for col in "BC":
            ws[f"{col}{r}"].font, ws[f"{col}{r}"].fill, ws[f"{col}{r}"].alignment = st.BOLD, st.HEADER_FILL, st.RIGHT
        for label, call, native, fmt in UDF_PANEL:
            r += 1
            ws[f"A{r}"] = label
            ws[f"B{r}"] = f'=IFERROR({call},"{NEEDS_ADDIN}")'
            ws[f"C{r}"] = f"={native}"
            for col in "BC":
                ws[f"{col}{r}"].number_format = fmt
                ws[f"{col}{r}"].alignment = st.RIGHT
        return r + 2

    def engine_sheet(self) -> None:
        """The Engine sheet's frame: labels and headers; Refresh forecasts fills in the values."""
        ws = self.ws(ENGINE)
        self.title(ws, "Engine: values from the Python engine (written by Refresh forecasts)", ENGINE_NOTE)
        ws["A3"], ws["A4"], ws["A5"] = "Refreshed", "Engine version", "Drivers read"
        ws["B3"] = "not refreshed yet"
        self.year_header(ws, ENGINE_HEADER_ROW, "Line")
        ws[f"G{ENGINE_HEADER_ROW}"] = "Key"
        ws[f"G{ENGINE_HEADER_ROW}"].font = st.BOLD
        for row, (label, key) in self.layout.engine_labels.items():
            ws[f"A{row}"] = label
            ws[f"G{row}"] = key
            ws[f"G{row}"].font = st.SUBTITLE
            for col in YEAR_COLUMN.values():
                ws[f"{col}{row}"].number_format = self.fmt(key)
        for col in YEAR_COLUMN.values():
            ws.column_dimensions[col].width = 12
        ws.column_dimensions["G"].width = 26
        ws.sheet_properties.tabColor = "808080"
        self.finish_sheet(ws, "G", freeze="B7", width_a=34)

    def sources(self) -> None:
        ws = self.ws(SOURCES)
        src = self.model.report.source
        self.title(ws, "Sources", f"{src['publisher']}: {src['title']}, {src['date']} (text file {src['text_file']})")
        r = HEADER_ROW
        for j, text in enumerate(("Cell", "Item", "Value", "Source"), start=1):
            ws.cell(r, j, text).font = st.BOLD
        for i in self.layout.inputs:
            r += 1
            ws.cell(r, 1, f"{ASSUMPTIONS}!{self.layout.input_cell(i.name)}")
            ws.cell(r, 2, i.name)
            ws.cell(r, 3, i.value)
            ws.cell(r, 4, i.source)
        for (key, col), value in sorted(self.model.typed.items()):
            if col not in YEARS or value in ("", None) or (key, col) not in self.layout.homes:
                continue
            line = self.model.lines[key]
            table = self.model.report.table(line.source or "")
            r += 1
            sheet, cell = self.layout.homes[(key, col)]
            ws.cell(r, 1, f"{sheet}!{cell}")
            ws.cell(r, 2, f"{line.label} {col}")
            ws.cell(r, 3, value)
            ws.cell(r, 4, f"{table.title} / {line.label} (line {table.row(line.label).line})")
        r += 2
        ws.cell(r, 1, "Errata: where the report contradicts itself").font = st.BOLD
        r += 1
        for j, text in enumerate(("Id", "Handling", "Cells", "Printed", "Model", "Evidence"), start=1):
            ws.cell(r, j, text).font = st.BOLD
        for e in load_errata():
            r += 1
            cells = f"{e.table} / {', '.join(e.rows)}" + (f" / {', '.join(e.columns)}" if e.columns else "")
            ws.cell(r, 1, e.id)
            ws.cell(r, 2, e.handling)
            ws.cell(r, 3, cells)
            ws.cell(r, 4, ", ".join(str(v) for v in e.printed))
            ws.cell(r, 5, e.reproduced_by)
            ws.cell(r, 6, e.evidence)
        for col, width in zip("ABCDEF", (26, 34, 14, 60, 60, 80), strict=True):
            ws.column_dimensions[col].width = width
        self.finish_sheet(ws, "F", freeze="A4")

    # ------------------------------------------------------------ names and charts
    def output_names(self) -> None:
        for name, key in OUTPUT_NAMES.items():
            self.name(name, self.layout.absolute(key))
        self.name("LastPrice", self.layout.absolute_input("last_price"))

    def segment_chart(self) -> None:
        ws = self.ws(SEGMENTS)
        rows = [r for r in self.layout.rows_of(SEGMENTS) if r.key in {k for k, _ in SEGMENT_LINES}]
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = "Revenue by segment (RMB m)"
        chart.y_axis.title = "RMB m"
        data = Reference(ws, min_col=1, max_col=6, min_row=rows[0].row, max_row=rows[-1].row)
        chart.add_data(data, from_rows=True, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, max_col=6, min_row=HEADER_ROW, max_row=HEADER_ROW))
        chart.height, chart.width = 8, 16
        anchor = rows[-1].row + 3
        ws.add_chart(chart, f"A{anchor}")
        ws.print_area = f"A1:F{anchor + 17}"

    def peer_chart(self, ws: Worksheet, header_row: int, n: int, first_ps_col: int) -> None:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Peer P/S (x)"
        data = Reference(ws, min_col=first_ps_col, max_col=first_ps_col + 2, min_row=header_row, max_row=header_row + n)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=header_row + n))
        chart.height, chart.width = 9, 16
        ws.add_chart(chart, f"H{FIRST_ROW}")

    def build(self) -> Workbook:
        self.assumptions()
        self.statements()
        self.valuation()
        self.checks()
        self.cover()
        self.sources()
        self.engine_sheet()
        self.output_names()
        self.segment_chart()
        self.wb.properties.title = "SenseTime (20 HK) model"
        self.wb.properties.creator = f"stmodel {engine.__version__}"
        self.ws(COVER).sheet_properties.tabColor = "1F3864"
        note = Comment("Typed input: change it here; the defined name in column A points at this cell.", "stmodel")
        self.ws(ASSUMPTIONS)["B3"].comment = note
        return self.wb


def build_workbook(model: Model | None = None) -> Workbook:
    return Builder(model).build()


def save_atomic(wb: Workbook, path: Path) -> None:
    """Save through a temporary file in the target folder, then rename: no half-written workbook."""
    try:
        with replacing(path) as tmp:
            wb.save(tmp)
    except WriteError as e:
        raise BuildError(str(e)) from None


__all__ = ["BuildError", "Builder", "build_workbook", "save_atomic"]
