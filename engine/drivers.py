"""The named assumptions that drive the model, their base values and their validation.

A per-year driver is named `<name>_<column>` (`smart_auto_growth_2024F`); setting `<name>` sets
every forecast year at once. Rates are fractions (0.40, not 40). Names are valid Excel defined
names, so the workbook can use them as they are. Every driver is one record of
`engine/data/drivers.toml` (unit, meaning, bounds, where its base comes from): the registry, the
calibration and the driver table of docs/model.md are all built from those records.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .calibration import SOURCE, TABLE_KINDS, adjustments, implied_by_tables, table_spec_problem
from .errors import StmodelError
from .report import DATA_DIR, Peer, ReportData, ReportDataError, load_report, load_toml

DriverValue = float | str


class DriverError(StmodelError, ValueError):
    """A driver name or value that cannot be used; the message names it and says what is expected."""


class UnknownDriverError(DriverError):
    """A name that is neither a driver nor a per-year group of drivers."""


class ImplausibleResultError(DriverError):
    """Driver values that pass their own bounds but give results no one can use (an overflow, a
    target price that is not a finite number); `drivers` names the ones that cause it."""

    def __init__(self, message: str, drivers: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.drivers = drivers


@dataclass(frozen=True)
class Driver:
    name: str
    group: str  # the name without its column; equal to `name` for single drivers
    column: str | None
    unit: str
    meaning: str
    base: DriverValue
    kind: str  # "forecast", "market", "valuation", "peer"
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    source: str = ""

    def check(self, value: object) -> DriverValue:
        """Return the value converted for this driver, or raise DriverError saying why."""
        if self.choices:
            if not isinstance(value, str) or value.strip().lower() not in self.choices:
                allowed = " or ".join(repr(c) for c in self.choices)
                raise DriverError(f"{self.name}: expected {allowed}, got {value!r}")
            return value.strip().lower()
        if isinstance(value, bool) or value is None:
            raise DriverError(f"{self.name}: expected a number ({self.unit}), got {value!r}")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise DriverError(f"{self.name}: expected a number ({self.unit}), got {value!r}") from None
        if isinstance(value, str) and math.isfinite(number) and parse_number(value) is None:
            hint = " (write 1000, not 1_000)" if "_" in value else ""
            raise DriverError(f"{self.name}: expected a number ({self.unit}), got {value!r}{hint}")
        if not math.isfinite(number):
            raise DriverError(f"{self.name}: expected a finite number ({self.unit}), got {value!r}")
        if self.positive and number <= 0:
            raise DriverError(f"{self.name}: expected a number above 0 ({self.unit}), got {value!r}")
        if self.minimum is not None and number < self.minimum:
            raise DriverError(f"{self.name}: expected at least {self.minimum:g} ({self.unit}), got {value!r}")
        if self.maximum is not None and number > self.maximum:
            raise DriverError(f"{self.name}: expected at most {self.maximum:g} ({self.unit}), got {value!r}")
        return number


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text: str) -> float | None:
    """A number as an analyst types it (ASCII digits, a sign, a decimal point, an exponent), or None.

    Python's float() also takes `1_000`, `inf`, `nan` and other scripts' digits; a driver value typed
    on the command line, in a sensitivity axis or in a workbook cell is read with this instead.
    """
    text = text.strip()
    return float(text) if _NUMBER.fullmatch(text) else None


# The records of engine/data/drivers.toml (see its header for the format).
DRIVERS_FILE = DATA_DIR / "drivers.toml"
KINDS = ("forecast", "market", "valuation", "peer")
_REPORT_KINDS: dict[str, tuple[str, ...]] = {  # implied kind -> its keys besides `kind`
    "market": ("key", "divided_by"),
    "report": ("key",),
    "constant": ("value",),
    "peer": ("field",),
}
_OPTIONAL = {"sign", "divided_by"}
_TEXT = ("unit", "meaning", "source")
_BOUNDS = ("positive", "minimum", "maximum", "choices")


@dataclass(frozen=True)
class Record:
    """One [[driver]] or [[peer_driver]] record; text fields may hold `{...}` filled from the report."""

    name: str
    kind: str
    implied: Mapping[str, Any]  # read-only views, here and below: the records are cached and shared
    texts: Mapping[str, str]  # unit, meaning, source as given (a missing one comes from `implied`)
    bounds: Mapping[str, Any]
    per_peer: bool = False
    local_units: Mapping[str, str] | None = None  # [currency_units], for a peer record's {local_unit}


def _record(r: Any, where: str, local_units: dict[str, str] | None) -> Record:
    def bad(problem: str) -> ReportDataError:
        return ReportDataError(f"{where}: {problem}")

    if not isinstance(r, dict) or not isinstance(r.get("name"), str):
        raise bad("expected a table with a text 'name'")
    where = f"{where} '{r['name']}'"
    if unknown := set(r) - {"name", "kind", "implied", *_TEXT, *_BOUNDS}:
        raise bad(f"unknown key(s) {', '.join(sorted(unknown))}")
    if r.get("kind") not in KINDS:
        raise bad(f"kind: expected one of {', '.join(KINDS)}, got {r.get('kind')!r}")
    for key in _TEXT:
        if key in r and not isinstance(r[key], str):
            raise bad(f"{key}: expected text, got {r[key]!r}")
    bounds = {k: r[k] for k in _BOUNDS if k in r}
    if not isinstance(bounds.get("positive", False), bool):
        raise bad("positive: expected true or false")
    for key in ("minimum", "maximum"):
        if key in bounds:
            if isinstance(bounds[key], bool) or not isinstance(bounds[key], int | float):
                raise bad(f"{key}: expected a number, got {bounds[key]!r}")
            bounds[key] = float(bounds[key])
    if "choices" in bounds:
        if not (isinstance(bounds["choices"], list) and all(isinstance(c, str) for c in bounds["choices"])):
            raise bad("choices: expected a list of text")
        bounds["choices"] = tuple(bounds["choices"])
    implied = r.get("implied")
    kinds = {**TABLE_KINDS, **_REPORT_KINDS}
    if not isinstance(implied, dict) or implied.get("kind") not in kinds:
        raise bad(f"implied.kind: expected one of {', '.join(kinds)}")
    keys = kinds[implied["kind"]]
    if unknown := set(implied) - {"kind", *keys}:
        raise bad(f"implied: unknown key(s) {', '.join(sorted(unknown))}")
    if missing := [k for k in keys if k not in implied and k not in _OPTIONAL]:
        raise bad(f"implied: missing key(s) {', '.join(missing)}")
    if implied["kind"] in TABLE_KINDS and (problem := table_spec_problem(implied)):
        raise bad(f"implied: {problem}")
    constant = implied.get("value", "")
    if implied["kind"] == "constant" and (isinstance(constant, bool) or not isinstance(constant, str | int | float)):
        raise bad(f"implied.value: expected a number or text, got {implied['value']!r}")
    texts = {k: r[k] for k in _TEXT if k in r}
    units = MappingProxyType(dict(local_units)) if local_units is not None else None
    return Record(
        r["name"],
        r["kind"],
        MappingProxyType(dict(implied)),
        MappingProxyType(texts),
        MappingProxyType(bounds),
        local_units is not None,
        units,
    )


@cache
def load_records(path: Path = DRIVERS_FILE) -> tuple[Record, ...]:
    """The driver records in file order, checked, so that a bad record fails before any driver is built."""
    raw = load_toml(path)
    if not isinstance(raw.get("driver"), list) or not isinstance(raw.get("peer_driver", []), list):
        raise ReportDataError(f"{path.name}: expected [[driver]] and [[peer_driver]] records")
    units = raw.get("currency_units", {})
    if not (isinstance(units, dict) and all(isinstance(v, str) for v in units.values())):
        raise ReportDataError(f"{path.name}: [currency_units]: expected text per currency")
    peers = raw.get("peer_driver", [])
    records = [_record(r, f"{path.name}: driver[{i}]", None) for i, r in enumerate(raw["driver"])]
    return (*records, *(_record(r, f"{path.name}: peer_driver[{i}]", units) for i, r in enumerate(peers)))


def _implied(spec: Mapping[str, Any], report: ReportData, peer: Peer | None) -> tuple[Any, dict[str, str]]:
    """A record's base (a value, or {column: value} per year) and the texts its source supplies."""
    kind = spec["kind"]
    if kind in TABLE_KINDS:
        return implied_by_tables(spec, report), {"source": SOURCE}
    if kind == "market":
        if missing := {spec["key"], spec.get("divided_by", spec["key"])} - set(report.market):
            raise KeyError(f"report.toml has no [market.{min(missing)}]")
        d = report.market[spec["key"]]
        value = d.value / report.market[spec["divided_by"]].value if "divided_by" in spec else d.value
        return value, {"unit": d.unit, "meaning": d.meaning, "source": d.source}
    if kind == "report":
        section, _, key = spec["key"].partition(".")
        sections = {"valuation": report.valuation, "rating": report.rating}
        if key not in sections.get(section, {}):
            raise KeyError(f"report.toml has no [valuation] or [rating] key '{spec['key']}'")
        return float(sections[section][key]), {}
    if kind == "constant":
        return spec["value"], {}
    if peer is None:
        raise KeyError("a 'peer' base needs a [[peer_driver]] record")
    title = report.peers_meta.get("title", "")
    return getattr(peer, spec["field"]), {"source": f"{title} / {peer.name} (line {peer.line})"}


