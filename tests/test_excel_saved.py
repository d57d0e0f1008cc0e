"""A model saved by Excel with the add-in loaded: each ST_* call stored as `[1]!ST_...(`, a link to the .xlam.

The file is made the way Excel writes it (see `excel_saved`): the sheet XML, an externalLink part with its
own relationships, `externalReferences` in workbook.xml, a workbook relationship and a content type. Audit,
refresh and export must read such calls as the add-in's functions; other external links stay external.
"""

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, unescape

import pytest
from openpyxl import load_workbook
from openpyxl.formula import Tokenizer
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from typer.testing import CliRunner

from stmodel.cli import app
from workbook.audit import audit
from workbook.build import build_workbook, save_atomic
from workbook.export import export_analyst_copy
from workbook.formulas import scan, without_addin_prefix
from workbook.layout import ENGINE, REFRESHED
from workbook.links import addin_books, is_addin, read_addin_calls
from workbook.reader import grid_of, read_engine
from workbook.recalc import recalculated_values
from workbook.refresh import refresh_file
from workbook.verify import error_cells

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
LINK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
ADDIN = r"file:///C:\Users\ana\AppData\Roaming\Microsoft\AddIns\SenseTime.xlam"
BUDGET = "budget.xlsx"
# Added to the model's own three ST_ calls (the Cover's add-in panel): three more, each with a native twin, one
# of them an array formula (Excel stores a spilled or Ctrl+Shift+Enter call as `<f t="array" ref=...>`).
EXTRA = {"H4": "=IFERROR(ST_UPSIDE(Drivers),Upside)", "H5": '=IFERROR(st_line("Net Profit","2024F",Drivers),0)'}
ARRAY = {"H9": "=IFERROR(ST_TARGET(Drivers),TargetPrice)"}

# Through link 2 (budget.xlsx): a cell, a name, and a function that is not the add-in's though named like one.
BUDGET_CELLS = {"H6": "=[2]Sheet1!$A$1", "H7": "=[2]!Rate", "H8": "=[2]!ST_TARGET(Drivers)"}


def _prefixed(formula: re.Match[str]) -> str:
    """Excel's stored form of an add-in call, `ST_TARGET(` -> `[1]!ST_TARGET(` (openpyxl's Tokenizer finds them);
    an array formula's attributes (`<f t="array" ref=...>`, how Excel stores a spilled call) are kept."""
    tok = Tokenizer("=" + unescape(formula.group(2)))
    for t in tok.items:
        if t.type == "FUNC" and t.subtype == "OPEN" and t.value.upper().startswith("ST_"):
            t.value = "[1]!" + t.value
    return f"<f{formula.group(1)}>{escape(tok.render()[1:])}</f>"


def _link_part(book: str) -> str:
    head = f'<externalLink xmlns="{MAIN}"><externalBook xmlns:r="{DOC_REL}" r:id="rId1">'
    return f"{head}{book}</externalBook></externalLink>"


# The add-in's link names the functions called through it; another workbook's, its sheets and cached cells.
ADDIN_LINK = _link_part(
    "<definedNames>"
    + "".join(f'<definedName name="{n}"/>' for n in ("ST_RATING", "ST_TARGET", "ST_UPSIDE", "ST_VALUATION", "ST_LINE"))
    + "</definedNames>"
)
BUDGET_LINK = _link_part(
    '<sheetNames><sheetName val="Sheet1"/></sheetNames><sheetDataSet><sheetData sheetId="0"><row r="1">'
    '<cell r="A1"><v>5</v></cell></row></sheetData></sheetDataSet>'
)


def _insert(xml: str, before: str, text: str) -> str:
    """`text` inserted before the one occurrence of `before` in a part openpyxl wrote."""
    assert xml.count(before) == 1, before
    return xml.replace(before, text + before)


def excel_saved(src: Path, dst: Path, budget: bool = False) -> Path:
    """`src` rewritten as Excel saves it with the add-in loaded (link 1); `budget` adds link 2 to another workbook.

    Excel writes default namespaces; so does this (string edits of openpyxl's known output, not an XML
    library that would invent prefixes).
    """
    links = [(ADDIN, ADDIN_LINK)] + ([(BUDGET, BUDGET_LINK)] if budget else [])
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = {n: zin.read(n).decode() for n in zin.namelist()}
        rels, types = "xl/_rels/workbook.xml.rels", "[Content_Types].xml"
        first = 1 + max(int(i) for i in re.findall(r'Id="rId(\d+)"', parts[rels]))
        refs = ""
        for n, (target, part) in enumerate(links, start=1):
            rid, name = f"rId{first + n - 1}", f"externalLinks/externalLink{n}.xml"
            parts[f"xl/{name}"] = part
            parts[f"xl/externalLinks/_rels/externalLink{n}.xml.rels"] = (
                f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{DOC_REL}/externalLinkPath" '
                f'Target="{escape(target)}" TargetMode="External"/></Relationships>'
            )
            relationship = f'<Relationship Id="{rid}" Type="{DOC_REL}/externalLink" Target="{name}"/>'
            parts[rels] = _insert(parts[rels], "</Relationships>", relationship)
            parts[types] = _insert(
                parts[types], "</Types>", f'<Override PartName="/xl/{name}" ContentType="{LINK_TYPE}"/>'
            )
            refs += f'<externalReference r:id="{rid}"/>'
        parts["xl/workbook.xml"] = _insert(
            parts["xl/workbook.xml"], "<definedNames>", f"<externalReferences>{refs}</externalReferences>"
        )
        for name, xml in parts.items():
            if name.startswith("xl/worksheets/sheet"):
                xml = re.sub(r"<f((?: [^>]*)?)>([^<]*)</f>", _prefixed, xml)
            zout.writestr(name, xml)
    return dst


