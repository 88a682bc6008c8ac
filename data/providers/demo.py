"""The ``--demo`` feed: simulated quotes written to the store by the scheduler (source 'demo').

Each run of the demo job moves every simulated asset one step of a correlated random walk
from its last stored demo quote (the newest stored close on the first run) and stores the new
prices as quotes with source ``"demo"``. The walk's state is the store, so every web worker,
API route and scheduler (a standby that takes over) sees and continues the same prices. Readers
use demo quotes only in demo mode (``queries.valuation.price_candidates``); they never enter
the price history (the ``prices`` table). The step covariance is that of the last
``lookback_days`` of stored daily log returns, scaled to the time since the previous step.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from data.models import Quote

logger = logging.getLogger(__name__)

DEMO_SOURCE = "demo"
_MIN_RETURNS = 10  # assets with fewer recent returns are not simulated (they stay stale)
_MAX_STEP = timedelta(days=1)  # after a long pause the walk moves at most one day's worth


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


def demo_step(last: pd.Series, daily_cov: pd.DataFrame, *, seconds: float,
              rng: np.random.Generator) -> pd.Series:
    """Prices one step of ``seconds`` after ``last`` (symbol -> USD), log-normal, correlated.

    Only the symbols of ``daily_cov`` move; a zero-length step returns ``last`` unchanged.
    """
    symbols = [s for s in daily_cov.columns if s in last.index]
    cov = daily_cov.loc[symbols, symbols] * (max(seconds, 0.0) / 86_400)
    shocks = _factor(cov) @ rng.standard_normal(len(symbols))
    return last[symbols] * np.exp(shocks)


def _walk_state(repo, symbols: list[str]) -> tuple[pd.Series, pd.Timestamp | None]:
    """Each symbol's last demo price (else its newest stored close), and the last step's time."""
    latest = repo.load_latest_prices(symbols)
    is_demo = (latest["kind"] == "quote") & (latest["source"] == DEMO_SOURCE)
    closes = latest[latest["kind"] == "close"]
    price = dict(zip(closes["symbol"], closes["price_usd"], strict=True))
    demo = latest[is_demo]
    price.update(zip(demo["symbol"], demo["price_usd"], strict=True))
    last_step = demo["ts"].max() if len(demo) else None
    return pd.Series(price, dtype=float), last_step


def demo_quotes(repo, daily_cov: pd.DataFrame, *, now: datetime,  # untyped: Repository
                seed: int = 2009) -> list[Quote]:
    """The next step of the stored walk at ``now`` (one quote per simulated symbol).

    The first step starts at the stored closes; later ones move over the time since the last
    stored step (at most a day), so the walk does not depend on which process runs it.
    """
    price, last_step = _walk_state(repo, list(daily_cov.columns))
    if price.empty:
        return []
    now_ts = pd.Timestamp(now)
    seconds = 0.0 if last_step is None else min((now_ts - last_step).total_seconds(),
                                                _MAX_STEP.total_seconds())
    rng = np.random.default_rng([seed, int(now_ts.timestamp())])
    moved = demo_step(price, daily_cov, seconds=seconds, rng=rng)
    return [Quote(symbol=s, price_usd=float(p), ts=now_ts.to_pydatetime(), source=DEMO_SOURCE)
            for s, p in moved.items()]


def build_demo_job(repo, *, lookback_days: int = 90):  # untyped: Repository
    """The demo job body: one walk step per run, written to the store as demo quotes."""
    cov: dict[str, pd.DataFrame] = {}

    def run(now: datetime) -> str:
        if "daily" not in cov:  # the stored history does not change during a demo
            closes = repo.load_closes(end=now)
            cov["daily"] = step_covariance(closes, lookback_days=lookback_days,
                                           step_seconds=86_400)
        quotes = demo_quotes(repo, cov["daily"], now=now)
        repo.upsert_quotes(quotes, fetched_at=now)
        return f"{len(quotes)} demo quotes"

    return run


def with_demo(jobs, settings, repo):  # untyped: JobSet, Settings, Repository
    """In demo mode the quote job is the demo job (no provider is called for quotes)."""
    if not settings.demo:
        return jobs
    logger.info("demo mode: the quote job writes simulated quotes (source 'demo')")
    return replace(jobs, quotes=build_demo_job(repo))
