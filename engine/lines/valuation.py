"""Page one (per-share rows, P/S, P/B) and the valuation: market cap, peers' P/S, target price, rating."""

from __future__ import annotations

from collections.abc import Callable

from ..expr import INPUT, Expr, Ref, avg, choose, if_, mround
from .base import FV, Line, P, R, both, growth_abs, hkd_per_rmb

VALUATION_LINES: tuple[Line, ...] = (
    both(
        "np_pre_ex_growth",
        "Net Profit Gth (Pre-ex) (%)",
        "%",
        growth_abs("net_profit_pre_ex"),
    ),
    Line(
        "eps_shares",
        "Shares for EPS (m)",
        "m shares",
        hist=P("shares_m"),
        fcst=P("eps_shares_m") + R("shares_out") - P("shares_m"),
        meaning="Issued shares for reported years; after, the count the report's forecast EPS implies plus shares"
        " issued since",
    ),
    Line(
        "shares_out",
        "Shares outstanding (m)",
        "m shares",
        hist=P("shares_m"),
        fcst=R("shares_out").prev + R("capital_issues") * hkd_per_rmb / P("issue_price"),
        meaning="Issued shares, plus Capital Issues converted to HK$ and divided by issue_price",
    ),
    both("eps_rmb", "EPS (RMB)", "RMB", R("net_profit") / R("eps_shares")),
    both("eps_hkd", "EPS (HK$)", "HK$", R("eps_rmb") * hkd_per_rmb),
    both("core_eps_rmb", "Core EPS (RMB)", "RMB", R("net_profit_pre_ex") / R("eps_shares")),
    both("core_eps_hkd", "Core EPS (HK$)", "HK$", R("core_eps_rmb") * hkd_per_rmb),
    both("eps_growth", "EPS Gth (%)", "%", growth_abs("eps_rmb")),
    both("core_eps_growth", "Core EPS Gth (%)", "%", growth_abs("core_eps_rmb")),
    both("diluted_eps_hkd", "Diluted EPS (HK$)", "HK$", R("eps_hkd")),
    both(
        "ps_ratio",
        "P/S (X)",
        "x",
        Ref("mkt_cap_usd_m", single=True) * P("ps_row_usdcny") / R("revenue"),
        meaning="Market cap over revenue at the USDCNY the printed row implies (see errata)",
    ),
    both("bvps_hkd", "BV Per Share (HK$)", "HK$", R("equity") / R("shares_out") * hkd_per_rmb),
    both(
        "net_div_yield",
        "Net Div Yield (%)",
        "%",
        -R("dividend_paid") / R("shares_out") * hkd_per_rmb / P("last_price"),
    ),
    both("pb_ratio", "P/Book Value (X)", "x", P("last_price") / R("bvps_hkd")),
    Line("earnings_rev", "Earnings Rev (%)", "text", hist=INPUT, fcst=INPUT, source=FV),
    Line("consensus_eps", "Consensus EPS (RMB)", "RMB", hist=INPUT, fcst=INPUT, source=FV),
    Line("other_broker_recs", "Other Broker Recs:", "text", hist=INPUT, fcst=INPUT, source=FV),
    Line("hkd_per_rmb", "HK$ per RMB", "HK$", value=P("hkdusd") / P("usdcny")),
    Line("mkt_cap_hkd_m", "Mkt Cap (HK$ m)", "HK$ m", value=P("shares_m") * P("last_price")),
    Line("mkt_cap_usd_m", "Mkt Cap (US$ m)", "US$ m", value=R("mkt_cap_hkd_m") / P("hkdusd")),
)