def _model(folder: Path, budget: bool = False) -> Path:
    """A built model with the EXTRA cells (and, with `budget`, the BUDGET_CELLS), in Excel's saved form."""
    wb = build_workbook()
    for cell, formula in {**EXTRA, **(BUDGET_CELLS if budget else {})}.items():
        wb["Cover"][cell] = formula
    for cell, formula in ARRAY.items():
        wb["Cover"][cell] = ArrayFormula(cell, formula)
    path = folder / "openpyxl.xlsx"
    save_atomic(wb, path)
    return excel_saved(path, folder / "saved by Excel.xlsx", budget=budget)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return _model(tmp_path_factory.mktemp("excel"))


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8", "replace") for n in z.namelist()}


def _keys(findings) -> set[tuple[str, str, str, str]]:
    keys = [(f.severity, f.sheet, f.cell, f.rule) for f in findings]
    assert len(set(keys)) == len(keys), f"a finding is reported twice: {sorted(keys)}"
    return set(keys)


def test_the_file_is_in_excels_form(saved):
    """The fixture itself: what the other tests rely on is there."""
    parts, plain = _parts(saved), _parts(saved.with_name("openpyxl.xlsx"))
    cover = parts["xl/worksheets/sheet1.xml"].upper()  # st_line kept in lower case: the reading ignores case
    calls = plain["xl/worksheets/sheet1.xml"].upper().count("ST_")
    assert calls == 6 and cover.count("[1]!ST_") == calls == cover.count("ST_")  # each call prefixed, none bare
    reference = re.search(
        r'</sheets><externalReferences><externalReference r:id="(rId\d+)"/></externalReferences><definedNames>',
        parts["xl/workbook.xml"],
    )
    assert reference is not None
    assert (
        f'<Relationship Id="{reference.group(1)}" Type="{DOC_REL}/externalLink" '
        'Target="externalLinks/externalLink1.xml"/>' in parts["xl/_rels/workbook.xml.rels"]
    )
    assert LINK_TYPE in parts["[Content_Types].xml"]
    assert ADDIN in parts["xl/externalLinks/_rels/externalLink1.xml.rels"]
    assert addin_books(load_workbook(saved)) == {"[1]"}


def test_scan_reads_a_call_through_a_link_as_openpyxls_tokenizer_does():
    formula = '=IFERROR([1]!ST_TARGET(Drivers),"x")+[2]!Rate+[2]Sheet1!A1'
    tokens = [t for t in scan(formula) if t.kind != "other"]
    assert [(t.kind, t.text, t.book) for t in tokens] == [
        ("func", "IFERROR", None),
        ("func", "[1]!ST_TARGET", "[1]"),
        ("name", "Drivers", None),
        ("string", '"x"', None),
        ("qname", "[2]!Rate", "[2]"),
        ("ref", "[2]Sheet1!A1", "[2]"),
    ]  # no number 1 or 2 typed inside the formula
    assert tokens[1].function_name() == "ST_TARGET" and not tokens[1].is_udf  # the add-in's only once read as such
    calls = [t.value for t in Tokenizer(formula).items if t.type == "FUNC" and t.subtype == "OPEN"]
    assert calls == ["IFERROR(", "[1]!ST_TARGET("]
    assert without_addin_prefix(formula, {"[1]"}) == '=IFERROR(ST_TARGET(Drivers),"x")+[2]!Rate+[2]Sheet1!A1'
    assert without_addin_prefix(formula, {"[2]"}) == formula  # link 2 is not the add-in: nothing to read
    assert without_addin_prefix("=[1]!Other(1)", {"[1]"}) == "=[1]!Other(1)"  # only ST_ functions are ours


@pytest.mark.parametrize(
    ("target", "addin"),
    [
        (ADDIN, True),
        ("SenseTime.xlam", True),
        (r"\\server\share\SenseTime v2.XLAM", True),
        ("file:///Users/ana/Library/old.xla", True),
        (BUDGET, False),
        ("file:///C:/models/SenseTime.xlsm", False),
        ("", False),
    ],
)
def test_an_add_in_is_known_by_its_file_type(target, addin):
    assert is_addin(target) is addin


