"""The `stmodel` application object, its shared options, and the one place errors become messages.

Every error the project raises on purpose derives from `engine.errors.StmodelError`; the command
group below catches that one class, prints one line on stderr (with the CLI's advice for the
error's kind) and exits with code 2, so no traceback escapes. Only `export` catches one error itself:
a refused analyst copy lists its audit findings and exits with code 1.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

import engine
from engine.drivers import DriverError, UnknownDriverError
from engine.errors import StmodelError

# Advice the command line adds to an error of a given kind (the layers below give none).
ADVICE: dict[type[StmodelError], str] = {}


def advise(kind: type[StmodelError], text: str) -> None:
    """Register the advice shown after errors of `kind` (and its subclasses)."""
    ADVICE[kind] = text


def message(error: StmodelError) -> str:
    """The error's one line, with the advice for its kind (or for the error it wraps) when there is one."""
    text = str(error) or type(error).__name__
    cause: BaseException | None = error
    while cause is not None:
        for kind in type(cause).__mro__:
            if kind in ADVICE:
                return f"{text} ({ADVICE[kind]})"
        cause = cause.__cause__
    return text


def fail(text: str, code: int = 2) -> NoReturn:
    """One line on stderr and a non-zero exit: the CLI's answer to bad input."""
    typer.echo(f"stmodel: error: {text}", err=True)
    raise typer.Exit(code)


class StmodelGroup(TyperGroup):
    """The command group: runs a command and turns any StmodelError into one line and exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StmodelError as e:
            fail(message(e))


app = typer.Typer(
    name="stmodel",
    cls=StmodelGroup,
    help="SenseTime (20 HK) model after DBS Group Research's initiation of 13 Jan 2023 (BUY, TP HK$2.70).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)


class Format(StrEnum):
    table = "table"
    json = "json"


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="NAME=VALUE",
        help="Override a driver, e.g. --set premium=0.5; a per-year group (smart_auto_growth) sets every "
        "forecast year. Repeat for several. `stmodel drivers` lists the names.",
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table for people, json for programs.")]
ScenarioOption = Annotated[
    str | None,
    typer.Option(
        "--scenario", help="Start from a named scenario: base, bear or bull (illustrative; --set applies after)."
    ),
]


_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def parse_assignment(text: str) -> tuple[str, str]:
    """Split 'NAME=VALUE' (as given to --set); the value stays text until the driver checks it."""
    m = _ASSIGN.match(text)
    if not m or m.group(2) == "":
        raise DriverError(f"--set {text!r}: expected NAME=VALUE, e.g. premium=0.5")
    return m.group(1), m.group(2)


def overrides_from(sets: list[str] | None, scenario: str | None = None) -> list[tuple[str, object]]:
    """Scenario overrides first, then each --set NAME=VALUE; raises DriverError on bad input."""
    from engine.scenarios import scenario as named_scenario

    pairs: list[tuple[str, object]] = []
    if scenario:
        pairs += list(named_scenario(scenario).overrides.items())
    pairs += [parse_assignment(s) for s in sets or []]
    return pairs


def run_with(sets: list[str] | None, scenario: str | None = None) -> engine.Result:
    return engine.run(overrides_from(sets, scenario))


def fmt_number(v: Any, decimals: int) -> str:
    """The report's style: thousands separators, parentheses for negatives."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    text = f"{abs(v):,.{decimals}f}"
    return f"({text})" if round(v, decimals) < 0 else text


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then rename: never a half-written file."""
    from engine.files import replacing

    with replacing(path) as tmp:
        tmp.write_bytes(data)


advise(UnknownDriverError, "stmodel drivers lists them")
