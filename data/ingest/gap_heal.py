"""Heal history gaps: find every missing stretch of daily closes and fill it through the chain.

For each asset (the caller orders them: held ones first) the stored closes between the first
stored close (or ``history_days`` back) and yesterday are compared with the days the asset
should have (``analytics.gaps``: crypto every day, equities NYSE sessions). Each missing
stretch, trailing or interior, is asked of the asset's sources in their configured order:

* a provider is only asked for days its plan serves (CoinGecko's free plan: 365 days back);
  older days go straight to the next source instead of costing a call and an error;
* requests are cut to at most ``max_request_days`` days, each one rate-limited, retried and
  breaker-guarded by the registry like every other call;
* after each provider the store is read again, so the next one is asked only for what is
  still missing (histories end on different days at different providers).

What no provider can fill stays a gap: recorded with the reasons in the asset's progress row
(data/store/backfills.py, shown by /api/health) and logged once, not on every run. Filled bars pass
the same checks as any ingest (data/ingest/validation.py) and never overwrite a stored close.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from analytics.gaps import (
    Stretch,
    chunks,
    expected_days,
    heal_range,
    missing_stretches,
    split_at,
)
from data.ingest.pipeline import last_close_before, record_health
from data.ingest.validation import clean_prices
from data.providers.registry import Registry, one_line
from data.store.backfills import Backfill, load_progress, progress_record, save_progress
from errors import DataError, EmptyDataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssetGaps:
    """One asset's healing: days found missing, days filled, stretches left (with reasons)."""

    symbol: str
    missing_days: int = 0
    filled: int = 0
    unfillable: list[list] = field(default_factory=list)
    error: str | None = None


@dataclass
class HealReport:
    """Every asset's result of one healing run (``assets`` is read by jobs.job_outcome)."""

    assets: list[AssetGaps] = field(default_factory=list)

    @property
    def filled(self) -> int:
        """Days filled in total."""
        return sum(a.filled for a in self.assets)


@dataclass(frozen=True)
class _Run:
    registry: Registry
    repo: object
    now: datetime
    max_jump_factor: float
    max_request_days: int

    @property
    def today(self) -> date:
        return self.now.date()


def heal_gaps(registry: Registry, repo, kinds: Mapping[str, str],  # untyped: Repository
              symbols: Sequence[str], *, now: datetime, history_days: int = 365,
              max_jump_factor: float = 5.0, max_request_days: int = 365,
              progress: Callable[[Iterable[str]], Iterable[str]] | None = None) -> HealReport:
    """Find and fill every missing stretch of daily closes of ``symbols`` (in that order).

    Args:
        registry: adapters with their guards; each asset's chain is its fallback order.
        repo: the store.
        kinds: symbol -> "crypto" | "equity" (which days are expected).
        symbols: assets to heal, in the order to heal them.
        now: current time (UTC); "today" is its date.
        history_days: how far back to look for an asset with no stored close.
        max_jump_factor: bad-data limit between consecutive closes.
        max_request_days: longest window asked in one request.
        progress: wraps the symbol iteration (the scheduler's cancel check).

    Returns:
        HealReport; failures are in it (one line each), never raised.
    """
    run = _Run(registry, repo, now, max_jump_factor, max_request_days)
    before = load_progress(repo)
    report = HealReport()
    for symbol in (progress or iter)(list(symbols)):
        try:
            result = _heal_symbol(run, symbol, kinds.get(symbol, "crypto"), history_days)
        except (DataError, ValueError) as exc:
            result = AssetGaps(symbol, error=f"{symbol}: gap check failed: {one_line(exc)}")
            logger.warning(result.error)
        else:
            _log_new_gaps(symbol, result.unfillable, before.get(symbol))
        report.assets.append(result)
    record_health(registry, repo, now)
    return report


def _stored_days(run: _Run, symbol: str, first: date | None = None,
                 last: date | None = None) -> set[date]:
    start = datetime.combine(first, time(0), tzinfo=timezone.utc) if first else None
    end = datetime.combine(last, time(23, 59, 59), tzinfo=timezone.utc) if last else None
    frame = run.repo.load_prices([symbol], interval="1d", start=start, end=end)
    return set(frame["ts"].dt.date)


