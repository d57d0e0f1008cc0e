"""The roll-forward from the command line: `stmodel init`, `actuals import`, `value --model`, `variance`,
`lines`, and bad input as one line, exit code 2 and the model file unchanged (same bytes)."""

import json
from pathlib import Path

import openpyxl
import pytest
from clirun import invoke, ok

import engine

SEGMENTS = ("smart_business", "smart_city", "smart_life", "smart_auto")
# The report's 2022F (Segmental Breakdown, Income Statement) and the actuals these tests enter: each at
# least 5% away from the report's figure, and not a common scale of it, so the target price moves.
PRINTED = {"smart_business": 2018.0, "smart_city": 1821.0, "smart_life": 780.0, "smart_auto": 303.0, "cogs": -2075.0}
ACTUAL = {"smart_business": 1850.0, "smart_city": 2000.0, "smart_life": 900.0, "smart_auto": 400.0, "cogs": -2300.0}
BASE = {k: v for k, v in engine.base_values().items() if isinstance(v, float)}
CSV = """\
Line item,FY2022 (RMB m)
Smart Business,"1,850.0"
smart_city,2000
Smart Life,900
smart_auto,400.0
Cost of Goods Sold,"(2,300.0)"
"""


@pytest.fixture
def model(tmp_path) -> Path:
    """A model file holding the 2022 actuals, imported from a CSV."""
    path = tmp_path / "mymodel.toml"
    ok("init", "-o", path)
    (tmp_path / "results.csv").write_text(CSV)
    ok("actuals", "import", tmp_path / "results.csv", "--year", "2022", "--model", path)
    return path


def test_the_actuals_are_each_at_least_five_percent_away_from_the_report(base):
    for key, value in ACTUAL.items():
        assert base.value(key, "2022F") == pytest.approx(PRINTED[key])
        assert abs(value / PRINTED[key] - 1) >= 0.05


# ---------------------------------------------------------------- init and import


def test_init_writes_a_model_file_and_keeps_an_existing_one(tmp_path):
    path = tmp_path / "mymodel.toml"
    ok("init", "-o", path)
    text = path.read_text()
    assert text.startswith("# SenseTime (20 HK) model file") and "[drivers]" in text and "[model]" in text
    path.write_text(text + "# mine\n")
    result = invoke("init", "-o", path)
    assert result.exit_code == 2 and "add --overwrite to replace it" in result.stderr
    assert path.read_text().endswith("# mine\n")
    ok("init", "-o", path, "--overwrite")
    assert path.read_text() == text


def test_import_merges_into_the_file_keeps_its_comments_and_reports(tmp_path, model):
    text = model.read_text()
    assert text.startswith("# SenseTime (20 HK) model file")
    assert engine.ModelFile.load(model).actuals == {"2022": ACTUAL}
    (tmp_path / "again.csv").write_text('Smart Auto,410\nsmart_life,900\nOther Opng (Exp)/Inc,"(5,100.0)"\n')
    result = ok("actuals", "import", tmp_path / "again.csv", "--year", "2022A", "--model", model)
    assert "added     other_opng = -5,100" in result.stdout
    assert "changed   smart_auto = 410 (was 400)" in result.stdout
    assert "unchanged smart_life = 900" in result.stdout
    assert "1 added, 1 changed, 1 unchanged, 0 not recognised" in result.stdout
    assert model.read_text().startswith(text.split("[actuals.2022]")[0])  # header comments as they were
    assert engine.ModelFile.load(model).actuals["2022"]["smart_auto"] == 410


def test_skip_unknown_reports_and_skips_the_rows_it_does_not_recognise(tmp_path, model):
    (tmp_path / "mixed.csv").write_text("Smart Auto,410\nSmart Bussiness,1\nRevenue,5000\n")
    result = ok("actuals", "import", tmp_path / "mixed.csv", "--year", "2022", "--model", model, "--skip-unknown")
    assert "skipped   line 2: unknown line 'Smart Bussiness'; did you mean 'smart_business'" in result.stdout
    assert "skipped   line 3: 'Revenue' (Revenue) is a subtotal" in result.stdout
    assert "0 added, 1 changed, 0 unchanged, 2 not recognised" in result.stdout
    assert engine.ModelFile.load(model).actuals["2022"]["smart_auto"] == 410


# ---------------------------------------------------------------- what actuals do


