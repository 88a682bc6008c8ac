"""The hourly job: hourly bars of the held assets for the last days, older ones deleted.

Kept apart from ``data/scheduling/jobs.py``: it is one more job body (``ingest_once`` at
``1h``) plus a bounded retention, so the store never grows with hourly rows
(``scheduler.hourly_*`` config).

Only assets with an hourly source are asked for: a source of the asset's chain that is enabled,
declares ``1h`` among its intervals (``PriceAdapter.intervals``: CoinGecko and Yahoo do,
CoinMarketCap only on its paid plan) and serves the retention window on its plan
(``oldest_history_day``). The others (e.g. stocks when only crypto sources are enabled) are
valued hourly at their daily as-of close; they are logged once (again only when the set
changes) and listed in the store's meta row ``hourly:no_source`` that /api/health shows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from analytics.units import BTC

logger = logging.getLogger(__name__)

HOURLY = "1h"
NO_SOURCE_KEY = "hourly:no_source"


def prune_hourly(repo, *, now: datetime, retention_days: int) -> int:
    """Delete hourly bars older than ``now - retention_days``; return how many went.

    Raises:
        StorageError: the store cannot be written.
    """
    removed = repo.delete_prices_before(HOURLY, now - timedelta(days=retention_days))
    if removed:
        logger.info("hourly retention: %d bars older than %d days deleted", removed,
                    retention_days)
    return max(removed, 0)


def held_symbols(settings, repo) -> list[str]:  # untyped: Settings, Repository
    """Held assets of the configured universe (BTC always: it prices every other)."""
    held = repo.load_holdings(settings.portfolio.name)
    return sorted({BTC, *(s for s, q in held.items() if q > 0 and s in settings.assets)})


def hourly_sources(registry, symbol: str, start: date, today: date) -> list[str]:
    """The enabled sources of a symbol's chain that declare 1h bars back to ``start``."""
    out = []
    for provider in registry.sources_for(symbol, "history", HOURLY):
        oldest = registry.adapters[provider].oldest_history_day(HOURLY, today)
        if oldest is None or oldest <= start:
            out.append(provider)
    return out


def save_no_source(repo, symbols: Sequence[str], *, now: datetime) -> None:
    """Record which held assets have no hourly source (read by /api/health).

    Raises:
        StorageError: the store cannot be written.
    """
    value = json.dumps({"symbols": list(symbols), "updated_at": now.isoformat()})
    repo.set_meta(NO_SOURCE_KEY, value)


def load_no_source(repo) -> list[str] | None:  # untyped: Repository
    """The held assets the hourly job found without an hourly source (None: not run yet)."""
    raw = repo.get_meta(NO_SOURCE_KEY)
    try:
        symbols = json.loads(raw)["symbols"] if raw else None
    except (ValueError, KeyError, TypeError):
        logger.warning("unreadable %s row", NO_SOURCE_KEY)
        return None
    return [str(s) for s in symbols] if isinstance(symbols, list) else None


def build_hourly_job(settings, repo, registry) -> Callable[[datetime], Any]:
    """The job body: fetch the retention window's hourly bars, then apply the retention."""
    from data.ingest import pipeline as ingest

    days = settings.scheduler.hourly_retention_days

    reported: list = [None]   # the no-source set last logged and saved (once per change)

    def hourly(now: datetime) -> Any:
        start = (now - timedelta(days=days)).date()
        held = held_symbols(settings, repo)
        without = [s for s in held if not hourly_sources(registry, s, start, now.date())]
        if without != reported[0]:
            if without:
                logger.info("hourly bars: no enabled source offers 1h bars for %s; they are "
                            "valued hourly at their daily close", ", ".join(without))
            save_no_source(repo, without, now=now)
            reported[0] = without
        report = ingest.ingest_once(registry, repo, [s for s in held if s not in without],
                                    now=now, interval=HOURLY, start=start, end=now.date(),
                                    max_jump_factor=settings.ingest.max_jump_factor)
        prune_hourly(repo, now=now, retention_days=days)
        return report

    return hourly