def _heal_symbol(run: _Run, symbol: str, kind: str, history_days: int) -> AssetGaps:
    stored = _stored_days(run, symbol)
    first, last = heal_range(min(stored) if stored else None, run.today, history_days)
    stretches = missing_stretches(stored, kind, first, last)
    missing = sum(s.days for s in stretches)
    filled, unfillable = 0, []

    def save(state: str, in_stretch: int = 0) -> None:
        save_progress(run.repo, symbol, progress_record(
            state=state, missing_days=missing, filled=filled + in_stretch,
            unfillable=unfillable, now=run.now))

    save("filling" if missing else "done")
    expected = expected_days(kind, first, last)
    for stretch in stretches:
        # The trailing stretch is asked through today, so today's bar is stored with it.
        trailing = stretch.last == expected[-1]
        got, left = _fill_stretch(run, symbol, kind, stretch, trailing, on_progress=save)
        filled += got
        unfillable += left
    save("done")
    error = None
    if unfillable:
        days = sum(u[2] for u in unfillable)
        error = f"{symbol}: {days} days no source could fill"
    return AssetGaps(symbol, missing, filled, unfillable, error)


def _fill_stretch(run: _Run, symbol: str, kind: str, stretch: Stretch, trailing: bool, *,
                  on_progress: Callable[[str, int], None]) -> tuple[int, list[list]]:
    """Ask each source of the chain for what is still missing; (days filled, stretches left)."""
    remaining, reasons = [stretch], []
    for provider in run.registry.sources_for(symbol, "history", "1d"):
        if not remaining:
            break
        oldest = run.registry.adapters[provider].oldest_history_day("1d", run.today)
        for part in remaining:
            for lo, hi, servable in split_at(part.first, part.last, oldest):
                if not servable:
                    reasons.append(f"{provider}: serves {oldest} onwards only")
                    continue
                if not _ask(run, symbol, provider, lo, hi, reasons,
                            through=run.today if trailing and hi == stretch.last else hi):
                    break  # the provider is failing: the next source gets the rest
            on_progress("filling", stretch.days - _still_missing(run, symbol, kind, stretch))
        remaining = missing_stretches(_stored_days(run, symbol, stretch.first, stretch.last),
                                      kind, stretch.first, stretch.last)
    why = "; ".join(dict.fromkeys(reasons))[:300] or "no source offers its daily history"
    left = [[*r.as_json(), why] for r in remaining]
    return stretch.days - sum(r.days for r in remaining), left


def _still_missing(run: _Run, symbol: str, kind: str, stretch: Stretch) -> int:
    stored = _stored_days(run, symbol, stretch.first, stretch.last)
    return sum(s.days for s in missing_stretches(stored, kind, stretch.first, stretch.last))


def _ask(run: _Run, symbol: str, provider: str, lo: date, hi: date, reasons: list[str], *,
         through: date) -> bool:
    """Fetch and store the days [lo, hi] from one provider, chunk by chunk.

    The last chunk runs through ``through``. Returns False once the provider fails (the caller
    hands the rest to the next provider).
    """
    for first, last in chunks(lo, hi, run.max_request_days):
        end_day = through if last == hi else last
        start = datetime.combine(first, time(0), tzinfo=timezone.utc)
        end = datetime.combine(end_day, time(23, 59, 59), tzinfo=timezone.utc)
        try:
            result = run.registry.fetch_history(symbol, start, end, "1d", now=run.now,
                                                sources=[provider])
        except EmptyDataError as exc:
            reasons.append(one_line(exc))
            continue
        except DataError as exc:
            reasons.append(one_line(exc))
            return False
        good, bad = clean_prices(result.frame, now=run.now, max_jump_factor=run.max_jump_factor,
                                 last_close=last_close_before(run.repo, symbol, "1d", start))
        if bad:
            reasons.append(f"{provider}: {len(bad)} bars rejected ({bad[0].reason})")
        run.repo.upsert_prices(good, interval="1d", overwrite=False)
    return True


def _log_new_gaps(symbol: str, unfillable: list[list], before: Backfill | None) -> None:
    """Say each unfillable stretch once: not again while a later run finds the same one."""
    known = {(u[0], u[1]) for u in (before.unfillable if before else ())}
    for first, last, days, why in unfillable:
        if (first, last) not in known:
            logger.warning("%s: %d days %s..%s missing and no source could fill them: %s",
                           symbol, days, first, last, why)