def text_context(report: ReportData, **extra: Any) -> dict[str, Any]:
    """What a record's `{...}` placeholders can name: the report's sections, plus `extra` (peer, local_unit)."""
    return {"valuation": report.valuation, "rating": report.rating, "market": report.market, **extra}


def _expand(rec: Record, report: ReportData, peer: Peer | None = None) -> list[Driver]:
    """The drivers of one record: one, or one per column when its base is per year."""
    base, supplied = _implied(rec.implied, report, peer)
    local_unit = (rec.local_units or {}).get(peer.currency, peer.currency) if peer is not None else ""
    ctx = text_context(report, peer=peer, local_unit=local_unit) if peer is not None else text_context(report)

    def fill(key: str, **extra: str) -> str:
        if key in rec.texts:
            return rec.texts[key].format_map(ctx | extra)
        if key not in supplied:
            raise KeyError(f"no {key} given, and its base supplies none")
        return supplied[key]

    group, unit, source = rec.name.format_map(ctx), fill("unit"), fill("source")
    if not isinstance(base, dict):
        return [Driver(group, group, None, unit, fill("meaning"), base, rec.kind, source=source, **rec.bounds)]
    out = []
    for col, value in base.items():
        own = "{column}" in rec.texts.get("meaning", "")
        meaning = fill("meaning", column=col) if own else f"{fill('meaning')}, {col}"
        out.append(Driver(f"{group}_{col}", group, col, unit, meaning, value, rec.kind, source=source, **rec.bounds))
    return out


