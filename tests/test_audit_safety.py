"""Issue 13 (points 3, 4, 5, 11, and the auditor's side of 6): a workbook LibreOffice or Excel saved without
edits audits clean; a workbook that is not the model is refused by every command that reads one; a cleared
formula is an error without recalculation; macros are reported; formulas that reach outside the workbook
are errors wherever they are, and the analyst copy never carries one.
"""

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from typer.testing import CliRunner

from stmodel.cli import app
from workbook.audit import audit
from workbook.formulas import scan
from workbook.layout import YEAR_COLUMN, make_layout

Key = tuple[str, str, str, str]
NOT_RECALCULATED = ("info", "Checks", "", "not-recalculated")
LINK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"


def keys(findings) -> set[Key]:
    out = [(f.severity, f.sheet, f.cell, f.rule) for f in findings]
    assert len(set(out)) == len(out), f"a finding is reported twice: {sorted(out)}"
    return set(out)


def cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def tamper(built: Path, path: Path, edit) -> Path:
    wb = load_workbook(built)
    edit(wb)
    wb.save(path)
    return path


def add_parts(src: Path, dst: Path, parts: dict[str, bytes], types: str = "", workbook_xml=None) -> Path:
    """A copy of `src` with extra zip members, extra [Content_Types].xml entries, and workbook.xml edited."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml" and types:
                data = data.replace(b"</Types>", types.encode() + b"</Types>")
            if info.filename == "xl/workbook.xml" and workbook_xml:
                data = workbook_xml(data)
            zout.writestr(info, data)
        for name, data in parts.items():
            zout.writestr(name, data)
    return dst


# ------------------------------------------------------------------ 3. LibreOffice's and Excel's spellings


def respelt(formula: str) -> str:
    """The formula as LibreOffice or Excel may write it, meaning the same: function names in lower case
    (`_xlfn.` before IFERROR), TRUE as TRUE(), names in another case, sheet names quoted, spaces."""
    out = []
    for t in scan(formula):
        if t.kind == "func":
            out.append(("_xlfn." if t.upper == "IFERROR" else "") + t.text.lower())
        elif t.kind == "name" and t.upper in ("TRUE", "FALSE"):
            out.append(t.upper + "()")
        elif t.kind == "name":
            out.append(t.text.swapcase())
        elif t.kind == "ref" and t.sheet and not t.text.startswith("'"):
            out.append(f"'{t.sheet}'!" + t.text.split("!", 1)[1].lower())
        elif t.text == ",":
            out.append(", ")
        else:
            out.append(t.text)
    return "=" + "".join(out)


# The first engine check (Revenue 2020A): `=IF(IF(ISBLANK(Engine!B11),TRUE,...),"OK","FAIL")`, a TRUE to respell.
ENGINE_CHECK = f"{YEAR_COLUMN['2020A']}{make_layout().checks.engine_rows['revenue']}"


def test_formulas_respelt_as_libreoffice_and_excel_save_them_audit_clean(built, tmp_path):
    changed = []

    def edit(wb):
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and c.value.startswith("="):
                        new = respelt(c.value)
                        if new != c.value:
                            changed.append(c.coordinate)
                            c.value = new

    path = tamper(built, tmp_path / "respelt.xlsx", edit)
    assert len(changed) > 500  # nearly every formula of the model is written differently
    wb = load_workbook(path)
    assert "TRUE()" in wb["Checks"][ENGINE_CHECK].value and "st_target(" in wb["Cover"]["B37"].value
    assert keys(audit(path)) == {NOT_RECALCULATED}


def test_a_respelt_formula_that_means_something_else_is_still_caught(built, tmp_path):
    def edit(wb):
        wb["Checks"][ENGINE_CHECK] = respelt(wb["Checks"][ENGINE_CHECK].value).replace("TRUE()", "FALSE()")

    assert keys(audit(tamper(built, tmp_path / "false.xlsx", edit))) == {
        ("error", "Checks", ENGINE_CHECK, "formula-changed"),
        NOT_RECALCULATED,
    }


@pytest.mark.slow
def test_the_model_recalculated_by_libreoffice_audits_clean(tmp_path):
    model, recalculated, again = tmp_path / "m.xlsx", tmp_path / "r.xlsx", tmp_path / "rr.xlsx"
    assert cli("build", "-o", model)[0] == 0
    assert cli("recalc", model, "-o", recalculated)[0] == 0
    assert cli("recalc", recalculated, "-o", again)[0] == 0  # LibreOffice reading its own output
    formulas = load_workbook(recalculated)
    # What LibreOffice rewrote (the test is only worth something while it does).
    assert formulas["Checks"][ENGINE_CHECK].value.startswith("=IF(IF(ISBLANK(Engine!B11),TRUE(),")
    assert "st_target(Drivers)" in formulas["Cover"]["B37"].value
    for path in (recalculated, again):
        code, output = cli("audit", path)
        assert code == 0, output
        assert " ".join(output.split()).endswith("0 errors, 0 warnings, 6 info"), output  # the table wraps


# ------------------------------------------------------------------ 4. what is not the model is refused


@pytest.fixture
def budget(tmp_path) -> Path:
    """An ordinary budget spreadsheet: figures, formulas, and even a sheet called Assumptions."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws.append(["Item", "Q1", "Q2", "Total"])
    ws.append(["Rent", 1200, 1200, "=B2+C2"])
    ws.append(["Salaries", 5000, 5200, "=B3+C3"])
    ws.append(["Total", "=SUM(B2:B3)", "=SUM(C2:C3)", "=SUM(D2:D3)"])
    wb.create_sheet("Assumptions").append(["Inflation", 0.03])
    wb.defined_names["Inflation"] = DefinedName("Inflation", attr_text="Assumptions!$B$1")
    path = tmp_path / "budget.xlsx"
    wb.save(path)
    return path


