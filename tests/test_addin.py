"""The built SenseTime.xlam: ribbon XML, VBA modules read back with oletools, config, LibreOffice load."""

import io
import re
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from defusedxml import ElementTree
from oletools import olevba
from typer.testing import CliRunner

import addin.ribbon
import engine
from addin.build import build_addin
from addin.vba import ACTIONS, RIBBON_MODULE, UDF_MODULE
from stmodel.cli import app
from workbook.recalc import soffice

NS = {"c": "http://schemas.microsoft.com/office/2006/01/customui"}
UDF_NAMES = [
    "ST_TARGET", "ST_UPSIDE", "ST_RATING", "ST_VALUATION", "ST_LINE",
    "ST_FORECAST", "ST_PEERS", "ST_SENSITIVITY", "ST_DRIVER", "ST_INFO",
]  # fmt: skip


@pytest.fixture(scope="module")
def xlam(tmp_path_factory) -> Path:
    return build_addin(tmp_path_factory.mktemp("addin") / "SenseTime.xlam")


@pytest.fixture(scope="module")
def modules(xlam) -> dict[str, str]:
    parser = olevba.VBA_Parser(str(xlam))
    out = {Path(name).stem: code for _, _, name, code in parser.extract_macros()}
    parser.close()
    return out


def test_custom_ui_parses_and_has_three_buttons(xlam):
    with zipfile.ZipFile(xlam) as z:
        root = ElementTree.fromstring(z.read("customUI/customUI.xml"))
    tabs = root.findall(".//c:tab", NS)
    assert [t.get("label") for t in tabs] == ["SenseTime"]
    buttons = root.findall(".//c:button", NS)
    assert [b.get("label") for b in buttons] == ["Refresh forecasts", "Audit model", "Export analyst copy"]
    assert len({b.get("onAction") for b in buttons}) == 3


def test_every_button_reaches_its_own_python_action(xlam, modules):
    with zipfile.ZipFile(xlam) as z:
        root = ElementTree.fromstring(z.read("customUI/customUI.xml"))
    ribbon = modules[RIBBON_MODULE]
    actions = set()
    for button in root.findall(".//c:button", NS):
        module, sub = button.get("onAction").split(".")
        assert module == RIBBON_MODULE
        body = re.search(rf"Sub {sub}\(control As IRibbonControl\)(.*?)End Sub", ribbon, re.S)
        assert body, f"macro {sub} missing from the VBA project"
        call = re.search(
            r'RunPython "import addin\.ribbon; addin\.ribbon\.(\w+)\(\'" & XLWINGS_VERSION & "\'\)"', body.group(1)
        )
        assert call, body.group(1)
        assert callable(getattr(addin.ribbon, call.group(1)))
        actions.add(call.group(1))
    assert actions == {"refresh", "audit", "export"}


def test_udf_wrappers_are_in_the_vba_project(modules):
    code = modules[UDF_MODULE]
    for name in UDF_NAMES:
        assert re.search(rf"^Function {name}\(", code, re.M), name
        assert f'XLPy.CallUDF("udfs", "{name}"' in code
    assert "Function ST_LINE(item, fiscal_year, Optional drivers)" in code


