"""The hourly job: hourly bars of the held assets for the last days, older ones deleted.

Kept apart from ``data/scheduling/jobs.py``: it is one more job body (``ingest_once`` at
``1h``) plus a bounded retention, so the store never grows with hourly rows
(``scheduler.hourly_*`` config).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

HOURLY = "1h"


def prune_hourly(repo, *, now: datetime, retention_days: int) -> int:  # noqa: ANN001
    """Delete hourly bars older than ``now - retention_days``; return how many went.

    Raises:
        StorageError: the store cannot be written.
    """
    removed = repo.delete_prices_before(HOURLY, now - timedelta(days=retention_days))
    if removed:
        logger.info("hourly retention: %d bars older than %d days deleted", removed,
                    retention_days)
    return max(removed, 0)


def held_symbols(settings, repo) -> list[str]:  # noqa: ANN001 - Settings, Repository
    """Held assets of the configured universe (BTC always: it prices every other)."""
    held = repo.load_holdings(settings.portfolio.name)
    return sorted({"BTC", *(s for s, q in held.items() if q > 0 and s in settings.assets)})


def build_hourly_job(settings, repo, registry) -> Callable[[datetime], Any]:  # noqa: ANN001
    """The job body: fetch the retention window's hourly bars, then apply the retention."""
    from data.ingest import pipeline as ingest

    days = settings.scheduler.hourly_retention_days

    def hourly(now: datetime) -> Any:
        start = (now - timedelta(days=days)).date()
        report = ingest.ingest_once(registry, repo, held_symbols(settings, repo), now=now,
                                    interval=HOURLY, start=start, end=now.date(),
                                    max_jump_factor=settings.ingest.max_jump_factor)
        prune_hourly(repo, now=now, retention_days=days)
        return report

    return hourly
