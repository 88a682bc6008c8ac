"""Demo feed: covariance seeded from the stored history, memory only, correlated walk."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from data.demo import DEMO_SOURCE, DemoFeed, demo_feed, step_covariance

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _closes():
    """A: log returns +1%, -1% alternating (20 of them); B: twice A's; C: only 5 closes."""
    idx = pd.date_range("2025-06-01", periods=21, tz="UTC")
    log_a = np.concatenate([[0.0], np.cumsum([0.01, -0.01] * 10)])
    c = [np.nan] * 16 + [5.0, 5.1, 5.2, 5.1, 5.0]
    return pd.DataFrame({"A": 100 * np.exp(log_a), "B": 50 * np.exp(2 * log_a), "C": c},
                        index=idx)


def test_step_covariance_scales_daily_covariance_to_the_step():
    cov = step_covariance(_closes(), lookback_days=90, step_seconds=30)
    var_a = 20 * 0.01**2 / 19 * 30 / 86_400  # sample variance (n-1), one 30 s step
    assert list(cov.columns) == ["A", "B"]  # C has fewer than 10 returns: not simulated
    assert cov.loc["A", "A"] == pytest.approx(var_a)
    assert cov.loc["A", "B"] == pytest.approx(2 * var_a)
    assert cov.loc["B", "B"] == pytest.approx(4 * var_a)


def test_feed_starts_at_the_last_close_and_moves_per_step():
    feed = DemoFeed.from_closes(_closes(), start=START, step_seconds=30)
    at_start = {q.symbol: q for q in feed.quotes(START + timedelta(seconds=10))}
    assert at_start["A"].price_usd == pytest.approx(100.0)
    assert at_start["B"].price_usd == pytest.approx(50.0)
    assert at_start["A"].ts == START and at_start["A"].source == DEMO_SOURCE
    later = {q.symbol: q for q in feed.quotes(START + timedelta(seconds=95))}
    assert later["A"].ts == START + timedelta(seconds=90)
    assert later["A"].price_usd != at_start["A"].price_usd


def test_feed_walk_keeps_the_correlation_of_the_history():
    feed = DemoFeed.from_closes(_closes(), start=START, step_seconds=30)
    quotes = {q.symbol: q.price_usd for q in feed.quotes(START + timedelta(hours=6))}
    # B's returns are exactly twice A's, so the walk moves log B by twice log A.
    assert np.log(quotes["B"] / 50) == pytest.approx(2 * np.log(quotes["A"] / 100), rel=1e-6)


def test_feed_is_reproducible_for_a_seed():
    one = DemoFeed.from_closes(_closes(), start=START, seed=1)
    two = DemoFeed.from_closes(_closes(), start=START, seed=1)
    at = START + timedelta(minutes=30)
    assert [q.price_usd for q in one.quotes(at)] == [q.price_usd for q in two.quotes(at)]


def test_demo_feed_never_writes_to_the_store(repo, now):
    before_prices, before_quotes = repo.count_prices(), len(repo.load_quotes())
    feed = demo_feed(repo, now=now)
    ticks = feed.quotes(now + timedelta(minutes=5))
    assert {q.symbol for q in ticks} >= {"BTC", "ETH", "SPY"}
    assert repo.count_prices() == before_prices
    assert len(repo.load_quotes()) == before_quotes
    assert demo_feed(repo, now=now) is feed  # one feed per store and process