def test_audit_reads_the_calls_as_the_add_ins(saved):
    before = _keys(audit(saved.with_name("openpyxl.xlsx")))  # the same model as openpyxl wrote it
    after = _keys(audit(saved))
    assert after - before == {("info", "(links)", "[1]", "addin-reference")}
    assert before - after == set()
    assert not [k for k in after if k[0] != "info"]
    result = CliRunner().invoke(app, ["audit", str(saved)])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output and "SenseTime.xlam" in result.output


def test_read_addin_calls_rewrites_cells_and_names(saved):
    wb = load_workbook(saved)  # links kept, as the audit and the export load it
    wb.defined_names["AddinTarget"] = DefinedName("AddinTarget", attr_text="[1]!ST_TARGET(Drivers)")
    assert read_addin_calls(wb) == 7  # six cells (one an array formula) and the name
    assert wb["Cover"]["B37"].value == '=IFERROR(ST_TARGET(Drivers),"needs the SenseTime add-in")'
    assert wb.defined_names["AddinTarget"].attr_text == "ST_TARGET(Drivers)"
    assert read_addin_calls(wb) == 0


def test_another_workbook_is_still_an_external_link(tmp_path):
    path = _model(tmp_path, budget=True)
    findings = audit(path)
    keys = _keys(findings)
    assert {k for k in keys if k[0] == "error"} == {
        ("error", "Cover", "H6", "external-link"),
        ("error", "Cover", "H7", "external-link"),
        ("error", "Cover", "H8", "external-link"),
    }
    assert all(BUDGET in f.message for f in findings if f.rule == "external-link")
    assert ("info", "(links)", "[1]", "addin-reference") in keys and (
        "info",
        "(links)",
        "[2]",
        "addin-reference",
    ) not in keys
    assert CliRunner().invoke(app, ["audit", str(path)]).exit_code == 1


def test_refresh_keeps_excels_form(saved, tmp_path):
    path = tmp_path / "refreshed.xlsx"
    path.write_bytes(saved.read_bytes())
    result = CliRunner().invoke(app, ["refresh", str(path)])
    assert result.exit_code == 0, result.output
    assert "HK$2.70" in result.output
    wb = load_workbook(path)
    assert str(read_engine(grid_of(wb[ENGINE])).status[REFRESHED]).endswith("UTC")
    assert wb["Cover"]["B37"].value == '=IFERROR([1]!ST_TARGET(Drivers),"needs the SenseTime add-in")'
    parts = _parts(path)  # the link Excel needs to find the add-in is still there
    assert ADDIN in parts["xl/externalLinks/_rels/externalLink1.xml.rels"]
    assert "<externalReference " in parts["xl/workbook.xml"] and LINK_TYPE in parts["[Content_Types].xml"]
    assert not [k for k in _keys(audit(path)) if k[0] != "info"]


@pytest.mark.slow
def test_refreshed_file_opens_in_libreoffice(saved, tmp_path):
    path = tmp_path / "refreshed.xlsx"
    path.write_bytes(saved.read_bytes())
    refresh_file(path)
    values = recalculated_values(path)
    assert error_cells(values) == []
    (sheet, cell), *_ = values.defined_names["TargetPrice"].destinations
    assert values[sheet][cell.replace("$", "")].value == 2.7


@pytest.mark.slow
def test_export_replaces_the_calls_and_drops_the_link(saved, tmp_path):
    out = tmp_path / "analyst copy.xlsx"
    result = CliRunner().invoke(app, ["export", str(saved), "-o", str(out)])
    assert result.exit_code == 0, result.output
    parts = _parts(out)
    assert not [n for n in parts if "externalLink" in n]
    assert not [n for n, text in parts.items() if re.search(r"\[\d+\]!|externalLink|externalReference", text)]
    wb = load_workbook(out)
    assert wb["Cover"]["B37"].value == '=IFERROR(TargetPrice,"needs the SenseTime add-in")'
    assert wb["Cover"]["H4"].value == "=IFERROR(Upside,Upside)"
    assert wb["Cover"]["H5"].value == "=IFERROR('Income Statement'!$F$18,0)"
    values = recalculated_values(out)
    assert error_cells(values) == []
    (sheet, cell), *_ = values.defined_names["TargetPrice"].destinations
    assert values[sheet][cell.replace("$", "")].value == 2.7
    assert values["Cover"]["B37"].value == 2.7
    assert not [k for k in _keys(audit(out)) if k[0] == "error"]


@pytest.mark.slow
def test_export_with_another_workbook_keeps_its_values_only(tmp_path):
    path = _model(tmp_path, budget=True)
    out = tmp_path / "analyst copy.xlsx"
    export_analyst_copy(path, out)
    parts = _parts(out)
    assert not [n for n in parts if "externalLink" in n]
    assert not re.findall(r"<f>[^<]*\[", parts["xl/worksheets/sheet1.xml"])
    wb = load_workbook(out)
    assert wb["Cover"]["B37"].value == '=IFERROR(TargetPrice,"needs the SenseTime add-in")'
    for cell, formula in BUDGET_CELLS.items():  # no value cached in the file: empty, with the formula and its file
        assert wb["Cover"][cell].value is None
        assert wb["Cover"][cell].comment.text == f"Was {formula} ([2] = {BUDGET})"
