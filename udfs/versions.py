"""The one xlwings version the add-in and the Python package share, and the message when they differ.

The add-in's VBA declares `Lib "xlwings64-<version>.dll"`, the DLL that `pip install xlwings==<version>`
puts beside python.exe: an add-in built from one xlwings cannot talk to another. The package therefore
pins xlwings exactly (pyproject.toml), the add-in is built only from that version, and every entry point
Excel reaches (the UDF module, the ribbon actions, `stmodel doctor`) compares what is installed with it.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata

from engine.errors import StmodelError

PACKAGE = "sensetime-model"


class XlwingsVersionError(StmodelError):
    """The installed xlwings is not the one the add-in or the package was built for."""


def installed_xlwings() -> str:
    """The xlwings version installed in this Python ('' when it is not installed)."""
    try:
        return metadata.version("xlwings")
    except metadata.PackageNotFoundError:
        return ""


def pinned_xlwings() -> str:
    """The exact xlwings version this package requires (its `xlwings==X.Y.Z` dependency); '' if not installed."""
    try:
        requirements = metadata.requires(PACKAGE) or []
    except metadata.PackageNotFoundError:
        return ""
    for requirement in requirements:
        m = re.fullmatch(r"xlwings\s*==\s*([\w.]+)", requirement.split(";")[0].strip())
        if m:
            return m.group(1)
    return ""


def fix(expected: str) -> str:
    """What to type to get `expected`: the same command the VBA message gives."""
    return (
        f'python -m pip install "xlwings=={expected}" in the Python the add-in runs '
        "(or rebuild the add-in there: stmodel addin build), then restart Excel"
    )


def mismatch(expected: str, found: str, what: str = "the SenseTime add-in") -> str | None:
    """One line naming both versions and the fix, or None when they agree (or nothing is expected)."""
    if not expected or found == expected:
        return None
    have = f"xlwings {found}" if found else "no xlwings"
    python = platform.python_version()
    return f"{what} needs xlwings {expected} but this Python ({python}) has {have}. Fix: {fix(expected)}."


def check(expected: str, what: str = "the SenseTime add-in") -> None:
    """Raise XlwingsVersionError when the installed xlwings is not `expected`."""
    problem = mismatch(expected, installed_xlwings(), what)
    if problem:
        raise XlwingsVersionError(problem)
