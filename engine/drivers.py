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
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .calibration import (
    RULES,
    SOURCE,
    TABLE_KINDS,
    adjustments,
    implied_by_rule,
    implied_by_tables,
    peer_shares,
    table_spec_problem,
)
from .errors import StmodelError
from .lines import FCST
from .report import DATA_DIR, Peer, ReportData, ReportDataError, load_report, load_toml
from .years import YearError, Years, year_number

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
    kind: str  # "forecast", "setting", "market", "valuation", "peer"
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None  # a strict lower bound
    choices: tuple[str, ...] = ()
    source: str = ""
    plausible: tuple[float, float] | None = None
    posts: tuple[str, ...] = ()  # the lines it moves, on both sides of the books
    fades: bool = False  # a growth rate: fades to terminal_growth in the years `extend` adds

    @property
    def bounds(self) -> tuple[float, float] | None:
        """The hard (lowest, highest) a number may take; None for a choice."""
        if self.choices:
            return None
        low = max(b for b in (self.minimum, self.above, 0.0 if self.positive else None) if b is not None)
        return (low, self.maximum if self.maximum is not None else math.inf)

    def warning(self, value: DriverValue) -> str | None:
        """Why an accepted value is unusual (outside the plausible range), or None."""
        if self.plausible is None or isinstance(value, str):
            return None
        low, high = self.plausible
        if low <= value <= high:
            return None
        hint = ""
        if self.unit == "fraction" and value > high and low <= value / 100 <= high:
            hint = f"; did you mean {value / 100:g}?"
        return f"{self.name}={value:g} is outside its plausible range {low:g} to {high:g} ({self.unit}){hint}"

    def check(self, value: object) -> DriverValue:
        """Return the value converted for this driver, or raise DriverError saying why."""
        if self.choices:
            if not isinstance(value, str) or value.strip().lower() not in self.choices:
                allowed = " or ".join(repr(c) for c in self.choices)
                raise DriverError(f"{self.name}: expected {allowed}, got {value!r}")
            return value.strip().lower()
        if isinstance(value, bool) or value is None:
            raise DriverError(f"{self.name}: expected a number ({self.unit}), got {value!r}")
        if self.unit == "year":
            try:
                value = float(year_number(value, self.name))
            except YearError as e:
                raise DriverError(str(e)) from None
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
        if self.above is not None and number <= self.above:
            raise DriverError(f"{self.name}: expected a number above {self.above:g} ({self.unit}), got {value!r}")
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
KINDS = ("forecast", "setting", "market", "valuation", "peer")
_REPORT_KINDS: dict[str, tuple[str, ...]] = {  # implied kind -> its keys besides `kind`
    "market": ("key", "divided_by"),
    "report": ("key",),
    "constant": ("value", "per_year"),
    "peer": ("field",),
    "rule": ("rule",),
}
_OPTIONAL = {"sign", "divided_by", "per_year"}
PEER_RULES = ("peer_shares",)
_TEXT = ("unit", "meaning", "source")
_BOUNDS = ("positive", "minimum", "maximum", "above", "choices")
_RANGES = ("plausible", "plausible_factor")


@dataclass(frozen=True)
class Record:
    """One [[driver]] or [[peer_driver]] record; text fields may hold `{...}` filled from the report."""

    name: str
    kind: str
    implied: Mapping[str, Any]  # read-only views, here and below: the records are cached and shared
    texts: Mapping[str, str]  # unit, meaning, source as given (a missing one comes from `implied`)
    bounds: Mapping[str, Any]
    ranges: Mapping[str, tuple[float, float]]  # plausible or plausible_factor
    posts: tuple[str, ...]
    per_peer: bool = False
    local_units: Mapping[str, str] | None = None  # [currency_units], for a peer record's {local_unit}


