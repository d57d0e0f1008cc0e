"""The errata records drive docs/errata.md and agree with what the model carries."""

from pathlib import Path

import pytest

import engine
from engine.errata import load_errata, render_markdown
from engine.lines import HIST, YEARS
from engine.report import ReportDataError

ROOT = Path(__file__).resolve().parents[1]


def test_docs_errata_is_generated_from_the_records():
    assert (ROOT / "docs" / "errata.md").read_text() == render_markdown(), (
        "run: stmodel errata -o docs/errata.md --overwrite"
    )


def test_adjustment_amounts_are_what_the_model_carries(base):
    fixed = base.model.fixed
    for e in load_errata():
        if e.handling != "adjustment":
            continue
        for col, amount in (e.amounts or {}).items():
            if e.adjustment == "balance_sheet_difference":
                measured = base.value("total_assets", col) - base.value("total_cap_liab", col)
            elif e.adjustment == "cash_unreconciled" and col in HIST:
                prev = YEARS[YEARS.index(col) - 1]
                measured = base.value("cash", col) - base.value("cash", prev) - base.value("chg_in_cash", col)
            elif col == "all":
                measured = fixed[e.adjustment]
            else:
                measured = fixed[f"{e.adjustment}_{col}"]
            assert measured == pytest.approx(amount, abs=1e-6), (e.id, col)


def test_errata_cover_the_known_inconsistencies():
    ids = {e.id for e in load_errata()}
    for known in (
        "ebitda_unexplained",
        "cash_flow_not_tied",
        "eps_share_count",
        "ps_row_stale_fx",
        "dissemination_date",
    ):
        assert known in ids


def test_a_bad_record_is_refused(tmp_path):
    path = tmp_path / "errata.toml"
    path.write_text(
        '[[erratum]]\nid = "x"\ntitle = "t"\ntable = "T"\nhandling = "guess"\nreproduced_by = "-"\nevidence = "-"\n'
    )
    with pytest.raises(ReportDataError, match=r"errata.toml: erratum\[0\].handling: expected one of"):
        load_errata(path)


def test_engine_exposes_tables_as_dataframes():
    frame = engine.table("Income Statement")
    assert list(frame.columns) == ["2020A", "2021A", "2022F", "2023F", "2024F"]
    assert frame.loc["Revenue", "2024F"] == pytest.approx(10393)
    assert "EBITDA" in frame.index
