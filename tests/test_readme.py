"""The README's set-up commands are the ones CI runs, and its examples work."""

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stmodel.cli import app

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
