"""The data file: complete, with provenance, and refused with a clear message when malformed."""

import tomllib
from pathlib import Path

import pytest

from engine.report import REPORT_FILE, ReportDataError, load_report, parse_report
from engine.tables import TABLE_TITLES


def test_the_five_tables_hold_484_printed_numeric_cells():
    report = load_report()
    counts = {
        t: sum(not isinstance(v, str) for r in report.table(t).rows for v in r.values.values()) for t in TABLE_TITLES
    }
    assert sum(counts.values()) == 484
    assert counts["Income Statement"] == 135


def test_every_printed_row_names_its_line_in_the_report_text():
    report = load_report()
    for table in report.tables.values():
        assert table.header_line > 0
        for row in table.rows:
            assert row.line > table.header_line, (table.title, row.label)


def test_market_data_carry_their_source():
    m = load_report().market
    assert m["last_price"].value == 2.16 and "line 15" in m["last_price"].source
    assert m["shares_m"].value == 33282
    assert m["mkt_cap_hkd_m"].value / m["mkt_cap_usd_m"].value == pytest.approx(7.80893, abs=1e-5)


def _broken(tmp_path: Path, edit) -> Path:
    raw = REPORT_FILE.read_text()
    path = tmp_path / "report.toml"
    path.write_text(edit(raw))
    return path


def test_a_missing_key_names_file_and_key(tmp_path):
    path = _broken(tmp_path, lambda s: s.replace("[market.usdcny]\nvalue = 6.75", "[market.usdcny]\nvalu = 6.75"))
    with pytest.raises(ReportDataError, match=r"report.toml: market.usdcny: missing key 'value'"):
        load_report(path)


def test_a_wrong_type_names_file_key_and_value(tmp_path):
    path = _broken(tmp_path, lambda s: s.replace("mkt_cap_usd_m = 1703", 'mkt_cap_usd_m = "1,703"'))
    with pytest.raises(ReportDataError, match=r"peers.company\[0\].mkt_cap_usd_m: expected int or float"):
        load_report(path)


def test_a_short_row_is_refused(tmp_path):
    raw = tomllib.loads(REPORT_FILE.read_text())
    raw["table"][1]["rows"][0]["values"].pop()
    with pytest.raises(ReportDataError, match=r"row 'Smart Business'.values: 4 values for 5 columns"):
        parse_report(raw, tmp_path / "report.toml")


def test_invalid_toml_is_refused(tmp_path):
    path = _broken(tmp_path, lambda s: s + "\n[[[broken")
    with pytest.raises(ReportDataError, match=r"report\.toml: not valid TOML"):
        load_report(path)