def peer_lines(
    peers: list[tuple[str, str]],
    sales: dict[str, tuple[str, ...]],
    ps_columns: tuple[str, ...],
    targets: tuple[tuple[int, str, str], ...],
) -> tuple[Line, ...]:
    """Peer lines (price, market cap, sales, P/S), the P/S averages and the valuation. `peers` is (key,
    currency driver or '') per company, `sales` each peer's sales columns, `ps_columns` the columns
    every peer has sales for, `targets` the (year, forecast column, P/S column) `target_year` can
    choose. Market cap is price x shares, so a peer's price moves its P/S and the target."""
    out: list[Line] = []
    for key, fx in peers:
        price_usd = P(f"{key}_price") / P(fx) if fx else P(f"{key}_price")
        out.append(Line(f"{key}_price_local", "Price (Local)", "local", value=P(f"{key}_price")))
        out.append(Line(f"{key}_price_usd", "Price (USD)", "US$", value=price_usd))
        out.append(
            Line(
                f"{key}_mkt_cap_usd",
                "Mkt cap (USD mn)",
                "US$ m",
                value=R(f"{key}_price_usd") * P(f"{key}_shares_m"),
                meaning="Price in US$ times the shares in issue",
            )
        )
        for col in sales[key]:
            out.append(Line(f"{key}_sales_{col}", f"Sales {col}", "US$ m", value=P(f"{key}_sales_{col}")))
        for col in ps_columns:
            ps = R(f"{key}_mkt_cap_usd") / R(f"{key}_sales_{col}")
            out.append(Line(f"{key}_ps_{col}", f"P/S {col}", "x", value=ps))
    for col in ps_columns:
        out.append(
            Line(
                f"peer_average_ps_{col}",
                f"P/S {col}",
                "x",
                value=avg(*(R(f"{key}_ps_{col}") for key, _ in peers)),
                meaning="Mean of the peers' unrounded P/S ratios",
            )
        )

    def of_target_year(value: Callable[[str, str], Expr]) -> Expr:
        return choose(P("target_year"), tuple((year, value(col, ps)) for year, col, ps in targets))

    years = f"{targets[0][0]}-{targets[-1][0]}" if targets else "none"
    chosen: tuple[tuple[str, str, str, Callable[[str, str], Expr], str], ...] = (
        (
            "target_peer_ps",
            "Peer average P/S, valuation year (x)",
            "x",
            lambda col, ps: R(f"peer_average_ps_{ps}"),
            f"The peers' average P/S of target_year ({years}); #N/A for a year without peer sales",
        ),
        (
            "target_revenue",
            "Revenue, valuation year (RMB m)",
            "RMB m",
            lambda col, ps: Ref("revenue", at=col),
            "Revenue of target_year",
        ),
        (
            "target_shares",
            "Shares outstanding, valuation year (m)",
            "m shares",
            lambda col, ps: Ref("shares_out", at=col),
            "Shares outstanding at the end of target_year",
        ),
    )
    for key, label, unit, value, meaning in chosen:
        out.append(
            Line(key, label, unit, value=of_target_year(value), meaning=meaning or f"{label[:-9]} of target_year")
        )
    out += [
        Line(
            "target_multiple",
            "Target P/S multiple (x)",
            "x",
            value=R("target_peer_ps") + R("target_peer_ps") * P("premium"),
            meaning="Peer average P/S of target_year with the premium: (1 + premium) x average",
        ),
        Line(
            "valuation_usd_m",
            "Valuation (US$ m)",
            "US$ m",
            value=R("target_multiple") * R("target_revenue") / P("usdcny"),
        ),
        Line(
            "target_price_unrounded",
            "Target price, unrounded (HK$)",
            "HK$",
            value=R("valuation_usd_m") * P("hkdusd") / R("target_shares"),
            meaning="Valuation in HK$ over the shares outstanding at the end of target_year",
        ),
        Line(
            "target_price",
            "12-mth target price (HK$)",
            "HK$",
            value=mround(R("target_price_unrounded"), P("tp_rounding")),
        ),
        Line(
            "upside",
            "Upside to target price",
            "%",
            value=(R("target_price") - P("last_price")) / P("last_price"),
        ),
        Line(
            "buy_threshold",
            "BUY threshold",
            "%",
            value=if_(P("cap_basis").eq("small"), P("buy_threshold_small"), P("buy_threshold_large")),
        ),
        Line(
            "rating",
            "Rating",
            "text",
            value=if_(
                R("upside") > R("buy_threshold"),
                "BUY",
                if_(R("upside") < P("fully_valued_threshold"), "FULLY VALUED", "HOLD"),
            ),
        ),
    ]
    return tuple(out)
