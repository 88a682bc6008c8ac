"""Two-sided rebalance to a full mix: hand-checked trades on 3 assets, fees, lots, frozen
holdings, and properties (conservation, no trade below the minimum, whole lots)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analytics.mix_rebalancing import rebalance_to_weights

BTC_USD = 100_000.0
# BTC 1, ETH 10 x 0.05 = 0.5 BTC, SPY 50 x 0.01 = 0.5 BTC: 2 BTC, weights 0.5 / 0.25 / 0.25.
HOLDINGS = {"BTC": 1.0, "ETH": 10.0, "SPY": 50.0}
PRICES = {"BTC": 1.0, "ETH": 0.05, "SPY": 0.01, "GLD": 0.02}


def _prices(table: dict[str, float] = PRICES) -> pd.DataFrame:
    return pd.DataFrame({"symbol": list(table), "price_btc": list(table.values()),
                         "price_usd": [p * BTC_USD for p in table.values()]})


def _rows(plan) -> dict[str, tuple[str, float]]:
    return {r.symbol: (r.side, r.quantity) for r in plan.trades.itertuples(index=False)}


def _weights(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["symbol"], frame["weight"], strict=True))


def _conserved(plan) -> float:
    """sum of buys - (sum of sells - fees): zero up to float rounding."""
    side = plan.trades.groupby("side")["value_btc"].sum()
    return float(side.get("buy", 0.0) - (side.get("sell", 0.0) - plan.fees_btc))


def test_three_assets_sells_overweight_and_buys_underweight_in_one_plan():
    # Target BTC 0.5 / ETH 0.3 / SPY 0.2 of 2 BTC: ETH 0.5 -> 0.6 (buy 2 ETH), SPY 0.5 -> 0.4
    # (sell 10 SPY); BTC stays at 1.0, so the 0.1 BTC from SPY pays for the ETH: no BTC row.
    plan = rebalance_to_weights(HOLDINGS, _prices(), {"BTC": 0.5, "ETH": 0.3, "SPY": 0.2})
    rows = _rows(plan)
    assert rows["SPY"] == ("sell", pytest.approx(10.0))
    assert rows["ETH"] == ("buy", pytest.approx(2.0))
    assert "BTC" not in rows or rows["BTC"][1] == pytest.approx(0.0, abs=1e-15)
    assert list(plan.trades["side"])[0] == "sell"                 # sells before buys
    assert _weights(plan.after) == pytest.approx({"BTC": 0.5, "ETH": 0.3, "SPY": 0.2})
    assert plan.btc_share_after == pytest.approx(0.5, abs=1e-12)
    assert plan.fees_btc == 0 and plan.rounding_btc == pytest.approx(0.0, abs=1e-15)


def test_three_assets_into_a_new_asset_moves_btc_too():
    # Target BTC 0.3 / ETH 0.2 / GLD 0.5 of 2 BTC: sell all 50 SPY (0.5) and 2 ETH (0.1),
    # sell 0.4 BTC, buy 1.0 BTC of GLD = 50 GLD.
    plan = rebalance_to_weights(HOLDINGS, _prices(), {"BTC": 0.3, "ETH": 0.2, "GLD": 0.5})
    rows = _rows(plan)
    assert rows["SPY"] == ("sell", pytest.approx(50.0))
    assert rows["ETH"] == ("sell", pytest.approx(2.0))
    assert rows["BTC"] == ("sell", pytest.approx(0.4))
    assert rows["GLD"] == ("buy", pytest.approx(50.0))
    after = plan.after.set_index("symbol")["quantity"]
    assert after["SPY"] == 0.0 and after["BTC"] == pytest.approx(0.6)
    assert _conserved(plan) == pytest.approx(0.0, abs=1e-15)


def test_fees_are_solved_so_btc_lands_on_its_target_share():
    # Fee 1 % of the value given up. Target BTC 0.5 / ETH 0.3 / SPY 0.2 with V' after fees:
    # SPY sold 0.5 - 0.2 V', ETH bought 0.3 V' - 0.5;
    # fees = 0.01 (0.5 - 0.2 V') + 0.01/0.99 (0.3 V' - 0.5) and V' = 2 - fees.
    f, g = 0.01, 0.01 / 0.99
    v_after = (2 - f * 0.5 + g * 0.5) / (1 - f * 0.2 + g * 0.3)
    plan = rebalance_to_weights(HOLDINGS, _prices(), {"BTC": 0.5, "ETH": 0.3, "SPY": 0.2},
                                fee_bps=100)
    rows = _rows(plan)
    assert rows["SPY"][1] == pytest.approx((0.5 - 0.2 * v_after) / 0.01, rel=1e-12)
    assert rows["ETH"][1] == pytest.approx((0.3 * v_after - 0.5) / 0.05, rel=1e-12)
    assert plan.after["value_btc"].sum() == pytest.approx(v_after, rel=1e-12)
    assert plan.btc_share_after == pytest.approx(0.5, abs=1e-12)
    assert _weights(plan.after) == pytest.approx({"BTC": 0.5, "ETH": 0.3, "SPY": 0.2}, abs=1e-12)
    assert plan.fees_btc == pytest.approx(2 - v_after, rel=1e-12)
    assert _conserved(plan) == pytest.approx(0.0, abs=1e-15)


def test_lots_and_minimum_trade_skip_with_reason_and_keep_value():
    # SPY 0.007 BTC a share (lot 1), minimum trade $1,000 (0.01 BTC).
    prices = _prices({**PRICES, "SPY": 0.007})           # V = 1 + 0.5 + 0.35 = 1.85
    target = {"BTC": 0.5, "ETH": 0.2, "SPY": 0.3}        # SPY 0.555 BTC = 29.2857 more shares
    plan = rebalance_to_weights(HOLDINGS, prices, target, lot_sizes={"SPY": 1},
                                min_trade_usd=1_000)
    rows = _rows(plan)
    assert rows["SPY"] == ("buy", pytest.approx(29.0))    # floor(29.2857)
    residue = 0.555 - 0.35 - 29 * 0.007                  # 0.002 BTC of SPY not bought
    assert plan.rounding_btc == pytest.approx(residue, rel=1e-9)
    # ETH (no lot size) absorbs it: it was to go 0.5 -> 0.37 BTC, it goes to 0.372, so BTC
    # is exactly on its target and ETH misses by the residue.
    assert rows["ETH"] == ("sell", pytest.approx((0.5 - 0.37 - residue) / 0.05))
    assert plan.btc_share_after == pytest.approx(0.5, abs=1e-12)
    assert _weights(plan.after)["ETH"] == pytest.approx(0.2 + residue / 1.85, rel=1e-9)
    assert plan.after["value_btc"].sum() == pytest.approx(1.85, rel=1e-12)
    small = rebalance_to_weights(HOLDINGS, prices, target, lot_sizes={"SPY": 1},
                                 min_trade_usd=30_000)
    assert set(small.skipped["symbol"]) == {"SPY", "ETH"}
    assert small.skipped["reason"].str.startswith("below the minimum trade").all()
    assert small.trades.empty and small.after["quantity"].tolist() == [1.0, 10.0, 50.0]


def test_without_an_asset_free_of_lots_btc_takes_the_rounding():
    prices = _prices({**PRICES, "SPY": 0.007})
    plan = rebalance_to_weights({"BTC": 1.0, "SPY": 50.0}, prices, {"BTC": 0.5, "SPY": 0.5},
                                lot_sizes={"SPY": 1})
    # 1.35 BTC: SPY to 0.675 BTC = 96.43 shares, so 46 bought; 0.003 BTC stays in BTC.
    assert _rows(plan)["SPY"] == ("buy", pytest.approx(46.0))
    assert plan.rounding_btc == pytest.approx(0.675 - 0.35 - 46 * 0.007, rel=1e-9)
    assert plan.target_gap == pytest.approx(plan.rounding_btc / 1.35, rel=1e-9)


def test_frozen_holding_keeps_its_value_and_the_rest_share_what_is_left():
    # SPY frozen (0.5 BTC). Target BTC 0.5, ETH 0.25, GLD 0.25: ETH and GLD share the 0.5 BTC
    # left outside BTC and SPY in proportion 1:1, so 0.25 each; BTC stays 1.0.
    plan = rebalance_to_weights(HOLDINGS, _prices(), {"BTC": 0.5, "ETH": 0.25, "GLD": 0.25},
                                frozen=["SPY"])
    rows = _rows(plan)
    assert "SPY" not in rows
    assert rows["ETH"] == ("sell", pytest.approx(5.0)) and rows["GLD"] == ("buy", pytest.approx(12.5))
    assert plan.btc_share_after == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(ValueError, match="BTC cannot be frozen"):
        rebalance_to_weights(HOLDINGS, _prices(), {"BTC": 1.0}, frozen=["BTC"])


@pytest.mark.parametrize(("weights", "match"), [
    ({"BTC": 0.5, "ETH": 0.4}, "sum to 1"),
    ({"BTC": 0.5, "XYZ": 0.5}, "no price"),
    ({"BTC": 1.5, "ETH": -0.5}, "target weight of BTC"),
])
def test_bad_mixes_are_refused(weights, match):
    with pytest.raises(ValueError, match=match):
        rebalance_to_weights(HOLDINGS, _prices(), weights)


@st.composite
def cases(draw):
    symbols = ["ETH", "SPY", "GLD", "SOL"]
    prices = {"BTC": 1.0, **{s: draw(st.floats(1e-4, 0.1)) for s in symbols}}
    holdings = {"BTC": draw(st.floats(0, 5)),
                **{s: draw(st.floats(0, 1_000)) for s in symbols if draw(st.booleans())}}
    raw = {s: draw(st.floats(0, 1)) for s in ["BTC", *symbols]}
    assume(sum(raw.values()) > 0.01)
    weights = {s: w / sum(raw.values()) for s, w in raw.items()}
    lots = {s: draw(st.sampled_from([0.1, 1.0, 5.0])) for s in ("SPY", "GLD")}
    return holdings, prices, weights, lots


@settings(max_examples=100, deadline=None)
@given(cases(), st.floats(0, 300), st.floats(0, 5_000), st.floats(0, 0.01))
def test_property_conservation_minimum_trade_and_whole_lots(case, fee_bps, min_usd, min_btc):
    holdings, prices, weights, lots = case
    frame = _prices(prices)
    total = sum(q * prices[s] for s, q in holdings.items())
    assume(total > 1e-6)
    assume(sum(w for s, w in weights.items() if s != "BTC") > 1e-6)
    plan = rebalance_to_weights(holdings, frame, weights, fee_bps=fee_bps, min_trade_usd=min_usd,
                                min_trade_btc=min_btc, lot_sizes=lots)
    # Value: after = before - fees; buys = sells - fees.
    assert plan.after["value_btc"].sum() == pytest.approx(total - plan.fees_btc, rel=1e-9,
                                                          abs=1e-12)
    assert _conserved(plan) == pytest.approx(0.0, abs=1e-9 * max(total, 1.0))
    assert (plan.after["quantity"] >= 0).all()
    legs = plan.trades[plan.trades["symbol"] != "BTC"]
    assert legs["symbol"].is_unique                                # one side per asset
    for row in legs.itertuples(index=False):
        assert row.value_usd >= min_usd * (1 - 1e-12) and row.value_btc >= min_btc * (1 - 1e-12)
        if row.symbol in lots:
            n = row.quantity / lots[row.symbol]
            assert abs(n - round(n)) <= 1e-6 and round(n) >= 1
    # Without rounding every weight is met. With it, the untraded value ends in one asset
    # without a lot size (BTC lands on its target) or, when none can take it, in BTC: no
    # weight misses by more than that value (its BTC cost, fees included).
    after_total = float(plan.after["value_btc"].sum())
    slack = plan.rounding_btc / (1 - fee_bps / 1e4) ** 2 / after_total + 1e-9
    got = _weights(plan.after)
    for symbol in {**weights, **got}:
        assert math.isclose(got.get(symbol, 0.0), weights.get(symbol, 0.0), abs_tol=slack)
    if plan.rounding_btc == 0:
        assert plan.btc_share_after == pytest.approx(weights["BTC"], abs=1e-9)