def config_as_xlwings_reads_it(xlam: Path) -> dict[str, str]:
    """The add-in's config sheet as xlwings' GetConfigFromSheet reads it: every label of column A from A1 to the
    first empty cell (A1 alone when A2 is empty), upper-cased, with column B's value, empty or not."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(xlam) as z:
        shared = [
            "".join(t.text or "" for t in si.iter(f"{main}t"))
            for si in ElementTree.fromstring(z.read("xl/sharedStrings.xml")).iter(f"{main}si")
        ]
        sheet = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    cells = {}
    for c in sheet.iter(f"{main}c"):
        v, inline = c.find(f"{main}v"), c.find(f"{main}is")
        if c.get("t") == "s":
            cells[c.get("r")] = shared[int(v.text)]
        elif c.get("t") == "inlineStr":
            cells[c.get("r")] = "".join(t.text or "" for t in inline.iter(f"{main}t"))
        elif c.get("t") == "b":
            cells[c.get("r")] = "TRUE" if v.text == "1" else "FALSE"
        else:
            cells[c.get("r")] = v.text if v is not None else ""
    cells = {ref: re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), v) for ref, v in cells.items()}
    last = 1
    while cells.get(f"A{last + 1}", ""):
        last += 1
    return {cells[f"A{r}"].upper(): cells.get(f"B{r}", "") for r in range(1, last + 1)}


def test_project_name_and_config_sheet(xlam, modules):
    assert 'Public Const PROJECT_NAME As String = "SenseTime"' in modules["xlwings"]
    assert "RibbonMyAddin" not in modules
    with zipfile.ZipFile(xlam) as z:
        workbook = z.read("xl/workbook.xml").decode()
    assert '<sheet name="SenseTime.conf"' in workbook
    assert "absPath" not in workbook and "felix" not in workbook  # the template author's folder is not shipped
    config = config_as_xlwings_reads_it(xlam)
    assert config == {"UDF MODULES": "udfs"}  # no empty key would hide the user's and directory's config files


def test_interpreter_given_at_build_is_what_getconfig_returns(tmp_path):
    runner = CliRunner()
    out = tmp_path / "SenseTime.xlam"
    result = runner.invoke(app, ["addin", "build", "-o", str(out), "--interpreter", "C:\\envs\\st\\pythonw.exe"])
    assert result.exit_code == 0, result.output
    config = config_as_xlwings_reads_it(out)
    assert config == {"UDF MODULES": "udfs", "INTERPRETER_WIN": "C:\\envs\\st\\pythonw.exe"}  # GetConfig's answer


def test_conda_settings_and_awkward_values_read_back(tmp_path):
    runner = CliRunner()
    out = tmp_path / "SenseTime.xlam"
    odd = "C:\\Mini conda & <co>\\my_x0041_env é"  # XML specials, a space, Excel's _xHHHH_ escape, non-ASCII
    args = ["addin", "build", "-o", str(out), "--conda-path", odd, "--conda-env", "st", "--pythonpath", "D:\\lib"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    config = config_as_xlwings_reads_it(out)
    assert config == {"UDF MODULES": "udfs", "CONDA PATH": odd, "CONDA ENV": "st", "PYTHONPATH": "D:\\lib"}
    wide = "D:\\" + "x" * 400
    assert runner.invoke(app, ["addin", "build", "-o", str(tmp_path / "w.xlam"), "--pythonpath", wide]).exit_code == 0
    with zipfile.ZipFile(tmp_path / "w.xlam") as z:
        width = re.search(r'<col min="2" max="2" width="([\d.]+)"', z.read("xl/worksheets/sheet1.xml").decode())
    assert width and float(width.group(1)) <= 255  # Excel's widest column


@pytest.mark.parametrize(
    ("args", "needs"),
    [
        (["--conda-env", "st"], "--conda-path"),
        (["--interpreter", " "], "--interpreter"),
        (["--interpreter", "C:\\py\\pythonw.exe", "--conda-path", "C:\\conda", "--conda-env", "st"], "one of them"),
    ],
)
def test_settings_that_cannot_work_are_refused(tmp_path, args, needs):
    result = CliRunner().invoke(app, ["addin", "build", "-o", str(tmp_path / "S.xlam"), *args])
    assert result.exit_code == 2 and needs in result.stderr
    assert not (tmp_path / "S.xlam").exists()


def test_module_sources_sit_at_their_stated_offsets(xlam, modules):
    """Decompress each module stream at the MODULEOFFSET the dir stream states (olefile + oletools)."""
    with zipfile.ZipFile(xlam) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    project = olevba.VBA_Project(ole, "", "PROJECT", "VBA/dir")
    project.parse_project_stream()
    list(project.parse_modules())
    seen = set()
    for m in project.modules:
        raw = ole.openstream(f"VBA/{m.streamname}").read()
        text = olevba.decompress_stream(bytearray(raw[m.textoffset :])).decode("cp1252")
        assert text.startswith('Attribute VB_Name = "'), m.name
        seen.add(m.name)
    assert {RIBBON_MODULE, UDF_MODULE, "xlwings"} <= seen
    # MS-OVBA 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF (no performance cache: Excel compiles the source on
    # load), Reserved2 0x00, Reserved3 (2 bytes, ignored), and nothing after the header.
    header = ole.openstream("VBA/_VBA_PROJECT").read()
    assert len(header) == 7
    assert struct.unpack_from("<HHB", header) == (0x61CC, 0xFFFF, 0x00)


def dir_records(xlam: Path) -> list[tuple[int, bytes]]:
    """(Id, data) of every record of the decompressed dir stream (PROJECTVERSION's Size field says 4 for 6 bytes)."""
    with zipfile.ZipFile(xlam) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    raw = bytes(olevba.decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    out, at = [], 0
    while at < len(raw):
        record, size = struct.unpack_from("<HI", raw, at)
        size = 6 if record == 0x0009 else size
        out.append((record, raw[at + 6 : at + 6 + size]))
        at += 6 + size
    assert at == len(raw), f"{len(raw) - at} bytes after the last record"
    return out


def test_vba_project_is_written_as_ms_ovba_specifies(xlam):
    records = dir_records(xlam)
    assert [data for record, data in records if record == 0x0004] == [b"SenseTime"]  # PROJECTNAME
    cookies, name = {}, None
    for record, data in records:
        if record == 0x0019:  # MODULENAME
            name = data.decode("cp1252")
        elif record == 0x002C:  # MODULECOOKIE: "MUST be 0xFFFF" on write
            cookies[name] = struct.unpack("<H", data)[0]
    assert cookies[RIBBON_MODULE] == cookies[UDF_MODULE] == 0xFFFF
    assert records[-1] == (0x0010, b"")  # the Terminator (its Reserved field read as a zero Size) ends the stream
    count = [struct.unpack("<H", data)[0] for record, data in records if record == 0x000F]  # PROJECTMODULES
    assert count == [len(cookies)] and len(cookies) == len([r for r, _ in records if r == 0x0019])
    with zipfile.ZipFile(xlam) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    project = ole.openstream("PROJECT").read().decode("cp1252")
    assert 'Name="SenseTime"' in project.split("\r\n") and "MyAddin" not in project
    workspace = project.split("[Workspace]\r\n", 1)[1]
    assert workspace.endswith("\r\n")
    lines = workspace[:-2].split("\r\n")
    assert lines and all(re.fullmatch(r"\w+=.+", line) for line in lines), lines  # no blank line in the middle
    assert {line.split("=")[0] for line in lines} >= {RIBBON_MODULE, UDF_MODULE, "xlwings"}


def test_a_missing_xlwings_dll_gives_one_message_with_the_fix(modules):
    """Another xlwings in Python means Excel cannot find xlwings64-<version>.dll (error 53): read the VBA that
    every UDF call and ribbon button goes through, and the message it shows."""
    xlwings_vba = modules["xlwings"]
    found = re.search(r"^Function XLPy\(\)\r?\n(.*?)^End Function", xlwings_vba, re.S | re.M)
    assert found
    xlpy = found.group(1)
    assert "On Error GoTo DllMissing" in xlpy.split("XLPyLoadDLL")[0]  # trapped before the DLL is touched
    assert "InStr(errText, XLPyDLLName)" in xlpy and "XlwingsMissing(errText)" in xlpy
    assert xlpy.rstrip().endswith("Err.Raise errNumber, Err.Source, errText")  # any other error passes unchanged
    assert re.search(r'Public Const XLWINGS_VERSION As String = "' + re.escape(xlwings.__version__) + '"', xlwings_vba)
    ribbon = modules[RIBBON_MODULE]
    handler = re.search(r"Public Function XlwingsMissing\(reason As String\) As String(.*?)End Function", ribbon, re.S)
    assert handler
    text = handler.group(1)
    for needed in ('built for xlwings " & XLWINGS_VERSION', "python -m pip show xlwings", 'pip install ""xlwings=="'):
        assert needed in text, needed
    assert "MsgBox XlwingsMissing" in text and "DllMessageShown" in text
    for sub in ACTIONS:
        callback = re.search(rf"Sub {sub}\(control As IRibbonControl\)(.*?)End Sub", ribbon, re.S)
        assert callback
        body = callback.group(1)
        assert "On Error GoTo Failed" in body.split("RunPython")[0] and "MsgBox" in body.split("Failed:")[1]
    assert re.search(r'Public Const ADDIN_VERSION As String = "' + re.escape(engine.__version__) + '"', ribbon)


@pytest.mark.slow
def test_libreoffice_loads_the_add_in_with_its_modules(xlam):
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        cmd = [
            soffice(),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--infilter=Calc MS Excel 2007 VBA XML",
            "--convert-to",
            "ods",
            "--outdir",
            tmp,
            str(xlam),
        ]
        subprocess.run(cmd, capture_output=True, timeout=120, env={"HOME": tmp, "PATH": "/usr/bin:/bin"})
        out = Path(tmp) / "SenseTime.ods"
        assert out.is_file()
        with zipfile.ZipFile(out) as z:
            basic = {n: z.read(n).decode(errors="replace") for n in z.namelist() if n.startswith("Basic/")}
    names = {Path(n).stem for n in basic}
    assert {RIBBON_MODULE, UDF_MODULE, "xlwings"} <= names
    ribbon = next(text for n, text in basic.items() if Path(n).stem == RIBBON_MODULE)
    for sub in ACTIONS:
        assert f"Sub {sub}" in ribbon


def test_cli_builds_and_refuses_bad_paths(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["addin", "build", "-o", str(tmp_path / "SenseTime.xlam")]).exit_code == 0
    bad = runner.invoke(app, ["addin", "build", "-o", str(tmp_path / "no" / "SenseTime.xlam")])
    assert bad.exit_code == 2 and "does not exist" in bad.stderr
    wrong = runner.invoke(app, ["addin", "build", "-o", str(tmp_path / "SenseTime.xlsx")])
    assert wrong.exit_code == 2


class ExcelStandIn:
    """Only Excel can run a button; this records the message box the action would show."""

    def __init__(self):
        self.alerts = []
        self.app = self

    def alert(self, prompt, title=None):
        self.alerts.append((prompt, title))


def test_a_failing_button_shows_one_line():
    book = ExcelStandIn()

    def broken(_):
        raise ValueError("Assumptions!B7: premium: expected a number (fraction), got 'x'\nmore detail")

    message = addin.ribbon.run_action(book, "Refresh forecasts", broken)
    assert message == "Refresh forecasts failed: Assumptions!B7: premium: expected a number (fraction), got 'x'"
    assert book.alerts == [(message, "SenseTime")]


def without_attributes(source: str) -> str:
    return re.sub(r"^Attribute .*\r?\n", "", source, flags=re.M)


# Stand-ins for what XLPy calls in xlwings' module; `Mode` picks the failure XLPyLoadDLL raises.
XLPY_CALLEES = """
Public Const XLWINGS_VERSION As String = "{version}"
Const XLPyDLLName As String = "xlwings64-{version}.dll"
Public Mode As Long
Sub XLPyLoadDLL()
    ' What Excel raises: the Declare's DLL missing (53), a DLL that fails to load (48), xlwings' own LoadLibrary
    ' failure with an interpreter set (1), and an unrelated error (9)
    If Mode = 53 Then Err.Raise 53, , "File not found: xlwings64-{version}.dll"
    If Mode = 48 Then Err.Raise 48, , "Error in loading DLL"
    If Mode = 1 Then Err.Raise 1, , "Could not load xlwings64-{version}.dll from either of the following folders"
    If Mode = 9 Then Err.Raise 9, , "Subscript out of range"
    If Mode = 530 Then Err.Raise 53, , "File not found: C:\\Users\\ana\\SenseTime.conf"
End Sub
Function XLPyCommand()
    XLPyCommand = "pythonw -c serve"
End Function
Function XLPyDLLActivateAuto(result, command, mode)
    result = "the UDF server"
    XLPyDLLActivateAuto = 0
End Function
Function Probe(failure As Long) As String
    Dim server
    Mode = failure
    On Error Resume Next
    server = XLPy()
    Probe = Err.Number & "|" & Err.Description & "|" & server
End Function
"""


def test_the_dll_trap_runs_as_vba(modules):
    """Run the add-in's own XLPy and XlwingsMissing in pyOpenVBA's VBA interpreter, with the DLL calls stood in."""
    from pyopenvba.interpreter import Interpreter, parse_module

    ribbon = without_attributes(modules[RIBBON_MODULE])
    parse_module(ribbon, name=RIBBON_MODULE)  # the whole module compiles
    found = re.search(r"^Function XLPy\(\)\r?\n.*?^End Function", modules["xlwings"], re.S | re.M)
    assert found
    vba = Interpreter()
    # IRibbonControl exists only in Excel: the callbacks are left out, the message function is kept
    callbacks = r"^Sub \w+\(control As IRibbonControl\)\r?\n.*?^End Sub\r?\n"
    vba.add_module(re.sub(callbacks, "", ribbon, flags=re.S | re.M), name=RIBBON_MODULE)
    vba.add_module(XLPY_CALLEES.format(version=xlwings.__version__) + found.group(0), name="xlwings")
    assert vba.run("Probe", [0]) == "0||the UDF server"  # no failure: XLPy returns the server as before
    for failure in (53, 48, 1):
        number, message, _ = str(vba.run("Probe", [failure])).split("|")
        assert number == str(failure)
        assert f"The SenseTime add-in {engine.__version__} was built for xlwings {xlwings.__version__}" in message
        assert "python -m pip show xlwings" in message
        assert f'python -m pip install "xlwings=={xlwings.__version__}"' in message
    assert f"cannot load its DLL (File not found: xlwings64-{xlwings.__version__}.dll)" in str(vba.run("Probe", [53]))
    # any other error passes through unchanged, a missing file that is not the DLL included
    assert vba.run("Probe", [9]) == "9|Subscript out of range|"
    assert vba.run("Probe", [530]) == "53|File not found: C:\\Users\\ana\\SenseTime.conf|"


def test_the_build_refuses_an_xlwings_other_than_the_pinned_one(monkeypatch, tmp_path):
    from engine import versions

    monkeypatch.setattr(versions, "pinned_xlwings", lambda: "0.30.0")
    result = CliRunner().invoke(app, ["addin", "build", "-o", str(tmp_path / "SenseTime.xlam")])
    assert result.exit_code == 2
    assert "needs xlwings 0.30.0" in result.stderr and 'pip install "xlwings==0.30.0"' in result.stderr
    assert not (tmp_path / "SenseTime.xlam").exists()