MISSING = (
    "not a SenseTime model workbook "
    "(missing: sheet 'Income Statement', sheet 'Balance Sheet', sheet 'Cash Flow', name 'Drivers')"
)


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "{book}"],
        ["audit", "{book}", "--recalc"],
        ["export", "{book}", "-o", "{out}"],
        ["refresh", "{book}"],
        ["refresh", "{book}", "-o", "{out}"],
        ["recalc", "{book}", "-o", "{out}"],
        ["simulate", "-n", "100", "--workbook", "{book}"],
    ],
    ids=lambda a: " ".join(a[:3]),
)
def test_every_command_that_reads_a_workbook_refuses_another_one(budget, args):
    before = budget.read_bytes()
    out = budget.with_name("out.xlsx")
    code, output = cli(*(a.format(book=budget, out=out) for a in args))
    assert code == 2, output
    assert one_line(output).endswith(f"{budget}: {MISSING}")
    assert budget.read_bytes() == before and not out.exists()
    assert sorted(p.name for p in budget.parent.iterdir()) == ["budget.xlsx"]


def test_the_model_without_its_drivers_range_is_not_the_model(built, tmp_path):
    path = tamper(built, tmp_path / "no drivers.xlsx", lambda wb: wb.defined_names.pop("Drivers"))
    code, output = cli("audit", path)
    assert code == 2 and one_line(output).endswith("not a SenseTime model workbook (missing: name 'Drivers')")


# ------------------------------------------------------------------ 5. a cleared row, without recalculation


def test_a_cleared_row_is_an_error_at_each_of_its_cells(built, tmp_path):
    row = next(r.row for r in make_layout().rows_of("Income Statement") if r.key == "gross_profit")

    def edit(wb):
        for col in YEAR_COLUMN.values():
            wb["Income Statement"][f"{col}{row}"] = None

    path = tamper(built, tmp_path / "cleared.xlsx", edit)
    cells = [f"{col}{row}" for col in YEAR_COLUMN.values()]
    assert keys(audit(path)) == {("error", "Income Statement", c, "missing-formula") for c in cells} | {
        NOT_RECALCULATED
    }
    code, output = cli("audit", path)
    assert code == 1 and all(f"Income Statement!{c}" in output for c in cells), output


def test_a_cleared_formula_in_a_table_of_another_shape_is_found_too(built, tmp_path):
    sheet, cell = make_layout().homes[("target_price", None)]
    path = tamper(built, tmp_path / "cleared.xlsx", lambda wb: wb[sheet].__setitem__(cell, None))
    assert ("error", sheet, cell, "missing-formula") in keys(audit(path))


