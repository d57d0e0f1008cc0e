"""The workbook as it prints: its page setup, and its PDF from LibreOffice (`stmodel pdf`), checked for what
a machine can see. Every sheet prints one page wide on A4 landscape, no cell shows ###, every text cell of
the Cover and the Valuation sheet fits its width at the workbook's font (workbook.textfit's estimate), and
each sheet takes the number of pages recorded here. The report's workbook and one extended to 2026 from a
model file are rendered once per session (one LibreOffice run each, and one to read their values)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clirun import invoke, ok
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries

from engine.model_file import ModelFile
from workbook.layout import COVER, HEADER_ROW, SEGMENTS, SHEETS, STATEMENTS, VALUATION, make_layout
from workbook.printing import COMPANY, subtotal_rows
from workbook.textfit import LINE_SPACING, PADDING, column_points, column_width, font_of, lines_needed, text_points

# Pages per sheet, as LibreOffice prints them here (DejaVu Sans standing in for Arial).
PAGES = {
    "report": {
        "Cover": 1,
        "Assumptions": 6,
        "Actuals": 2,
        "Segments": 1,
        "Income Statement": 1,
        "Balance Sheet": 1,
        "Cash Flow": 1,
        "Valuation": 1,
        "Checks": 1,
        "Sources": 10,
        "Engine": 6,
    },
    "extended": {  # years to 2026F, and the Variance sheet of a model file
        "Cover": 1,
        "Assumptions": 9,
        "Actuals": 2,
        "Variance": 1,
        "Segments": 1,
        "Income Statement": 1,
        "Balance Sheet": 1,
        "Cash Flow": 1,
        "Valuation": 1,
        "Checks": 1,
        "Sources": 11,
        "Engine": 5,
    },
}
A4_LANDSCAPE = (841.89, 595.28)  # points


@dataclass
class Rendered:
    xlsx: Path
    pdf: Path
    pages: list[str]  # each page's text (pdftotext -layout)
    sizes: list[tuple[float, float]]  # each page's width and height, points
    values: Any  # the workbook recalculated by LibreOffice, opened with values

    def sheet_pages(self) -> list[str]:
        """The sheet each page prints, from the header every page carries (company, sheet name)."""
        out = []
        for text in self.pages:
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            assert first.startswith(COMPANY), f"a page without the header: {first!r}"
            out.append(first[len(COMPANY) :].strip())
        return out


def page_sizes(pdf: Path, count: int) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(count), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


@pytest.fixture(scope="session")
def rendered(built: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    from workbook.recalc import recalculated_values_of

    folder = tmp_path_factory.mktemp("render")
    model = folder / "model.toml"
    mf = ModelFile.new()
    mf.extend(2026)
    mf.save(model)
    extended = folder / "extended.xlsx"
    ok("build", "--model", model, "-o", extended)
    books = {"report": built, "extended": extended}
    out = {}
    values = recalculated_values_of(list(books.values()))
    for (name, xlsx), wb in zip(books.items(), values, strict=True):
        pdf = folder / f"{name}.pdf"
        ok("pdf", xlsx, "-o", pdf)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
        pages = text.stdout.split("\f")
        pages = pages[:-1] if pages and not pages[-1].strip() else pages
        out[name] = Rendered(xlsx, pdf, pages, page_sizes(pdf, len(pages)), wb)
    return out


# ------------------------------------------------------------------ the page setup (no LibreOffice)


def test_every_sheet_prints_a4_landscape_one_page_wide_with_titles_and_margins(built):
    wb = load_workbook(built)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1, ws.title
        assert ws.print_area.startswith(f"'{ws.title}'!$A$1:"), ws.title
        assert ws.oddHeader.left.text == COMPANY and ws.oddHeader.center.text == "&A", ws.title
        assert ws.oddFooter.right.text == "Page &P of &N", ws.title
    for sheet in (*(s for s, _, _ in STATEMENTS), VALUATION, "Checks"):
        ws = wb[sheet]
        assert ws.freeze_panes == "B4" and ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}", sheet
        assert ws.print_title_cols == "$A:$A", sheet
    assert wb["Engine"].print_title_rows == "$6:$6" and wb["Actuals"].print_title_cols == "$A:$C"


def test_subtotals_are_derived_from_the_line_definitions_and_printed_bold_over_a_rule(built):
    layout = make_layout()
    wb = load_workbook(built)
    expected = {
        SEGMENTS: ["revenue"],
        "Income Statement": ["gross_profit", "operating_profit", "pbt", "net_profit"],
        "Balance Sheet": ["total_assets", "total_cap_liab"],
        "Cash Flow": ["net_operating_cf", "net_investing_cf", "net_financing_cf", "chg_in_cash"],
        VALUATION: [],
    }
    for sheet, keys in expected.items():
        rows = layout.rows_of(sheet)
        found = subtotal_rows(layout.model, rows)
        assert sorted(str(r.key) for r in rows if r.row in found) == sorted(keys), sheet
        ws = wb[sheet]
        for r in rows:
            cell = ws[f"E{r.row}"]
            if r.row in found:
                assert ws[f"A{r.row}"].font.b and cell.font.b and cell.border.top.style == "thin", (sheet, r.label)
            elif r.key is not None:
                assert not cell.font.b and cell.border.top.style is None, (sheet, r.label)


def test_forecast_columns_are_shaded_by_their_heading(built):
    wb = load_workbook(built)
    for sheet in (*(s for s, _, _ in STATEMENTS), VALUATION, COVER):
        rules = [(str(cf.sqref), r.formula) for cf in wb[sheet].conditional_formatting for r in cf.rules]
        assert any(f[0].startswith("RIGHT(") and f[0].endswith(',1)="F"') for _, f in rules), sheet


def test_the_analyst_copys_read_me_prints_with_the_cover(built):
    from workbook.export import readme

    wb = load_workbook(built)
    before = wb[COVER].max_row
    readme(wb)
    ws = wb[COVER]
    assert ws.max_row == before + 1 and ws[f"A{ws.max_row}"].value.startswith("Analyst copy")
    _, _, _, last_row = range_boundaries(ws.print_area.split("!")[-1].replace("$", ""))
    assert last_row == ws.max_row


def test_pdf_refuses_to_overwrite_and_names_a_pdf(built, tmp_path):
    existing = tmp_path / "model.pdf"
    existing.write_bytes(b"mine")
    result = invoke("pdf", built, "-o", existing)
    assert result.exit_code == 2 and "--overwrite" in result.output and len(result.output.strip().splitlines()) == 1
    assert existing.read_bytes() == b"mine"
    assert invoke("pdf", built, "-o", tmp_path / "model.xlsx").exit_code == 2
    assert invoke("pdf", built, "-o", tmp_path / "x.pdf", "--timeout", "0").exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pdf"]


# ------------------------------------------------------------------ the PDF (LibreOffice)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["report", "extended"])
def test_every_page_is_a4_landscape_and_each_sheet_takes_its_recorded_pages(rendered, name):
    r = rendered[name]
    assert r.pdf.read_bytes().startswith(b"%PDF-")
    assert len(r.sizes) == len(r.pages) and all(
        w == pytest.approx(A4_LANDSCAPE[0], abs=1) and h == pytest.approx(A4_LANDSCAPE[1], abs=1) for w, h in r.sizes
    )
    sheets = r.sheet_pages()
    counts = {s: sheets.count(s) for s in dict.fromkeys(sheets)}
    assert list(counts) == [s for s in r.values.sheetnames if r.values[s].sheet_state == "visible"]
    assert counts == PAGES[name]
    assert all(f"Page {i} of {len(sheets)}" in text for i, text in enumerate(r.pages, start=1))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["report", "extended"])
def test_every_sheet_prints_one_page_wide(rendered, name):
    """Each page of a sheet shows its header row's first and last titles (the rows repeated on every page):
    a sheet cut into a left and a right page would miss one of them on one page."""
    r = rendered[name]
    wb = load_workbook(r.xlsx)
    for sheet, text in zip(r.sheet_pages(), r.pages, strict=True):
        ws = wb[sheet]
        titles_at = ws.print_title_rows  # "$3:$3"; the Cover has none (one page): its table's header
        row = int(titles_at.split(":")[0].strip("$")) if titles_at else make_layout().cover.header.row
        _, _, max_col, _ = range_boundaries(ws.print_area.split("!")[-1].replace("$", ""))
        titles = [r.values[sheet].cell(row, c).value for c in range(1, max_col + 1)]
        titles = [str(t) for t in titles if t not in (None, "")]
        assert titles[0] in text and titles[-1] in text, (sheet, titles[0], titles[-1])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["report", "extended"])
def test_no_cell_shows_hashes(rendered, name):
    assert not [i for i, text in enumerate(rendered[name].pages, start=1) if "###" in text]


@pytest.mark.slow
def test_every_check_reads_ok_and_the_master_check_is_at_the_top(rendered):
    values = rendered["report"].values["Checks"]
    checks = make_layout().checks
    assert checks.master_row == 4 and values[checks.master_cell].value == "All checks pass"
    words = [c.value for row in values.iter_rows(min_row=checks.master_row + 1) for c in row[1:]]
    assert words.count("OK") > 70 and "FAIL" not in words and True not in words


def room(ws, values, row: int, col: int, last_col: int, merged: dict[tuple[int, int], tuple[int, int]]) -> float:
    """The points a cell's text may take on one line: its column (or merged columns), and the empty cells
    it overflows into (to the right of a left-aligned text, to the left of a right-aligned one)."""
    if (row, col) in merged:
        first, last = merged[(row, col)]
        return sum(column_points(column_width(ws, get_column_letter(c))) for c in range(first, last + 1)) - PADDING
    width = column_points(column_width(ws, get_column_letter(col)))
    align = ws.cell(row, col).alignment
    if align.wrap_text or align.shrink_to_fit:
        return width - PADDING
    step = -1 if align.horizontal == "right" else 1 if align.horizontal in (None, "general", "left") else 0
    c = col + step
    while step and 1 <= c <= last_col and values.cell(row, c).value in (None, "") and (row, c) not in merged:
        width += column_points(column_width(ws, get_column_letter(c)))
        c += step
    return width - PADDING


@pytest.mark.slow
@pytest.mark.parametrize("name", ["report", "extended"])
@pytest.mark.parametrize("sheet", [COVER, VALUATION])
def test_every_text_cell_of_the_cover_and_the_valuation_fits_its_width(rendered, name, sheet):
    wb = load_workbook(rendered[name].xlsx)
    ws, values = wb[sheet], rendered[name].values[sheet]
    _, _, last_col, last_row = range_boundaries(ws.print_area.split("!")[-1].replace("$", ""))
    merged = {}
    for rng in ws.merged_cells.ranges:
        merged[(rng.min_row, rng.min_col)] = (rng.min_col, rng.max_col)
        for c in range(rng.min_col + 1, rng.max_col + 1):
            merged[(rng.min_row, c)] = (c, c)  # covered: no text, no overflow into it
    clipped = []
    for row in values.iter_rows(min_row=1, max_row=last_row, max_col=last_col):
        for v in row:
            if not isinstance(v.value, str) or not v.value:
                continue
            cell = ws.cell(v.row, v.column)
            size, bold = font_of(cell)
            space = room(ws, values, v.row, v.column, last_col, merged)
            height = ws.row_dimensions[v.row].height
            lines = max(1, int((height - 3) // (size * LINE_SPACING))) if height else 1
            wraps = cell.alignment.wrap_text or (v.row, v.column) in merged
            if wraps:
                need = lines_needed(v.value, space, size, bold)
            else:
                need = 2 if text_points(v.value, size, bold) > space else 1
            if need > (lines if wraps else 1):
                clipped.append(f"{v.coordinate} {v.value!r}: {need} lines in {lines}, {space:.0f} pt")
    assert not clipped, clipped


def test_the_page_counts_name_every_sheet():
    assert list(PAGES["report"]) == list(SHEETS)
