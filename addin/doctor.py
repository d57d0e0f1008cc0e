"""`stmodel doctor`: is this machine ready for the add-in? One check per line, each with the fix.

The checks follow the path Excel takes: the Python it runs, the xlwings in that Python against the one
the add-in was built with (the add-in's `XLWINGS_VERSION` constant names the DLL it loads), the `udfs`
module the UDF server imports, and, when given, a workbook's audit. LibreOffice is reported for
information only: it recalculates workbooks on Linux and plays no part in Excel.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from engine import versions
from engine.errors import StmodelError

PASSED, PROBLEM, INFO = "ok", "problem", "info"
INSTALL = "python -m pip install . (from a copy of the repository), in the Python the add-in runs"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it went, what was found, and the fix for a problem."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f"{'' if self.detail.endswith('.') else '.'} Fix: {self.fix}" if self.fix else ""
        return f"{self.status:<8}{self.name:<12}{self.detail}{fix}"


@dataclass(frozen=True)
class AddinFacts:
    """What a built SenseTime.xlam says about itself."""

    xlwings: str
    version: str
    settings: dict[str, str]


def read_addin(path: Path) -> AddinFacts:
    """The add-in's XLWINGS_VERSION and ADDIN_VERSION constants and its config sheet (label -> value)."""
    from pyopenvba import ExcelFile

    from .build import CONFIG_SHEET
    from .vba import RIBBON_MODULE

    path = Path(path)
    if not path.is_file():
        raise StmodelError(f"{path}: no such add-in file")
    try:
        with ExcelFile(path) as book:
            xlwings_vba = book.get_module("xlwings")
            ribbon = book.get_module(RIBBON_MODULE) if RIBBON_MODULE in book.module_names() else ""
    except StmodelError:
        raise
    except Exception as e:  # pyOpenVBA's errors for a file that is not an add-in
        raise StmodelError(f"{path}: not a SenseTime add-in ({type(e).__name__}: {e})") from None
    built_with = re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]*)"', xlwings_vba, re.M)
    if not built_with:
        raise StmodelError(f"{path}: its xlwings module has no XLWINGS_VERSION constant")
    version = re.search(r'^Public Const ADDIN_VERSION As String = "([^"]*)"', ribbon, re.M)
    return AddinFacts(built_with.group(1), version.group(1) if version else "unknown", _config(path, CONFIG_SHEET))


def _config(path: Path, sheet: str) -> dict[str, str]:
    """The config sheet's label/value pairs (column A/B), read from the zip: openpyxl refuses an add-in's parts."""
    import zipfile

    from defusedxml import ElementTree

    from workbook.audit.container import relationships

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rid = next((s.get(rel) for s in book.iter(f"{main}sheet") if s.get("name") == sheet), None)
        target = next((t for i, _, t in relationships(path, z, "xl/workbook.xml") if i == rid), None)
        if target is None or target not in names:
            return {}
        shared = []
        if "xl/sharedStrings.xml" in names:
            sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{main}t")) for si in sst.iter(f"{main}si")]
        cells = {}
        for c in ElementTree.fromstring(z.read(target)).iter(f"{main}c"):
            v = c.find(f"{main}v")
            text = "".join(t.text or "" for t in c.iter(f"{main}t")) if c.get("t") == "inlineStr" else ""
            if v is not None and v.text is not None:
                text = shared[int(v.text)] if c.get("t") == "s" else v.text
            cells[c.get("r")] = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
    rows, r = {}, 1
    while cells.get(f"A{r}"):
        rows[cells[f"A{r}"]] = cells.get(f"B{r}", "")
        r += 1
    return rows


def check_python() -> Check:
    found = platform.python_version()
    need = versions.minimum_python()
    if not need:
        return Check("python", PROBLEM, f"{found}; the package's requirements cannot be read", INSTALL)
    if sys.version_info[: len(need)] >= need:
        return Check("python", PASSED, f"{found} at {sys.executable}")
    text = ".".join(map(str, need))
    return Check("python", PROBLEM, f"{found} is older than {text}", f"install Python {text} or newer")


def check_xlwings(addin: AddinFacts | None) -> Check:
    """The installed xlwings against the add-in's (when given), else against the package's pin."""
    installed = versions.installed_xlwings()
    expected, against = (addin.xlwings, "the add-in") if addin else (versions.pinned_xlwings(), "the package")
    if not expected:
        return Check("xlwings", PROBLEM, f"{installed or 'not installed'}; the package's pin cannot be read", INSTALL)
    found = versions.problem(expected, installed, against)
    if found:
        return Check("xlwings", PROBLEM, found, versions.fix(expected))
    return Check("xlwings", PASSED, f"{installed}, as {against} requires")


def check_addin(path: Path) -> tuple[Check, AddinFacts | None]:
    try:
        facts = read_addin(path)
    except StmodelError as e:
        return Check("add-in", PROBLEM, str(e), "rebuild it: stmodel addin build -o SenseTime.xlam --overwrite"), None
    settings = ", ".join(f"{k} = {v}" for k, v in facts.settings.items()) or "none"
    detail = f"{path.name} {facts.version}, built with xlwings {facts.xlwings}; settings: {settings}"
    return Check("add-in", PASSED, detail), facts


def check_udfs() -> Check:
    """Import `udfs` as Excel's UDF server does and compute one cell."""
    try:
        import udfs

        value = udfs.ST_TARGET()
    except Exception as e:  # an import failure of any kind is what the check reports
        return Check("udfs", PROBLEM, f"cannot import: {type(e).__name__}: {e}", INSTALL)
    if not isinstance(value, float):
        return Check("udfs", PROBLEM, f"ST_TARGET() gives {value!r}")
    return Check("udfs", PASSED, f"{len(udfs.__all__)} functions; ST_TARGET() = {value:g}")


def check_workbook(path: Path) -> Check:
    from workbook.audit import audit, summary

    try:
        findings = audit(path, recalc=False)
    except StmodelError as e:
        return Check("workbook", PROBLEM, str(e), "open a workbook written by stmodel build")
    counts = summary(findings)
    detail = f"{path.name}: {counts['error']} errors, {counts['warning']} warnings"
    if counts["error"]:
        first = next(f for f in findings if f.severity == "error")
        return Check("workbook", PROBLEM, f"{detail}; first: {first}", f"stmodel audit {path} lists them all")
    return Check("workbook", PASSED, detail)


def check_libreoffice() -> Check:
    """For information: LibreOffice recalculates workbooks on Linux (tests, audit --recalc); Excel never needs it."""
    from workbook.recalc import RecalcError, soffice

    try:
        path = soffice()
    except RecalcError:
        return Check("libreoffice", INFO, "not installed (needed only for recalc/audit --recalc on Linux)")
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return Check("libreoffice", INFO, f"{out or 'found'} at {path}")


def run_checks(addin: Path | None = None, workbook: Path | None = None) -> list[Check]:
    """Every check, in the order Excel meets them."""
    checks = [check_python()]
    facts = None
    if addin is not None:
        addin_check, facts = check_addin(addin)
        checks.append(addin_check)
    checks += [check_xlwings(facts), check_udfs()]
    if workbook is not None:
        checks.append(check_workbook(workbook))
    checks.append(check_libreoffice())
    return checks
