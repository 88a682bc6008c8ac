"""Missing stretches of daily closes (pure): which days an asset should have, which it lacks.

Crypto trades every calendar day, so every date is expected. Equities and ETFs trade on NYSE
sessions only: weekends and US market holidays (Good Friday, Juneteenth, Thanksgiving, ...) are
not gaps. Sessions come from ``exchange_calendars`` (XNYS), which also knows the one-off
closures (national days of mourning) that a federal-holiday rule would miss.

A *stretch* is a run of consecutive expected days that are all missing: Friday and the next
Monday missing is one stretch of two sessions, not two stretches. Fetch windows are planned per
stretch: split at a provider's oldest servable day (CoinGecko's free plan: 365 days back) and
cut into requests of bounded length.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

CRYPTO, EQUITY = "crypto", "equity"


@dataclass(frozen=True)
class Stretch:
    """Expected days first..last (inclusive dates) with no stored close; ``days`` counts them."""

    first: date
    last: date
    days: int

    def as_json(self) -> list:
        """[first, last, days] with ISO dates (the form kept in the store and shown in health)."""
        return [self.first.isoformat(), self.last.isoformat(), self.days]


@lru_cache(maxsize=1)
def _nyse() -> xcals.ExchangeCalendar:
    # Built once per process (about 0.1 s); covers the sample's start to well past today.
    return xcals.get_calendar("XNYS", start="2000-01-03", end=f"{date.today().year + 1}-12-31")


def expected_days(kind: str, first: date, last: date) -> list[date]:
    """The dates in [first, last] on which an asset of ``kind`` has a daily close.

    Raises:
        ValueError: unknown kind, or a range the exchange calendar does not cover.
    """
    if last < first:
        return []
    if kind == CRYPTO:
        return [d.date() for d in pd.date_range(first, last, freq="D")]
    if kind == EQUITY:
        cal = _nyse()
        if pd.Timestamp(first) < cal.first_session or pd.Timestamp(last) > cal.last_session:
            raise ValueError(f"dates {first}..{last} outside the NYSE calendar "
                             f"{cal.first_session:%Y-%m-%d}..{cal.last_session:%Y-%m-%d}")
        return [d.date() for d in cal.sessions_in_range(first, last)]
    raise ValueError(f"unknown asset kind {kind!r} (crypto or equity)")


def missing_stretches(stored: Iterable[date], kind: str, first: date,
                      last: date) -> list[Stretch]:
    """Runs of consecutive expected days in [first, last] that are not in ``stored``.

    Args:
        stored: dates that have a close (any order, duplicates and days outside ignored).
        kind: "crypto" (every day) or "equity" (NYSE sessions).
        first: first day to check (inclusive).
        last: last day to check (inclusive).
    """
    have = set(stored)
    stretches: list[Stretch] = []
    run: list[date] = []
    for day in expected_days(kind, first, last):
        if day in have:
            if run:
                stretches.append(Stretch(run[0], run[-1], len(run)))
                run = []
        else:
            run.append(day)
    if run:
        stretches.append(Stretch(run[0], run[-1], len(run)))
    return stretches


def heal_range(first_stored: date | None, today: date, history_days: int) -> tuple[date, date]:
    """The (first, last) days to check for gaps.

    From the first stored close (else ``history_days`` back) to yesterday, the newest day whose
    close is final (today's bar is still moving).
    """
    first = first_stored if first_stored is not None else today - timedelta(days=history_days)
    return first, today - timedelta(days=1)


def split_at(stretch_first: date, stretch_last: date,
             oldest: date | None) -> list[tuple[date, date, bool]]:
    """Split [first, last] at a provider's oldest servable day.

    Returns:
        (first, last, servable) pieces, oldest first; ``servable`` is False for the part
        before ``oldest`` (no ``oldest``: the provider serves everything).
    """
    if oldest is None or stretch_first >= oldest:
        return [(stretch_first, stretch_last, True)]
    if stretch_last < oldest:
        return [(stretch_first, stretch_last, False)]
    return [(stretch_first, oldest - timedelta(days=1), False), (oldest, stretch_last, True)]


def chunks(first: date, last: date, max_days: int) -> list[tuple[date, date]]:
    """[first, last] cut into consecutive windows of at most ``max_days`` calendar days."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    out = []
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=max_days - 1))
        out.append((start, end))
        start = end + timedelta(days=1)
    return out
