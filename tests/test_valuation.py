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
    # Revenue falls by 475.5. Gross profit falls at the 2024F margin of 6,366 / 10,393; cash operating
    # expenses (Other Opng less D&A, the loss on disposals and Other Operating CF) fall by their variable
    # share only, the printed 2023F->2024F step:
    # ((8,620 - 1,373 - 634 - 0) - (7,637 - 1,210 - 347 - 0)) / (10,393 - 7,231) = 533 / 3,162 per RMB.
    # D&A is on opening fixed assets and interest on opening balances: neither moves in 2024F.
    d_pbt = -475.5 * (6366 / 10393 - 533 / 3162)
    assert r.value("pbt", "2024F") == pytest.approx(-2062 + d_pbt)
    # Tax = -tax_rate x (Pre-tax Profit - associates' 100) with tax_rate_2024F = -(-50) / (-2,162): the
    # charge grows with the loss.
    tax = -50 * (-2162 + d_pbt) / -2162
    assert r.value("tax", "2024F") == pytest.approx(tax)
    assert r.value("net_profit", "2024F") == pytest.approx(-2062 + d_pbt + tax)
    assert float(r.raw("net_profit", "2024F")) < -2112  # operating leverage: less revenue, a deeper loss
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


def test_usdcny_moves_valuation_and_the_cny_peers_multiples():
    r = engine.run({"usdcny": 7.0})
    v = r.valuation()
    # Cloudwalk is priced in CNY: US$ price = 15.48 / 7.0
    assert r.value("cloudwalk_price_usd") == pytest.approx(15.48 / 7.0)
    # The CNY peers' shares are implied at 6.75 (market cap / (price / 6.75)): at 7.0 their US$ market
    # caps, hence their P/S, shrink by 6.75 / 7.0; the HK$ and US$ peers do not move.
    cny = (1684 / 417 + 644 / 102 + 1402 / 150) * 6.75 / 7.0
    avg = (1703 / 537 + cny + 13687 / 2857 + 6883 / 1451) / 6
    assert v["peer_average_ps"]["FY2024E"] == pytest.approx(avg, rel=1e-12)
    assert r.value("cloudwalk_ps_FY2024E") == pytest.approx(1684 * 6.75 / 7.0 / 417, rel=1e-12)
    assert r.value("palantir_ps_FY2024E") == pytest.approx(13687 / 2857, rel=1e-12)
    assert v["valuation_usd_m"] == pytest.approx(1.4 * avg * 10393 / 7.0, rel=1e-12)
    # TP = valuation in US$ x HK$ per US$ / shares
    assert v["target_price_unrounded"] == pytest.approx(1.4 * avg * 10393 / 7.0 * HKDUSD / 33282, rel=1e-12)
    assert v["target_price_unrounded"] < engine.run().valuation()["target_price_unrounded"]


def test_a_peer_price_moves_its_ps_the_average_and_the_target_price():
    # P/S = price / fx x shares / sales, with shares = printed market cap / (printed price / fx).
    shares = 1684 / (15.48 / 6.75)  # Cloudwalk, CNY
    r = engine.run({"cloudwalk_price": 20.0})
    assert engine.drivers()["cloudwalk_shares_m"].base == pytest.approx(shares, rel=1e-12)
    assert r.value("cloudwalk_mkt_cap_usd") == pytest.approx(20.0 / 6.75 * shares, rel=1e-12)
    sales = {"FY2022E": 170, "FY2023E": 256, "FY2024E": 417}
    for col, s in sales.items():
        assert r.value(f"cloudwalk_ps_{col}") == pytest.approx(20.0 / 6.75 * shares / s, rel=1e-12)
    avg = PEER_AVG_FY24 + (20.0 / 15.48 - 1) * 1684 / 417 / 6
    v = r.valuation()
    assert v["peer_average_ps"]["FY2024E"] == pytest.approx(avg, rel=1e-12)
    assert v["target_multiple"] == pytest.approx(1.4 * avg, rel=1e-12)
    tp = 1.4 * avg * 10393 / 6.75 * HKDUSD / 33282  # 2.8309 -> 2.8
    assert v["target_price_unrounded"] == pytest.approx(tp, rel=1e-12)
    assert tp == pytest.approx(2.8309, abs=1e-4) and v["target_price"] == 2.8
    # A US$ peer: Palantir at US$3.51 (half): its market cap halves, its FY2024E P/S falls by 13,687 / 2,857 / 2.
    half = engine.run({"palantir_price": 3.51}).valuation()
    assert half["peer_average_ps"]["FY2024E"] == pytest.approx(PEER_AVG_FY24 - 13687 / 2857 / 2 / 6, rel=1e-12)


def test_a_peer_sales_figure_moves_the_average():
    r = engine.run({"ui_path_sales_FY2024E": 2902.0})  # twice the printed 1,451
    avg = PEER_AVG_FY24 - 6883 / 1451 / 2 / 6
    assert r.valuation()["peer_average_ps"]["FY2024E"] == pytest.approx(avg, rel=1e-12)
    assert r.valuation()["target_price_unrounded"] == pytest.approx(1.4 * avg * 10393 / 6.75 * HKDUSD / 33282)


def test_peer_usd_prices_match_the_printed_table(base):
    for peer in base.model.report.peers:
        assert base.value(f"{peer.key}_price_usd") == pytest.approx(peer.price_usd, abs=0.005 + 1e-9)
