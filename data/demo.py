"""Simulated live feed for ``app.py --demo``: a correlated random walk kept in memory only.

The walk starts at each asset's newest stored close and moves one step per refresh period
with the covariance of the last ``lookback_days`` of stored daily log returns, scaled to the
step length. Ticks are returned as ``Quote`` objects with source ``"demo"``; nothing here
writes to the store, so simulated prices never enter the real price history.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from data.models import Quote

logger = logging.getLogger(__name__)

DEMO_SOURCE = "demo"
_MIN_RETURNS = 10  # assets with fewer recent returns are not simulated (they stay stale)


def step_covariance(closes: pd.DataFrame, *, lookback_days: int,
                    step_seconds: float) -> pd.DataFrame:
    """Covariance of daily log returns over the last ``lookback_days``, scaled to one step.

    Each asset's returns are taken on its own calendar (crypto daily, stocks on trading days);
    pairs are covaried on the dates both have. Assets with too few returns are dropped.

    Raises:
        ValueError: ``closes`` is empty.
    """
    if closes.empty:
        raise ValueError("no stored closes to seed the demo feed from")
    window = closes[closes.index > closes.index[-1] - pd.Timedelta(days=lookback_days)]
    returns = pd.DataFrame({s: np.log(window[s].dropna()).diff() for s in window.columns})
    returns = returns.loc[:, returns.count() >= _MIN_RETURNS]
    cov = returns.cov(min_periods=_MIN_RETURNS).fillna(0.0)
    return cov * (step_seconds / 86_400)


def _factor(cov: pd.DataFrame) -> np.ndarray:
    # Pairwise covariances need not form a PSD matrix: clip negative eigenvalues.
    values, vectors = np.linalg.eigh(cov.to_numpy())
    return vectors * np.sqrt(np.clip(values, 0.0, None))


class DemoFeed:
    """A correlated random walk of USD prices, advanced lazily to the requested time."""

    def __init__(self, start_prices: pd.Series, cov: pd.DataFrame, *, start: datetime,
                 step_seconds: float = 30.0, seed: int = 2009) -> None:
        self.symbols = list(cov.columns)
        self._base = np.log(start_prices[self.symbols].to_numpy(dtype="float64"))
        self._factor = _factor(cov)
        self._start, self._step = pd.Timestamp(start), pd.Timedelta(seconds=step_seconds)
        self._rng = np.random.default_rng(seed)
        self._offset = np.zeros(len(self.symbols))
        self._steps = 0
        self._lock = threading.Lock()

    @classmethod
    def from_closes(cls, closes: pd.DataFrame, *, start: datetime, step_seconds: float = 30.0,
                    lookback_days: int = 90, seed: int = 2009) -> DemoFeed:
        """Seed a feed from a wide close frame (index UTC, one column per symbol)."""
        cov = step_covariance(closes, lookback_days=lookback_days, step_seconds=step_seconds)
        last = closes.ffill().iloc[-1]
        return cls(last, cov, start=start, step_seconds=step_seconds, seed=seed)

    def _advance(self, target: int) -> None:
        while self._steps < target:
            # Draw in blocks so a long-idle page catches up quickly; same stream either way.
            block = min(target - self._steps, 10_000)
            shocks = self._rng.standard_normal((block, len(self.symbols))) @ self._factor.T
            self._offset = self._offset + shocks.sum(axis=0)
            self._steps += block

    def quotes(self, now: datetime) -> list[Quote]:
        """Simulated quotes at ``now`` (one per simulated symbol, ts at the current step)."""
        now_ts = pd.Timestamp(now)
        target = max(0, int((now_ts - self._start) // self._step))
        with self._lock:
            self._advance(target)
            prices = np.exp(self._base + self._offset)
        ts = (self._start + target * self._step).to_pydatetime()
        return [Quote(symbol=s, price_usd=float(p), ts=ts, source=DEMO_SOURCE)
                for s, p in zip(self.symbols, prices, strict=True)]


# One feed per store object, dropped with it (tests create many short-lived stores).
_feeds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_feeds_lock = threading.Lock()


def demo_feed(repo, *, now: datetime, step_seconds: float = 30.0) -> DemoFeed:  # noqa: ANN001
    """The process's feed for a repository, seeded from its stored closes on first use."""
    with _feeds_lock:
        feed = _feeds.get(repo)
        if feed is None:
            closes = repo.load_closes(start=now - timedelta(days=400))
            if closes.empty:
                closes = repo.load_closes()
            start = pd.Timestamp(now).floor(f"{int(step_seconds)}s").to_pydatetime()
            feed = DemoFeed.from_closes(closes, start=start, step_seconds=step_seconds)
            logger.info("demo feed started: %d simulated assets", len(feed.symbols))
            _feeds[repo] = feed
        return feed