def _record(r: Any, where: str, local_units: dict[str, str] | None) -> Record:
    def bad(problem: str) -> ReportDataError:
        return ReportDataError(f"{where}: {problem}")

    if not isinstance(r, dict) or not isinstance(r.get("name"), str):
        raise bad("expected a table with a text 'name'")
    where = f"{where} '{r['name']}'"
    if unknown := set(r) - {"name", "kind", "implied", "posts", *_TEXT, *_BOUNDS, *_RANGES}:
        raise bad(f"unknown key(s) {', '.join(sorted(unknown))}")
    if r.get("kind") not in KINDS:
        raise bad(f"kind: expected one of {', '.join(KINDS)}, got {r.get('kind')!r}")
    for key in _TEXT:
        if key in r and not isinstance(r[key], str):
            raise bad(f"{key}: expected text, got {r[key]!r}")
    bounds = {k: r[k] for k in _BOUNDS if k in r}
    if not isinstance(bounds.get("positive", False), bool):
        raise bad("positive: expected true or false")
    for key in ("minimum", "maximum", "above"):
        if key in bounds:
            if isinstance(bounds[key], bool) or not isinstance(bounds[key], int | float):
                raise bad(f"{key}: expected a number, got {bounds[key]!r}")
            bounds[key] = float(bounds[key])
            if not math.isfinite(bounds[key]):
                raise bad(f"{key}: expected a finite number, got {bounds[key]!r}")
    if "choices" in bounds:
        if not (isinstance(bounds["choices"], list) and all(isinstance(c, str) for c in bounds["choices"])):
            raise bad("choices: expected a list of text")
        bounds["choices"] = tuple(bounds["choices"])
    if "choices" not in bounds and not ({"minimum", "above", "positive"} & set(bounds) and "maximum" in bounds):
        raise bad("a number needs a finite lower bound (minimum, above or positive) and a maximum")
    ranges: dict[str, tuple[float, float]] = {}
    for key in _RANGES:
        if key in r:
            pair = r[key]
            ok = isinstance(pair, list) and len(pair) == 2
            finite = (isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in pair)
            numbers = ok and all(finite)
            if not numbers or pair[0] > pair[1]:
                raise bad(f"{key}: expected [low, high], got {pair!r}")
            ranges[key] = (float(pair[0]), float(pair[1]))
    if len(ranges) > 1:
        raise bad("give plausible or plausible_factor, not both")
    posts = r.get("posts", [])
    if not (isinstance(posts, list) and all(isinstance(x, str) for x in posts)):
        raise bad("posts: expected a list of line keys")
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
    if implied["kind"] == "rule" and implied["rule"] not in (*RULES, *PEER_RULES):
        raise bad(f"implied.rule: expected one of {', '.join((*RULES, *PEER_RULES))}, got {implied['rule']!r}")
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
        MappingProxyType(ranges),
        tuple(posts),
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


def _implied(
    spec: Mapping[str, Any], report: ReportData, peer: Peer | None, bases: Mapping[str, DriverValue]
) -> tuple[Any, dict[str, str]]:
    """A record's base (a value, or {column: value} per year) and the texts its source supplies;
    `bases` are the drivers of the records before it (a rule may build on them)."""
    kind = spec["kind"]
    if kind in TABLE_KINDS:
        return implied_by_tables(spec, report), {"source": SOURCE}
    if kind == "rule" and spec["rule"] in PEER_RULES:
        if peer is None:
            raise KeyError(f"rule '{spec['rule']}' needs a [[peer_driver]] record")
        return peer_shares(peer, bases), {"source": "implied from the peer table (market cap over price)"}
    if kind == "rule":
        return implied_by_rule(spec["rule"], report, bases), {"source": SOURCE}
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
        if spec.get("per_year"):
            return {c: spec["value"] for c in FCST}, {}
        return spec["value"], {}
    if peer is None:
        raise KeyError("a 'peer' base needs a [[peer_driver]] record")
    title = report.peers_meta.get("title", "")
    return getattr(peer, spec["field"]), {"source": f"{title} / {peer.name} (line {peer.line})"}


TERMINAL = "terminal_growth"  # used by `stmodel extend` when it adds years; it moves no line itself


def faded(last: float, terminal: float, k: int, n: int) -> float:
    """A growth rate k of n added years on: a straight line from the last forecast year's to terminal
    (to 12 decimals, so that a model file reads 0.03, not 0.030000000000000027)."""
    return round(last + (terminal - last) * k / n, 12)


