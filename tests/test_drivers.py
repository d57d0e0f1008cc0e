"""The driver records (engine/data/drivers.toml) drive the registry, the calibration and docs/model.md."""

import math
from pathlib import Path

import pytest

import engine
from engine.driver_docs import END, START, markdown_table, update_markdown
from engine.drivers import DriverError, build_registry, expand, load_records, warnings
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
    assert len(reg) == 165
    assert list(reg)[:2] == ["smart_business_growth_2022F", "smart_business_growth_2023F"]
    assert list(reg)[-1] == "ui_path_sales_FY2024E"
    assert reg["hkdusd"].base == pytest.approx(71889 / 9206)
    assert reg["premium"].minimum == -1.0 and reg["premium"].source.endswith("(line 155)")
    assert reg["cap_basis"].choices == ("large", "small") and reg["cap_basis"].base == "large"
    assert reg["cap_basis"].source == "DBS rating definitions (line 1120)"
    assert reg["cloudwalk_price"].unit == "CNY" and reg["palantir_price"].unit == "US$"
    assert reg["arcsoft_sales_FY2022E"].meaning == "Arcsoft sales FY2022E"
    assert (
        reg["tax_rate_2024F"].meaning.startswith("Tax over Pre-tax Profit") and reg["tax_rate_2024F"].column == "2024F"
    )
    assert reg["capex_to_revenue_2022F"].base == pytest.approx(3874 / 4922)  # the printed Capital Exp.(net), negated
    assert reg["ps_row_usdcny"].base == 7.224 and reg["ps_row_usdcny"].kind == "market"
    assert reg["revolver"].choices == ("on", "off") and reg["basis"].choices == ("printed", "clean")
    assert reg["cloudwalk_shares_m"].posts == ("cloudwalk_mkt_cap_usd", "target_multiple")
    assert reg["min_cash_2023F"].posts == ("revolver", "short_term_debt", "chg_gross_debt", "cash")
    for gone in ("tax_2024F", "capex_2022F", "dep_amort_2024F", "net_interest_2022F", "opex_ratio_2023F"):
        assert gone not in reg
    assert not any(name.endswith("_mkt_cap") for name in reg)


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
    # Operating leverage: the variable share is the 2023F->2024F step of cash opex (Other Opng less the
    # non-cash charges the cash flow adds back) over the step in revenue.
    non_cash = ("Dep. & Amort.", "(Pft)/ Loss on disposal of FAs", "Other Operating CF")
    opex = {
        c: -inc.value("Other Opng (Exp)/Inc", c) - sum(cf.value(row, c) for row in non_cash)
        for c in ("2022F", "2023F", "2024F")
    }
    variable = (opex["2024F"] - opex["2023F"]) / (revenue("2024F") - revenue("2023F"))
    assert variable == pytest.approx(533 / 3162)  # (8,620 - 1,373 - 634 - (7,637 - 1,210 - 347)) / (10,393 - 7,231)
    for c in ("2022F", "2023F", "2024F"):
        assert reg[f"variable_opex_ratio_{c}"].base == pytest.approx(variable, rel=1e-12)
        assert reg[f"fixed_opex_{c}"].base == pytest.approx(opex[c] - variable * revenue(c), rel=1e-12)
        assert 0 < variable < float(reg[f"gross_margin_{c}"].base)  # more revenue, more operating profit
    assert reg["debtor_days_2022F"].base == pytest.approx(bs.value("Debtors", "2022F") / revenue("2022F") * days)
    assert reg["creditor_days_2023F"].base == pytest.approx(bs.value("Creditors", "2023F") / -cogs("2023F") * days)
    # Tax over the model's Pre-tax Profit less associates (the sum of its printed lines: -2,062 - 100 in
    # 2024F): a charge of 50 on a loss is a negative rate.
    assert reg["tax_rate_2024F"].base == pytest.approx(-50 / 2162)
    assert reg["tax_rate_2022F"].base == pytest.approx(-192 / (-5701 - 50))
    assert reg["depreciation_rate_2023F"].base == pytest.approx(1210 / 6524)  # D&A over opening NFA
    assert reg["capex_to_revenue_2024F"].base == pytest.approx(1132 / 10393)
    assert reg["other_current_assets_ratio_2024F"].base == pytest.approx(33 / 10393)
    assert reg["other_current_liab_ratio_2022F"].base == pytest.approx(228 / 4922)
    # Cost of debt by rule (the 1-year LPR, 3.65%); the cash yield is implied from the printed net interest.
    assert reg["cost_of_debt_2023F"].base == 0.0365
    net_interest = inc.value("Net Interest (Exp)/Inc", "2023F")
    opening_debt = bs.value("ST Debt", "2022F") + bs.value("LT Debt", "2022F")
    expected = (net_interest + 0.0365 * opening_debt) / bs.value("Cash & ST Invt", "2022F")
    assert reg["cash_yield_2023F"].base == pytest.approx(expected, rel=1e-12)
    assert reg["long_term_debt_2023F"].base == bs.value("LT Debt", "2023F")
    # A peer's shares: printed market cap over the price in US$ (Cloudwalk: CNY at 6.75).
    assert reg["cloudwalk_shares_m"].base == pytest.approx(1684 / (15.48 / 6.75), rel=1e-12)
    assert reg["palantir_shares_m"].base == pytest.approx(13687 / 7.02, rel=1e-12)
    hkdusd = report.market["mkt_cap_hkd_m"].value / report.market["mkt_cap_usd_m"].value
    assert reg["hkdusd"].base == pytest.approx(hkdusd, rel=1e-15)


