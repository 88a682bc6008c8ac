"""The scheduler's job bodies: one call into the ingest pipeline each, built from settings + store.

A ``JobSet`` is the seam between the scheduler (when and by whom jobs run) and ingestion (what
they do): four callables taking ``now`` (tz-aware UTC). Tests build a JobSet of fakes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from data.store.universe import effective_universe
from redaction import clip

logger = logging.getLogger(__name__)

JobFn = Callable[[datetime], Any]


def _no_gap_job(_now: datetime) -> None:
    return None


@dataclass(frozen=True)
class JobSet:
    """The scheduled job bodies."""

    quotes: JobFn     # latest quotes of every held or watched asset (batched per provider)
    history: JobFn    # daily history increment, re-fetching the last days (provider corrections)
    backfill: JobFn   # full history of assets that have none yet (newly added)
    health: JobFn     # source health / staleness check
    gaps: JobFn = _no_gap_job  # find and fill every missing stretch of daily closes
    hourly: JobFn | None = None   # hourly bars of held assets, bounded retention (hourly.py)


def heal_order(settings, repo) -> list[str]:  # untyped: Settings, Repository
    """The universe with held assets first (their gaps matter to the user's numbers)."""
    held = set(repo.load_holdings(settings.portfolio.name))
    symbols = watched_symbols(settings, repo)
    return [s for s in symbols if s in held] + [s for s in symbols if s not in held]


def watched_symbols(settings, repo) -> list[str]:  # untyped: Settings, Repository
    """Every held or watched asset: the effective universe plus the portfolio's holdings."""
    held = repo.load_holdings(settings.portfolio.name)
    return sorted(set(effective_universe(settings, repo)) | set(held))


def symbols_without_history(repo, symbols: list[str]) -> list[str]:
    """The symbols that have no stored daily bar yet (they need a backfill)."""
    latest = repo.load_latest_prices(symbols)
    have = set(latest.loc[latest["kind"] == "close", "symbol"])
    return [s for s in symbols if s not in have]


def stale_symbols(settings, repo, symbols: list[str], now: datetime) -> list[str]:
    """Symbols whose newest stored price (close or quote) is older than its staleness limit."""
    latest = repo.load_latest_prices(symbols)
    newest = latest.groupby("symbol")["ts"].max() if not latest.empty else {}
    limits, universe = settings.staleness, effective_universe(settings, repo)
    stale = []
    for symbol in symbols:
        asset = universe.get(symbol)
        days = limits.equity_daily_days if asset and asset.kind == "equity" else \
            limits.crypto_daily_days
        ts = newest.get(symbol) if len(newest) else None
        if ts is None or (now - ts.to_pydatetime()).total_seconds() > days * 86400:
            stale.append(symbol)
    return stale


def until_cancelled(cancel: threading.Event | None) -> Callable[[Iterable[str]], Iterator[str]]:
    """An ingest ``progress`` wrapper that stops handing out symbols once ``cancel`` is set.

    So a shutdown waits for the symbol being written (one transaction), not for the whole run.
    """
    def wrap(symbols: Iterable[str]) -> Iterator[str]:
        for symbol in symbols:
            if cancel is not None and cancel.is_set():
                logger.info("ingest stopped before %s: shutting down", symbol)
                return
            yield symbol

    return wrap


def build_jobs(settings, repo, environ: Mapping[str, str], *,
               cancel: threading.Event | None = None) -> JobSet:
    """Wire the four jobs to the ingest pipeline: one registry (cache + rate limits) for all.

    With ``REDIS_URL`` the quote cache and the rate-limit budgets live in Redis, so they are
    shared with every other process of the deployment. ``cancel`` (set by the scheduler on
    shutdown or loss of leadership) stops a history run between two symbols.
    """
    from data.ingest import gap_heal
    from data.ingest import pipeline as ingest
    from data.providers.cache import PriceCache
    from data.store import backfills

    progress = until_cancelled(cancel)
    # Retry backoff sleeps end at once on shutdown, so stopping never waits out a backoff.
    sleep = cancel.wait if cancel is not None else time.sleep
    registry = ingest.build_registry(settings, environ, PriceCache.from_settings(settings.cache),
                                     sleep=sleep)
    cfg = settings.scheduler
    seen: list = [None]

    def watched(settings, repo) -> list[str]:  # untyped: watched_symbols' signature
        # Custom assets added since the last run get their provider ids and chains first.
        universe = effective_universe(settings, repo)
        if universe is not seen[0]:
            registry.set_universe(universe)
            seen[0] = universe
        return watched_symbols(settings, repo)

    # A quote this job fetched one period ago must not count as fresh now (it would skip every
    # other period); one fetched within the last half period by another process (the CLI, a
    # previous leader) still saves the call.
    quote_max_age = settings.refresh.interval_seconds / 2

    def quotes(now: datetime) -> Any:
        return ingest.ingest_once(registry, repo, watched(settings, repo), now=now,
                                  quotes=True, quote_max_age=quote_max_age)

    def history(now: datetime) -> Any:
        start = (now - timedelta(days=cfg.history_days_back)).date()
        return ingest.ingest_once(registry, repo, watched(settings, repo), now=now,
                                  start=start, end=now.date(), progress=progress,
                                  max_jump_factor=settings.ingest.max_jump_factor)

    def backfill(now: datetime) -> Any:
        # Assets without history (e.g. just added) plus requests recorded by data/store/holdings.py.
        requested = backfills.pending_backfills(repo)
        todo = sorted(set(symbols_without_history(repo, watched(settings, repo)))
                      | set(requested))
        if not todo:
            return "nothing to backfill"
        # Every symbol's backfill is recorded as running before any is fetched, so a process
        # killed mid-run resumes them all: "has no history" alone is not enough, as the daily
        # increment may have written a symbol's last days while its backfill was still queued.
        for symbol in todo:
            backfills.set_backfill_state(repo, symbol, "running", now=now)
        start = (now - timedelta(days=cfg.backfill_days)).date()
        report = ingest.ingest_once(registry, repo, todo, now=now, start=start, end=now.date(),
                                    progress=progress,
                                    max_jump_factor=settings.ingest.max_jump_factor)
        backfills.record_outcomes(repo, todo, report, now=now)
        return report

    def health(now: datetime) -> Any:
        stale = stale_symbols(settings, repo, watched(settings, repo), now)
        if stale:
            logger.warning("stale prices (older than the staleness limits): %s", ", ".join(stale))
        return {"stale": stale}

    kinds = {symbol: asset.kind for symbol, asset in settings.assets.items()}

    def gaps(now: datetime) -> Any:
        return gap_heal.heal_gaps(registry, repo, kinds, heal_order(settings, repo), now=now,
                                  history_days=settings.ingest.history_days,
                                  max_jump_factor=settings.ingest.max_jump_factor,
                                  progress=progress)

    from data.scheduling.hourly import build_hourly_job

    return JobSet(quotes=quotes, history=history, backfill=backfill, health=health, gaps=gaps,
                  hourly=build_hourly_job(settings, repo, registry))


def job_outcome(result: Any) -> tuple[str, str | None]:
    """("ok" | "partial" | "error", first errors) of a job's return value (an IngestReport).

    ingest reports per-asset failures in its report instead of raising; a run where every
    asset failed is an "error", some failed "partial".
    """
    assets = getattr(result, "assets", None)
    if not assets:
        return "ok", None
    errors = [a.error for a in assets if getattr(a, "error", None)]
    if not errors:
        return "ok", None
    return ("error" if len(errors) == len(assets) else "partial"), clip("; ".join(errors), 300)
