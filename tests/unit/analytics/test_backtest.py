"""Walk-forward backtest in BTC: hand-checked simulation, fees, no look-ahead, exact zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.backtest import (
    btc_price_panel,
    btc_target_mix,
    constant_mix,
    rebalance_dates,
    run_strategy,
    walk_forward_optimizer,
)
from analytics.optimizer import Caps

DAYS = pd.date_range("2023-01-01", periods=800, freq="D", tz="UTC")
CATS = {"ETH": "stable_crypto", "SOL": "high_vol_crypto", "SPY": "stocks", "GLD": "commodities"}


def _closes(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rets = rng.normal(0.0005, 0.02, size=(len(DAYS), 5))
    frame = pd.DataFrame(100 * np.exp(np.cumsum(rets, axis=0)), index=DAYS,
                         columns=["BTC", "ETH", "SOL", "SPY", "GLD"])
    weekend = DAYS.day_of_week >= 5
    frame.loc[weekend, ["SPY", "GLD"]] = np.nan     # stocks: no weekend bars
    return frame


def test_btc_price_panel_carries_friday_closes_over_the_weekend_only():
    closes = _closes()
    panel, excluded = btc_price_panel(closes, DAYS[10], DAYS[-1])
    sat = next(d for d in panel.index if d.day_of_week == 5)
    fri = sat - pd.Timedelta(days=1)
    assert panel.at[sat, "SPY"] == pytest.approx(closes.at[fri, "SPY"] / closes.at[sat, "BTC"])
    assert (panel["BTC"] == 1.0).all() and excluded == {}
    closes.loc[DAYS[400]:, "SOL"] = np.nan          # the series ended mid-period
    _, excluded = btc_price_panel(closes, DAYS[10], DAYS[-1])
    assert list(excluded) == ["SOL"]


def test_run_strategy_matches_a_hand_computed_two_asset_path_with_fees():
    idx = pd.date_range("2024-01-30", periods=4, freq="D", tz="UTC")
    panel = pd.DataFrame({"BTC": 1.0, "ETH": [0.05, 0.06, 0.04, 0.04]}, index=idx)
    res = run_strategy(panel, constant_mix({"BTC": 0.5, "ETH": 0.5}),
                       pd.DatetimeIndex([idx[2]]), fee_bps=100, initial_value_btc=2.0)
    # Day 0: 1 BTC + 20 ETH. Day 1: 1 + 1.2 = 2.2. Day 2 before trading: 1 + 0.8 = 1.8.
    # Rebalance: ETH bought from 0.8 to 0.5 (1.8 - fee); fee = 1 % of (0.9 - fee / 2 - 0.8)
    # -> fee = 0.001 / 1.005.
    fee = 0.001 / 1.005
    after = 1.8 - fee
    assert res.series.iloc[:2].tolist() == pytest.approx([2.0, 2.2])
    assert res.series.iloc[2] == pytest.approx(after, rel=1e-12)
    assert res.fees_btc == pytest.approx(fee, rel=1e-9)
    assert res.turnover == pytest.approx(abs(0.5 - 0.8 / 1.8), rel=1e-12)
    assert res.total_return_btc == pytest.approx(after / 2.0 - 1)


def test_btc_target_of_100_percent_returns_exactly_zero():
    closes = _closes()
    panel, _ = btc_price_panel(closes, DAYS[0], DAYS[-1])
    mix = btc_target_mix({"BTC": 0.3, "ETH": 0.4, "SPY": 0.3}, 1.0)
    res = run_strategy(panel, constant_mix(mix), rebalance_dates(panel.index, "monthly"),
                       fee_bps=10, initial_value_btc=0.8)
    assert res.total_return_btc == 0.0 and res.annualised_return_btc == 0.0
    assert res.fees_btc == 0.0 and res.turnover == 0.0
    assert res.volatility_btc_365 == 0.0 and res.max_drawdown_btc == 0.0
    assert (res.series == 0.8).all()


def test_btc_target_mix_keeps_the_current_non_btc_proportions():
    assert btc_target_mix({"BTC": 0.2, "ETH": 0.6, "SPY": 0.2}, 0.5) == pytest.approx(
        {"BTC": 0.5, "ETH": 0.375, "SPY": 0.125})
    with pytest.raises(ValueError, match="only BTC"):
        btc_target_mix({"BTC": 1.0}, 0.5)


def test_rebalance_dates_are_first_days_after_the_start():
    idx = pd.date_range("2024-01-15", "2024-07-20", freq="D", tz="UTC")
    assert [f"{d:%m-%d}" for d in rebalance_dates(idx, "monthly")] == [
        "02-01", "03-01", "04-01", "05-01", "06-01", "07-01"]
    assert [f"{d:%m-%d}" for d in rebalance_dates(idx, "quarterly")] == ["04-01", "07-01"]
    with pytest.raises(ValueError, match="rebalance"):
        rebalance_dates(idx, "weekly")


def test_optimized_strategy_never_looks_ahead():
    closes = _closes(1)
    panel, _ = btc_price_panel(closes, DAYS[400], DAYS[-1])
    dates = rebalance_dates(panel.index, "monthly")
    cut = dates[5]
    caps = Caps(0.5, 0.3, 0.3)

    def run(frame):
        fn = walk_forward_optimizer(frame, CATS, caps=caps, universe=list(CATS))
        p, _ = btc_price_panel(frame, DAYS[400], DAYS[-1])
        return run_strategy(p, fn, dates, fee_bps=10)

    base = run(closes)
    changed = closes.copy()
    # From the rebalance date on, the future is rewritten: ETH crashes, SPY soars.
    changed.loc[changed.index >= cut, "ETH"] *= np.linspace(1, 0.2, (changed.index >= cut).sum())
    changed.loc[changed.index >= cut, "SPY"] *= 3
    moved = run(changed)
    before = [d for d in base.weights if d <= cut]
    for d in before:           # decisions up to and including the cut date are identical
        assert moved.weights[d] == base.weights[d], d
    pd.testing.assert_series_equal(moved.series[moved.series.index < cut],
                                   base.series[base.series.index < cut])
    later = [d for d in base.weights if d > cut]
    assert any(moved.weights[d] != base.weights[d] for d in later)