def value_json(model: Path, *args: str) -> dict:
    return json.loads(ok("value", "--model", model, "--format", "json", *args).stdout)


def test_the_2022_column_is_headed_2022a_in_the_table_and_json(model):
    stdout = ok("value", "--model", model).stdout
    assert "2022A" in stdout and "2022F" not in stdout
    tables = value_json(model)["tables"]
    for title in ("Forecasts and Valuation", "Segmental Breakdown", "Income Statement", "Balance Sheet"):
        for cells in tables[title].values():
            assert "2022F" not in cells
    assert list(tables["Income Statement"]["Revenue"]) == ["2020A", "2021A", "2022A", "2023F", "2024F"]


def test_revenue_and_gross_profit_are_the_actuals_sums(model):
    income = value_json(model)["tables"]["Income Statement"]
    segments = value_json(model)["tables"]["Segmental Breakdown"]
    revenue = 1850.0 + 2000.0 + 900.0 + 400.0
    assert income["Revenue"]["2022A"] == pytest.approx(revenue)
    assert segments["Total"]["2022A"] == pytest.approx(revenue)
    assert income["Cost of Goods Sold"]["2022A"] == pytest.approx(-2300.0)
    assert income["Gross Profit"]["2022A"] == pytest.approx(revenue - 2300.0)
    assert income["Gross Margins (%)"]["2022A"] == pytest.approx((revenue - 2300.0) / revenue * 100)


def test_later_years_grow_from_the_actual_base_and_the_target_price_follows(model, base):
    data = value_json(model)
    segments = data["tables"]["Segmental Breakdown"]
    grown = dict(ACTUAL)
    revenue = {}
    for col in ("2023F", "2024F"):
        grown = {k: grown[k] * (1 + BASE[f"{k}_growth_{col}"]) for k in SEGMENTS}
        for key, label in zip(SEGMENTS, ("Smart Business", "Smart City", "Smart Life", "Smart Auto"), strict=True):
            assert segments[label][col] == pytest.approx(grown[key])
        revenue[col] = sum(grown.values())
        assert data["tables"]["Income Statement"]["Revenue"][col] == pytest.approx(revenue[col])
    old_2024 = base.value("revenue", "2024F")
    assert isinstance(old_2024, float)
    unrounded = base.valuation()["target_price_unrounded"] * revenue["2024F"] / old_2024
    v = data["valuation"]
    assert v["target_price_unrounded"] == pytest.approx(unrounded, rel=1e-12)
    assert v["target_price"] == pytest.approx(round(unrounded * 10) / 10)
    assert v["target_price"] != 2.7  # the real base moved it


def test_set_still_works_on_top_of_the_file(model):
    on_top = value_json(model, "--set", "premium=0.5")["valuation"]
    mf = engine.ModelFile.load(model)
    mf.set_driver("premium", 0.5)
    assert on_top == engine.run(model_file=mf).valuation()


# ---------------------------------------------------------------- variance


def test_variance_lines_and_valuation_by_hand(model, base):
    data = json.loads(ok("variance", "--model", model, "--format", "json").stdout)
    rows = {row["line"]: row for row in data["lines"]}
    assert list(rows) == list(ACTUAL)
    for key, actual in ACTUAL.items():
        row = rows[key]
        assert (row["column"], row["restated"]) == ("2022A", False)
        assert row["forecast"] == pytest.approx(PRINTED[key])
        assert row["actual"] == actual
        assert row["difference"] == pytest.approx(actual - PRINTED[key])
        assert row["difference_pct"] == pytest.approx((actual - PRINTED[key]) / abs(PRINTED[key]) * 100)
    assert data["before"] == {
        k: base.valuation()[k] for k in ("target_price", "target_price_unrounded", "upside_pct", "rating")
    }
    after = engine.run(model_file=model).valuation()
    assert data["after"]["target_price"] == after["target_price"] != 2.7
    assert data["after"]["upside_pct"] == pytest.approx(after["upside_pct"])


def test_variance_table(model):
    stdout = ok("variance", "--model", model).stdout
    lines = stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    (business,) = [line for line in lines if line.split()[:2] == ["Smart", "Business"]]
    assert business.split()[2:] == ["2022A", "2,018.0", "1,850.0", "(168.0)", "(8.3)"]
    (cogs,) = [line for line in lines if line.startswith(" Cost of Goods Sold")]
    assert cogs.split()[4:] == ["2022A", "(2,075.0)", "(2,300.0)", "(225.0)", "(10.8)"]
    (tp,) = [line for line in lines if "12-month target price" in line]
    assert tp.split()[-2] == "2.70"
    assert "Rating" in stdout


