"""The model file: written by `ModelFile.new()`, loaded, changed and saved with its comments kept,
refused with one line naming the place, and run by `engine.run(model_file=...)`."""

import pytest

import engine
from engine.model_file import VERSION, ModelFile, ModelFileError

SEGMENTS = {"smart_business": 1850.0, "smart_city": 2000.0, "smart_life": 900.0, "smart_auto": 400.0}
COGS = -2300.0

TEXT = """\
# Jane's SenseTime model: FY2022 results of 28 Mar 2023
[model]
version = "{version}"
years = ["2020A", "2021A", "2022F", "2023F", "2024F"]

[drivers]
premium = 0.5  # our premium, not the report's

[actuals.2022]
# from the results announcement, p. 3
smart_business = 1850.0
smart_city = 2000.0
smart_life = 900.0
smart_auto = 400.0
cogs = -2300.0
""".replace("{version}", VERSION)


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "jane.toml"
    p.write_text(TEXT)
    return p


def test_a_new_file_has_a_header_empty_drivers_and_the_models_version_and_years(tmp_path):
    mf = ModelFile.new("mine.toml")
    saved = mf.save(tmp_path / "mine.toml")
    text = saved.read_text()
    assert text.startswith("# SenseTime (20 HK) model file")
    assert "stmodel value --model mine.toml" in text and "stmodel lines" in text and "stmodel drivers" in text
    loaded = ModelFile.load(saved)
    assert loaded.drivers == {} and loaded.actuals == {} and loaded.warnings == []
    assert loaded.document["model"]["version"] == VERSION
    assert list(loaded.document["model"]["years"]) == ["2020A", "2021A", "2022F", "2023F", "2024F"]
    assert engine.run(model_file=saved).target_price == 2.7


def test_load_change_save_keeps_the_comments(path):
    mf = ModelFile.load(path)
    assert mf.drivers == {"premium": 0.5}
    assert mf.actuals == {"2022": {**SEGMENTS, "cogs": COGS}}
    assert mf.set_actual(2022, "Smart Auto", 410) == "changed"
    assert mf.set_actual("2022A", "smart_auto", "410.0") == "unchanged"
    assert mf.set_actual(2022, "Other Opng (Exp)/Inc", "(5,100.5)") == "added"
    mf.set_driver("smart_auto_growth", 0.9)
    mf.save()
    text = path.read_text()
    for comment in ("# Jane's SenseTime model", "# our premium, not the report's", "# from the results announcement"):
        assert comment in text
    again = ModelFile.load(path)
    assert again.actuals["2022"]["smart_auto"] == 410
    assert again.actuals["2022"]["other_opng"] == -5100.5
    assert again.drivers == {"premium": 0.5, "smart_auto_growth": 0.9}


def test_run_with_a_model_file_path_or_object_and_overrides_on_top(path):
    by_path = engine.run(model_file=path)
    by_object = engine.run(model_file=ModelFile.load(path))
    assert by_path.valuation() == by_object.valuation()
    assert by_path.columns["2022F"] == "2022A"
    assert by_path.value("revenue", "2022A") == pytest.approx(sum(SEGMENTS.values()))
    assert by_path.drivers["premium"] == 0.5
    # --set on top of the file: the file's premium gives way
    on_top = engine.run({"premium": 0.4}, model_file=path)
    plain = engine.run(model_file=ModelFile.parse(TEXT.replace("premium = 0.5", "premium = 0.4")))
    assert on_top.valuation() == plain.valuation()
    assert on_top.target_price != by_path.target_price


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("cogs = -2300.0", "cogs = -2300.0\nrevenu = 5"), "unknown line 'revenu'; did you mean 'revenue'"),
        (("cogs = -2300.0", 'cogs = "lots"'), "actual cogs 2022: expected a number, got 'lots'"),
        (("cogs = -2300.0", "revenue = 5150"), "give smart_business, smart_city, smart_life, smart_auto instead"),
        (("[actuals.2022]", "[actuals.2019]"), "year '2019' is not a column of the model (2020-2024)"),
        (("[drivers]", "[drivers"), "not valid TOML"),
        (("[drivers]", "[driver]"), "unknown table [driver]; a model file has model, market, drivers, actuals"),
        (("premium = 0.5", "premium = 50000"), "[drivers] premium"),
        (('"2024F"]', '"2024F", "2026F"]'), "[model] years"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_place(path, change, message):
    path.write_text(TEXT.replace(*change))
    with pytest.raises(ModelFileError) as raised:
        ModelFile.load(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
    if "TOML" in message:
        assert "line 6" in text


def test_a_subtotal_names_the_lines_to_give():
    with pytest.raises(ModelFileError, match=r"'gross_profit' .* is a subtotal .* give .*cogs instead"):
        ModelFile.parse("[actuals.2022]\ngross_profit = 1\n")


def test_an_older_version_and_a_restated_figure_are_warnings():
    mf = ModelFile.parse('[model]\nversion = "0.0.1"\n[actuals.2021]\ndebtors = 5000\n')
    assert mf.warnings == [
        "model file: written for model version 0.0.1, this is " + VERSION,
        "actual debtors 2021 = 5,000.0 restates the printed Debtors 2021A (5,776.0)",
    ]


def test_a_failed_save_leaves_the_file_as_it_was(path, monkeypatch):
    before = path.read_bytes()
    mf = ModelFile.load(path)
    mf.set_actual(2022, "smart_auto", 1)
    monkeypatch.setattr(ModelFile, "text", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        mf.save()
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
