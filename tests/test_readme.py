"""The README's set-up commands are the ones CI runs, and its examples work."""

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> list[str]:
    section = ROOT.joinpath("README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_readme_starts_with_the_two_set_up_commands():
    text = ROOT.joinpath("README.md").read_text()
    assert text.index("## Set up") < text.index("## What it is")
    install, tests = setup_commands()
    assert install.endswith("stmodel value")
    assert "libreoffice-calc-nogui" in tests and tests.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci_lines = ROOT.joinpath(".ci", "run").read_text().strip().splitlines()
    assert ci_lines[-1] == setup_commands()[1]


@pytest.mark.parametrize(
    "line",
    [
        line.split("#")[0].strip()
        for line in ROOT.joinpath("README.md").read_text().splitlines()
        if line.startswith("stmodel ") and " -o " not in line
    ],
)
def test_readme_examples_run(line):
    result = CliRunner().invoke(app, shlex.split(line)[1:])
    assert result.exit_code == 0, result.output


def test_readme_python_example_runs():
    block = ROOT.joinpath("README.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})