def test_drivers_hands_out_a_fresh_dict():
    first = engine.drivers()
    first.clear()
    assert len(engine.drivers()) == 165
    assert engine.drivers() is not engine.drivers()


def test_unknown_driver_message_has_no_cli_advice():
    with pytest.raises(DriverError) as e:
        expand("premum")
    assert str(e.value) == "unknown driver 'premum'; did you mean 'premium'?"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "drivers.toml"
    path.write_text(body)
    return path


GOOD = 'name = "x"\nkind = "forecast"\nunit = "RMB m"\nmeaning = "X"\nminimum = 0.0\nmaximum = 10.0\n'
UNBOUNDED = 'name = "x"\nkind = "forecast"\nunit = "RMB m"\nmeaning = "X"\n'
CONSTANT = 'implied = { kind = "constant", value = 1.0 }\n'


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
            "denominator: expected one of revenue, cost_of_sales, taxable_profit or a cell",
        ),
        (f'[[driver]]\n{GOOD}implied = {{ kind = "ratio", numerator = [], denominator = "revenue" }}\n', "numerator"),
        # Every number has a finite lower bound and a maximum.
        (f"[[driver]]\n{UNBOUNDED}{CONSTANT}", "needs a finite lower bound"),
        (f"[[driver]]\n{UNBOUNDED}minimum = 0.0\n{CONSTANT}", "needs a finite lower bound .* and a maximum"),
        (f"[[driver]]\n{UNBOUNDED}maximum = 1.0\n{CONSTANT}", "needs a finite lower bound"),
        (f'[[driver]]\n{UNBOUNDED}maximum = "1"\nminimum = 0.0\n{CONSTANT}', "maximum: expected a number"),
        (f"[[driver]]\n{UNBOUNDED}above = true\nmaximum = 1.0\n{CONSTANT}", "above: expected a number"),
        # Plausible ranges: a pair, low <= high, one kind at a time.
        (f"[[driver]]\n{GOOD}plausible = [0.0]\n{CONSTANT}", r"plausible: expected \[low, high\]"),
        (f"[[driver]]\n{GOOD}plausible = [2.0, 1.0]\n{CONSTANT}", r"plausible: expected \[low, high\]"),
        (f'[[driver]]\n{GOOD}plausible = [0.0, "1"]\n{CONSTANT}', r"plausible: expected \[low, high\]"),
        (f"[[driver]]\n{GOOD}plausible_factor = [5.0, 0.2]\n{CONSTANT}", r"plausible_factor: expected \[low, high\]"),
        (
            f"[[driver]]\n{GOOD}plausible = [0.0, 1.0]\nplausible_factor = [0.5, 2.0]\n{CONSTANT}",
            "give plausible or plausible_factor, not both",
        ),
        # Rules are named functions; posts is a list of line keys.
        (f'[[driver]]\n{GOOD}implied = {{ kind = "rule", rule = "guess" }}\n', "implied.rule: expected one of"),
        (f'[[driver]]\n{GOOD}posts = "cash"\n{CONSTANT}', "posts: expected a list of line keys"),
        (f"[[driver]]\n{GOOD}posts = [1]\n{CONSTANT}", "posts: expected a list of line keys"),
        (f'[[driver]]\n{GOOD}implied = {{ kind = "constant", value = true }}\n', "implied.value: expected a number"),
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


