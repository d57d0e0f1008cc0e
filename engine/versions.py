"""The package's requirements that Excel depends on: the exact xlwings, and the Python version.

The add-in's VBA declares `Lib "xlwings64-<version>.dll"`, the DLL that `pip install xlwings==<version>`
puts beside python.exe: an add-in built from one xlwings cannot talk to another. The package therefore
pins xlwings exactly (pyproject.toml), the add-in is built only from that version, and every entry point
Excel reaches (the UDF module, the ribbon actions, `stmodel doctor`) compares what is installed with it.
This module imports neither xlwings nor the model, so it can report on a machine where they are broken.
"""

from __future__ import annotations

import platform
import re
import tomllib
from importlib import metadata
from pathlib import Path

from .errors import StmodelError

PACKAGE = "sensetime-model"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


class XlwingsVersionError(StmodelError):
    """The installed xlwings is not the one the add-in or the package was built for."""


def _requirements() -> tuple[list[str], str]:
    """(dependencies, requires-python) from the installed package, else from the source tree's pyproject.toml."""
    try:
        return metadata.requires(PACKAGE) or [], metadata.metadata(PACKAGE)["Requires-Python"] or ""
    except metadata.PackageNotFoundError:
        pass
    try:
        project = tomllib.loads(PYPROJECT.read_text())["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return [], ""
    return list(project.get("dependencies", [])), str(project.get("requires-python", ""))


def installed_xlwings() -> str:
    """The xlwings version installed in this Python ('' when it is not installed)."""
    try:
        return metadata.version("xlwings")
    except metadata.PackageNotFoundError:
        return ""


def pinned_xlwings() -> str:
    """The exact xlwings version this package requires (its `xlwings==X.Y.Z` dependency); '' if it cannot tell."""
    for requirement in _requirements()[0]:
        m = re.fullmatch(r"xlwings\s*==\s*([\w.]+)", requirement.split(";")[0].strip())
        if m:
            return m.group(1)
    return ""


def minimum_python() -> tuple[int, ...]:
    """The lowest Python the package supports, from its `requires-python = ">=3.11"`."""
    m = re.search(r">=\s*(\d+(?:\.\d+)*)", _requirements()[1])
    return tuple(int(part) for part in m.group(1).split(".")) if m else ()


def fix(expected: str) -> str:
    """What to type to get `expected`: the same command the VBA message gives."""
    return (
        f'python -m pip install "xlwings=={expected}" in the Python the add-in runs '
        "(or rebuild the add-in there: stmodel addin build --overwrite), then restart Excel"
    )


def problem(expected: str, found: str, what: str = "the SenseTime add-in") -> str | None:
    """Both versions in one sentence when they differ; None when they agree (or nothing is expected)."""
    if not expected or found == expected:
        return None
    have = f"xlwings {found}" if found else "no xlwings"
    return f"{what} needs xlwings {expected} but this Python ({platform.python_version()}) has {have}"


def mismatch(expected: str, found: str, what: str = "the SenseTime add-in") -> str | None:
    """One line naming both versions and the fix, or None when they agree."""
    found_problem = problem(expected, found, what)
    return f"{found_problem}. Fix: {fix(expected)}." if found_problem else None


def check(expected: str, what: str = "the SenseTime add-in") -> None:
    """Raise XlwingsVersionError when the installed xlwings is not `expected`."""
    message = mismatch(expected, installed_xlwings(), what)
    if message:
        raise XlwingsVersionError(message)
