"""Canonical records crossing module boundaries: the Quote record and the price-frame schema.

Price frame (``PRICE_COLUMNS``), one row per bar, sorted by ``ts``:
    ts      datetime64[ns, UTC]  bar start; daily bars are keyed by their UTC date at 00:00
    symbol  str                  canonical upper-case asset symbol ("BTC")
    open, high, low  float64     NaN allowed
    close   float64              never NaN, > 0
    volume  float64              NaN allowed
    source  str                  provider name ("coingecko", "sample", ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

PRICE_COLUMNS = ("ts", "symbol", "open", "high", "low", "close", "volume", "source")
INTERVALS = ("1d", "1h", "1m")


@dataclass(frozen=True, slots=True)
class Quote:
    """Latest USD price of one asset from one provider."""

    symbol: str
    price_usd: float
    ts: datetime
    source: str
    change_24h_pct: float | None = None

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"Quote {self.symbol}: ts must be timezone-aware (UTC)")


def empty_price_frame() -> pd.DataFrame:
    """An empty frame with the price schema (for 'no rows' that is not an error)."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in PRICE_COLUMNS})
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["symbol"] = frame["symbol"].astype(object)
    frame["source"] = frame["source"].astype(object)
    return frame


@dataclass(frozen=True, slots=True)
class Listing:
    """What a provider says about one of its ids: name, ticker, asset class, a USD price."""

    provider: str
    vendor_id: str
    name: str
    ticker: str | None
    kind: str | None  # "crypto" or "equity"; None when the provider does not say
    price_usd: float | None