def test_the_known_rules_are_accepted(tmp_path):
    for rule in ("variable_opex_ratio", "fixed_opex", "cash_yield", "peer_shares"):
        (rec,) = load_records(write(tmp_path, f'[[driver]]\n{GOOD}implied = {{ kind = "rule", rule = "{rule}" }}\n'))
        assert rec.implied["rule"] == rule
        load_records.cache_clear()


@pytest.mark.parametrize(
    "bound", ["maximum = inf\nminimum = 0.0", "minimum = -inf\nmaximum = 1.0", "above = nan\nmaximum = 1.0"]
)
def test_an_infinite_bound_is_refused(tmp_path, bound):
    with pytest.raises(ReportDataError, match="finite"):
        load_records(write(tmp_path, f"[[driver]]\n{UNBOUNDED}{bound}\n{CONSTANT}"))


def test_above_is_a_strict_lower_bound():
    (rec,) = load_records(
        write_unique("above", f'[[driver]]\n{UNBOUNDED}above = -1.0\nmaximum = 10.0\nsource = "s"\n{CONSTANT}')
    )
    (d,) = build_registry(engine.load_report(), (rec,)).values()
    assert d.bounds == (-1.0, 10.0)
    with pytest.raises(DriverError, match="x: expected a number above -1"):
        d.check(-1.0)
    assert d.check(-0.999) == -0.999
    assert d.check(10.0) == 10.0
    with pytest.raises(DriverError, match="x: expected at most 10"):
        d.check(10.0001)
    # In the registry: growth above -100% (exactly -1 would leave no revenue), USDCNY above 0.
    growth = engine.drivers()["smart_auto_growth_2024F"]
    with pytest.raises(DriverError, match="above -1"):
        growth.check(-1)
    with pytest.raises(DriverError, match="usdcny: expected a number above 0"):
        engine.drivers()["usdcny"].check(0)


def test_plausible_ranges_are_read_and_scaled_by_the_base():
    good_y = GOOD.replace('name = "x"', 'name = "y"')
    good_z = GOOD.replace('name = "x"', 'name = "z"').replace("minimum = 0.0", "minimum = -10.0")
    records = load_records(
        write_unique(
            "plausible",
            f'[[driver]]\n{GOOD}source = "s"\nplausible = [1, 2]\n{CONSTANT}'
            f'[[driver]]\n{good_y}source = "s"\nplausible_factor = [0.5, 2.0]\n'
            'implied = { kind = "constant", value = 3.0 }\n'
            f'[[driver]]\n{good_z}source = "s"\n'
            'plausible_factor = [0.5, 2.0]\nimplied = { kind = "constant", value = -4.0 }\n',
        )
    )
    assert records[0].ranges == {"plausible": (1.0, 2.0)}
    reg = build_registry(engine.load_report(), records)
    assert reg["x"].plausible == (1.0, 2.0)
    assert reg["y"].plausible == (1.5, 6.0)
    assert reg["z"].plausible == (-8.0, -2.0)  # a negative base: the factors swap ends
    assert reg["x"].warning(1.5) is None and reg["x"].warning(2.0) is None
    assert reg["x"].warning(2.5) == "x=2.5 is outside its plausible range 1 to 2 (RMB m)"


