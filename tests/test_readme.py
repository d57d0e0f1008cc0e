"""The README's set-up commands are the ones CI runs, and its examples work."""

import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stmodel.cli import app

ROOT = Path(__file__).resolve().parents[1]
PRICES = "field,value\nas_of,2023-03-31\nlast_price,1.95\nusdcny,6.87\nhkdusd,7.85\n"  # a market file


def setup_commands() -> list[str]:
    section = ROOT.joinpath("README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_readme_starts_with_the_two_set_up_commands():
    text = ROOT.joinpath("README.md").read_text()
    assert text.index("## Set up") < text.index("## What it is")
    install, tests = setup_commands()
    assert install.endswith("stmodel value")
    assert "libreoffice-calc-nogui" in tests and tests.endswith("python -m pytest")
    assert "python3-uno" in tests, "the warm LibreOffice's bridge (workbook/uno_bridge.py) runs on the system Python"


def test_ci_runs_the_readme_test_command():
    ci_lines = ROOT.joinpath(".ci", "run").read_text().strip().splitlines()
    assert ci_lines[-1] == setup_commands()[1]


def readme_examples() -> list[str]:
    return [
        line.split("#")[0].strip()
        for line in ROOT.joinpath("README.md").read_text().splitlines()
        if line.startswith("stmodel ")
    ]


@pytest.mark.slow
def test_readme_examples_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "prices.csv").write_text(PRICES)  # what `stmodel market prices.csv` reads
    examples = readme_examples()
    assert len(examples) >= 8
    for line in examples:
        result = CliRunner().invoke(app, shlex.split(line)[1:])
        assert result.exit_code == 0, (line, result.output)
    assert (tmp_path / "SenseTime_model.xlsx").is_file()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.+?)```", ROOT.joinpath("README.md").read_text(), flags=re.S)


def test_readme_python_examples_give_the_values_they_show():
    """Each block runs; each line `expression  # -> value` prints as the value it shows."""
    checked = 0
    for block in python_blocks():
        namespace: dict[str, object] = {}
        for line in block.splitlines():
            code, arrow, shown = line.partition("# -> ")
            if not arrow:
                exec(compile(line, "README.md", "exec"), namespace)
                continue
            value = eval(compile(code.strip(), "README.md", "eval"), namespace)
            assert repr(value) == shown.strip(), (code.strip(), value)
            checked += 1
    assert checked >= 3


PACKAGES = ("engine", "workbook", "udfs", "addin", "stmodel")


@pytest.mark.slow
def test_the_installed_package_holds_every_module_and_data_file(tmp_path):
    """`pip install .` (the README's first command) ships every subpackage and data file, not only the top level."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(p.relative_to(ROOT))
        for package in PACKAGES
        for p in (ROOT / package).rglob("*")
        if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts
    }
    assert expected - shipped == set()