def test_an_actual_for_2021_restates_the_printed_figure_with_a_warning(tmp_path, model):
    before = model.read_bytes()
    (tmp_path / "fy21.csv").write_text("debtors,5000\n")
    result = ok("actuals", "import", tmp_path / "fy21.csv", "--year", "2021", "--model", model)
    assert "2021A actuals" in result.stdout and "added     debtors = 5,000" in result.stdout
    warning = "warning: actual debtors 2021 = 5,000.0 restates the printed Debtors 2021A (5,776.0)"
    assert warning in result.stderr
    assert model.read_bytes() != before
    value = ok("value", "--model", model, "--format", "json")
    assert warning in value.stderr.splitlines()
    json.loads(value.stdout)  # the warnings leave stdout valid JSON
    data = json.loads(ok("variance", "--model", model, "--format", "json").stdout)
    (row,) = [row for row in data["lines"] if row["line"] == "debtors"]
    assert (row["column"], row["forecast"], row["actual"], row["restated"]) == ("2021A", 5776.0, 5000.0, True)
    assert "Debtors *" in ok("variance", "--model", model).stdout


def test_variance_of_a_file_without_actuals(tmp_path):
    path = tmp_path / "empty.toml"
    ok("init", "-o", path)
    result = ok("variance", "--model", path)
    assert "No actuals in" in result.stdout and "2.70" in result.stdout


# ---------------------------------------------------------------- lines


def test_lines_lists_every_line_in_80_columns():
    result = ok("lines")
    rows = result.stdout.splitlines()
    assert max(len(row) for row in rows) <= 80
    keys = {row.split()[0] for row in rows if row.strip()}
    assert set(engine.compile_model().lines) <= keys
    (business,) = [row for row in rows if row.startswith("smart_business ")]
    assert business.split() == ["smart_business", "Smart", "Business", "RMB", "m", "Segments", "yes"]
    (revenue,) = [row for row in rows if row.startswith("revenue ")]
    assert not revenue.rstrip().endswith("yes")


def test_lines_json():
    records = json.loads(ok("lines", "--format", "json").stdout)
    by_key = {r["key"]: r for r in records}
    assert set(by_key) == set(engine.compile_model().lines)
    assert by_key["cogs"] == {
        "key": "cogs",
        "label": "Cost of Goods Sold",
        "unit": "RMB m",
        "table": "Income Statement",
        "tables": ["Income Statement"],
        "actual": True,
    }
    assert by_key["revenue"]["actual"] is False
    assert by_key["gross_margin_pct"]["unit"] == "%"
    taking = json.loads(ok("lines", "--actuals", "--format", "json").stdout)
    assert {r["key"] for r in taking} == {k for k, r in by_key.items() if r["actual"]} >= set(ACTUAL)


# ---------------------------------------------------------------- --model on the other commands


def test_drivers_shows_the_files_values(tmp_path):
    path = tmp_path / "d.toml"
    ok("init", "-o", path)
    mf = engine.ModelFile.load(path)
    mf.set_driver("premium", 0.5)
    mf.set_driver("smart_auto_growth", 0.3)
    mf.save()
    records = {r["name"]: r for r in json.loads(ok("drivers", "--model", path, "--format", "json").stdout)}
    assert (records["premium"]["value"], records["premium"]["set"]) == (0.5, True)
    assert (records["smart_auto_growth_2024F"]["value"], records["smart_auto_growth_2024F"]["set"]) == (0.3, True)
    assert records["usdcny"]["set"] is False and records["usdcny"]["value"] == records["usdcny"]["base"]
    rows = ok("drivers", "--model", path).stdout.splitlines()
    assert max(len(row) for row in rows) <= 80
    (premium,) = [row for row in rows if row.startswith("premium ")]
    assert premium.split()[1:3] == ["0.4", "0.5"]


def test_reconcile_says_it_does_not_use_the_file(model):
    result = ok("reconcile", "--model", model, "--format", "json")
    assert json.loads(result.stdout)["reproduced"] >= 470  # the report's model, not the actuals'
    assert "note: reconcile compares the report's printed cells with the report's model" in result.stderr


