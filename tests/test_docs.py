"""Every `stmodel ...` command line of the README and docs/*.md parses with the CLI as it is, so the docs
cannot drift from the code: each is handed to Click's `make_context` for its own command (the
arguments parsed and converted, nothing run; `--help` would hide an unknown option)."""

import itertools
import re
import shlex
from pathlib import Path

import pytest
from typer._click import ClickException  # typer (0.29) carries its own Click as typer._click
from typer.main import get_command

from stmodel.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CLI = get_command(app)


def command_lines(text: str) -> list[str]:
    """The stmodel command lines of a page: in code blocks (a `$ ` prompt and `  # comment` dropped) and
    in inline code, each command of a chain (`a && b`, `a & b`) on its own."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ").split("  #")[0].strip()
            if line.startswith("stmodel "):
                found.append(line)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found += [span for span in re.findall(r"`(stmodel [^`]+)`", prose)]
    return [part.strip() for line in found for part in re.split(r"\s&&?\s", line) if part.strip()]


def expansions(line: str) -> list[list[str]]:
    """A synopsis as the argument lists it stands for: `[--recalc]` taken, `table|json` each way."""
    words = shlex.split(line.replace("[", " ").replace("]", " "))[1:]
    choices = [word.split("|") if "|" in word and not word.startswith("-") else [word] for word in words]
    return [list(combo) for combo in itertools.product(*choices)]


def parse(argv: list[str]) -> None:
    """Parse argv down the command groups to the command, as `stmodel` would, without running it; a
    bare command name (`stmodel export` in a sentence) need only name a command."""
    command = CLI
    ctx = command.make_context("stmodel", list(argv))
    while hasattr(command, "resolve_command"):  # a group: on to the command it names
        rest = [*ctx._protected_args, *ctx.args]  # the command name Click keeps aside, then its arguments
        if not rest:
            return
        name, sub, args = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        if not args:
            return
        command, ctx = sub, sub.make_context(name, args, parent=ctx)


CASES = sorted({(page.relative_to(ROOT).as_posix(), line) for page in DOCS for line in command_lines(page.read_text())})


def test_the_docs_show_commands():
    assert len(CASES) > 60
    assert {page for page, _ in CASES} >= {"README.md", "docs/model.md", "docs/actuals.md", "docs/workbook.md"}


@pytest.mark.parametrize(("page", "line"), CASES, ids=[f"{p}:{line[:60]}" for p, line in CASES])
def test_every_command_line_of_the_docs_parses(page, line):
    for argv in expansions(line):
        try:
            parse(argv)
        except ClickException as e:
            pytest.fail(f"{page}: `{line}` does not parse ({' '.join(argv)}): {e.format_message()}")


def test_the_workbook_page_lists_every_sheet_and_the_udf_page_every_function():
    from udfs import functions
    from workbook.layout import MODEL_FILE_SHEET, SHEETS, VARIANCE

    sheets = re.findall(r"^\| ([^|]+) \|", (ROOT / "docs" / "workbook.md").read_text(), flags=re.M)
    listed = {name.strip() for row in sheets for name in row.split(",")}
    assert set(SHEETS) | {VARIANCE} <= listed, set(SHEETS) - listed
    assert MODEL_FILE_SHEET in (ROOT / "docs" / "workbook.md").read_text()
    udfs = (ROOT / "docs" / "udfs.md").read_text()
    names = [name for name in dir(functions) if name.startswith("ST_")]
    assert len(names) == 10 and all(f"`{name}(" in udfs for name in names)