def expanded(report: ReportData, records: tuple[Record, ...] | None = None) -> list[tuple[Record, list[Driver]]]:
    """Each record with its drivers, in registry order: [[driver]] records, then peer by peer."""
    records = load_records() if records is None else records
    jobs: list[tuple[Record, Peer | None]] = [(r, None) for r in records if not r.per_peer]
    jobs += [(r, peer) for peer in report.peers for r in records if r.per_peer]
    out = []
    for rec, peer in jobs:
        try:
            out.append((rec, _expand(rec, report, peer)))
        except (KeyError, AttributeError, IndexError, ValueError) as e:
            detail = e.args[0] if isinstance(e, KeyError) and e.args else e
            raise ReportDataError(f"{DRIVERS_FILE.name}: driver '{rec.name}': {detail}") from None
    return out


def build_registry(report: ReportData, records: tuple[Record, ...] | None = None) -> dict[str, Driver]:
    """Every driver by name, from the records; two records naming one driver are refused."""
    out: dict[str, Driver] = {}
    for _, ds in expanded(report, records):
        for d in ds:
            if d.name in out:
                raise ReportDataError(f"{DRIVERS_FILE.name}: driver '{d.name}' is defined twice")
            out[d.name] = d
    return out


@cache
def _registry(report: ReportData) -> dict[str, Driver]:
    return build_registry(report)


def drivers(report: ReportData | None = None) -> dict[str, Driver]:
    """Every driver by name, in a stable order; a fresh dict, so callers cannot alter the cache."""
    return dict(_registry(report or load_report()))


def base_values(report: ReportData | None = None) -> dict[str, DriverValue]:
    """Every driver's base value by name (a new dict each call, free to change)."""
    return {name: d.base for name, d in _registry(report or load_report()).items()}


def expand(name: str, report: ReportData | None = None) -> list[Driver]:
    """The drivers a name sets: itself, or every column of a per-year group."""
    reg = _registry(report or load_report())
    if name in reg:
        return [reg[name]]
    group = [d for d in reg.values() if d.group == name]
    if group:
        return group
    fixed = adjustments(report or load_report())
    if name in fixed or any(name == f"{k}_{col}" for k, cols in fixed.items() for col in cols):
        raise DriverError(f"'{name}' is a fixed report adjustment, not a driver (see docs/errata.md)")
    close = difflib.get_close_matches(name, list(reg) + sorted({d.group for d in reg.values()}), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise UnknownDriverError(f"unknown driver '{name}'{hint}")


def resolve(
    overrides: Mapping[str, object] | Iterable[tuple[str, object]], report: ReportData | None = None
) -> dict[str, DriverValue]:
    """Base values with overrides applied and checked; raises DriverError on the first bad one."""
    values = base_values(report)
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    for name, raw in items:
        for d in expand(name, report):
            values[d.name] = d.check(raw)
    return values