def test_sensitivity_and_simulate_run_on_the_files_actuals(model):
    after = engine.run(model_file=model)
    grid = json.loads(
        ok("sensitivity", "--model", model, "--rows", "premium=0.3,0.4", "--cols", "usdcny=6.75,7", "-f", "json").stdout
    )
    assert grid["target_price"][1][0] == after.target_price != 2.7
    one = json.loads(ok("simulate", "-n", "200", "--model", model, "-f", "json").stdout)
    plain = json.loads(ok("simulate", "-n", "200", "-f", "json").stdout)
    assert one["target_price_mean"] != plain["target_price_mean"]


# ---------------------------------------------------------------- bad input: one line, exit 2, file unchanged


def one_line_error(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("csv", "needles"),
    [
        ("Smart Bussiness,1\n", ["unknown line 'Smart Bussiness'; did you mean 'smart_business' (Smart Business)"]),
        ("smart_auto,400\nsmart_autoo,1\n", ["line 2: unknown line 'smart_autoo'", "--skip-unknown"]),
        ("smart_auto,four hundred\n", ["line 1: smart_auto: expected a number, got 'four hundred'"]),
        ("smart_auto,1e999\n", ["expected a finite number"]),
        ("Gross Profit,2850\n", ["'Gross Profit' (Gross Profit) is a subtotal", "give smart_business"]),
        ("Revenue,5150\n", ["is a subtotal", "give smart_business, smart_city, smart_life, smart_auto instead"]),
        ("Gross Margins (%),45\n", ["is a ratio", "cogs instead"]),
        ('smart_auto,"400\nsmart_city,1\n', ["line 2: not valid CSV"]),
        ("smart_auto,400,5,6\n", ["line 1: expected two columns"]),
        ("smart_auto\n", ["line 1: expected two columns"]),
        ("smart_auto,400\nSmart Auto,410\n", ["line 2: smart_auto is given twice (lines 1 and 2)"]),
        ("", ["no figures"]),
    ],
)
def test_a_bad_csv_is_one_line_and_leaves_the_file_unchanged(tmp_path, model, csv, needles):
    before = model.read_bytes()
    (tmp_path / "bad.csv").write_text(csv)
    result = invoke("actuals", "import", tmp_path / "bad.csv", "--year", "2022", "--model", model)
    one_line_error(result, *needles)
    assert model.read_bytes() == before


@pytest.mark.parametrize(
    ("year", "needle"),
    [("2019", "year '2019' is not a column of the model (2020-2024)"), ("2025", "'2025'"), ("22", "'22'")],
)
def test_a_year_outside_the_models_columns_is_one_line(tmp_path, model, year, needle):
    before = model.read_bytes()
    (tmp_path / "ok.csv").write_text("smart_auto,410\n")
    result = invoke("actuals", "import", tmp_path / "ok.csv", "--year", year, "--model", model)
    one_line_error(result, needle)
    assert model.read_bytes() == before


def test_a_csv_that_is_not_text_or_missing_is_one_line(tmp_path, model):
    before = model.read_bytes()
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00garbage")
    one_line_error(invoke("actuals", "import", tmp_path / "bin.csv", "--year", "2022", "--model", model), "UTF-8")
    one_line_error(invoke("actuals", "import", tmp_path / "no.csv", "--year", "2022", "--model", model), "not found")
    assert model.read_bytes() == before