# ------------------------------------------------------------------ 6. macros are reported


VBA_TYPES = '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
MACRO_SHEET = (
    b'<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    b'<sheetData><row r="1"><c r="A1"><f>EXEC("calc")</f></c></row></sheetData></xm:macrosheet>'
)


def test_a_vba_project_and_a_macro_sheet_are_findings(built, tmp_path):
    path = add_parts(
        built,
        tmp_path / "macros.xlsm",
        {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really a VBA project", "xl/macrosheets/sheet1.xml": MACRO_SHEET},
        VBA_TYPES
        + '<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/>',
    )
    assert keys(audit(path)) == {
        ("warning", "(file)", "xl/vbaProject.bin", "macros"),
        ("error", "(file)", "xl/macrosheets/sheet1.xml", "macros"),
        NOT_RECALCULATED,
    }


@pytest.mark.slow
def test_export_drops_the_vba_project_and_says_so(built, tmp_path):
    source = add_parts(built, tmp_path / "model.xlsm", {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"}, VBA_TYPES)
    out = tmp_path / "copy.xlsx"
    code, output = cli("export", source, "-o", out)
    assert code == 0, output
    assert "removed the VBA project (xl/vbaProject.bin)" in output
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()]
        assert b"macroEnabled" not in z.read("[Content_Types].xml")


# ------------------------------------------------------------------ 11. formulas that reach outside the workbook


DANGEROUS = {
    "H20": '=WEBSERVICE("http://example.com/?q=1")',
    "H21": '=_xlfn.FILTERXML(H20,"//a")',
    "H22": '=CALL("kernel32","WinExec","JCJ","calc",0)',
    "H23": '=REGISTER.ID("kernel32","WinExec")',
    "H24": '=HYPERLINK("http://example.com","click")',
    "H25": "=cmd|'/c calc'!A0",
    "H26": "=_xludf.MyMacro()",
    "H27": '=rtd("some.server",,"x")',
}
ARRAY, COLUMN_A, FORMAT, VALIDATED = "H28", "A50", "H30", "H31"


def dangerous_edit(wb) -> None:
    cover = wb["Cover"]
    for cell, formula in DANGEROUS.items():
        cover[cell] = formula
    cover[ARRAY] = ArrayFormula(ARRAY, '=HYPERLINK("http://example.com/array")')
    cover[COLUMN_A] = '=WEBSERVICE("http://example.com/a")'  # column A, where the labels are
    wb.defined_names["Leak"] = DefinedName("Leak", attr_text='WEBSERVICE("http://example.com/name")')
    cover["H29"] = "=Leak"
    cover.conditional_formatting.add(FORMAT, FormulaRule(formula=['ISNUMBER(WEBSERVICE("http://example.com/cf"))']))
    validation = DataValidation(type="list", formula1='WEBSERVICE("http://example.com/dv")')
    validation.add(VALIDATED)
    cover.add_data_validation(validation)


def test_formulas_that_reach_outside_are_errors_wherever_they_are(built, tmp_path):
    path = tamper(built, tmp_path / "dangerous.xlsx", dangerous_edit)
    found = keys(audit(path))
    cells = [*DANGEROUS, ARRAY, COLUMN_A, FORMAT, VALIDATED]
    assert {k for k in found if k[3] == "dangerous-content"} == {
        *(("error", "Cover", c, "dangerous-content") for c in cells),
        ("error", "(names)", "Leak", "dangerous-content"),
    }
    # Nothing else is an error: the add-in's own ST_ calls (Cover B37:B39) are not dangerous.
    assert {k for k in found if k[0] == "error" and k[3] != "dangerous-content"} == set()
    assert ("info", "Cover", COLUMN_A, "formula-outside-template") in found
    code, output = cli("audit", path)
    assert code == 1 and "WEBSERVICE fetches a web address" in output


# Python in Excel, Microsoft's cloud functions, the Excel 4.0 macro functions usable in names (a name holding
# `EXEC(...)` runs when a cell uses it), and ST_ names the add-in does not define.
REACHING = {
    "PY": '=_xlfn._xlws.PY("import os",0)',
    "TRANSLATE": '=_xlfn.TRANSLATE("a","en","fr")',
    "DETECTLANGUAGE": '=_xlfn.DETECTLANGUAGE("bonjour")',
    "COPILOT": '=_xlfn.COPILOT("summarise",B2:B9)',
    "EVALUATE": '=EVALUATE("1+1")',
    "RUN": '=RUN("Macro1")',
    "EXEC": '=EXEC("calc.exe")',
    "FOPEN": '=FOPEN("C:\\x.bat",3)',
    "FWRITE": '=FWRITE(1,"x")',
    "FWRITELN": '=FWRITELN(1,"x")',
    "FREAD": "=FREAD(1,10)",
    "FREADLN": "=FREADLN(1)",
    "FCLOSE": "=FCLOSE(1)",
    "FILES": '=FILES("C:\\*.*")',
    "DIRECTORY": '=DIRECTORY("C:\\")',
    "FILE.DELETE": '=FILE.DELETE("C:\\x.txt")',
    "UNREGISTER": "=UNREGISTER(1)",
    "SEND.KEYS": '=SEND.KEYS("%{F4}")',
    "SEND.MAIL": '=SEND.MAIL("a@example.com","subject")',
    "INITIATE": '=INITIATE("cmd","/c calc")',
    "ON.TIME": '=ON.TIME(NOW(),"Macro1")',
    "OPEN": '=OPEN("http://example.com/x.xlsx")',
    "ST_EVIL": "=_xludf.ST_EVIL(1)",
    "ST_EVIL2": "=st_evil2(Drivers)",
}


def reaching_edit(wb) -> None:
    for row, formula in enumerate(REACHING.values(), start=20):
        wb["Cover"][f"J{row}"] = formula
        wb.defined_names[f"Reach{row}"] = DefinedName(f"Reach{row}", attr_text=formula[1:])


def test_python_cloud_functions_and_excel4_macro_functions_are_errors_in_cells_and_names(built, tmp_path):
    findings = audit(tamper(built, tmp_path / "reaching.xlsx", reaching_edit))
    dangerous = {(f.sheet, f.cell): f.message for f in findings if f.rule == "dangerous-content"}
    assert all(f.severity == "error" for f in findings if f.rule == "dangerous-content")
    for row, name in enumerate(REACHING, start=20):
        function = name.rstrip("2") if name.startswith("ST_") else name
        for where in (("Cover", f"J{row}"), ("(names)", f"Reach{row}")):
            assert where in dangerous, f"{name} at {where} is not reported"
            assert function.upper() in dangerous[where], dangerous[where]


def test_only_the_add_ins_own_st_functions_are_the_models():
    import udfs
    from workbook.formulas import reaches_outside
    from workbook.natives import ADDIN_FUNCTIONS

    assert frozenset(udfs.__all__) == ADDIN_FUNCTIONS
    for own in ("=ST_TARGET(Drivers)", "=_xludf.ST_TARGET(Drivers)", '=IFERROR(st_line("Revenue","2024F",Drivers),0)'):
        assert reaches_outside(list(scan(own))) is None, own
    for other in ("=ST_EVIL(1)", "=_xludf.ST_EVIL(1)", "=1+st_evil(Drivers)", "=_xludf.STX(1)"):
        assert reaches_outside(list(scan(other))), other


def test_the_add_ins_names_are_read_without_importing_xlwings():
    # Importing udfs imports xlwings (a third of a second): the audit and the export read the names only.
    import subprocess
    import sys

    code = (
        "import sys; from workbook.formulas import reaches_outside, scan; "
        "assert reaches_outside(list(scan('=ST_EVIL(1)'))); assert reaches_outside(list(scan('=ST_TARGET(Drivers)'))) "
        "is None; assert 'udfs' not in sys.modules and 'xlwings' not in sys.modules, sorted(sys.modules)"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_an_st_function_the_add_in_lacks_is_an_error_in_excels_saved_form(tmp_path):
    from test_excel_saved import excel_saved

    from workbook.build import build_workbook, save_atomic

    wb = build_workbook()
    wb["Cover"]["H40"] = "=ST_EVIL(Drivers)"
    save_atomic(wb, tmp_path / "openpyxl.xlsx")
    path = excel_saved(tmp_path / "openpyxl.xlsx", tmp_path / "saved.xlsx")
    with zipfile.ZipFile(path) as z:
        assert b"[1]!ST_EVIL(Drivers)" in z.read("xl/worksheets/sheet1.xml")
    errors = {(f.sheet, f.cell, f.rule) for f in audit(path) if f.severity == "error"}
    assert errors == {("Cover", "H40", "dangerous-content")}


@pytest.mark.slow
def test_the_analyst_copy_drops_python_cloud_and_excel4_functions_even_with_force(built, tmp_path):
    source = tamper(built, tmp_path / "reaching.xlsx", reaching_edit)
    out = tmp_path / "copy.xlsx"
    code, output = cli("export", source, "-o", out, "--force")
    assert code == 0, output
    assert "removed Cover!J21 (TRANSLATE sends text to Microsoft's translation service)" in output
    with zipfile.ZipFile(out) as z:
        xml = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    formulas = re.findall(r"<(?:f|formula|formula1|definedName)\b[^>]*>([^<]*)<", xml)
    assert formulas, "the copy's formulas were not found"
    assert not [f for f in formulas if "TRANSLATE" in f.upper()]
    pattern = "|".join(re.escape(f"{name}(") for name in REACHING)
    assert [f for f in formulas if re.search(pattern, f, re.I)] == []
    copy = load_workbook(out)
    assert not [n for n in copy.defined_names if n.startswith("Reach")]


def test_a_dde_link_that_starts_a_program_is_refused(built, tmp_path):
    link = (
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<ddeLink ddeService="cmd" ddeTopic="/c calc"><ddeItems><ddeItem name="A0" advise="1"/></ddeItems>'
        b"</ddeLink></externalLink>"
    )
    path = add_parts(
        built,
        tmp_path / "dde.xlsx",
        {"xl/externalLinks/externalLink1.xml": link},
        f'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="{LINK_TYPE}"/>',
    )
    code, output = cli("audit", path)
    assert code == 2
    assert "DDE cmd|/c calc" in one_line(output) and "refused" in output


def with_cached_text(src: Path, dst: Path, cell: str, text: str) -> Path:
    """A copy whose Cover `cell` caches `text` as its result (a hostile file may cache anything)."""

    def edit(data: bytes) -> bytes:
        pattern = rf'<c r="{cell}">(<f>.*?</f>)<v ?/>(</c>)'.encode()
        out, n = re.subn(pattern, rb'<c r="' + cell.encode() + rb'" t="str">\1<v>' + text.encode() + rb"</v>\2", data)
        assert n == 1
        return out

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edit(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return dst


@pytest.mark.slow
@pytest.mark.parametrize("force", [False, True])
def test_the_analyst_copy_never_carries_a_formula_that_reaches_outside(built, tmp_path, force):
    tampered = tamper(built, tmp_path / "tampered.xlsx", dangerous_edit)
    # H21's cached result is a DDE formula as text: the copy keeps it as text, never as a formula.
    source = with_cached_text(tampered, tmp_path / "dangerous.xlsx", "H21", "=cmd|'/c calc'!A0")
    out = tmp_path / "copy.xlsx"
    code, output = cli("export", source, "-o", out, *(["--force"] if force else []))
    assert code == 0, output
    assert "removed Cover!H20 (WEBSERVICE fetches a web address)" in output
    assert "removed the defined name LEAK" in output
    with zipfile.ZipFile(out) as z:
        xml = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    formulas = re.findall(r"<(?:f|formula|formula1|definedName)\b[^>]*>([^<]*)<", xml)
    assert formulas, "the copy's formulas were not found"
    pattern = r"WEBSERVICE|FILTERXML|CALL\(|REGISTER|HYPERLINK|RTD\(|\||MYMACRO"
    assert [f for f in formulas if re.search(pattern, f, re.I)] == []
    copy = load_workbook(out)
    assert copy["Cover"]["H20"].value is None  # no cached value in the source: nothing to keep
    assert copy["Cover"]["H20"].comment.text.startswith('Was =WEBSERVICE("http://example.com/?q=1")')
    assert "Leak" not in copy.defined_names
    assert (copy["Cover"]["H21"].value, copy["Cover"]["H21"].data_type) == ("=cmd|'/c calc'!A0", "s")
