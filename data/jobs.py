"""The scheduler's job bodies: each is one call into data/ingest.py, built from settings + store.

A ``JobSet`` is the seam between the scheduler (when and by whom jobs run) and ingestion (what
they do): four callables taking ``now`` (tz-aware UTC). Tests build a JobSet of fakes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

JobFn = Callable[[datetime], Any]


@dataclass(frozen=True)
class JobSet:
    """The four scheduled job bodies."""

    quotes: JobFn     # latest quotes of every held or watched asset (batched per provider)
    history: JobFn    # daily history increment, re-fetching the last days (provider corrections)
    backfill: JobFn   # full history of assets that have none yet (newly added)
    health: JobFn     # source health / staleness check


def watched_symbols(settings, repo) -> list[str]:  # noqa: ANN001 - Settings, Repository
    """Every held or watched asset: the configured universe plus the portfolio's holdings."""
    held = repo.load_holdings(settings.portfolio.name)
    return sorted(set(settings.assets) | set(held))


def symbols_without_history(repo, symbols: list[str]) -> list[str]:  # noqa: ANN001
    """The symbols that have no stored daily bar yet (they need a backfill)."""
    latest = repo.load_latest_prices(symbols)
    have = set(latest.loc[latest["kind"] == "close", "symbol"])
    return [s for s in symbols if s not in have]


def build_jobs(settings, repo, environ: Mapping[str, str]) -> JobSet:  # noqa: ANN001
    """Wire the four jobs to data.ingest (registry built once, shared cache and rate limits)."""
    from data import ingest

    registry = ingest.build_registry(settings, environ)
    cfg = settings.scheduler

    def quotes(now: datetime) -> Any:
        return ingest.ingest_once(registry, repo, watched_symbols(settings, repo), now=now,
                                  quotes=True)

    def history(now: datetime) -> Any:
        return ingest.ingest_once(registry, repo, watched_symbols(settings, repo), now=now,
                                  start=now - timedelta(days=cfg.history_days_back), end=now)

    def backfill(now: datetime) -> Any:
        missing = symbols_without_history(repo, watched_symbols(settings, repo))
        if not missing:
            return "nothing to backfill"
        return ingest.ingest_once(registry, repo, missing, now=now,
                                  start=now - timedelta(days=cfg.backfill_days), end=now)

    def health(now: datetime) -> Any:
        return ingest.check_sources(registry, repo, now=now)

    return JobSet(quotes=quotes, history=history, backfill=backfill, health=health)
