"""Rate limits: calls above the budget are delayed or refused, per provider, shared by threads."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from pyrate_limiter import Duration, Rate

from data.providers.ratelimit import ProviderRateLimiter, rates_for, rates_from_settings
from errors import RateLimitError


def test_budget_exhausted_without_waiting_raises():
    limiter = ProviderRateLimiter({"alphavantage": [Rate(5, Duration.MINUTE)]}, max_wait=0)
    for _ in range(5):
        limiter.acquire("alphavantage")
    with pytest.raises(RateLimitError, match="alphavantage: request budget exhausted"):
        limiter.acquire("alphavantage")
    limiter.acquire("yahoo")  # unrelated (unconfigured) provider is not limited


def test_daily_budget_counts_across_minutes():
    limiter = ProviderRateLimiter({"alphavantage": rates_for(5, 2)}, max_wait=0)
    limiter.acquire("alphavantage")
    limiter.acquire("alphavantage")
    with pytest.raises(RateLimitError):
        limiter.acquire("alphavantage")


def test_calls_above_the_rate_are_delayed_not_dropped():
    limiter = ProviderRateLimiter({"coingecko": [Rate(2, 400)]}, max_wait=5)
    started = time.monotonic()
    for _ in range(4):
        limiter.acquire("coingecko")
    elapsed = time.monotonic() - started
    assert 0.35 <= elapsed < 2.0  # the 3rd call waited for the 400 ms window


def test_budget_is_shared_by_threads():
    limiter = ProviderRateLimiter({"cmc": [Rate(10, Duration.MINUTE)]}, max_wait=0)
    outcomes: list[bool] = []

    def worker():
        for _ in range(5):
            try:
                limiter.acquire("cmc")
                outcomes.append(True)
            except RateLimitError:
                outcomes.append(False)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(True) == 10 and outcomes.count(False) == 10


def test_defaults_from_config(settings):
    rates = rates_from_settings(settings)
    assert [(r.limit, r.interval) for r in rates["alphavantage"]] == [(5, 60000), (25, 86400000)]
    assert [(r.limit, r.interval) for r in rates["coingecko"]] == [(10, 60000)]


@pytest.mark.redis
def test_redis_budget_shared_by_two_limiters():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"btcfolio-test:{uuid.uuid4().hex}"
    try:
        a = ProviderRateLimiter({"av": [Rate(3, Duration.MINUTE)]}, redis_url=url, max_wait=0,
                                key_prefix=prefix)
        b = ProviderRateLimiter({"av": [Rate(3, Duration.MINUTE)]}, redis_url=url, max_wait=0,
                                key_prefix=prefix)
    except Exception as exc:  # no Redis here
        pytest.skip(f"Redis not reachable: {exc}")
    try:
        a.acquire("av")
        b.acquire("av")
        a.acquire("av")
        with pytest.raises(RateLimitError):
            b.acquire("av")  # the second "process" sees the first one's calls
    finally:
        import redis

        client = redis.Redis.from_url(url)
        client.delete(*client.keys(prefix + "*") or ["-"])   # leave nothing in Redis
        client.close()


def test_unreachable_redis_falls_back_to_process_budget(caplog):
    limiter = ProviderRateLimiter({"av": [Rate(1, Duration.MINUTE)]},
                                  redis_url="redis://127.0.0.1:1/0", max_wait=0)
    limiter.acquire("av")
    with pytest.raises(RateLimitError):
        limiter.acquire("av")
    assert "Redis unreachable" in caplog.text


def test_slot_further_away_than_max_wait_fails_fast_with_the_real_wait():
    limiter = ProviderRateLimiter({"alphavantage": rates_for(5, 25)}, max_wait=30)
    for _ in range(5):
        limiter.acquire("alphavantage")
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        limiter.acquire("alphavantage")  # next slot in ~60 s > max_wait: refused at once
    assert time.monotonic() - started < 1.0
    assert 55 <= info.value.retry_after <= 61
