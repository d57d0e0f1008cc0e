"""The built SenseTime.xlam: ribbon XML, VBA modules read back with oletools, config, LibreOffice load."""

import io
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

import olefile
import pytest
from defusedxml import ElementTree
from oletools import olevba
from typer.testing import CliRunner

import addin.ribbon
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
        call = re.search(r'RunPython "import addin\.ribbon; addin\.ribbon\.(\w+)\(\)"', body.group(1))
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


def test_project_name_and_config_sheet(xlam, modules):
    assert 'Public Const PROJECT_NAME As String = "SenseTime"' in modules["xlwings"]
    assert "RibbonMyAddin" not in modules
    with zipfile.ZipFile(xlam) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        shared = re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())
    assert '<sheet name="SenseTime.conf"' in workbook
    row = re.search(
        rf'<row r="(\d+)"[^>]*><c r="A\1"[^>]*t="s"[^>]*><v>{shared.index("UDF Modules")}</v></c>(.*?)</row>', sheet
    )
    assert row and "<t>udfs</t>" in row.group(2)


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
    header = ole.openstream("VBA/_VBA_PROJECT").read()
    assert header[:2] == b"\xcc\x61"  # a source-only project, compiled by Excel on load


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
