"""When a price is too old to use: the limits per asset and price kind, and the statuses.

A looked-up price has a status: "ok", "stale" (older than its limit at the time it is used at:
kept and flagged in bulk forms, an error in scalar forms) or "no_price" (nothing at or before
that time). Limits come from config (``settings.staleness``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

OK, STALE, NO_PRICE = "ok", "stale", "no_price"
_SEVERITY = {OK: 0, STALE: 1, NO_PRICE: 2}


# analytics may not import data/ (tests/test_architecture.py), so these are ValueErrors (the
# analytics convention) with their own types; the web layer maps them to 503.
class NoPriceError(ValueError):
    """No price at or before the requested time (before the first price, or unknown symbol)."""


class StalePriceError(ValueError):
    """The as-of price exists but is older than the staleness limit of its asset kind."""

    def __init__(self, symbol: str, price_ts: pd.Timestamp, at: pd.Timestamp,
                 limit: timedelta) -> None:
        super().__init__(f"{symbol}: newest price at or before {at.isoformat()} is from "
                         f"{price_ts.isoformat()}, older than the {limit} limit")
        self.symbol, self.price_ts, self.at, self.limit = symbol, price_ts, at, limit


@dataclass(frozen=True)
class StalenessLimits:
    """How old a price may be, relative to the time it is used at, before it is stale."""

    crypto_quote: timedelta = timedelta(minutes=10)
    crypto_daily: timedelta = timedelta(days=1)
    equity_daily: timedelta = timedelta(days=4)

    @classmethod
    def from_settings(cls, staleness: object) -> StalenessLimits:
        """Build from ``settings.staleness`` (crypto_quote_seconds, crypto/equity_daily_days)."""
        return cls(crypto_quote=timedelta(seconds=staleness.crypto_quote_seconds),
                   crypto_daily=timedelta(days=staleness.crypto_daily_days),
                   equity_daily=timedelta(days=staleness.equity_daily_days))

    def limit(self, asset_kind: str, price_kind: str) -> timedelta:
        """Limit for an asset class ("crypto"/"equity") and price kind ("quote"/"close")."""
        if asset_kind == "crypto":
            return self.crypto_quote if price_kind == "quote" else self.crypto_daily
        # Stocks and ETFs: a quote or a close may be up to a long weekend old.
        return self.equity_daily


DEFAULT_LIMITS = StalenessLimits()


def _ns(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1) * 1000


def limits_ns(limits: StalenessLimits, asset_kind: str) -> tuple[int, int]:
    """(quote limit, close limit) of an asset class, in nanoseconds."""
    return _ns(limits.limit(asset_kind, "quote")), _ns(limits.limit(asset_kind, "close"))


def price_status(found: np.ndarray, age_ns: np.ndarray, price_kind: np.ndarray,
                 quote_limit_ns: np.ndarray | int, close_limit_ns: np.ndarray | int
                 ) -> np.ndarray:
    """Status of each looked-up price: no_price when not found, stale when past its limit.

    Args:
        found: bool, a price exists at or before the lookup time.
        age_ns: lookup time minus price time, in nanoseconds (ignored where not found).
        price_kind: "quote" | "close" of each price (None where not found).
        quote_limit_ns: age limit of a quote for each lookup's asset class (``limits_ns``).
        close_limit_ns: age limit of a daily close, likewise.
    """
    limit_ns = np.where(price_kind == "quote", quote_limit_ns, close_limit_ns)
    return np.where(~found, NO_PRICE, np.where(age_ns > limit_ns, STALE, OK))


def worse_status(first: pd.Series, second: pd.Series) -> np.ndarray:
    """Element-wise the worse of two status columns (no_price > stale > ok)."""
    return np.where(second.map(_SEVERITY) > first.map(_SEVERITY), second, first)
