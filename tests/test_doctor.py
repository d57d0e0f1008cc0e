"""`stmodel doctor` and the one-xlwings-version rule, on this machine and with a mismatch simulated."""

import importlib
import re
import shutil
import sys
from importlib import metadata

import pytest
import xlwings
from pyopenvba import ExcelFile
from typer.testing import CliRunner

import engine
import udfs
import udfs.functions
from addin.build import build_addin
from engine import versions
from stmodel.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    return build_addin(tmp_path_factory.mktemp("doctor") / "SenseTime.xlam")


def with_xlwings_version(src, dst, version):
    """A copy of the add-in whose xlwings module says it was built with `version` (the DLL it would load)."""
    shutil.copyfile(src, dst)
    with ExcelFile(dst) as book:
        source = book.get_module("xlwings")
        book.set_module("xlwings", re.sub(r'(XLWINGS_VERSION As String = ")[^"]*', rf"\g<1>{version}", source))
        book.save()
    return dst


def lines_of(output):
    return {
        line.split()[1]: line for line in output.splitlines() if line.split()[:1] in (["ok"], ["problem"], ["info"])
    }


def test_doctor_on_this_machine_prints_each_check(xlam, built):
    result = runner.invoke(app, ["doctor", "--addin", str(xlam), "--workbook", str(built)])
    assert result.exit_code == 0, result.output
    checks = lines_of(result.output)
    assert list(checks) == ["python", "add-in", "xlwings", "udfs", "workbook", "libreoffice"]
    assert checks["add-in"].startswith("ok") and f"built with xlwings {xlwings.__version__}" in checks["add-in"]
    assert checks["add-in"].endswith("settings: UDF Modules = udfs")
    assert checks["xlwings"].startswith("ok") and xlwings.__version__ in checks["xlwings"]
    assert "ST_TARGET() = 2.7" in checks["udfs"]
    assert "0 errors" in checks["workbook"]
    assert checks["libreoffice"].startswith("info")
    assert result.output.rstrip().endswith("all checks ok")


def test_an_add_in_built_with_another_xlwings_fails_with_the_fix(xlam, tmp_path):
    old = with_xlwings_version(xlam, tmp_path / "Old.xlam", "0.30.0")
    result = runner.invoke(app, ["doctor", "--addin", str(old)])
    assert result.exit_code == 1
    line = lines_of(result.output)["xlwings"]
    assert line.startswith("problem")
    assert "needs xlwings 0.30.0" in line and f"has xlwings {xlwings.__version__}" in line
    assert 'Fix: python -m pip install "xlwings==0.30.0"' in line
    assert result.output.rstrip().endswith("1 problem")


def test_another_installed_xlwings_fails_against_the_pin(monkeypatch):
    monkeypatch.setattr(versions, "installed_xlwings", lambda: "0.99.0")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    line = lines_of(result.output)["xlwings"]
    assert f"needs xlwings {versions.pinned_xlwings()} but" in line and "has xlwings 0.99.0" in line


def test_libreoffice_missing_does_not_count(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert lines_of(result.output)["libreoffice"].startswith("info") and "not installed" in result.output


def test_a_file_that_is_not_an_add_in_is_a_problem(tmp_path, built):
    result = runner.invoke(app, ["doctor", "--addin", str(built)])
    assert result.exit_code == 1
    assert lines_of(result.output)["add-in"].startswith("problem")
    missing = runner.invoke(app, ["doctor", "--addin", str(tmp_path / "none.xlam")])
    assert missing.exit_code == 1 and "no such add-in file" in missing.output


def test_the_package_pins_the_xlwings_it_builds_the_add_in_from(monkeypatch):
    assert versions.pinned_xlwings() == xlwings.__version__
    assert versions.minimum_python() == (3, 11)

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "requires", not_installed)  # a source checkout: read pyproject.toml instead
    assert versions.pinned_xlwings() == xlwings.__version__


@pytest.fixture
def another_xlwings_installed(monkeypatch):
    """Re-import the UDF module as Excel's UDF server would, with xlwings 0.30.0 reported as installed."""
    monkeypatch.setattr(versions, "installed_xlwings", lambda: "0.30.0")
    importlib.reload(udfs.functions)
    yield
    monkeypatch.undo()
    importlib.reload(udfs.functions)


def test_udfs_refuse_to_compute_with_another_xlwings(another_xlwings_installed):
    message = udfs.functions.ST_TARGET()
    assert message.startswith(f"#ST! the SenseTime package needs xlwings {xlwings.__version__} but")
    assert "has xlwings 0.30.0" in message and f'pip install "xlwings=={xlwings.__version__}"' in message
    info = dict((row[0], row[1]) for row in udfs.functions.ST_INFO())  # the diagnostic table still works
    assert info["xlwings installed"] == "0.30.0" and "has xlwings 0.30.0" in info["xlwings problem"]


def test_doctor_reports_udfs_that_cannot_import(monkeypatch):
    for name in [m for m in sys.modules if m == "udfs" or m.startswith(("udfs.", "xlwings"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "xlwings", None)  # import xlwings now fails, as with a broken install
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    line = lines_of(result.output)["udfs"]
    assert line.startswith("problem") and "cannot import" in line and "Fix: python -m pip install ." in line


def test_doctor_says_when_the_pin_cannot_be_read(monkeypatch):
    monkeypatch.setattr(versions, "pinned_xlwings", lambda: "")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "the package's pin cannot be read" in lines_of(result.output)["xlwings"]


def test_st_info_reports_the_versions():
    info = dict((row[0], row[1]) for row in udfs.ST_INFO())
    assert info["xlwings installed"] == xlwings.__version__
    assert info["xlwings required"] == versions.pinned_xlwings()
    assert re.fullmatch(r"3\.\d+\.\d+", info["python"])
    assert info["model version"] == engine.__version__
