"""The `stmodel` application object, its shared options, and the one place errors become messages.

Every error the project raises on purpose derives from `engine.errors.StmodelError`; the command
group below catches that one class, prints one line on stderr (with the CLI's advice for the
error's kind) and exits with code 2, so no traceback escapes. Only `export` catches one error itself:
a refused analyst copy lists its audit findings and exits with code 1.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, overload

import typer
from rich.console import Console
from typer.core import TyperGroup

import engine
from engine.drivers import DriverError, UnknownDriverError
from engine.errors import StmodelError
from engine.files import OutputExistsError

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
        except typer.BadParameter as e:
            unreadable = _UNREADABLE.search(e.message)
            # typer answers a bad option value (or an unreadable path) with a usage box; bad input is one line.
            if unreadable is not None:
                fail(f"{unreadable.group(1)}: permission denied (the file is not readable)")
            fail(" ".join(e.format_message().replace("Value error, ", "").split()))
        except MemoryError:
            fail("out of memory: the input asks for more than this machine can hold (see the command's --help)")
        except OSError as e:  # a full disk or a closed pipe under the output, a file that vanished meanwhile
            _quiet_stdout()
            fail(f"{e.filename}: {e.strerror or e}" if e.filename else f"cannot write the output ({e.strerror or e})")


def _quiet_stdout() -> None:
    """Point stdout at /dev/null if it cannot be written, so that Python's flush at exit adds no second,
    "Exception ignored" traceback after the one-line error."""
    try:
        sys.stdout.flush()
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


_UNREADABLE = re.compile(r"'(.*)' is not readable")


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


class Basis(StrEnum):
    printed = "printed"
    clean = "clean"


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="NAME=VALUE",
        help="Override a driver, e.g. --set premium=0.5; a per-year group (smart_auto_growth) sets every "
        "forecast year, and one of its years given too (smart_auto_growth_2024F) wins over it. Repeat for "
        "several, each name once; plain numbers (1000, 0.5, 1e-3; not 1_000). `stmodel drivers` lists the names.",
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table for people, json for programs.")]
OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace the output file if it exists (without it an existing file is refused; the input never is).",
    ),
]
ScenarioOption = Annotated[
    str | None,
    typer.Option(
        "--scenario", help="Start from a named scenario: base, bear or bull (illustrative; --set applies after)."
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        metavar="FILE",
        help="Your model file (TOML, `stmodel init` writes one): its drivers and reported actuals over the "
        "report; --set and --scenario apply on top of it.",
    ),
]
BasisOption = Annotated[
    Basis | None,
    typer.Option(
        "--basis",
        help="printed (default): the report's figures with its named adjustments (docs/errata.md); clean: every "
        "fixed report adjustment zero, pure double entry. The same as --set basis=...",
        case_sensitive=False,
    ),
]


_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def parse_assignment(text: str) -> tuple[str, str]:
    """Split 'NAME=VALUE' (as given to --set); the value stays text until the driver checks it."""
    m = _ASSIGN.match(text)
    if not m or m.group(2) == "":
        raise DriverError(f"--set {text!r}: expected NAME=VALUE, e.g. premium=0.5")
    return m.group(1), m.group(2)


def overrides_from(
    sets: list[str] | None, scenario: str | None = None, basis: Basis | str | None = None
) -> list[tuple[str, object]]:
    """Scenario overrides first, then the --set NAME=VALUE pairs: per-year groups before single drivers,
    so that a year given with its group wins whatever the order typed. A name given twice is refused
    (which of two values was meant cannot be guessed), and so is --basis with a different --set basis=;
    raises DriverError on bad input."""
    from engine.drivers import TERMINAL
    from engine.scenarios import scenario as named_scenario

    pairs: list[tuple[str, object]] = []
    if scenario:
        pairs += list(named_scenario(scenario).overrides.items())
    given: dict[str, str] = {}
    for text in sets or []:
        name, value = parse_assignment(text)
        if name in given:
            raise DriverError(f"--set {name} given twice ({given[name]} and {value}); give each driver once")
        given[name] = value
    groups = {d.group for d in engine.drivers().values() if d.column is not None}
    pairs += sorted(given.items(), key=lambda pair: pair[0] not in groups)  # groups first
    if TERMINAL in given:
        warn([f"{TERMINAL} moves no line: `stmodel extend` uses it for the years it adds"])
    if basis is not None:
        chosen = str(basis)
        typed = given.get("basis")
        if typed is not None and typed.strip().lower() != chosen:
            raise DriverError(f"--basis {chosen} and --set basis={typed} disagree; give the basis once")
        if typed is None:
            pairs.append(("basis", chosen))
    return pairs


@overload
def load_model_file(path: Path) -> engine.ModelFile: ...
@overload
def load_model_file(path: None) -> None: ...
def load_model_file(path: Path | None) -> engine.ModelFile | None:
    """The model file given with --model (None without it); raises ModelFileError, one line, on a bad one."""
    if path is None:
        return None
    if not path.exists() and not path.is_symlink():
        fail(f"{path}: file not found (stmodel init -o {path} writes a model file)")
    return engine.ModelFile.load(path)


def run_with(overrides: list[tuple[str, object]], model_file: engine.ModelFile | None = None) -> engine.Result:
    """The model on the overrides (`overrides_from`; over the model file's drivers and actuals, when one
    is given); its warnings (drivers outside their plausible range, negative cash, restated printed
    figures, a balance sheet of actuals that does not balance) go to stderr, one line each, and do not
    change the exit code."""
    result = engine.run(overrides, model_file=model_file)
    warn([*(model_file.warnings if model_file else []), *result.warnings()])
    return result


@contextmanager
def working(text: str) -> Iterator[None]:
    """A spinner with `text` on stderr while long work runs (LibreOffice, a large grid); shown only on a
    terminal, so pipes and logs stay clean."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with console.status(text):
        yield


def warn(lines: list[str]) -> None:
    """Warnings on stderr, one line each (each once): the command still succeeds."""
    for line in dict.fromkeys(lines):
        typer.echo(f"warning: {line}", err=True)


def json_text(payload: Any) -> str:
    """JSON for programs: a number that is not finite (never expected: the engine refuses such results)
    becomes null, so the output is always valid JSON (json.dumps would write Infinity or NaN)."""

    def finite(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: finite(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [finite(v) for v in x]
        return x

    return json.dumps(finite(payload), indent=2, allow_nan=False)


def fmt_number(v: Any, decimals: int) -> str:
    """The report's style: thousands separators, parentheses for negatives."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    text = f"{abs(v):,.{decimals}f}"
    return f"({text})" if round(v, decimals) < 0 else text


def write_atomic(path: Path, data: bytes, overwrite: bool = True, inputs: tuple[Path, ...] = ()) -> None:
    """Write via a temporary file in the same folder, then rename: never a half-written file (docs/files.md)."""
    from engine.files import replacing

    with replacing(path, inputs=inputs, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)


advise(UnknownDriverError, "stmodel drivers lists them")
advise(OutputExistsError, "add --overwrite to replace it")
