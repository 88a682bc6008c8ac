"""The optimizer benchmark's naive baselines compute what the measured paths compute."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.covariance import btc_covariance
from analytics.optimizer import Caps, optimize_mix
from benchmarks import optimize as bench
from queries.backtest import BacktestRequest, run_backtests


@pytest.fixture(scope="module")
def small():
    return bench.closes_of(8, 400)


def test_naive_covariance_equals_the_block_covariance(small):
    closes, _ = small
    ours = btc_covariance(closes, 365)
    naive = bench.naive_covariance(closes, 365)
    pd.testing.assert_frame_equal(naive.loc[ours.symbols, ours.symbols], ours.cov,
                                  check_exact=False, rtol=1e-9, atol=1e-15)


def test_naive_optimizer_finds_the_same_minimum_variance(small):
    closes, cats = small
    est = btc_covariance(closes, 365)
    caps = Caps(0.5, 0.3, 0.4)
    ours = optimize_mix(est, cats, caps=caps).weights
    naive = bench.naive_optimize(est.cov, cats, caps)
    cov = est.cov.to_numpy()
    x = np.array([ours[s] for s in est.symbols])
    y = np.array([naive[s] for s in est.symbols])
    assert x @ cov @ x == pytest.approx(y @ cov @ y, rel=1e-4)


def test_naive_backtest_loop_tracks_the_vectorised_optimized_strategy(small):
    closes, cats = small
    holdings = {s: 1.0 / closes[s].dropna().iloc[-1] for s in closes.columns}
    request = BacktestRequest(strategies=("optimized",), years=1, fee_bps=0)
    ours = run_backtests(closes.iloc[-400:], holdings, cats, request).results["optimized"]
    naive = bench.naive_backtest(closes.iloc[-400:], holdings, cats, 1)
    assert len(naive) == len(ours.series)
    assert naive[-1] == pytest.approx(ours.series.iloc[-1], rel=1e-3)
