"""An analyst's own model file: their drivers and the reported figures they enter, over the report.

A TOML file an analyst keeps beside the workbook (readable, diffable, commented):

    [model]              the model version it was written for, and its years
    [drivers]            driver name or group = value (`stmodel drivers` lists them)
    [actuals.2022]       line key = reported figure (`stmodel lines` lists them)

Edits keep the file's own comments and layout (tomlkit), and every save is atomic. Anything wrong
in a file is one line naming the file, the place and what to write instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.items import Table

from .actuals import ActualsError, checked, column_of, line_key, number, restatements
from .drivers import DriverError, DriverValue, drivers, resolve
from .errors import StmodelError
from .files import Stamp, replacing, stamp
from .lines import YEARS
from .model import Model, Node, compile_model
from .report import ReportData, ReportDataError, read_toml_text

VERSION = "0.1.0"  # the model's version a file records (engine.__version__)
TABLES = ("model", "drivers", "actuals")

HEADER = """\
SenseTime (20 HK) model file: your drivers and reported figures over the DBS initiation of 13 Jan 2023.

Use it with any command that evaluates the model: stmodel value --model {name}
  [drivers]       a driver (premium = 0.5) or a per-year group at once (smart_auto_growth = 0.3);
                  not set here = the report's base value. `stmodel drivers` lists every name.
                  Groups: {groups}
  [actuals.YYYY]  reported figures by line key (smart_business = 1464.3); `stmodel lines` lists them.
                  A year with actuals becomes an actual year (2022A); subtotals are always computed.
                  `stmodel actuals import FILE.csv --year 2022 --model {name}` fills one from a CSV.
