"""The errata records drive docs/errata.md and agree with what the model carries."""

from pathlib import Path

import pytest

import engine
from engine.calibration import adjustments
from engine.errata import load_errata, render_markdown
from engine.lines import FCST, HIST, YEARS
from engine.report import ReportDataError

ROOT = Path(__file__).resolve().parents[1]

# Adjustments measured on the reported columns rather than carried by the model (typed as printed).
MEASURED = {"balance_sheet_difference"}


def test_docs_errata_is_generated_from_the_records():
    assert (ROOT / "docs" / "errata.md").read_text() == render_markdown(), (
        "run: stmodel errata -o docs/errata.md --overwrite"
    )


def test_adjustment_amounts_are_what_the_model_carries(base):
    fixed = base.model.fixed
    for e in load_errata():
        if e.handling != "adjustment":
            continue
        assert e.amounts, e.id
        for col, amount in e.amounts.items():
            assert col in YEARS, (e.id, col)
            if e.adjustment == "balance_sheet_difference":
                measured = base.value("total_assets", col) - base.value("total_cap_liab", col)
            elif e.adjustment == "cash_unreconciled" and col in HIST:
                prev = YEARS[YEARS.index(col) - 1]
                measured = base.value("cash", col) - base.value("cash", prev) - base.value("chg_in_cash", col)
            else:
                measured = fixed[f"{e.adjustment}_{col}"]
            assert measured == pytest.approx(amount, abs=1e-6), (e.id, col)


def test_every_adjustment_has_an_erratum_with_every_amount(base):
    """Each fixed adjustment the model carries is a documented erratum, every column of it."""
    by_name = {e.adjustment: e for e in load_errata() if e.handling == "adjustment" and e.adjustment}
    names = adjustments()
    assert set(names) <= set(by_name), sorted(set(names) - set(by_name))
    assert set(by_name) - set(names) <= MEASURED, sorted(set(by_name) - set(names) - MEASURED)
    for name, cols in names.items():
        recorded = by_name[name].amounts or {}
        assert set(cols) <= set(recorded), (name, sorted(set(cols) - set(recorded)))
        for col in cols:
            assert base.model.fixed[f"{name}_{col}"] == pytest.approx(recorded[col], abs=1e-6), (name, col)


def test_the_new_adjustments_carry_the_printed_differences(base):
    """Worked by hand from the printed tables (lines 1025, 1056-1070, 1093-1109)."""
    fixed = base.model.fixed
    # The P&L books 50/80/100 of associates' profit, the cash flow's line is 0: the reversal is added back.
    assert [fixed[f"assoc_cf_unreversed_{c}"] for c in FCST] == [50, 80, 100]
    # 27 + 50 = 77 -> 32, 32 + 80 = 112 -> 39, 39 + 100 = 139 -> 47.
    assert [fixed[f"invt_in_associates_other_{c}"] for c in FCST] == [32 - 77, 39 - 112, 47 - 139]
    # Other LT Liabilities: 1,822 - 450, 2,180 + 12, 2,026 - 26 against 2,180, 2,026, 2,210.
    assert [fixed[f"other_lt_liab_other_{c}"] for c in FCST] == [2180 - 1372, 2026 - 2192, 2210 - 2000]
    # Net Fixed Assets, now net of the loss on disposal: 2,909 + 3,874 - 910 - 1,585 = 4,288 -> 6,524.
    assert fixed["nfa_other_2022F"] == pytest.approx(6524 - 4288)
    # Equity 2022F: 31,893 - 5,509 - 864 (Other Operating CF) - 1 (opening) = 25,519 -> 26,592.
    assert fixed["equity_other_2022F"] == pytest.approx(26592 - 25519)
    # 2021A assets 36,944, liabilities and equity 36,945.
    assert [fixed[f"opening_balance_difference_{c}"] for c in FCST] == [-1, 0, 0]


def test_only_the_opening_difference_survives_the_clean_basis(base):
    clean = engine.run({"basis": "clean"})

    def v(key: str, col: str) -> float:
        return float(clean.raw(key, col))

    for c in FCST:
        assert v("total_assets", c) == pytest.approx(v("total_cap_liab", c), abs=1e-6)
        # Equity moves by the roll-forward alone, the opening difference included in 2022F.
        flows = sum(v(k, c) for k in ("net_profit", "capital_issues", "other_operating_cf", "currency_adj"))
        opening = -1.0 if c == FCST[0] else 0.0
        prev = YEARS[YEARS.index(c) - 1]
        assert v("equity", c) == pytest.approx(v("equity", prev) + flows + opening, abs=1e-6)
        # No associates adjustment: the share of profit is reversed in the cash flow.
        assert v("assoc_cf", c) == pytest.approx(-v("associates", c), abs=1e-9)
    # The printed basis ties to the printed balance instead, through equity_other.
    assert base.value("equity", "2022F") == 26592


def test_ps_row_fx_is_a_settable_driver_not_an_adjustment():
    e = next(e for e in load_errata() if e.id == "ps_row_stale_fx")
    assert e.handling == "convention" and e.adjustment is None and "ps_row_usdcny" in e.reproduced_by
    assert "ps_row_usdcny" not in adjustments()
    d = engine.drivers()["ps_row_usdcny"]
    assert d.base == 7.224
    # At the valuation's 6.75 the 2021A row is US$9,206m x 6.75 / 4,700 = 13.22 (evidence), not 14.15.
    moved = engine.run({"ps_row_usdcny": 6.75})
    ps = float(moved.raw("ps_ratio", "2021A"))
    assert ps == pytest.approx(9206 * 6.75 / 4700, rel=1e-3)
    assert round(ps, 2) == 13.22


def test_errata_cover_the_known_inconsistencies():
    ids = {e.id for e in load_errata()}
    for known in (
        "ebitda_unexplained",
        "cash_flow_not_tied",
        "eps_share_count",
        "ps_row_stale_fx",
        "dissemination_date",
        "opening_balance_difference",
        "associates_not_reversed",
    ):
        assert known in ids


def test_a_bad_record_is_refused(tmp_path):
    path = tmp_path / "errata.toml"
    head = '[[erratum]]\nid = "x"\ntitle = "t"\ntable = "T"\nreproduced_by = "-"\nevidence = "-"\n'
    path.write_text(head + 'handling = "guess"\n')
    with pytest.raises(ReportDataError, match=r"errata.toml: erratum\[0\].handling: expected one of"):
        load_errata(path)
    path.write_text(head + 'handling = "adjustment"\nadjustment = "a"\n')
    with pytest.raises(ReportDataError, match="needs 'adjustment' and 'amounts'"):
        load_errata(path)
    path.write_text(head + 'handling = "convention"\nadjustment = "a"\namounts = { "2022F" = 1 }\n')
    with pytest.raises(ReportDataError, match="only an 'adjustment' erratum"):
        load_errata(path)
    path.write_text(head + 'handling = "adjustment"\nadjustment = "a"\namounts = { "2022F" = "one" }\n')
    with pytest.raises(ReportDataError, match="amounts: expected a number"):
        load_errata(path)


def test_engine_exposes_tables_as_dataframes():
    frame = engine.table("Income Statement")
    assert list(frame.columns) == ["2020A", "2021A", "2022F", "2023F", "2024F"]
    assert frame.loc["Revenue", "2024F"] == pytest.approx(10393)
    assert "EBITDA" in frame.index
