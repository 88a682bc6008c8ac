"""Quote and history cache on flask-caching backends (FileSystemCache, or RedisCache with Redis).

Quotes: fresh for ``quote_ttl`` seconds (one refresh period): a fresh hit means no HTTP call.
When every provider fails, a cached quote is still served: up to ``stale_if_error`` seconds old
as usable, older as *stale* (the caller shows it flagged). History frames are cached by
(symbol, interval, window) for ``history_ttl`` seconds. Entries carry their fetch time and
freshness is judged against the caller's ``now`` so tests control the clock. Keys are built from
symbols, intervals and dates only: never from URLs or API keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from data.cache_backend import CACHE_ERRORS, make_cache_backend
from data.models import Quote

logger = logging.getLogger(__name__)

_KEEP_SECONDS = 7 * 86400  # backend expiry: long enough to still show a stale quote


def make_backend(cache_dir: str, redis_url: str | None = None, *,
                 key_prefix: str = "btcfolio") -> Any:
    """The provider cache backend: Redis when ``redis_url`` is set, else files.

    RedisCache keys are ``<key_prefix>:cache:...``; the FileSystemCache lives in ``cache_dir``.
    """
    return make_cache_backend(cache_dir, redis_url, key_prefix=f"{key_prefix}:cache:",
                              timeout=_KEEP_SECONDS, threshold=5000)


@dataclass(frozen=True)
class CachedQuote:
    """A cached quote, its age at lookup and whether it is past the stale-if-error window."""

    quote: Quote
    age_seconds: float
    stale: bool


class PriceCache:
    """Typed access to the cache backend for quotes and history frames."""

    def __init__(self, backend: Any, *, quote_ttl: float = 30, stale_if_error: float = 300,
                 history_ttl: float = 21600) -> None:
        """Wrap a flask-caching backend with the TTLs of the cache settings."""
        self.backend = backend
        self.quote_ttl = quote_ttl
        self.stale_if_error = stale_if_error
        self.history_ttl = history_ttl

    @classmethod
    def from_settings(cls, cache_settings: Any) -> PriceCache:
        """Build from ``settings.cache`` (dir, redis_url, TTLs)."""
        return cls(make_backend(cache_settings.dir, cache_settings.redis_url,
                                key_prefix=cache_settings.redis_key_prefix),
                   quote_ttl=cache_settings.quote_ttl_seconds,
                   stale_if_error=cache_settings.stale_if_error_seconds,
                   history_ttl=cache_settings.history_ttl_seconds)

    def _get(self, key: str) -> Any:
        try:
            return self.backend.get(key)
        except CACHE_ERRORS as exc:  # never breaks fetching: a miss
            logger.warning("cache read of %s failed: %s", key, exc.__class__.__name__)
            return None

    def _set(self, key: str, value: Any, timeout: int | None = None) -> None:
        try:
            self.backend.set(key, value, timeout=timeout)
        except CACHE_ERRORS as exc:  # never breaks fetching: a miss
            logger.warning("cache write of %s failed: %s", key, exc.__class__.__name__)

    # ---- quotes ---------------------------------------------------------------------------
    @staticmethod
    def _quote_key(symbol: str) -> str:
        return f"quote:{symbol}"

    def put_quote(self, quote: Quote, *, fetched_at: datetime) -> None:
        """Remember a quote fetched at fetched_at."""
        self._set(self._quote_key(quote.symbol), {"quote": quote, "fetched_at": fetched_at})

    def get_quote(self, symbol: str, *, now: datetime) -> CachedQuote | None:
        """The cached quote of a symbol with its age, or None."""
        entry = self._get(self._quote_key(symbol))
        if not entry:
            return None
        age = (pd.Timestamp(now) - pd.Timestamp(entry["fetched_at"])).total_seconds()
        return CachedQuote(entry["quote"], age, stale=age > self.stale_if_error)

    def fresh_quote(self, symbol: str, *, now: datetime,
                    max_age: float | None = None) -> Quote | None:
        """The cached quote if fetched at most ``max_age`` (default quote_ttl) seconds ago."""
        hit = self.get_quote(symbol, now=now)
        limit = self.quote_ttl if max_age is None else min(max_age, self.quote_ttl)
        return hit.quote if hit is not None and 0 <= hit.age_seconds <= limit else None

    # ---- history --------------------------------------------------------------------------
    @staticmethod
    def _history_key(symbol: str, interval: str, start: datetime, end: datetime) -> str:
        return (f"history:{symbol}:{interval}:{pd.Timestamp(start).isoformat()}:"
                f"{pd.Timestamp(end).isoformat()}")

    def put_history(self, symbol: str, interval: str, start: datetime, end: datetime,
                    frame: pd.DataFrame, source: str, *, fetched_at: datetime) -> None:
        """Remember the bars of one window and the source that served them."""
        ttl = self.history_ttl if interval == "1d" else min(self.history_ttl, 300)
        self._set(self._history_key(symbol, interval, start, end),
                         {"frame": frame, "source": source, "fetched_at": fetched_at},
                         timeout=int(ttl))

    def get_history(self, symbol: str, interval: str, start: datetime, end: datetime, *,
                    now: datetime) -> tuple[pd.DataFrame, str] | None:
        """Cached (frame, source) of a window if younger than the history TTL, else None."""
        entry = self._get(self._history_key(symbol, interval, start, end))
        if not entry:
            return None
        ttl = self.history_ttl if interval == "1d" else min(self.history_ttl, 300)
        age = (pd.Timestamp(now) - pd.Timestamp(entry["fetched_at"])).total_seconds()
        if not 0 <= age <= ttl:
            return None
        return entry["frame"], entry["source"]

    def clear(self) -> None:
        """Drop every entry (tests, manual refresh)."""
        self.backend.clear()
