"""Rebalancing to a target BTC share: hand-checked trades, fees, band, min trade, properties."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analytics.rebalancing import rebalance_to_btc

BTC_USD = 100_000.0
# BTC 1, ETH 10 x 0.05 = 0.5 BTC, SPY 50 x 0.01 = 0.5 BTC: total 2 BTC, BTC share 0.5.
HOLDINGS = {"BTC": 1.0, "ETH": 10.0, "SPY": 50.0}


def _prices(**price_btc: float) -> pd.DataFrame:
    table = {"BTC": 1.0, "ETH": 0.05, "SPY": 0.01, "GLD": 0.02, **price_btc}
    return pd.DataFrame({"symbol": list(table), "price_btc": list(table.values()),
                         "price_usd": [p * BTC_USD for p in table.values()]})


def _trade(plan, symbol):
    rows = plan.trades[plan.trades["symbol"] == symbol]
    assert len(rows) == 1, symbol
    return rows.iloc[0]


def _qty(frame, symbol):
    return float(frame.loc[frame["symbol"] == symbol, "quantity"].iloc[0])


def test_rebalance_below_target_sells_others_pro_rata_into_btc():
    # Target 0.8 of 2 BTC: BTC must reach 1.6, so 0.6 BTC of others is sold, 0.3 of each.
    plan = rebalance_to_btc(HOLDINGS, _prices(), 0.8)
    eth, spy, btc = _trade(plan, "ETH"), _trade(plan, "SPY"), _trade(plan, "BTC")
    assert (eth["side"], spy["side"], btc["side"]) == ("sell", "sell", "buy")
    assert eth["quantity"] == pytest.approx(6.0) and spy["quantity"] == pytest.approx(30.0)
    assert eth["value_btc"] == pytest.approx(0.3)
    assert eth["value_sats"] == 30_000_000 and eth["value_usd"] == pytest.approx(30_000.0)
    assert btc["quantity"] == pytest.approx(0.6)
    assert plan.trades.iloc[-1]["symbol"] == "BTC"          # sell first, then buy
    assert _qty(plan.after, "BTC") == pytest.approx(1.6)
    assert _qty(plan.after, "ETH") == pytest.approx(4.0)
    assert _qty(plan.after, "SPY") == pytest.approx(20.0)
    assert plan.btc_share_before == pytest.approx(0.5)
    assert plan.btc_share_after == pytest.approx(0.8, abs=1e-12)


def test_rebalance_above_target_sells_btc_into_others_by_current_weight():
    # Target 0.2 of 2 BTC: BTC must fall to 0.4, 0.6 BTC bought as 0.3 ETH + 0.3 SPY.
    plan = rebalance_to_btc(HOLDINGS, _prices(), 0.2)
    assert _trade(plan, "BTC")["side"] == "sell"
    assert _trade(plan, "BTC")["quantity"] == pytest.approx(0.6)
    assert plan.trades.iloc[0]["symbol"] == "BTC"          # sell first, then buy
    assert _trade(plan, "ETH")["quantity"] == pytest.approx(6.0)
    assert _qty(plan.after, "ETH") == pytest.approx(16.0)
    assert _qty(plan.after, "SPY") == pytest.approx(80.0)
    assert _qty(plan.after, "BTC") == pytest.approx(0.4)


def test_rebalance_with_fee_solves_the_gross_trade_for_the_exact_target():
    # fee 1 % of the value sold: (1 + 0.99 x) / (2 - 0.01 x) = 0.8  ->  0.998 x = 0.6.
    plan = rebalance_to_btc(HOLDINGS, _prices(), 0.8, fee_bps=100)
    sold = plan.trades.loc[plan.trades["side"] == "sell", "value_btc"].sum()
    assert sold == pytest.approx(0.6 / 0.998, rel=1e-12)
    assert plan.fees_btc == pytest.approx(0.01 * 0.6 / 0.998, rel=1e-12)
    assert _trade(plan, "BTC")["quantity"] == pytest.approx(0.99 * 0.6 / 0.998, rel=1e-12)
    assert plan.btc_share_after == pytest.approx(0.8, abs=1e-12)
    assert plan.after["value_btc"].sum() == pytest.approx(2 - plan.fees_btc, rel=1e-12)


def test_rebalance_selling_btc_with_fee():
    # fee 1 % of BTC sold: (1 - y) / (2 - 0.01 y) = 0.2  ->  0.998 y = 0.6.
    plan = rebalance_to_btc(HOLDINGS, _prices(), 0.2, fee_bps=100)
    assert _trade(plan, "BTC")["value_btc"] == pytest.approx(0.6 / 0.998, rel=1e-12)
    assert _trade(plan, "BTC")["fee_btc"] == pytest.approx(0.006 / 0.998, rel=1e-12)
    bought = plan.trades.loc[plan.trades["side"] == "buy", "value_btc"].sum()
    assert bought == pytest.approx(0.99 * 0.6 / 0.998, rel=1e-12)
    assert plan.btc_share_after == pytest.approx(0.2, abs=1e-12)


def test_rebalance_inside_band_makes_no_trades():
    plan = rebalance_to_btc(HOLDINGS, _prices(), 0.55, band=0.05)
    assert plan.trades.empty
    pd.testing.assert_frame_equal(plan.after, plan.before)
    assert not rebalance_to_btc(HOLDINGS, _prices(), 0.55, band=0.04).trades.empty
    assert rebalance_to_btc(HOLDINGS, _prices(), 0.5).trades.empty


def test_rebalance_drops_legs_below_min_trade():
    # BTC 1, ETH 1.5, SPY 0.1 BTC (total 2.6). Target 0.8 -> sell 1.08 pro rata over 1.6:
    # ETH 1.0125, SPY 0.0675 (below 0.1: dropped), so BTC ends at 2.0125 / 2.6.
    plan = rebalance_to_btc({"BTC": 1.0, "ETH": 30.0, "SPY": 10.0}, _prices(), 0.8,
                            min_trade_btc=0.1)
    assert set(plan.trades["symbol"]) == {"ETH", "BTC"}
    assert _trade(plan, "ETH")["value_btc"] == pytest.approx(1.0125)
    assert plan.btc_share_after == pytest.approx(2.0125 / 2.6)
    assert _qty(plan.after, "SPY") == 10.0
    nothing = rebalance_to_btc(HOLDINGS, _prices(), 0.8, min_trade_btc=0.35)
    assert nothing.trades.empty


def test_rebalance_toward_target_weights_never_buys_an_overweight_asset():
    # Target 0.2: 0.6 BTC to spend; others after = 1.6 -> wanted ETH 0.4, SPY 0.4, GLD 0.8.
    # ETH and SPY already hold 0.5 each, so all 0.6 goes to GLD (30 GLD at 0.02).
    plan = rebalance_to_btc(HOLDINGS, _prices(), 0.2,
                            target_weights={"ETH": 0.25, "SPY": 0.25, "GLD": 0.5})
    assert set(plan.trades["symbol"]) == {"BTC", "GLD"}
    assert _trade(plan, "GLD")["quantity"] == pytest.approx(30.0)
    # Target 0.8 with all non-BTC weight on ETH: others after = 0.4 -> sell SPY 0.5, ETH 0.1.
    sold = rebalance_to_btc(HOLDINGS, _prices(), 0.8, target_weights={"ETH": 1.0})
    assert _qty(sold.after, "SPY") == 0.0
    assert _qty(sold.after, "ETH") == pytest.approx(8.0)


def test_rebalance_without_btc_row_or_holding_derives_btc_usd():
    prices = _prices().query("symbol == 'ETH'")
    plan = rebalance_to_btc({"ETH": 10.0}, prices, 0.5)
    assert plan.btc_usd == pytest.approx(BTC_USD)
    assert _qty(plan.after, "BTC") == pytest.approx(0.25)
    assert _qty(plan.after, "ETH") == pytest.approx(5.0)


def test_rebalance_only_btc_needs_target_weights_to_sell_btc():
    with pytest.raises(ValueError, match="target_weights"):
        rebalance_to_btc({"BTC": 1.0}, _prices(), 0.5)
    plan = rebalance_to_btc({"BTC": 1.0}, _prices(), 0.5, target_weights={"SPY": 1.0})
    assert _qty(plan.after, "SPY") == pytest.approx(50.0)


@pytest.mark.parametrize("kwargs", [
    {"target_btc_share": 1.5}, {"target_btc_share": -0.1}, {"target_btc_share": math.nan},
    {"target_btc_share": math.inf}, {"band": -0.01}, {"fee_bps": 10_000}, {"fee_bps": -1},
    {"min_trade_btc": -1}, {"target_weights": {"ETH": 0.5}},
    {"target_weights": {"BTC": 1.0}}, {"target_weights": {"XXX": 1.0}},
])
def test_rebalance_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        rebalance_to_btc(HOLDINGS, _prices(), **{"target_btc_share": 0.5, **kwargs})


def test_rebalance_rejects_negative_quantity_missing_price_and_empty_portfolio():
    with pytest.raises(ValueError):
        rebalance_to_btc({"BTC": 1.0, "ETH": -1.0}, _prices(), 0.5)
    with pytest.raises(ValueError, match="XXX"):
        rebalance_to_btc({"BTC": 1.0, "XXX": 1.0}, _prices(), 0.5)
    with pytest.raises(ValueError):
        rebalance_to_btc({"BTC": 0.0}, _prices(), 0.5)
    with pytest.raises(ValueError):
        rebalance_to_btc(HOLDINGS, _prices(ETH=-0.05), 0.5)


SYMBOLS = ["ETH", "SOL", "SPY", "GLD", "USDC"]
quantities = st.floats(min_value=0, max_value=1e4, allow_subnormal=False)
prices_btc = st.floats(min_value=1e-6, max_value=10, allow_subnormal=False)


@st.composite
def portfolios(draw):
    held = draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=5, unique=True))
    holdings = {s: draw(quantities) for s in held}
    if draw(st.booleans()):
        holdings["BTC"] = draw(quantities)
    table = {"BTC": 1.0, **{s: draw(prices_btc) for s in SYMBOLS}}
    prices = pd.DataFrame({"symbol": list(table), "price_btc": list(table.values()),
                           "price_usd": [p * 60_000 for p in table.values()]})
    return holdings, prices


@settings(max_examples=200, deadline=None)
@given(portfolios(), st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=500),
       st.booleans())
def test_rebalance_properties(portfolio, target, fee_bps, with_weights):
    holdings, prices = portfolio
    values = {s: q * float(prices.set_index("symbol").at[s, "price_btc"])
              for s, q in holdings.items()}
    total = sum(values.values())
    assume(total > 1e-9)
    others = sum(v for s, v in values.items() if s != "BTC")
    weights = {"SPY": 0.6, "GLD": 0.4} if with_weights else None
    if weights is None and others <= 0 and target < 1:
        with pytest.raises(ValueError):
            rebalance_to_btc(holdings, prices, target, fee_bps=fee_bps)
        return
    plan = rebalance_to_btc(holdings, prices, target, fee_bps=fee_bps, target_weights=weights)
    after_total = plan.after["value_btc"].sum()
    assert after_total == pytest.approx(total - plan.fees_btc, rel=1e-9)
    assert plan.fees_btc == pytest.approx(plan.trades["fee_btc"].sum(), rel=1e-9, abs=1e-15)
    assert (plan.after["quantity"] >= 0).all()
    assert plan.btc_share_after == pytest.approx(target, abs=1e-9)
    assert (plan.trades["quantity"] > 0).all()
    if not plan.trades.empty:
        btc_side = plan.trades.loc[plan.trades["symbol"] == "BTC", "side"].iloc[0]
        other_sides = set(plan.trades.loc[plan.trades["symbol"] != "BTC", "side"])
        assert other_sides == {"buy", "sell"} - {btc_side}
        assert (btc_side == "buy") == (plan.btc_share_before < target)


@settings(max_examples=100, deadline=None)
@given(portfolios(), st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=0.5))
def test_rebalance_inside_band_property(portfolio, target, band):
    holdings, prices = portfolio
    holdings = {**holdings, "BTC": holdings.get("BTC", 0.0) + 1.0}
    plan = rebalance_to_btc(holdings, prices, target, band=band,
                            target_weights={"SPY": 1.0})
    assume(abs(abs(plan.btc_share_before - target) - band) > 1e-9)   # not on the float edge
    if abs(plan.btc_share_before - target) <= band:
        assert plan.trades.empty
        pd.testing.assert_frame_equal(plan.after, plan.before)
    else:
        assert not plan.trades.empty
        assert plan.btc_share_after == pytest.approx(target, abs=1e-9)


def test_frozen_holding_counts_in_the_total_but_is_never_traded():
    # 1 BTC + 20 ETH (1 BTC) + 10 MATIC frozen (0.5 BTC): 2.5 BTC; 60 % BTC = 1.5 BTC.
    prices = pd.DataFrame({"symbol": ["BTC", "ETH", "MATIC"], "price_btc": [1.0, 0.05, 0.05],
                           "price_usd": [100_000.0, 5_000.0, 5_000.0]})
    plan = rebalance_to_btc({"BTC": 1.0, "ETH": 20.0, "MATIC": 10.0}, prices, 0.6,
                            frozen=["MATIC"])
    trades = plan.trades.set_index("symbol")
    assert "MATIC" not in trades.index
    assert trades.loc["ETH", "quantity"] == pytest.approx(10.0)  # only ETH funds the 0.5 BTC
    assert plan.btc_share_after == pytest.approx(0.6)
    after = plan.after.set_index("symbol")
    assert after.loc["MATIC", "quantity"] == 10.0


def test_frozen_holdings_can_stop_a_plan_short_of_the_target():
    prices = pd.DataFrame({"symbol": ["BTC", "ETH", "MATIC"], "price_btc": [1.0, 0.05, 0.05],
                           "price_usd": [100_000.0, 5_000.0, 5_000.0]})
    plan = rebalance_to_btc({"BTC": 1.0, "ETH": 20.0, "MATIC": 20.0}, prices, 0.9,
                            frozen=["MATIC"])
    assert plan.after.set_index("symbol").loc["ETH", "quantity"] == pytest.approx(0.0)
    assert plan.btc_share_after == pytest.approx(2.0 / 3.0)  # all ETH sold; MATIC kept
    with pytest.raises(ValueError, match="BTC cannot be frozen"):
        rebalance_to_btc({"BTC": 1.0}, prices, 0.5, frozen=["BTC"])