def test_every_driver_has_finite_hard_bounds_and_its_base_inside_its_plausible_range():
    for name, d in engine.drivers().items():
        if d.choices:
            assert d.base in d.choices and d.bounds is None, name
            continue
        assert d.bounds is not None and not isinstance(d.base, str), name
        low, high = d.bounds
        assert math.isfinite(low) and math.isfinite(high) and low < high, name
        assert d.plausible is not None, name
        p_low, p_high = d.plausible
        assert p_low <= d.base <= p_high, (name, d.base, d.plausible)
        assert low <= p_low and p_high <= high, (name, d.bounds, d.plausible)
        d.check(d.base)  # the base passes its own bounds
        assert d.warning(d.base) is None


def test_hard_bounds_of_the_issue():
    reg = engine.drivers()
    assert reg["gross_margin_2023F"].maximum == 1.0
    assert reg["debtor_days_2022F"].minimum == 0.0 and reg["creditor_days_2022F"].minimum == 0.0
    assert reg["smart_city_growth_2022F"].above == -1.0
    # A negative effective tax rate is allowed (the report's 2024F charge on a loss).
    assert float(reg["tax_rate_2024F"].base) < 0 and reg["tax_rate_2024F"].check(-0.05) == -0.05
    for name in ("cost_of_debt_2022F", "cash_yield_2022F", "depreciation_rate_2022F", "capex_to_revenue_2022F"):
        with pytest.raises(DriverError, match="expected at least 0"):
            reg[name].check(-0.01)


def test_a_percentage_typed_as_a_whole_number_is_accepted_with_a_warning():
    assert engine.drivers()["premium"].check(50) == 50.0  # within its hard bounds
    assert warnings({"premium": 50.0}) == [
        "premium=50 is outside its plausible range -0.5 to 2 (fraction); did you mean 0.5?"
    ]
    r = engine.run({"premium": 50.0})
    assert any("did you mean 0.5?" in w for w in r.warnings())
    assert warnings({"premium": 0.5}) == []
    assert warnings(engine.base_values()) == []  # nothing differs from the base
    # An amount gets no percentage hint.
    (text,) = warnings({"fixed_opex_2023F": 50000.0})
    assert "plausible range" in text and "did you mean" not in text


def test_operating_costs_growing_faster_than_gross_profit_are_warned():
    values = engine.base_values()
    values["variable_opex_ratio_2023F"] = 0.7
    texts = [w for w in warnings(values) if "gross_margin_2023F" in w]
    assert texts and "more revenue would lower operating profit" in texts[0]


def write_unique(stem: str, body: str) -> Path:
    """A records file outside tmp_path, named for the test (load_records caches by path)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=f"drivers-{stem}-")) / "drivers.toml"
    path.write_text(body)
    return path


def test_a_text_neither_given_nor_supplied_is_refused(tmp_path):
    records = load_records(write(tmp_path, f'[[driver]]\n{GOOD}implied = {{ kind = "constant", value = 1.0 }}\n'))
    with pytest.raises(ReportDataError, match="driver 'x': no source given"):
        build_registry(engine.load_report(), records)


def test_a_driver_defined_twice_is_refused(tmp_path):
    record = f'[[driver]]\n{GOOD}source = "s"\nimplied = {{ kind = "constant", value = 1.0 }}\n'
    with pytest.raises(ReportDataError, match="'x' is defined twice"):
        build_registry(engine.load_report(), load_records(write(tmp_path, record * 2)))
