"""Guards of issue 13: every reader checks a workbook the same way (recalc included, declared cells
counted before loading), results are finite numbers named by their driver, and bad input to any
command is one line with exit code 2, never a traceback."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from test_audit_hostile import LAUGHS, deflate_bomb, rewrite
from typer.testing import CliRunner

import engine
from engine.drivers import DriverError
from stmodel.cli import app
from workbook.audit import check_container
from workbook.audit.findings import AuditError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

# `stmodel ARGS...` under a 1 GiB address-space limit (LibreOffice, a child, inherits it).
LIMITED = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    sys.argv = ["stmodel", *sys.argv[1:]]
    from stmodel.cli import main
    main()
    """
)


def stmodel_limited(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", LIMITED, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "HOME": "/tmp"},
    )


def one_line(proc_or_result, words: str) -> str:
    """Exit code 2, a single line on stderr holding `words`, no traceback; returns the line."""
    code = getattr(proc_or_result, "returncode", getattr(proc_or_result, "exit_code", None))
    stderr = proc_or_result.stderr
    assert code == 2, f"exit {code}: {stderr[-2000:]}"
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr[-2000:]
    assert words in lines[0], lines[0]
    assert "Traceback" not in stderr
    return lines[0]


# ---- workbooks that declare more cells than they hold ----

_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{dimension}"/><sheetData>{rows}</sheetData>{tail}</worksheet>'
)


