"""An analyst's own model file: their drivers and the reported figures they enter, over the report.

A TOML file an analyst keeps beside the workbook (readable, diffable, commented):

    [model]              the model version it was written for, and its years
    [market]             prices and exchange rates with the date they are as of (`stmodel market`)
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

from . import market
from .actuals import ActualsError, checked, column_of, line_key, number, restatements
from .drivers import DriverError, DriverValue, drivers, extension, resolve
from .errors import StmodelError
from .files import Stamp, replacing, stamp
from .lines import HIST, YEARS
from .model import Model, Node, compile_model
from .report import ReportData, ReportDataError, load_report, read_toml_text
from .years import YearError, Years, forecast_years

VERSION = "0.1.0"  # the model's version a file records (engine.__version__)
TABLES = ("model", "market", "drivers", "actuals")

HEADER = """\
SenseTime (20 HK) model file: your drivers and reported figures over the DBS initiation of 13 Jan 2023.

Use it with any command that evaluates the model: stmodel value --model {name}
  [drivers]       a driver (premium = 0.5) or a per-year group at once (smart_auto_growth = 0.3);
                  not set here = the report's base value. `stmodel drivers` lists every name.
                  Groups: {groups}
  [actuals.YYYY]  reported figures by line key (smart_business = 1464.3); `stmodel lines` lists them.
                  A year with actuals becomes an actual year (2022A); subtotals are always computed.
                  `stmodel actuals import FILE.csv --year 2022 --model {name}` fills one from a CSV.
  [market]        prices and FX with their as_of date: `stmodel market FILE.csv --model {name}`.
  More years:     `stmodel extend --to 2026 --model {name}` adds forecast years (and their drivers).
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
    def market(self) -> dict[str, Any]:
        """The [market] table as written: as_of and prices by field."""
        return {str(k): _plain(v) for k, v in self._table("market").items()}

    @property
    def as_of(self) -> str | None:
        """The date of the file's market data (ISO), or None when it has none (the report's then)."""
        value = self.market.get(market.AS_OF)
        return market.as_of_date(value, self.where).isoformat() if value is not None else None

    @property
    def years(self) -> Years:
        """The model's columns: [model] years, and the peer sales years [drivers] gives."""
        try:
            forecast = forecast_years(self._table("model").get("years", list(YEARS)))
        except YearError as e:
            raise ModelFileError(f"{self.where}: [model] {e}") from None
        peers = tuple(p.key for p in load_report().peers)
        return Years(forecast).with_peer_sales(list(self.drivers), peers)

    @property
    def last_actual_year(self) -> int:
        """The latest year the file gives actuals for; the report's last reported year otherwise."""
        years = [int(column_of(y, self.years.years)[:4]) for y in self.actuals]
        return max([int(HIST[-1][:4]), *years])

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
        years = self.years
        version = meta.get("version", VERSION)
        if version != VERSION:
            self.warnings.append(f"{self.where}: written for model version {version}, this is {VERSION}")
        model = compile_model(report, (), years)
        try:
            nodes = checked(model, self.actuals)
        except ActualsError as e:
            raise ModelFileError(f"{self.where}: [actuals] {e}") from None
        try:
            market.checked(self.market, self.last_actual_year, f"{self.where}: [market]", model.report)
        except market.MarketError as e:
            raise ModelFileError(str(e)) from None
        if both := [name for name in self.market if name in self.drivers]:
            raise ModelFileError(
                f"{self.where}: {both[0]} is set in both [market] and [drivers]; keep it in [market] only"
            )
        try:
            values = resolve(self.overrides(), model.report, years)
        except DriverError as e:
            raise ModelFileError(f"{self.where}: [drivers] {e}") from None
        if problem := model.target_problem(values["target_year"]):
            raise ModelFileError(f"{self.where}: [drivers] {problem}")
        if prices := [name for name in self.drivers if name in market.fields(model.report)]:
            self.warnings.append(
                f"{self.where}: {', '.join(prices)} set in [drivers], with no date; market data belongs in"
                " [market] with its as_of date (stmodel market FILE.csv --model FILE)"
            )
        self.warnings += restatements(model, nodes)

    # ------------------------------------------------------------------ using

    def actual_nodes(self, report: ReportData | None = None) -> tuple[tuple[Node, float], ...]:
        return checked(compile_model(report, (), self.years), self.actuals)

    def compiled(self, report: ReportData | None = None) -> Model:
        """The model over this file's years with its actuals in place."""
        return compile_model(report, self.actual_nodes(report), self.years)

    def overrides(self) -> list[tuple[str, DriverValue]]:
        """What the file sets: its market data (as_of aside), then its drivers."""
        prices = [(k, v) for k, v in self.market.items() if k != market.AS_OF]
        return [*prices, *self.drivers.items()]

    # ------------------------------------------------------------------ changing

    def set_driver(self, name: str, value: object) -> None:
        peers = tuple(p.key for p in load_report().peers)
        resolve([(name, value)], None, self.years.with_peer_sales([name], peers))
        table = self.document.setdefault("drivers", tomlkit.table())
        table[name] = value

    def set_market(self, data: dict[str, Any], source: str = "") -> None:
        """Write `data` (checked: market.checked) into the [market] table, noting where it came from;
        fields it does not give keep the table's earlier values."""
        checked_data = {**self.market, **market.checked(data, self.last_actual_year, source or self.where)}
        if both := [name for name in checked_data if name in self.drivers]:
            raise ModelFileError(
                f"{source or self.where}: {both[0]} is set in [drivers] of {self.where}; remove it there first"
                " (market data lives in [market])"
            )
        table = tomlkit.table()
        if source:
            table.add(tomlkit.comment(f"from {source}"))
        for name, value in checked_data.items():
            table.add(name, value)
        if "market" in self.document:
            self.document["market"] = table
        else:
            self._insert_after("model", "market", table)

    def extend(self, year: int, report: ReportData | None = None) -> tuple[str, ...]:
        """Add forecast years up to `year`; returns the columns added. Each new year's per-year drivers
        are written to [drivers] (before any comment that heads the next table): the last year's
        value, growth rates fading to terminal_growth. A driver whose group the file sets for every
        year is left to the group when it would take the group's value; a last year that holds
        actuals starts a segment's growth from the growth reported, and says so."""
        from .result import run  # a model file is read by run: imported here, not at the top

        years = self.years
        try:
            to = years.through(year)
        except YearError as e:
            raise ModelFileError(f"{self.where}: {e}") from None
        result = run(model_file=self)
        new = extension(result.drivers, years, to, report, self._reported_growth(result))
        groups = {name: value for name, value in self.drivers.items() if name in _groups(report, years)}
        registry = drivers(report, to)
        keep = {
            name: value
            for name, value in new.items()
            if registry[name].fades or groups.get(registry[name].group) != value
        }
        meta = self.document.setdefault("model", tomlkit.table())
        listed = tomlkit.array()
        listed.extend(to.years)
        meta["years"] = listed
        added = to.forecast[len(years.forecast) :]
        note = f"{', '.join(added)}: added by stmodel extend (growth fades to terminal_growth)"
        self._append("drivers", [(None, tomlkit.comment(note)), *keep.items()])
        return added

    def _reported_growth(self, result: Any) -> dict[str, float]:
        """When the last forecast year holds actuals: each segment's reported growth, by its growth
        driver's name, to fade from (and a warning that the other drivers start from forecasts)."""
        model = result.model
        last = model.forecast[-1]
        if last not in model.actual_columns:
            return {}
        before = model.years.years[model.years.years.index(last) - 1]
        out = {}
        for d in drivers(model.report, model.years).values():
            segment = d.group.removesuffix("_growth")
            if d.fades and d.column == last and (segment, last) in model.actuals:
                out[d.name] = float(result.raw(segment, last)) / float(result.raw(segment, before)) - 1
        self.warnings.append(
            f"{last[:4]} holds actuals: the added years' segment growth fades from the growth reported in"
            f" {last[:4]} where a segment is given; the other drivers start from the {last} drivers the actuals"
            " replaced (margins, days, rates, amounts): review them in [drivers]"
        )
        return out

    def _append(self, name: str, items: list[tuple[str | None, Any]]) -> None:
        """Add items to a top-level table after its last entry: a comment at its end heads the table
        after it (tomlkit keeps it in this one), so it stays below what is added."""
        if name not in self.document:
            self.document.add(name, tomlkit.table())
        trailing = self._split_trailing(name)
        table = self.document[name]
        for key, item in [*items, *trailing]:
            table.add(item) if key is None else table.add(key, item)

    def _insert_after(self, before: str, name: str, table: Table) -> None:
        """Add a top-level table right after `before` (a new document keeps [model] first); the comments
        at the end of `before`, which head the table after it, move below the new one."""
        items = list(self.document.items())
        if before not in self.document:
            self.document.add(name, table)
            return
        trailing = self._split_trailing(before)
        for _, item in trailing:
            table.add(item)
        items = list(self.document.items())
        for key, _ in items:
            self.document.remove(key)
        for key, value in items:
            self.document.add(key, value)
            if key == before:
                self.document.add(name, table)

    def _split_trailing(self, name: str) -> list[tuple[Any, Any]]:
        """Take the comments and blank lines off the end of a top-level table; returns them."""
        old = self.document[name]
        body = list(old.value.body)
        end = len(body)
        while end and body[end - 1][0] is None:
            end -= 1
        table = tomlkit.table()
        for key, item in body[:end]:
            table.add(item) if key is None else table.add(key, item)
        self.document[name] = table
        return body[end:]

    def set_actual(self, year: object, name: str, value: object, report: ReportData | None = None) -> str:
        """Enter one reported figure; returns "added", "changed" or "unchanged"."""
        model = compile_model(report, (), self.years)
        col = column_of(year, model.years.years)
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


def _groups(report: ReportData | None, years: Years) -> set[str]:
    """The names of the per-year groups (`gross_margin` of `gross_margin_2024F`)."""
    return {d.group for d in drivers(report, years).values() if d.column is not None}


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
