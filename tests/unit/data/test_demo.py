"""Demo feed: covariance from the stored history, a correlated walk stored as 'demo' quotes."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from data.providers.demo import DEMO_SOURCE, build_demo_job, demo_step, step_covariance, with_demo
from data.scheduling.jobs import JobSet
from data.store.repository import Repository
from data.store.seed import seed_store
from tests.support.sample import SAMPLE


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


def test_demo_step_keeps_the_correlation_of_the_history():
    daily = step_covariance(_closes(), lookback_days=90, step_seconds=86_400)
    last = pd.Series({"A": 100.0, "B": 50.0, "C": 5.0})
    moved = demo_step(last, daily, seconds=6 * 3600, rng=np.random.default_rng(1))
    assert list(moved.index) == ["A", "B"]  # C is not simulated
    # B's returns are exactly twice A's, so the walk moves log B by twice log A.
    assert np.log(moved["B"] / 50) == pytest.approx(2 * np.log(moved["A"] / 100), rel=1e-6)
    assert demo_step(last, daily, seconds=0, rng=np.random.default_rng(1)).tolist() == [100, 50]


def _snapshot(repo):
    quotes = repo.load_quotes()
    return dict(zip(quotes["symbol"], quotes["price_usd"], strict=True))


def test_demo_job_walks_from_the_stored_closes_and_stores_demo_quotes_only(repo, now):
    prices_before = repo.count_prices()
    job = build_demo_job(repo)
    job(now)
    first = repo.load_quotes().set_index("symbol")
    last_close = repo.load_latest_prices(["BTC"]).query("kind == 'close'")["price_usd"].iloc[0]
    assert {"BTC", "ETH", "SPY"} <= set(first.index)
    assert set(first["source"]) == {DEMO_SOURCE}
    assert first.loc["BTC", "price_usd"] == pytest.approx(last_close)  # the walk starts there
    assert "MATIC" not in first.index  # its series ended: not simulated, it stays stale
    job(now + timedelta(seconds=30))
    second = repo.load_quotes().set_index("symbol")
    assert second.loc["BTC", "price_usd"] != first.loc["BTC", "price_usd"]
    assert second.loc["BTC", "ts"] == pd.Timestamp(now + timedelta(seconds=30))
    assert repo.count_prices() == prices_before  # never in the price history


def test_demo_walk_lives_in_the_store_so_any_scheduler_continues_it(settings, repo, now,
                                                                    tmp_path):
    # Store 1: one job runs the first step, a new job (another process, a takeover) the next.
    build_demo_job(repo)(now)
    build_demo_job(Repository.from_url(settings.store.url))(now + timedelta(seconds=30))
    # Store 2, same history: one job runs both steps. The walk is the same: its state is the
    # store, not the memory of the process that ran the previous step.
    other = Repository.from_url(f"sqlite:///{tmp_path / 'other.db'}")
    seed_store(other, SAMPLE, now=now)
    job = build_demo_job(other)
    job(now)
    job(now + timedelta(seconds=30))
    assert _snapshot(repo) == pytest.approx(_snapshot(other), rel=1e-12)


def test_with_demo_replaces_only_the_quote_job_in_demo_mode(settings, repo):
    jobs = JobSet(quotes=print, history=print, backfill=print, health=print)
    assert with_demo(jobs, settings, repo) is jobs
    demo = with_demo(jobs, settings.model_copy(update={"demo": True}), repo)
    assert demo.quotes is not print and demo.history is print and demo.backfill is print