def tiny_workbook(path: Path, sheets: list[str]) -> Path:
    """A minimal .xlsx written by hand (no styles, no theme): one part per sheet XML given."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    names = "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, len(sheets) + 1))
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            f'main+xml"/>{overrides}</Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>{names}'
            "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships">{rels}</Relationships>',
        )
        for i, xml in enumerate(sheets, start=1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", xml)
    return path


def sheet_xml(dimension: str = "A1", cells: tuple[str, ...] = ("A1",), tail: str = "") -> str:
    rows = "".join(f'<row r="{c.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{c}"><v>1</v></c></row>' for c in cells)
    return _SHEET.format(dimension=dimension, rows=rows, tail=tail)


@pytest.fixture(scope="module")
def far_cell(tmp_path_factory) -> Path:
    """The 1.5 KB workbook of the issue: its sheet declares A1:XFD1048576 and holds A1 and XFD1048576."""
    path = tmp_path_factory.mktemp("far") / "far.xlsx"
    tiny_workbook(path, [sheet_xml("A1:XFD1048576", ("A1", "XFD1048576"))])
    assert path.stat().st_size < 2000
    openpyxl.load_workbook(path, read_only=True).close()  # a valid workbook, not a damaged one
    return path


@pytest.fixture(scope="module")
def far_model(built, tmp_path_factory) -> Path:
    """The built model with one cell added at XFD1048576 on its first sheet."""
    with zipfile.ZipFile(built) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData>')
    return rewrite(
        built, tmp_path_factory.mktemp("farmodel") / "far_model.xlsx", "xl/worksheets/sheet1.xml", xml.encode()
    )


def writes_of(command: str, src: Path, out: Path) -> list[str]:
    return {
        "audit": ["audit", str(src)],
        "export": ["export", str(src), "-o", str(out)],
        "refresh": ["refresh", str(src), "-o", str(out)],
        "recalc": ["recalc", str(src), "-o", str(out)],
    }[command]


@pytest.mark.parametrize("command", ["audit", "export", "refresh", "recalc"])
@pytest.mark.parametrize("which", ["far_cell", "far_model"])
def test_a_sheet_declaring_a_far_cell_is_refused_before_loading(command, which, request, tmp_path):
    src = request.getfixturevalue(which)
    out = tmp_path / "out.xlsx"
    line = one_line(stmodel_limited(*writes_of(command, src, out)), "17,179,869,184 cells")
    assert "xl/worksheets/sheet1.xml" in line and "250,000" in line
    assert not out.exists()


def renamed_sheet(src: Path, dst: Path, name: str, far: bool = True) -> Path:
    """The model with its first sheet part stored as `name` (relationships and content types follow it),
    holding a cell at XFD1048576 when `far`."""
    old = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data, member = zin.read(info.filename), info.filename
            if member == old:
                member = name
                if far:
                    data = data.replace(
                        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData>'
                    )
            elif member in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                assert f"/{old}".encode() in data
                data = data.replace(f"/{old}".encode(), f"/{name}".encode())
            zout.writestr(member, data)
    return dst


@pytest.mark.parametrize("name", ["xl/worksheets/sheet1.XML", "xl/worksheets/sheet1.dat", "xl/data/cells"])
def test_a_sheet_part_is_found_by_its_relationship_not_its_name(name, built, tmp_path):
    # openpyxl loads whatever part the workbook's relationships name as a sheet, whatever its name.
    plain = renamed_sheet(built, tmp_path / "plain.xlsx", name, far=False)
    check_container(plain)
    first = openpyxl.load_workbook(plain, read_only=True)
    assert first.sheetnames == openpyxl.load_workbook(built, read_only=True).sheetnames
    first.close()
    far = renamed_sheet(built, tmp_path / "far.xlsx", name)
    for command in ("audit", "export"):
        out = tmp_path / "out.xlsx"
        start = time.monotonic()
        line = one_line(stmodel_limited(*writes_of(command, far, out)), "17,179,869,184 cells")
        assert time.monotonic() - start < 20
        assert name in line and not out.exists()


@pytest.mark.parametrize("name", ["xl/worksheets/sheet1.XML", "xl/worksheets/sheet1.dat"])
def test_entities_are_looked_for_in_a_sheet_part_whatever_its_name(name, built, tmp_path):
    path = renamed_sheet(built, tmp_path / "named.xlsx", name, far=False)
    rewrite(path, tmp_path / "xxe.xlsx", name, XXE)
    with pytest.raises(AuditError, match=re.escape(f"{name} declares XML entities")):
        check_container(tmp_path / "xxe.xlsx")


def test_a_sheet_named_only_by_the_relationships_is_counted(built, tmp_path):
    # The content types left as they were: openpyxl still loads the part the relationship names.
    path = renamed_sheet(built, tmp_path / "far.xlsx", "xl/worksheets/sheet1.dat")
    with zipfile.ZipFile(path) as z:
        types = z.read("[Content_Types].xml").replace(b"/xl/worksheets/sheet1.dat", b"/xl/worksheets/sheet1.xml")
    rewrite(path, tmp_path / "rels_only.xlsx", "[Content_Types].xml", types)
    with pytest.raises(AuditError, match=r"sheet1\.dat spans"):
        check_container(tmp_path / "rels_only.xlsx")


def test_the_relationships_read_to_find_the_sheets_are_bounded(built, tmp_path):
    with zipfile.ZipFile(built) as z:
        rels = z.read("xl/_rels/workbook.xml.rels")
    extra = b"".join(b'<Relationship Type="x" Target="a%d" Id="r%d"/>' % (i, i) for i in range(100_001))
    path = rewrite(
        built, tmp_path / "rels.xlsx", "xl/_rels/workbook.xml.rels", rels.replace(b"</Rel", extra + b"</Rel")
    )
    with pytest.raises(AuditError, match="lists more than 100,000 parts or relationships"):
        check_container(path)


def test_an_image_is_not_read_as_xml(built, tmp_path):
    # An SVG picture may carry a DOCTYPE; no XML parser reads it, so it is no reason to refuse the file.
    svg = b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>'
    path = tmp_path / "picture.xlsx"
    with zipfile.ZipFile(built) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"<Default ", b'<Default Extension="svg" ContentType="image/svg+xml"/><Default ', 1)
            zout.writestr(info, data)
        zout.writestr("xl/media/image1.svg", svg)
    check_container(path)


@pytest.mark.parametrize(
    "xml",
    [
        sheet_xml("A1", ("A1",), '<mergeCells count="1"><mergeCell ref="A1:ZZ100000"/></mergeCells>'),
        sheet_xml("A1", ("A1",), '<hyperlinks><hyperlink ref="A1:ZZ100000" display="x"/></hyperlinks>'),
        sheet_xml("A1:ZZ100000", ("A1",)),
        sheet_xml("A1", ("A1", "ZZ100000")),
    ],
    ids=["merged-range", "hyperlink-range", "dimension", "cell"],
)
def test_every_reference_that_makes_cells_is_counted(xml, tmp_path):
    with pytest.raises(AuditError, match=r"70,200,000 cells"):
        check_container(tiny_workbook(tmp_path / "w.xlsx", [xml]))


def test_cells_are_counted_over_all_sheets(tmp_path):
    # 160,000 cells each: either alone is allowed, the two together are not.
    one = sheet_xml("A1:P10000", ("A1", "P10000"))
    check_container(tiny_workbook(tmp_path / "one.xlsx", [one]))
    with pytest.raises(AuditError, match=r"at most 250,000 cells"):
        check_container(tiny_workbook(tmp_path / "two.xlsx", [one, one]))


def test_the_model_and_its_libreoffice_copy_pass(built, tmp_path):
    check_container(built)
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    result = runner.invoke(app, ["recalc", str(built), "-o", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.stderr
    check_container(tmp_path / "r.xlsx")


# ---- recalc makes the checks every other reader makes ----

XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
)


@pytest.fixture(scope="module")
def hostile(built, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    empty = folder / "empty.xlsx"
    empty.write_bytes(b"")
    late = LAUGHS.replace(b"\n<!DOCTYPE", b"\n<!--" + b"x" * 8000 + b"-->\n<!DOCTYPE", 1)
    return {
        "empty": empty,
        "xxe": rewrite(built, folder / "xxe.xlsx", "xl/worksheets/sheet1.xml", XXE),
        "laughs": rewrite(built, folder / "laughs.xlsx", "xl/worksheets/sheet1.xml", LAUGHS),
        "late-laughs": rewrite(built, folder / "late.xlsx", "xl/worksheets/sheet1.xml", late),
        "late-in-rels": rewrite(
            built, folder / "late_rels.xlsx", "_rels/.rels", late.split(b"\n<worksheet")[0] + b"\n<Relationships/>"
        ),
        "bomb": deflate_bomb(built, folder / "bomb.xlsx", blocks=32),  # 512 MiB once inflated
        "directory": folder,
    }


REFUSALS = {
    "empty": "empty file (0 bytes)",
    "xxe": "declares XML entities",
    "laughs": "declares XML entities",
    "late-laughs": "declares XML entities",
    "late-in-rels": "declares XML entities",
    "bomb": "zip bomb",
    "directory": "is a directory",
}


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_recalc_refuses_what_the_other_readers_refuse(kind, hostile, tmp_path):
    out = tmp_path / "out.xlsx"
    one_line(stmodel_limited("recalc", str(hostile[kind]), "-o", str(out)), REFUSALS[kind])
    assert not out.exists()


@pytest.mark.parametrize("kind", ["directory", "late-laughs", "late-in-rels", "empty"])
@pytest.mark.parametrize("command", ["audit", "export", "refresh"])
def test_every_reader_names_the_real_reason(command, kind, hostile, tmp_path):
    result = runner.invoke(app, writes_of(command, hostile[kind], tmp_path / "out.xlsx"))
    one_line(result, REFUSALS[kind])


@pytest.mark.parametrize("kind", ["directory", "late-in-rels", "empty"])
@pytest.mark.parametrize(
    "command", [["simulate", "-n", "10", "--workbook"], ["doctor", "--workbook"]], ids=["simulate", "doctor"]
)
def test_commands_taking_a_workbook_option_give_no_traceback(command, kind, hostile):
    result = runner.invoke(app, [*command, str(hostile[kind])])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert REFUSALS[kind] in result.output + result.stderr


def test_an_unreadable_workbook_is_one_line_not_a_usage_box(built):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to read as another user")
    folder = Path(tempfile.mkdtemp(prefix="stmodel-guards-"))
    try:
        folder.chmod(0o755)
        path = folder / "locked.xlsx"
        shutil.copyfile(built, path)
        path.chmod(0)
        for args in (["audit", str(path)], ["simulate", "-n", "10", "--spec", str(path)]):
            proc = subprocess.run(
                ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "stmodel", *args],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ROOT,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": "/tmp"},
            )
            assert (
                one_line(proc, "permission denied")
                == f"stmodel: error: {path}: permission denied (the file is not readable)"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---- finite, plausible numbers ----


# Every driver has finite hard bounds, so an overflow needs a value inside them: a peer's sales of
# 1e-305 (above 0) gives a P/S of 13,687 / 1e-305 = 1.4e309, past the largest float.
TINY_SALES = "palantir_sales_FY2024E"


def test_a_value_beyond_its_hard_bound_is_refused_before_any_result():
    line = one_line(runner.invoke(app, ["value", "--set", "premium=1e308"]), "premium: expected at most 100")
    assert "finite" not in line


@pytest.mark.parametrize("override, driver", [(f"{TINY_SALES}=1e-305", TINY_SALES), ("usdcny=1e-300", "usdcny")])
def test_an_overflowing_result_names_its_driver(override, driver):
    for fmt in ("table", "json"):
        result = runner.invoke(app, ["value", "--set", override, "--format", fmt])
        line = one_line(result, "every result must be a finite number")
        assert line.startswith(f"stmodel: error: {driver}=")
        assert "Infinity" not in result.stdout and "inf" not in result.stdout


def test_the_culprit_is_found_among_harmless_changes():
    from engine.drivers import ImplausibleResultError

    with pytest.raises(ImplausibleResultError) as raised:
        engine.run({"gross_margin": 0.5, TINY_SALES: 1e-305, "usdcny": 7.0})
    assert raised.value.drivers == (TINY_SALES,)
    assert str(raised.value).startswith(f"{TINY_SALES}=1e-305: target_multiple is not a finite number")


def test_a_ratio_over_zero_is_still_allowed():
    # No debt at all: Capex to Debt is over zero and blank (as #DIV/0! in Excel), not an error.
    r = engine.run({"short_term_debt": 0.0, "long_term_debt": 0.0})
    assert r.value("capex_to_debt", "2024F") is None
    assert r.value("capex_to_debt", "2023F") is None
    assert r.target_price == 2.7
    # Revenue of zero is no longer possible: growth is above -100%, and -1 is refused.
    with pytest.raises(DriverError, match="smart_auto_growth_2022F: expected a number above -1"):
        engine.run({"smart_auto_growth": -1})
    # Revenue all but gone (every segment down 99.99% each year): the valuation is near zero, margins finite.
    tiny = {
        g: -0.9999 for g in ("smart_business_growth", "smart_city_growth", "smart_life_growth", "smart_auto_growth")
    }
    assert engine.run(tiny).target_price == 0


def test_sensitivity_and_simulation_refuse_non_finite_results(tmp_path):
    result = runner.invoke(app, ["sensitivity", "--rows", "premium=0.4", "--cols", "usdcny=6.75,1e-300", "-f", "json"])
    assert "usdcny=1e-300" in one_line(result, "not a finite number")
    spec = tmp_path / "tiny.toml"
    spec.write_text('[usdcny]\ndist = "uniform"\nlow = 1e-320\nhigh = 2e-320\n')
    result = runner.invoke(app, ["simulate", "-n", "50", "--spec", str(spec), "-f", "json"])
    assert "usdcny" in one_line(result, "not a finite number")
    result = runner.invoke(app, ["simulate", "-n", "50", "--set", f"{TINY_SALES}=1e-305"])
    one_line(result, "not a finite number")


def test_sensitivity_names_only_the_drivers_changed_at_the_failing_cell():
    base = engine.base_values()
    sales = f"{TINY_SALES}={base[TINY_SALES]:g},1e-305"
    line = one_line(
        runner.invoke(app, ["sensitivity", "--rows", sales, "--cols", f"usdcny={base['usdcny']}"]),
        "not a finite number",
    )
    assert line.removeprefix("stmodel: error: ").split(": ")[0] == f"{TINY_SALES}=1e-305"
    # The first failing cell changes usdcny alone (the sales are at their base value there).
    rows, cols = sales, f"usdcny={base['usdcny']},1e-300"
    line = one_line(runner.invoke(app, ["sensitivity", "--rows", rows, "--cols", cols]), "not a finite number")
    assert line.removeprefix("stmodel: error: ").split(": ")[0] == "usdcny=1e-300"


def test_json_output_is_never_infinity_or_nan():
    from stmodel.app import json_text

    text = json_text({"a": math.inf, "b": [math.nan, 1.5], "c": {"d": -math.inf}})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


@pytest.mark.parametrize("typed", ["1_000", "0.4_5", " 1_0 ", "\uff11", "\u0661"])
def test_what_float_reads_but_no_analyst_types_is_refused(typed):
    # Python's float() reads each of these (underscores, full-width and Arabic-Indic digits).
    with pytest.raises(DriverError, match="expected a number"):
        engine.drivers()["premium"].check(typed)


@pytest.mark.parametrize(
    "typed, number",
    [("1000", 1000.0), (" -0.5 ", -0.5), ("1e-3", 0.001), (".5", 0.5), ("2.", 2.0), ("+3E2", 300.0)]
    + [(t, None) for t in ("1_000", "inf", "nan", "\uff11", "0x10", "1,5", "", "1e", "--1")],
)
def test_plain_numbers_are_read_and_nothing_else(typed, number):
    from engine.drivers import parse_number

    assert parse_number(typed) == number


def test_underscores_are_refused_on_the_command_line():
    assert "not 1_000" in one_line(runner.invoke(app, ["value", "--set", "premium=1_000"]), "premium")
    one_line(runner.invoke(app, ["sensitivity", "--rows", "premium=0.4,1_0", "--cols", "usdcny=6.75"]), "1_0")


def test_a_driver_given_twice_is_refused():
    line = one_line(runner.invoke(app, ["value", "--set", "premium=0.5", "--set", "premium=0.6"]), "given twice")
    assert "premium" in line


def target_price(*sets: str) -> float:
    args = [a for s in sets for a in ("--set", s)]
    result = runner.invoke(app, ["value", "--format", "json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["valuation"]["target_price_unrounded"]


def test_a_year_given_with_its_group_wins_in_either_order():
    group_only = target_price("smart_auto_growth=0.1")
    member_first = target_price("smart_auto_growth_2024F=3", "smart_auto_growth=0.1")
    member_last = target_price("smart_auto_growth=0.1", "smart_auto_growth_2024F=3")
    assert member_first == member_last != group_only
    assert member_last == pytest.approx(
        engine.run([("smart_auto_growth", 0.1), ("smart_auto_growth_2024F", 3)]).raw("target_price_unrounded")
    )


def _assumption_cell(wb, name: str) -> str:
    ws = wb["Assumptions"]
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == name:
            return f"B{row[0].row}"
    raise AssertionError(name)


def test_audit_checks_the_workbook_inputs_as_the_command_line_does(built, tmp_path):
    wb = openpyxl.load_workbook(built)
    cell = _assumption_cell(wb, "usdcny")
    wb["Assumptions"][cell] = 1e-300
    path = tmp_path / "overflow.xlsx"
    wb.save(path)
    result = runner.invoke(app, ["audit", str(path), "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    hits = [f for f in findings if f["severity"] == "error" and f["sheet"] == "Assumptions" and f["cell"] == cell]
    assert hits and "usdcny=1e-300" in hits[0]["message"] and "finite" in hits[0]["message"]
    one_line(runner.invoke(app, ["refresh", str(path), "-o", str(tmp_path / "r.xlsx")]), "usdcny=1e-300")
    assert not (tmp_path / "r.xlsx").exists()


@pytest.mark.parametrize("column", ["Bear", "Bull"])
def test_audit_checks_each_scenarios_results_at_its_own_column(column, built, tmp_path):
    # Base USDCNY is fine; the scenario's overflows the valuation once that scenario is chosen.
    wb = openpyxl.load_workbook(built)
    row = int(_assumption_cell(wb, "usdcny")[1:])
    letter = {"Bear": "C", "Bull": "D"}[column]
    assert wb["Assumptions"][f"{letter}3"].value == column
    wb["Assumptions"][f"{letter}{row}"] = 1e-300
    path = tmp_path / "scenario.xlsx"
    wb.save(path)
    result = runner.invoke(app, ["audit", str(path), "--format", "json"])
    assert result.exit_code == 1, result.stdout
    errors = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert [(f["sheet"], f["cell"]) for f in errors] == [("Assumptions", f"{letter}{row}")]
    assert errors[0]["message"].startswith(f"{column}: usdcny=1e-300") and "finite" in errors[0]["message"]
    with pytest.raises(DriverError, match="finite"):  # what choosing the scenario would give
        engine.run({"usdcny": 1e-300})


def test_a_base_overflow_is_reported_once_not_again_for_each_scenario(built, tmp_path):
    wb = openpyxl.load_workbook(built)
    cell = _assumption_cell(wb, "usdcny")
    wb["Assumptions"][cell] = 1e-300
    path = tmp_path / "base.xlsx"
    wb.save(path)
    result = runner.invoke(app, ["audit", str(path), "--format", "json"])
    errors = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert [(f["sheet"], f["cell"]) for f in errors] == [("Assumptions", cell)]


# ---- no tracebacks where one line is promised ----


def test_simulate_refuses_a_negative_seed():
    one_line(runner.invoke(app, ["simulate", "-n", "10", "--seed", "-1"]), "--seed must be 0 or more")


def test_simulate_spec_that_is_not_a_toml_file(tmp_path):
    one_line(runner.invoke(app, ["simulate", "-n", "10", "--spec", str(tmp_path)]), "is a directory")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 8)
    one_line(runner.invoke(app, ["simulate", "-n", "10", "--spec", str(binary)]), "not UTF-8 text")
    one_line(runner.invoke(app, ["simulate", "-n", "10", "--spec", "/dev/zero"]), "not a regular file")


def test_simulate_with_too_many_scenarios_under_a_memory_limit():
    one_line(stmodel_limited("simulate", "-n", "1000000000"), "-n must be from 1 to 10,000,000")


def test_refresh_without_an_income_statement(built, tmp_path):
    wb = openpyxl.load_workbook(built)
    del wb["Income Statement"]
    path = tmp_path / "partial.xlsx"
    wb.save(path)
    one_line(runner.invoke(app, ["refresh", str(path), "-o", str(tmp_path / "r.xlsx")]), "Income Statement")
    assert not (tmp_path / "r.xlsx").exists()


def test_simulate_spec_without_distributions(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_bytes(b"")
    one_line(runner.invoke(app, ["simulate", "-n", "10", "--spec", str(empty)]), "no distributions")


def test_a_sensitivity_axis_is_bounded_before_it_is_built():
    # 10^18 values would be built one by one (hours, then memory) before the 200-value limit was checked.
    proc = stmodel_limited("sensitivity", "--rows", "premium=0:1e9:1e-9", "--cols", "usdcny=6.75", timeout=60)
    one_line(proc, "more than 200 values")


def test_running_out_of_memory_is_one_line(monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(engine, "run", exhausted)
    one_line(runner.invoke(app, ["value"]), "out of memory")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_under_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "stmodel", "value", "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": "/tmp"},
        )
    assert (
        one_line(proc, "No space left on device") == "stmodel: error: cannot write the output (No space left on device)"
    )
    assert "Exception ignored" not in proc.stderr


@pytest.mark.parametrize(
    "name",
    [
        "variable_opex_ratio_2023F",
        "capex_to_revenue_2022F",
        "depreciation_rate_2024F",
        "other_current_liab_ratio_2022F",
        "debtor_days_2023F",
        "cost_of_debt_2024F",
    ],
)
def test_negative_where_impossible_is_refused_on_the_command_line_and_in_the_workbook(name, built, tmp_path):
    one_line(runner.invoke(app, ["value", "--set", f"{name}=-5"]), f"{name}: expected at least 0")
    wb = openpyxl.load_workbook(built)
    cell = _assumption_cell(wb, name)
    wb["Assumptions"][cell] = -5
    path = tmp_path / "negative.xlsx"
    wb.save(path)
    result = runner.invoke(app, ["audit", str(path), "--format", "json"])
    assert result.exit_code == 1
    errors = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert [(f["sheet"], f["cell"]) for f in errors if "expected at least 0" in f["message"]] == [("Assumptions", cell)]