def test_importing_into_a_missing_model_file_says_how_to_make_one(tmp_path):
    (tmp_path / "ok.csv").write_text("smart_auto,410\n")
    result = invoke("actuals", "import", tmp_path / "ok.csv", "--year", "2022", "--model", tmp_path / "none.toml")
    one_line_error(result, "none.toml: file not found", "stmodel init -o")
    assert not (tmp_path / "none.toml").exists()


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ("smart_auto = 400.0", "smart_autox = 400.0", ["unknown line 'smart_autox'; did you mean 'smart_auto'"]),
        ("smart_auto = 400.0", 'smart_auto = "lots"', ["actual smart_auto 2022: expected a number, got 'lots'"]),
        ("smart_auto = 400.0", "revenue = 5150.0", ["is a subtotal", "give smart_business"]),
        ("\n[actuals.2022]", "\n[actuals.2019]", ["year '2019' is not a column of the model"]),
        ("\n[actuals.2022]", "\n[actuals.2022", ["not valid TOML", "line "]),
        (
            "\n[drivers]",
            "\n[assumptions]",
            ["unknown table [assumptions]; a model file has model, market, drivers, actuals"],
        ),
        ("\n[drivers]", "\n[drivers]\npremium = 5e5", ["[drivers] premium"]),
    ],
)
@pytest.mark.parametrize("command", ["value", "variance", "drivers", "import"])
def test_a_bad_model_file_is_one_line_for_every_command_and_stays_as_it_is(tmp_path, model, old, new, needles, command):
    text = model.read_text()
    assert text.count(old) == 1
    model.write_text(text.replace(old, new, 1))
    before = model.read_bytes()
    if command == "import":
        (tmp_path / "ok.csv").write_text("smart_life,910\n")
        result = invoke("actuals", "import", tmp_path / "ok.csv", "--year", "2022", "--model", model)
    else:
        result = invoke(command, "--model", model)
    line = one_line_error(result, *needles)
    assert line.startswith(f"stmodel: error: {model}: ")
    assert model.read_bytes() == before


def test_a_malformed_toml_names_its_line(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[model]\nversion = "0.1.0"\n\n[drivers]\npremium = = 0.5\n')
    one_line_error(invoke("value", "--model", path), "not valid TOML", "line 5")


def test_build_and_refresh_take_the_model_file_or_say_why_not(tmp_path, model):
    """The workbook side writes the file's drivers and actuals (tests/test_workbook*); here only that the
    command passes it on: the workbook has the Variance sheet and the file's text, hidden."""

    output = tmp_path / "model.xlsx"
    result = invoke("build", "--model", model, "-o", output)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(output)
    assert "Variance" in book.sheetnames and "ModelFile" in book.sheetnames
    assert book["ModelFile"].sheet_state == "hidden"


def test_refresh_writes_the_model_file_into_a_workbook(tmp_path, model, built):
    output = tmp_path / "refreshed.xlsx"
    result = invoke("refresh", built, "--model", model, "-o", output)
    assert result.exit_code == 0, result.output
    tp = engine.run(model_file=model).target_price
    assert f"target price HK${tp:.2f}" in result.stderr and output.is_file()


def test_a_missing_model_file_is_one_line_saying_how_to_make_one(tmp_path):
    for command in ("value", "variance", "drivers", "reconcile", "simulate"):
        result = invoke(command, "--model", tmp_path / "none.toml")
        one_line_error(result, "none.toml: file not found (stmodel init -o")


def test_import_does_not_overwrite_a_change_made_meanwhile(tmp_path, model, monkeypatch):
    """The import holds the model file from its reading to its writing; a file changed under it is kept."""
    from stmodel import actuals_commands

    real = actuals_commands.read_rows

    def and_an_editor_saves(path):
        model.write_text(model.read_text() + "# saved by an editor\n")
        return real(path)

    monkeypatch.setattr(actuals_commands, "read_rows", and_an_editor_saves)
    (tmp_path / "ok.csv").write_text("smart_auto,410\n")
    result = invoke("actuals", "import", tmp_path / "ok.csv", "--year", "2022", "--model", model)
    assert result.exit_code == 2, result.output
    assert model.read_text().endswith("# saved by an editor\n")


def test_docs_actuals_shows_what_the_commands_print(tmp_path, monkeypatch):
    """docs/actuals.md's walk-through, run: its CSV imported, its import and variance output as printed."""
    import re

    docs = (Path(__file__).resolve().parents[1] / "docs" / "actuals.md").read_text()
    blocks = re.findall(r"```(\w+)\n(.*?)```", docs, flags=re.S)
    csv = next(body for kind, body in blocks if kind == "text")
    monkeypatch.chdir(tmp_path)
    Path("results-2022.csv").write_text(csv)
    shown = {}
    for kind, body in blocks:
        if kind == "console" and body.startswith("$ stmodel ") and "\n" in body.strip():
            command, printed = body.split("\n", 1)
            if "\n$ " in "\n" + printed:
                continue  # a list of commands, not one command and what it prints
            shown[command[2:]] = [line.rstrip() for line in printed.strip().splitlines()]
    assert len(shown) >= 3
    for command, printed in shown.items():
        result = ok(*command.split()[1:])
        got = [line.rstrip() for line in (result.stdout or result.stderr).strip().splitlines()]
        assert got == printed, command
