"""The app's clock: real UTC time, or a clock started at a given instant (a test seam).

``BTCFOLIO_CLOCK_START=2026-08-21T22:00:00Z`` makes the process's "now" start at that instant
and run on at real speed, so the whole app (scheduler jobs, pages, /api) can be run against a
recorded market as of a past day. Read once by the entry points (``python app.py``,
``python -m data.scheduler``); unset, ``utcnow`` is the system clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from errors import ConfigError

CLOCK_ENV = "BTCFOLIO_CLOCK_START"
_offset = timedelta(0)


def utcnow() -> datetime:
    """The current time, tz-aware UTC (shifted when the clock was started elsewhere)."""
    return datetime.now(timezone.utc) + _offset


def start_at(when: datetime) -> None:
    """Make ``utcnow()`` read ``when`` now and advance in real time from there."""
    global _offset
    if when.tzinfo is None:
        raise ValueError("the clock start must be timezone-aware")
    _offset = when - datetime.now(timezone.utc)


def start_from_env(environ: Mapping[str, str]) -> None:
    """Apply ``BTCFOLIO_CLOCK_START`` (ISO 8601 with zone) if it is set.

    Raises:
        ConfigError: the value is not an ISO 8601 time with a zone.
    """
    value = environ.get(CLOCK_ENV)
    if not value:
        return
    try:
        start_at(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise ConfigError(f"{CLOCK_ENV}: not an ISO 8601 time with a zone: {value!r}") from exc
