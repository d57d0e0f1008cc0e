"""Commands for an analyst's own model file: init, lines, actuals import, variance (docs/actuals.md)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

import engine
from engine.actuals import ActualsError, column_of, find_line, line_key, line_records, number
from engine.report import ReportDataError

from .app import (
    Format,
    FormatOption,
    OverwriteOption,
    SetOption,
    fail,
    fmt_number,
    json_text,
    load_model_file,
    out,
    overrides_from,
    warn,
)

# Short names of the tables for the 80-column listing (`--format json` gives the titles in full).
SHORT_TABLES = {
    "Forecasts and Valuation": "Forecasts",
    "Segmental Breakdown": "Segments",
    "Income Statement": "Income",
    "Balance Sheet": "Balance",
    "Cash Flow Statement": "Cash flow",
    engine.PEERS_TITLE: "Valuation",
}
MAX_CSV = 1_000_000  # bytes: a results table pasted from an announcement is a few kilobytes

ModelRequired = Annotated[
    Path,
    typer.Option("--model", metavar="FILE", help="Your model file (TOML; `stmodel init -o FILE` writes one)."),
]


def init(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the model file (.toml).")] = Path(
        "mymodel.toml"
    ),
    overwrite: OverwriteOption = False,
) -> None:
    """Write a new model file: every driver at its base value, no actuals, a header saying what goes where.

    Give it to any command that evaluates the model with --model; `stmodel actuals import` fills in
    reported figures (docs/actuals.md).
    """
    if output.suffix.lower() != ".toml":
        fail(f"{output}: expected a .toml file name")
    engine.ModelFile.new(output.name).save(output, overwrite=overwrite)
    typer.echo(f"wrote {output}", err=True)


def lines(
    format: FormatOption = Format.table,
    actual_only: Annotated[
        bool, typer.Option("--actuals", help="Only the lines that take an actual (the ones a CSV may name).")
    ] = False,
) -> None:
    """Every line of the model: key, label, unit, the table that prints it, and whether it takes an actual.

    An actual names its line by key or by the printed label. Subtotals, ratios and growth rates take
    none: they are always computed from the lines that do.
    """
    records = [r for r in line_records(engine.compile_model()) if r["actual"] or not actual_only]
    if format is Format.json:
        typer.echo(json_text(records))
        return
    taking = sum(bool(r["actual"]) for r in records)
    title = f"Lines ({len(records)}; {taking} take an actual)"
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("key", no_wrap=True)
    table.add_column("label", ratio=1, min_width=16)
    table.add_column("unit", no_wrap=True)
    table.add_column("table", no_wrap=True)
    table.add_column("actual", no_wrap=True)
    for r in records:
        where = SHORT_TABLES.get(str(r["table"]), "-") if r["table"] else "-"
        table.add_row(str(r["key"]), str(r["label"]), str(r["unit"]), where, "yes" if r["actual"] else "")
    out.print(table)


actuals_app = typer.Typer(
    help="Reported figures in your model file: a year with actuals becomes an actual year (2022A).",
    no_args_is_help=True,
)


@dataclass(frozen=True)
class Row:
    """One figure of a CSV: where it is, the name given and the value as text."""

    line: int  # the CSV file's line number
    name: str
    value: str


def read_rows(
    path: Path, what: str = "line key or label", header: Callable[[str, str], bool] | None = None
) -> list[Row]:
    """The CSV's figures, `name, value` a row (`what` names the first column in messages); an optional
    header row (`header` tells one), blank rows and `#` comments are skipped. A value printed with
    thousands separators and not quoted (Smart Business,1,464.3) is read as one. Anything else is one
    line naming the CSV line."""
    is_header = header or _is_header
    try:
        if path.is_dir():
            raise ReportDataError(f"{path}: is a directory, not a CSV file")
        size = path.stat().st_size
        if size > MAX_CSV:
            raise ReportDataError(f"{path}: {size:,} bytes; a CSV of actuals here is at most {MAX_CSV:,}")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ReportDataError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise ReportDataError(f"{path}: not a CSV file (not UTF-8 text)") from None
    except OSError as e:
        raise ReportDataError(f"{path}: cannot read ({e.strerror or e})") from None
    rows: list[Row] = []
    headed = False
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for cells in reader:
            cells = [c.strip() for c in cells]
            while cells and not cells[-1]:
                cells.pop()
            if not cells or cells[0].startswith("#"):
                continue
            where = f"{path} line {reader.line_num}"
            if len(cells) < 2 or not cells[0]:
                raise ReportDataError(f"{where}: expected two columns, {what} and value, got {cells!r}")
            value = ",".join(cells[1:])
            if len(cells) > 2 and not _is_number(value):
                raise ReportDataError(
                    f"{where}: expected two columns, {what} and value, got {len(cells)}"
                    ' (quote a value with commas: "1,464.3")'
                )
            if not rows and not headed and is_header(cells[0], value):
                headed = True  # a header row: `line, value` or `item, 2022A`
                continue
            rows.append(Row(reader.line_num, cells[0], value))
    except csv.Error as e:
        raise ReportDataError(f"{path} line {reader.line_num}: not valid CSV ({e})") from None
    if not rows:
        raise ReportDataError(f"{path}: no figures (expected rows of {what}, value)")
    return rows


def _is_number(text: str) -> bool:
    try:
        number(text, "")
    except ActualsError:
        return False
    return True


def _is_header(name: str, value: str) -> bool:
    """A first row naming no line, over a value that is no number or is a year: a header."""
    if _is_number(value) and not re.fullmatch(r"(FY)?\s*(19|20)\d\d\s*[AaFfEe]?", value.strip()):
        return False
    return find_line(engine.compile_model(), name) is None


@actuals_app.command("import")
def actuals_import(
    file: Annotated[Path, typer.Argument(help="CSV of reported figures: line key or printed label, value.")],
    year: Annotated[str, typer.Option("--year", help="The year the figures are for: 2022 (or 2022A, 2022F).")],
    model: ModelRequired,
    skip_unknown: Annotated[
        bool,
        typer.Option("--skip-unknown", help="Report and skip rows naming no line that takes an actual (else: exit 2)."),
    ] = False,
) -> None:
    """Merge a year's reported figures from a CSV into your model file (its comments kept).

    Each row is `line key or printed label, value` (`stmodel lines --actuals` lists them); a header row
    is allowed, and values may be printed as a results announcement prints them: 1,464.3 and
    (1,266.2) for a negative. Prints what was added, changed and not recognised. Any bad row (a
    name that is no line, a subtotal, a value that is not a number) is one line and exit code 2, with
    the model file unchanged; --skip-unknown skips rows naming no line that takes an actual instead.
    """
    from engine.files import updating

    if not model.exists():
        load_model_file(model)  # one line: how to make one
    column = column_of(year, load_model_file(model).years.years)
    with updating(model) as since:  # read, merge, write: no other writer's change lost meanwhile
        mf = load_model_file(model)
        rows = read_rows(file)
        compiled = engine.compile_model(None, (), mf.years)
        keys: dict[int, str] = {}
        unknown: list[str] = []
        first: dict[str, Row] = {}
        for row in rows:
            try:
                key = line_key(compiled, row.name)
            except ActualsError as e:
                unknown.append(f"line {row.line}: {e}".replace(" (`stmodel lines` lists them)", ""))
                continue
            number(row.value, f"{file} line {row.line}: {row.name}")
            if key in first:
                raise ActualsError(
                    f"{file} line {row.line}: {key} is given twice"
                    f" (lines {first[key].line} and {row.line}); give it once"
                )
            first[key] = row
            keys[row.line] = key
        if unknown and not skip_unknown:
            count = f"{len(unknown)} row{'s' if len(unknown) > 1 else ''}"
            fail(
                f"{file}: {count} not recognised, {model} unchanged: {'; '.join(unknown)}"
                " (`stmodel lines --actuals` lists the lines; --skip-unknown imports the rest)"
            )
        before = mf.actuals.get(column[:4], {})
        done: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": []}
        for row in rows:
            if row.line not in keys:
                continue
            key = keys[row.line]
            status = mf.set_actual(column, key, row.value)
            amount = number(row.value, key)
            was = f" (was {number(before[key], key):,.10g})" if status == "changed" else ""
            done[status].append(f"  {status:<9} {key} = {amount:,.10g}{was}")
        if done["added"] or done["changed"]:
            mf.save(model, since=since)
    # what was done, after the file is written and unlocked
    label = mf.compiled().column_label(column)
    typer.echo(f"{model}: {label} actuals from {file}")
    for status in ("added", "changed", "unchanged"):
        for text in done[status]:
            typer.echo(text)
    for text in unknown:
        typer.echo(f"  skipped   {text}")
    typer.echo(
        f"{len(done['added'])} added, {len(done['changed'])} changed, {len(done['unchanged'])} unchanged,"
        f" {len(unknown)} not recognised" + ("" if done["added"] or done["changed"] else f"; {model} not rewritten")
    )
    warn([*mf.warnings, *engine.run(model_file=mf).warnings()])


def variance(
    model: ModelRequired,
    format: FormatOption = Format.table,
    sets: SetOption = None,
) -> None:
    """Your actuals against the report's figures, and the target price, upside and rating before and after.

    "Before" is the file's drivers (and --set) on the report's figures; "after" adds the actuals. An
    actual of a reported year (2020, 2021) restates a printed figure: it is marked, and the report
    column holds the printed figure.
    """
    from engine.variance import variance as compute

    mf = load_model_file(model)
    overrides = overrides_from(sets)
    data = compute(mf, overrides)
    warn([*mf.warnings, *engine.run(overrides, model_file=mf).warnings()])
    if format is Format.json:
        typer.echo(json_text(data))
        return
    if not data["lines"]:
        out.print(f"No actuals in {model}: `stmodel actuals import FILE.csv --year 2022 --model {model}` adds some.")
    else:
        table = Table(title=f"Actuals against the report ({model})", box=box.SIMPLE_HEAD, show_edge=False)
        table.add_column("line", ratio=1, min_width=14)
        table.add_column("year", no_wrap=True)
        table.add_column("report", justify="right", no_wrap=True)
        table.add_column("actual", justify="right", no_wrap=True)
        table.add_column("difference", justify="right", no_wrap=True)
        table.add_column("%", justify="right", no_wrap=True)
        for row in data["lines"]:
            pct = row["difference_pct"]
            table.add_row(
                row["label"] + (" *" if row["restated"] else ""),
                row["column"],
                fmt_number(row["forecast"], 1),
                fmt_number(row["actual"], 1),
                fmt_number(row["difference"], 1),
                "" if pct is None else fmt_number(pct, 1),
            )
        out.print(table)
        if any(row["restated"] for row in data["lines"]):
            out.print("* restates a printed figure of a reported year (report = the printed figure)")
    before, after = data["before"], data["after"]
    valuation = Table(title="Valuation before and after the actuals", box=box.SIMPLE_HEAD, show_edge=False)
    valuation.add_column("")
    valuation.add_column("before", justify="right")
    valuation.add_column("after", justify="right")
    valuation.add_row("12-month target price (HK$)", f"{before['target_price']:.2f}", f"{after['target_price']:.2f}")
    valuation.add_row(
        "  unrounded (HK$)", f"{before['target_price_unrounded']:.4f}", f"{after['target_price_unrounded']:.4f}"
    )
    valuation.add_row("Upside", fmt_number(before["upside_pct"], 1) + "%", fmt_number(after["upside_pct"], 1) + "%")
    valuation.add_row("Rating", before["rating"], after["rating"])
    out.print(valuation)


__all__ = ["actuals_app", "actuals_import", "init", "lines", "variance"]
