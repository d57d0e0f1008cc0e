"""The valuation reproduces the report, and driver changes give the hand-computed results."""

import pytest

import engine

HKDUSD = 71889 / 9206  # At A Glance, line 61
PEER_AVG_FY24 = (
    1703 / 537 + 1684 / 417 + 644 / 102 + 1402 / 150 + 13687 / 2857 + 6883 / 1451
) / 6  # Valuation & Peers comparison, lines 161-166


def test_base_case_is_the_report(base):
    v = base.valuation()
    assert v["target_price"] == 2.7
    assert v["upside_pct"] == pytest.approx(25.0, abs=1e-9)
    assert v["rating"] == "BUY"
    assert v["last_price"] == 2.16
    assert [round(x, 1) for x in v["peer_average_ps"].values()] == [10.3, 7.5, 5.4]
    assert round(v["target_multiple"], 1) == 7.6  # "7.6x P/S on FY24E" (line 133)
    assert round(v["valuation_usd_m"] / 1000, 1) == 11.6  # "USD$11.6bn" (line 89)


def test_target_price_is_the_report_formula(base):
    expected = 1.4 * PEER_AVG_FY24 * 10393 / 6.75 * HKDUSD / 33282
    assert base.valuation()["target_price_unrounded"] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(2.7315, abs=1e-4)


def test_premium_of_100_percent_gives_hk_3_9():
    v = engine.run({"premium": 1.0}).valuation()
    # 2 x 5.4007 x 10,393 / 6.75 x 7.80893 / 33,282 = 3.902 -> 3.9
    assert v["target_price"] == 3.9
    assert v["upside_pct"] == pytest.approx((3.9 / 2.16 - 1) * 100)
    assert v["rating"] == "BUY"


def test_last_price_2_5_gives_8_percent_upside_and_hold():
    v = engine.run({"last_price": 2.5}).valuation()
    assert v["target_price"] == 2.7
    assert v["upside_pct"] == pytest.approx(8.0)
    assert v["rating"] == "HOLD"


def test_smart_auto_growth_50_percent_in_2024():
    r = engine.run({"smart_auto_growth_2024F": 0.5})
    # Smart Auto 2024F = 681 x 1.5 = 1,021.5; revenue = 3,412 + 3,228 + 2,256 + 1,021.5 = 9,917.5
    assert r.value("smart_auto", "2024F") == pytest.approx(1021.5)
    assert r.value("revenue", "2024F") == pytest.approx(9917.5)
    # TP = 1.4 x 5.4007 x 9,917.5 / 6.75 x 7.80893 / 33,282 = 2.6065 -> 2.6, upside 20.4%
    assert r.valuation()["target_price_unrounded"] == pytest.approx(2.6065, abs=1e-4)
    assert r.target_price == 2.6
    assert r.valuation()["upside_pct"] == pytest.approx(20.37, abs=0.01)
    assert r.rating == "BUY"
    # Revenue falls by 475.5 at a gross margin of 6,366/10,393 and cash opex of (8,620 - 1,373)/10,393:
    # the loss narrows by 475.5 x (8,620 - 1,373 - 6,366) / 10,393 = 40.3
    assert r.value("net_profit", "2024F") == pytest.approx(-2112 + 475.5 * 881 / 10393)
    # Earlier years do not move
    assert r.value("net_profit", "2023F") == engine.run().value("net_profit", "2023F")


def test_no_smart_auto_growth_at_all_and_the_cap_basis():
    r = engine.run({"smart_auto_growth": 0.0})  # every forecast year
    assert r.value("smart_auto", "2024F") == pytest.approx(184)
    assert r.value("revenue", "2024F") == pytest.approx(3412 + 3228 + 2256 + 184)
    # 1.4 x 5.4007 x 9,080 / 6.75 x 7.80893 / 33,282 = 2.386 -> 2.4; upside 11.1%
    assert r.target_price == 2.4
    assert r.rating == "BUY"  # above 10% for a large cap
    small = engine.run({"smart_auto_growth": 0.0, "cap_basis": "small"})
    assert small.rating == "HOLD"  # below 15% for a small cap


def test_fully_valued_below_minus_10_percent():
    assert engine.run({"last_price": 3.1}).rating == "FULLY VALUED"  # 2.7 / 3.1 - 1 = -12.9%
    assert engine.run({"last_price": 3.0}).rating == "HOLD"  # exactly -10%: not below it


def test_usdcny_moves_valuation_but_not_the_peer_multiples():
    r = engine.run({"usdcny": 7.0})
    v = r.valuation()
    assert v["valuation_usd_m"] == pytest.approx(1.4 * PEER_AVG_FY24 * 10393 / 7.0)
    # Cloudwalk is priced in CNY: US$ price = 15.48 / 7.0
    assert r.value("cloudwalk_price_usd") == pytest.approx(15.48 / 7.0)
    assert v["peer_average_ps"]["FY2024E"] == pytest.approx(PEER_AVG_FY24)


def test_peer_usd_prices_match_the_printed_table(base):
    for peer in base.model.report.peers:
        assert base.value(f"{peer.key}_price_usd") == pytest.approx(peer.price_usd, abs=0.005 + 1e-9)