"""


class ModelFileError(StmodelError, ValueError):
    """A model file that cannot be used; the message names the file and the place."""


@dataclass
class ModelFile:
    """A model file as a document: read, change and save it without losing its comments."""

    document: tomlkit.TOMLDocument
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    loaded: Stamp | None = None  # the file's stamp when it was read

    # ------------------------------------------------------------------ reading

    @classmethod
    def new(cls, name: str = "mymodel.toml") -> ModelFile:
        """An empty model file: every driver at its base value, no actuals."""
        doc = tomlkit.document()
        groups = sorted({d.group for d in drivers().values() if d.kind in ("forecast", "setting")})
        for line in HEADER.format(name=name, groups=_wrap(groups)).splitlines():
            doc.add(tomlkit.comment(line) if line else tomlkit.nl())
        doc.add(tomlkit.nl())
        model = tomlkit.table()
        model.add("version", VERSION)
        years = tomlkit.array()
        years.extend(YEARS)
        model.add("years", years)
        doc.add("model", model)
        doc.add("drivers", tomlkit.table())
        return cls(doc)

    @classmethod
    def parse(cls, text: str, path: Path | None = None) -> ModelFile:
        where = str(path) if path else "model file"
        try:
            doc = tomlkit.parse(text)
        except ParseError as e:
            raise ModelFileError(f"{where}: not valid TOML: {e}") from None
        mf = cls(doc, path)
        mf.check()
        return mf

    @classmethod
    def load(cls, path: str | Path) -> ModelFile:
        path = Path(path)
        try:
            text = read_toml_text(path)
        except ReportDataError as e:
            raise ModelFileError(str(e)) from None
        before = stamp(path)
        mf = cls.parse(text, path)
        mf.loaded = before
        return mf

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "model file"

    def _table(self, name: str) -> Mapping[str, Any]:
        value = self.document.get(name, {})
        if not isinstance(value, Mapping):
            raise ModelFileError(f"{self.where}: [{name}] must be a table")
        return value

    @property
    def drivers(self) -> dict[str, DriverValue]:
        """The drivers the file sets, as written (names may be groups)."""
        return {str(k): _plain(v) for k, v in self._table("drivers").items()}

    @property
    def actuals(self) -> dict[str, dict[str, float]]:
        """{year: {line key: value}} as written."""
        out: dict[str, dict[str, float]] = {}
        for year, lines in self._table("actuals").items():
            if not isinstance(lines, Mapping):
                raise ModelFileError(f"{self.where}: [actuals.{year}] must be a table of line = value")
            out[str(year)] = {str(k): _plain(v) for k, v in lines.items()}
        return out

    def check(self, report: ReportData | None = None) -> None:
        """Refuse what the model cannot use, naming the place; collect warnings for what is unusual."""
        self.warnings = []
        if unknown := [k for k in self.document if k not in TABLES]:
            raise ModelFileError(f"{self.where}: unknown table [{unknown[0]}]; a model file has {', '.join(TABLES)}")
        meta = self._table("model")
        if unknown := [k for k in meta if k not in ("version", "years")]:
            raise ModelFileError(f"{self.where}: [model] has no key '{unknown[0]}'; it holds version and years")
        raw_years = meta.get("years", YEARS)
        if not isinstance(raw_years, list | tuple) or not all(isinstance(y, str) for y in raw_years):
            raise ModelFileError(f"{self.where}: [model] years must be a list of columns like {list(YEARS)}")
        years = list(raw_years)
        if years != list(YEARS):
            raise ModelFileError(f"{self.where}: [model] years = {years} but this model's columns are {list(YEARS)}")
        version = meta.get("version", VERSION)
        if version != VERSION:
            self.warnings.append(f"{self.where}: written for model version {version}, this is {VERSION}")
        model = compile_model(report)
        try:
            resolve(self.drivers.items(), model.report)
        except DriverError as e:
            raise ModelFileError(f"{self.where}: [drivers] {e}") from None
        try:
            nodes = checked(model, self.actuals)
        except ActualsError as e:
            raise ModelFileError(f"{self.where}: [actuals] {e}") from None
        self.warnings += restatements(model, nodes)

    # ------------------------------------------------------------------ using

    def actual_nodes(self, report: ReportData | None = None) -> tuple[tuple[Node, float], ...]:
        return checked(compile_model(report), self.actuals)

    def compiled(self, report: ReportData | None = None) -> Model:
        """The model with this file's actuals in place."""
        return compile_model(report, self.actual_nodes(report))

    def overrides(self) -> list[tuple[str, DriverValue]]:
        return list(self.drivers.items())

    # ------------------------------------------------------------------ changing

    def set_driver(self, name: str, value: object) -> None:
        resolve([(name, value)])
        table = self.document.setdefault("drivers", tomlkit.table())
        table[name] = value

    def set_actual(self, year: object, name: str, value: object, report: ReportData | None = None) -> str:
        """Enter one reported figure; returns "added", "changed" or "unchanged"."""
        model = compile_model(report)
        col = column_of(year)
        key = line_key(model, name)
        amount = number(value, f"actual {key} {col[:4]}")
        actuals = self.document.get("actuals")
        if actuals is None:
            actuals = tomlkit.table(is_super_table=True)
            self.document["actuals"] = actuals
        # The year's table and the line's entry as the file spells them ([actuals.2022A], "Smart Auto")
        year_key = next((str(y) for y in actuals if _same(column_of, y, col)), col[:4])
        if year_key not in actuals:
            actuals[year_key] = tomlkit.table()
        table: Table = actuals[year_key]
        entry = next((str(k) for k in table if _same(lambda n: line_key(model, n), k, key)), key)
        old = table.get(entry)
        if old is not None and _same(lambda v: number(v, "old"), _plain(old), amount):
            return "unchanged"
        table[entry] = amount
        return "added" if old is None else "changed"

    def text(self) -> str:
        return tomlkit.dumps(self.document)

    def save(self, path: str | Path | None = None, *, overwrite: bool = True, since: Stamp | None = None) -> Path:
        """Write the file atomically (never half-written); `path` defaults to where it was read. A file
        saved where it was read is refused if another writer changed it since it was read (`since`, the
        stamp at load unless given)."""
        target = Path(path) if path is not None else self.path
        if since is None and target is not None and self.path is not None and target == self.path:
            since = self.loaded
        if target is None:
            raise ModelFileError("a new model file needs a path to be saved to")
        self.check()
        with replacing(target, suffix=".toml", overwrite=overwrite, since=since) as tmp:
            tmp.write_text(self.text(), encoding="utf-8")
        self.path, self.loaded = target, stamp(target)
        return target


def _same(resolve: Any, written: Any, wanted: Any) -> bool:
    """Whether what the file wrote resolves to what is wanted (False when it does not resolve at all)."""
    try:
        return bool(resolve(written) == wanted)
    except (ActualsError, ValueError, TypeError):
        return False


def _plain(value: Any) -> Any:
    """A tomlkit item as a plain Python value (a float stays a float, text a str)."""
    return value.unwrap() if hasattr(value, "unwrap") else value


def _wrap(names: list[str], width: int = 88) -> str:
    lines, line = [], ""
    for name in names:
        if line and len(line) + len(name) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {name}" if line else name
    lines.append(line)
    return "\n                  ".join(lines)


def load(model_file: str | Path | ModelFile) -> ModelFile:
    return model_file if isinstance(model_file, ModelFile) else ModelFile.load(model_file)


__all__ = ["ModelFile", "ModelFileError", "load"]
