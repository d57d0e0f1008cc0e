"""The driver records (engine/data/drivers.toml) drive the registry, the calibration and docs/model.md."""

from pathlib import Path

import pytest

import engine
from engine.driver_docs import END, START, markdown_table, update_markdown
from engine.drivers import DriverError, build_registry, expand, load_records
from engine.report import ReportDataError

ROOT = Path(__file__).resolve().parents[1]


def test_docs_model_driver_table_is_generated_from_the_records():
    text = (ROOT / "docs" / "model.md").read_text()
    assert update_markdown(text) == text, "run: python -m engine.driver_docs"


def test_update_markdown_replaces_only_the_marked_section():
    text = f"# Title\n\n{START}\nold\n{END}\n\nafter\n"
    assert update_markdown(text, "NEW") == "# Title\n\nNEW\n\nafter\n"
    with pytest.raises(ReportDataError, match="expected one"):
        update_markdown("no markers")


def test_every_record_is_in_the_docs_table():
    table = markdown_table()
    for rec in load_records():
        assert f"`{rec.name.replace('{peer.key}', '<peer>')}`" in table


def test_the_registry_follows_the_records():
    reg = engine.drivers()
    assert len(reg) == 126
    assert list(reg)[:2] == ["smart_business_growth_2022F", "smart_business_growth_2023F"]
    assert list(reg)[-1] == "ui_path_sales_FY2024E"
    assert reg["hkdusd"].base == pytest.approx(71889 / 9206)
    assert reg["premium"].minimum == -1.0 and reg["premium"].source.endswith("(line 155)")
    assert reg["cap_basis"].choices == ("large", "small") and reg["cap_basis"].base == "large"
    assert reg["cap_basis"].source == "DBS rating definitions (line 1120)"
    assert reg["cloudwalk_price"].unit == "CNY" and reg["palantir_price"].unit == "US$"
    assert reg["arcsoft_sales_FY2022E"].meaning == "Arcsoft sales FY2022E"
    assert reg["tax_2024F"].meaning == "Tax credit (charge) in the P&L, 2024F"
    assert reg["capex_2022F"].base == 3874.0  # the printed Capital Exp.(net), negated


def test_base_values_are_implied_from_the_printed_figures():
    """Each inverse computed here by hand from the printed cells, independently of the records' interpreter."""
    report = engine.load_report()
    seg, inc = report.table("Segmental Breakdown"), report.table("Income Statement")
    bs, cf = report.table("Balance Sheet"), report.table("Cash Flow Statement")
    days = float(report.valuation["days_per_year"])

    def revenue(c: str) -> float:
        return sum(seg.value(label, c) for label in ("Smart Business", "Smart City", "Smart Life", "Smart Auto"))

    def cogs(c: str) -> float:
        return inc.value("Gross Profit", c) - revenue(c)

    reg = engine.drivers()
    growth = seg.value("Smart Auto", "2023F") / seg.value("Smart Auto", "2022F") - 1
    assert reg["smart_auto_growth_2023F"].base == pytest.approx(growth, rel=1e-12)
    assert reg["gross_margin_2024F"].base == pytest.approx(inc.value("Gross Profit", "2024F") / revenue("2024F"))
    opex = -inc.value("Other Opng (Exp)/Inc", "2022F") - cf.value("Dep. & Amort.", "2022F")
    assert reg["opex_ratio_2022F"].base == pytest.approx(opex / revenue("2022F"))
    assert reg["debtor_days_2022F"].base == pytest.approx(bs.value("Debtors", "2022F") / revenue("2022F") * days)
    assert reg["creditor_days_2023F"].base == pytest.approx(bs.value("Creditors", "2023F") / -cogs("2023F") * days)
    assert reg["tax_2024F"].base == inc.value("Tax", "2024F")
    assert reg["long_term_debt_2023F"].base == bs.value("LT Debt", "2023F")
    hkdusd = report.market["mkt_cap_hkd_m"].value / report.market["mkt_cap_usd_m"].value
    assert reg["hkdusd"].base == pytest.approx(hkdusd, rel=1e-15)


def test_drivers_hands_out_a_fresh_dict():
    first = engine.drivers()
    first.clear()
    assert len(engine.drivers()) == 126
    assert engine.drivers() is not engine.drivers()


def test_unknown_driver_message_has_no_cli_advice():
    with pytest.raises(DriverError) as e:
        expand("premum")
    assert str(e.value) == "unknown driver 'premum'; did you mean 'premium'?"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "drivers.toml"
    path.write_text(body)
    return path


GOOD = 'name = "x"\nkind = "forecast"\nunit = "RMB m"\nmeaning = "X"\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[driver]]\nname = "x"\nkind = "guess"\n', r"driver\[0\] 'x': kind: expected one of"),
        (f'[[driver]]\n{GOOD}minimun = 0.0\nimplied = {{ kind = "constant", value = 1 }}\n', "unknown key"),
        (f'[[driver]]\n{GOOD}implied = {{ kind = "guess" }}\n', "implied.kind: expected one of growth"),
        (f'[[driver]]\n{GOOD}implied = {{ kind = "printed", table = "T" }}\n', "missing key.*row"),
        (f'[[driver]]\n{GOOD}implied = {{ kind = "printed", table = "T", row = "R", sign = 2 }}\n', "sign of 1 or -1"),
        (
            f'[[driver]]\n{GOOD}implied = {{ kind = "days", table = "T", row = "R", denominator = "cash" }}\n',
            "denominator: expected one of revenue, cost_of_sales",
        ),
        (f'[[driver]]\n{GOOD}implied = {{ kind = "ratio", numerator = [], denominator = "revenue" }}\n', "numerator"),
    ],
)
def test_a_bad_record_is_refused_on_load(tmp_path, body, message):
    with pytest.raises(ReportDataError, match=message):
        load_records(write(tmp_path, body))


@pytest.mark.parametrize(
    ("implied", "message"),
    [
        ('{ kind = "printed", table = "Income Statement", row = "Taxes" }', "no row 'Taxes'"),
        ('{ kind = "printed", table = "Income Stmt", row = "Tax" }', "the report has no table 'Income Stmt'"),
        ('{ kind = "market", key = "nope" }', r"report.toml has no \[market.nope\]"),
        ('{ kind = "report", key = "valuation.nope" }', "no .* key 'valuation.nope'"),
    ],
)
def test_a_record_that_names_no_printed_figure_is_refused(tmp_path, implied, message):
    records = load_records(write(tmp_path, f"[[driver]]\n{GOOD}implied = {implied}\n"))
    with pytest.raises(ReportDataError, match=f"drivers.toml: driver 'x': .*{message}"):
        build_registry(engine.load_report(), records)


def test_a_text_neither_given_nor_supplied_is_refused(tmp_path):
    records = load_records(write(tmp_path, f'[[driver]]\n{GOOD}implied = {{ kind = "constant", value = 1.0 }}\n'))
    with pytest.raises(ReportDataError, match="driver 'x': no source given"):
        build_registry(engine.load_report(), records)


def test_a_driver_defined_twice_is_refused(tmp_path):
    record = f'[[driver]]\n{GOOD}source = "s"\nimplied = {{ kind = "constant", value = 1.0 }}\n'
    with pytest.raises(ReportDataError, match="'x' is defined twice"):
        build_registry(engine.load_report(), load_records(write(tmp_path, record * 2)))
