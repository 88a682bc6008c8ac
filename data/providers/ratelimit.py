"""Per-provider request budgets (per minute and per day) with pyrate-limiter.

One ``ProviderRateLimiter`` is shared by all threads of a process (in-memory buckets); with a
Redis URL the buckets live in Redis so every process of a deployment draws on the same budget.
``acquire`` waits for a slot up to ``max_wait`` seconds and then raises BudgetExhaustedError, so a
daily quota that is used up (Alpha Vantage's 25/day) fails fast instead of blocking for hours.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate, RateItem, RedisBucket

from errors import BudgetExhaustedError

logger = logging.getLogger(__name__)

# Polite default for a provider whose config sets no budget (Yahoo publishes none).
DEFAULT_PER_MINUTE = 30


def rates_for(per_minute: int | None, per_day: int | None) -> list[Rate]:
    """pyrate-limiter rates of one provider (per minute falls back to a polite default)."""
    minute = per_minute or DEFAULT_PER_MINUTE
    if not per_day or per_day >= minute * 1440:  # the daily cap can never bind
        return [Rate(minute, Duration.MINUTE)]
    if per_day <= minute:  # pyrate-limiter wants increasing limits; the day cap is the only one
        return [Rate(per_day, Duration.DAY)]
    return [Rate(minute, Duration.MINUTE), Rate(per_day, Duration.DAY)]


def rates_from_settings(settings: Any) -> dict[str, list[Rate]]:
    """Rates of every configured source from ``sources.<name>.rate_limit``."""
    return {name: rates_for(src.rate_limit.per_minute, src.rate_limit.per_day)
            for name, src in settings.sources.items()}


class ProviderRateLimiter:
    """Budgets by provider name; ``acquire(name)`` before each HTTP call to that provider."""

    def __init__(self, rates: Mapping[str, Sequence[Rate]], *, redis_url: str | None = None,
                 max_wait: float = 120.0, key_prefix: str = "btcfolio:ratelimit") -> None:
        """Build one limiter per provider (Redis buckets when redis_url is given)."""
        self.max_wait = max_wait
        self._limiters: dict[str, Limiter] = {}
        client = None
        if redis_url:
            import redis

            try:
                client = redis.Redis.from_url(redis_url)
                client.ping()
            except redis.RedisError as exc:
                # Budgets still hold within this process; say so rather than fail the ingest.
                logger.warning("rate limits: Redis unreachable (%s), using in-process budgets",
                               exc.__class__.__name__)
                client = None
        for name, provider_rates in rates.items():
            rate_list = list(provider_rates)
            if client is not None:
                bucket = RedisBucket.init(rate_list, client, f"{key_prefix}:{name}")
            else:
                bucket = InMemoryBucket(rate_list)
            self._limiters[name] = Limiter(bucket)

    def acquire(self, provider: str) -> None:
        """Take one request slot of a provider, waiting up to max_wait seconds.

        Raises:
            BudgetExhaustedError: no slot within max_wait (budget spent for this minute or day).
        """
        limiter = self._limiters.get(provider)
        if limiter is None or limiter.try_acquire(provider, blocking=False):
            return
        # Denied: wait only if the slot frees up within max_wait (a spent daily quota would
        # otherwise block every call for max_wait and then fail anyway).
        wait = self._seconds_until_free(limiter, provider)
        if wait is not None and wait <= self.max_wait and limiter.try_acquire(
                provider, blocking=True, timeout=self.max_wait):
            return
        logger.warning("%s: local request budget exhausted", provider)
        raise BudgetExhaustedError(
            f"{provider}: request budget exhausted (configured rate limit)",
            provider=provider, retry_after=wait)

    @staticmethod
    def _seconds_until_free(limiter: Limiter, provider: str) -> float | None:
        """Seconds until the bucket that just refused a call admits one (None: never)."""
        bucket = limiter.buckets()[0]
        wait_ms = bucket.waiting(RateItem(provider, bucket.now(), 1))
        return None if wait_ms < 0 else wait_ms / 1000

    def close(self) -> None:
        """Stop the limiters' background leak threads."""
        for limiter in self._limiters.values():
            limiter.close()