def extension(
    values: Mapping[str, DriverValue],
    years: Years,
    to: Years,
    report: ReportData | None = None,
    starts: Mapping[str, float] | None = None,
) -> dict[str, DriverValue]:
    """The per-year drivers of the columns `to` adds to `years`, from `values` (every driver of `years`):
    each starts from its last year's value (or from `starts`, by the last year's driver name: a growth
    reported in that year), except growth rates, which fade to `terminal_growth`."""
    reg = _registry(report or load_report(), years)
    last = years.forecast[-1]
    added = to.forecast[len(years.forecast) :]
    terminal = float(values[TERMINAL])
    out: dict[str, DriverValue] = {}
    for d in reg.values():
        if d.column != last or d.kind == "peer":
            continue
        v = (starts or {}).get(d.name, values[d.name])
        for k, col in enumerate(added, start=1):
            fades = d.fades and isinstance(v, float | int)
            value = faded(float(v), terminal, k, len(added)) if fades else v
            out[f"{d.group}_{col}"] = value + 0.0 if isinstance(value, float) else value  # no -0.0
    return out


def text_context(report: ReportData, **extra: Any) -> dict[str, Any]:
    """What a record's `{...}` placeholders can name: the report's sections, plus `extra` (peer, local_unit)."""
    return {"valuation": report.valuation, "rating": report.rating, "market": report.market, **extra}


def _expand(
    rec: Record,
    report: ReportData,
    peer: Peer | None = None,
    bases: Mapping[str, DriverValue] | None = None,
    years: Years | None = None,
    terminal: float = 0.0,
) -> list[Driver]:
    """The drivers of one record: one, or one per column when its base is per year. For `years`
    beyond the report's, a forecast driver's added columns start from its last year's base (growth
    fading to `terminal`), and a peer's sales take the columns the analyst gives (no base: NaN)."""
    base, supplied = _implied(rec.implied, report, peer, bases or {})
    base = dict(base) if isinstance(base, dict) else base  # never the report's own (cached, shared) dict
    years = years or Years()
    fades = rec.implied["kind"] == "growth"
    if isinstance(base, dict) and list(base) == list(FCST) and years.added:
        last = base[FCST[-1]]
        n = len(years.added)
        for k, col in enumerate(years.added, start=1):
            base[col] = faded(float(last), terminal, k, n) if fades and isinstance(last, int | float) else last
    given: set[str] = set()  # the peer sales columns the analyst gives (no base in the report)
    if isinstance(base, dict) and peer is not None:
        for key, col in years.peer_sales:
            if key == peer.key and col not in base:
                base[col] = math.nan
                given.add(col)
    local_unit = (rec.local_units or {}).get(peer.currency, peer.currency) if peer is not None else ""
    ctx = text_context(report, peer=peer, local_unit=local_unit) if peer is not None else text_context(report)

    def fill(key: str, **extra: str) -> str:
        if key in rec.texts:
            return rec.texts[key].format_map(ctx | extra)
        if key not in supplied:
            raise KeyError(f"no {key} given, and its base supplies none")
        return supplied[key]

    group, unit, source = rec.name.format_map(ctx), fill("unit"), fill("source")

    def driver(name: str, col: str | None, meaning: str, value: DriverValue) -> Driver:
        plausible = rec.ranges.get("plausible")
        if "plausible_factor" in rec.ranges and isinstance(value, float | int) and math.isfinite(value):
            low, high = rec.ranges["plausible_factor"]
            plausible = (low * value, high * value) if value >= 0 else (high * value, low * value)
        posts = tuple(p.format_map(ctx | {"column": col or ""}) for p in rec.posts)
        return Driver(
            name,
            group,
            col,
            unit,
            meaning,
            value,
            rec.kind,
            source=source,
            plausible=plausible,
            posts=posts,
            fades=fades,
            **rec.bounds,
        )

    if not isinstance(base, dict):
        return [driver(group, None, fill("meaning"), base)]
    out = []
    for col, value in base.items():
        own = "{column}" in rec.texts.get("meaning", "")
        meaning = fill("meaning", column=col) if own else f"{fill('meaning')}, {col}"
        d = driver(f"{group}_{col}", col, meaning, value)
        if col in given:
            d = replace(d, source="the analyst's model file (the report prints none)")
        elif col in years.added:
            d = replace(d, source=f"stmodel extend: from {FCST[-1]}" + (", fading to terminal_growth" if fades else ""))
        out.append(d)
    return out


