"""Practical rebalance: whole lots, a minimum trade in USD, skipped legs listed with a reason."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analytics.rebalancing import rebalance_to_btc

BTC_USD = 100_000.0


def _prices(table: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"symbol": list(table), "price_btc": list(table.values()),
                         "price_usd": [p * BTC_USD for p in table.values()]})


def _total(frame: pd.DataFrame) -> float:
    return float(frame["value_btc"].sum())


def test_rebalance_floors_lot_sized_asset_to_whole_shares_and_reports_rounding():
    # BTC 1 + ETH 10 x 0.05 + SPY 50 x 0.007 = 1.85 BTC. Target 0.8: 0.48 BTC of others sold
    # pro rata: SPY 0.48 x 0.35/0.85 = 0.19765 BTC = 28.235 shares -> 28 whole shares.
    holdings = {"BTC": 1.0, "ETH": 10.0, "SPY": 50.0}
    plan = rebalance_to_btc(holdings, _prices({"BTC": 1.0, "ETH": 0.05, "SPY": 0.007}), 0.8,
                            lot_sizes={"SPY": 1})
    spy = plan.trades.set_index("symbol").loc["SPY"]
    assert spy["quantity"] == pytest.approx(28.0, abs=1e-9)
    eth = plan.trades.set_index("symbol").loc["ETH"]
    assert eth["quantity"] == pytest.approx(0.48 * 0.5 / 0.85 / 0.05)   # no lot: exact
    assert plan.rounding_btc == pytest.approx((28.235294117647 - 28) * 0.007, rel=1e-9)
    assert _total(plan.after) == pytest.approx(_total(plan.before), rel=1e-12)  # conserved
    # The untraded value stayed in SPY: the BTC share misses by exactly that.
    assert plan.target_gap == pytest.approx(-plan.rounding_btc / 1.85, rel=1e-9)
    assert plan.skipped.empty


def test_rebalance_skips_leg_below_min_trade_usd_with_reason():
    # GLD 0.2 x 0.002 BTC ($40): its pro-rata part of the sale is about $16.
    holdings = {"BTC": 1.0, "ETH": 10.0, "GLD": 0.2}
    plan = rebalance_to_btc(holdings, _prices({"BTC": 1.0, "ETH": 0.05, "GLD": 0.002}), 0.8,
                            min_trade_usd=20)
    assert list(plan.trades["symbol"]) == ["ETH", "BTC"]
    skipped = plan.skipped.set_index("symbol").loc["GLD"]
    assert skipped["side"] == "sell"
    assert skipped["value_usd"] == pytest.approx(16.0, abs=0.1)
    assert "below the minimum trade: $16.01 < $20.00" in skipped["reason"]
    assert plan.rounding_btc == pytest.approx(skipped["value_btc"])
    # BTC bought is exactly what ETH's sale paid: value conserved, GLD untouched.
    btc = plan.trades.set_index("symbol").loc["BTC"]
    assert btc["value_btc"] == pytest.approx(plan.trades.set_index("symbol").loc["ETH", "value_btc"])
    assert float(plan.after.set_index("symbol").loc["GLD", "quantity"]) == 0.2


def test_rebalance_lists_less_than_one_lot_and_trades_nothing():
    # Target 0.51 of 2 BTC: 0.02 BTC to sell of SPY priced 0.05 (one share $5000): 0.4 shares.
    holdings = {"BTC": 1.0, "SPY": 20.0}
    plan = rebalance_to_btc(holdings, _prices({"BTC": 1.0, "SPY": 0.05}), 0.51,
                            lot_sizes={"SPY": 1})
    assert plan.trades.empty
    reason = plan.skipped.set_index("symbol").loc["SPY", "reason"]
    assert reason.startswith("less than one lot: 0.4 SPY planned, lot size 1")
    assert "$5,000.00" in reason
    pd.testing.assert_frame_equal(plan.after, plan.before)
    assert plan.target_gap == pytest.approx(0.5 - 0.51)


def test_rebalance_buying_side_floors_lots_and_spends_less_btc():
    # Above target: BTC sold into SPY (lot 1) and ETH; SPY's purchase floored, BTC kept.
    holdings = {"BTC": 2.0, "ETH": 10.0, "SPY": 10.0}
    plan = rebalance_to_btc(holdings, _prices({"BTC": 1.0, "ETH": 0.05, "SPY": 0.033}), 0.3,
                            lot_sizes={"SPY": 1}, fee_bps=25)
    spy_qty = float(plan.trades.set_index("symbol").loc["SPY", "quantity"])
    assert spy_qty == math.floor(spy_qty + 1e-9) and spy_qty > 0
    assert plan.target_gap > 0            # less BTC sold than the exact plan
    assert _total(plan.after) == pytest.approx(_total(plan.before) - plan.fees_btc, rel=1e-12)


@pytest.mark.parametrize("lots", [{"SPY": 0}, {"SPY": -1}, {"SPY": float("nan")}])
def test_rebalance_rejects_bad_lot_size(lots):
    with pytest.raises(ValueError, match="lot size of SPY must be a positive number"):
        rebalance_to_btc({"BTC": 1.0, "SPY": 1.0}, _prices({"BTC": 1.0, "SPY": 0.01}), 0.5,
                         lot_sizes=lots)


def test_rebalance_rejects_negative_min_trade_usd():
    with pytest.raises(ValueError, match="min_trade_usd"):
        rebalance_to_btc({"BTC": 1.0, "SPY": 1.0}, _prices({"BTC": 1.0, "SPY": 0.01}), 0.5,
                         min_trade_usd=-1)


@settings(max_examples=150)
@given(btc=st.floats(0, 5), spy=st.integers(0, 500), eth=st.floats(0, 50),
       spy_price=st.floats(0.001, 0.1), target=st.floats(0, 1), fee_bps=st.floats(0, 100),
       min_usd=st.floats(0, 500))
def test_rebalance_rounded_plan_is_feasible_conserving_and_within_rounding(
        btc, spy, eth, spy_price, target, fee_bps, min_usd):
    holdings = {"BTC": btc, "SPY": float(spy), "ETH": eth}
    prices = _prices({"BTC": 1.0, "ETH": 0.05, "SPY": spy_price})
    total = btc + spy * spy_price + eth * 0.05
    assume(total > 1e-6 and spy * spy_price + eth * 0.05 > 1e-9)
    plan = rebalance_to_btc(holdings, prices, target, fee_bps=fee_bps, min_trade_usd=min_usd,
                            lot_sizes={"SPY": 1})
    trades = plan.trades.set_index("symbol")
    if "SPY" in trades.index:
        qty = float(trades.loc["SPY", "quantity"])
        assert abs(qty - round(qty)) < 1e-6                  # whole shares only
    non_btc = plan.trades[plan.trades["symbol"] != "BTC"]
    assert (non_btc["value_usd"] >= min_usd - 1e-9).all()
    assert (plan.after["quantity"] >= 0).all()
    assert _total(plan.after) == pytest.approx(total - plan.fees_btc, rel=1e-9, abs=1e-12)
    # Only what was left untraded (and its fee share) separates the share from the target.
    assert abs(plan.target_gap) * _total(plan.after) <= plan.rounding_btc * 1.02 + 1e-9