def expanded(
    report: ReportData, records: tuple[Record, ...] | None = None, years: Years | None = None
) -> list[tuple[Record, list[Driver]]]:
    """Each record with its drivers, in registry order: [[driver]] records, then peer by peer."""
    records = load_records() if records is None else records
    jobs: list[tuple[Record, Peer | None]] = [(r, None) for r in records if not r.per_peer]
    jobs += [(r, peer) for peer in report.peers for r in records if r.per_peer]
    out = []
    bases: dict[str, DriverValue] = {}
    terminal = next((r for r in records if r.name == TERMINAL), None)
    fade_to = float(_implied(terminal.implied, report, None, {})[0]) if terminal and years and years.added else 0.0
    for rec, peer in jobs:
        try:
            ds = _expand(rec, report, peer, bases, years, fade_to)
            out.append((rec, ds))
            bases.update((d.name, d.base) for d in ds)
        except (KeyError, AttributeError, IndexError, ValueError) as e:
            detail = e.args[0] if isinstance(e, KeyError) and e.args else e
            raise ReportDataError(f"{DRIVERS_FILE.name}: driver '{rec.name}': {detail}") from None
    return out


def build_registry(
    report: ReportData, records: tuple[Record, ...] | None = None, years: Years | None = None
) -> dict[str, Driver]:
    """Every driver by name, from the records; two records naming one driver are refused."""
    out: dict[str, Driver] = {}
    for _, ds in expanded(report, records, years):
        for d in ds:
            if d.name in out:
                raise ReportDataError(f"{DRIVERS_FILE.name}: driver '{d.name}' is defined twice")
            out[d.name] = d
    return out


@cache
def _registry(report: ReportData, years: Years | None = None) -> dict[str, Driver]:
    return build_registry(report, years=years if years != Years() else None)


def drivers(report: ReportData | None = None, years: Years | None = None) -> dict[str, Driver]:
    """Every driver by name, in a stable order; a fresh dict, so callers cannot alter the cache.
    `years`: a model's columns, when they go beyond the report's (engine/years.py)."""
    return dict(_registry(report or load_report(), years))


def base_values(report: ReportData | None = None, years: Years | None = None) -> dict[str, DriverValue]:
    """Every driver's base value by name (a new dict each call, free to change)."""
    return {name: d.base for name, d in _registry(report or load_report(), years).items()}


def expand(name: str, report: ReportData | None = None, years: Years | None = None) -> list[Driver]:
    """The drivers a name sets: itself, or every column of a per-year group."""
    reg = _registry(report or load_report(), years)
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


def warnings(
    values: Mapping[str, DriverValue], report: ReportData | None = None, years: Years | None = None
) -> list[str]:
    """Why each driver value that differs from its base is unusual: outside its plausible range, or an
    operating cost that grows faster than gross profit (variable_opex_ratio at or above gross_margin)."""
    reg = _registry(report or load_report(), years)
    out = []
    for name, value in values.items():
        d = reg.get(name)
        if d is not None and value != d.base and (text := d.warning(value)):
            out.append(text)
    for col in (years or Years()).forecast:
        v, gm = values.get(f"variable_opex_ratio_{col}"), values.get(f"gross_margin_{col}")
        if isinstance(v, float) and isinstance(gm, float) and v >= gm:
            out.append(
                f"variable_opex_ratio_{col}={v:g} is not below gross_margin_{col}={gm:g}: "
                "more revenue would lower operating profit"
            )
    return out


def resolve(
    overrides: Mapping[str, object] | Iterable[tuple[str, object]],
    report: ReportData | None = None,
    years: Years | None = None,
) -> dict[str, DriverValue]:
    """Base values with overrides applied and checked; raises DriverError on the first bad one."""
    values = base_values(report, years)
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    for name, raw in items:
        for d in expand(name, report, years):
            values[d.name] = d.check(raw)
    return values
