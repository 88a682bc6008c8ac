"""The market-data adapter interface, the price-frame schema check and the frame builder.

Every adapter is ``PriceAdapter``: ``fetch_quotes(symbols)`` (latest USD prices, batched up to
``max_symbols_per_request``) and ``fetch_history(symbol, start, end, interval)`` returning a frame
with ``PRICE_COLUMNS`` (ts tz-aware UTC, float OHLCV, daily bars keyed by UTC date at 00:00).

Adapters only build requests, call the vendor and parse: they never cache, sleep, retry, touch
the store or read the environment (the registry and ingest do that). Symbols passed in are the
canonical ones ("BTC"); ``ids`` maps them to vendor ids ("bitcoin", "BTC-USD", "1").
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import requests

from data.models import INTERVALS, PRICE_COLUMNS, Quote, empty_price_frame
from data.providers.http import get_json
from errors import BadResponseError, EmptyDataError, InvalidInputError
from redaction import register_secret

logger = logging.getLogger(__name__)

__all__ = ["INTERVALS", "PRICE_COLUMNS", "PriceAdapter", "Quote", "make_price_frame",
           "validate_prices"]

_FLOATS = ("open", "high", "low", "close", "volume")


def validate_prices(frame: pd.DataFrame, *, provider: str = "") -> pd.DataFrame:
    """Check a price frame against PRICE_COLUMNS and return it with ts normalised to ns UTC.

    Raises:
        BadResponseError: missing columns, naive or non-UTC ts, non-float values, NaN close,
            unsorted or duplicated ts per symbol.
    """
    where = f"{provider}: " if provider else ""
    missing = [c for c in PRICE_COLUMNS if c not in frame.columns]
    if missing:
        raise BadResponseError(f"{where}price frame lacks columns {missing}", provider=provider)
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype) or str(ts.dt.tz) != "UTC":
        raise BadResponseError(f"{where}price frame ts must be tz-aware UTC, got {ts.dtype}",
                               provider=provider)
    for col in _FLOATS:
        if frame[col].dtype != np.float64:
            raise BadResponseError(f"{where}column {col} must be float64, got {frame[col].dtype}",
                                   provider=provider)
    if frame["close"].isna().any():
        raise BadResponseError(f"{where}close must never be NaN", provider=provider)
    for symbol, group in frame.groupby("symbol", sort=False):
        if not group["ts"].is_monotonic_increasing or group["ts"].duplicated().any():
            raise BadResponseError(f"{where}{symbol}: ts must be sorted and unique",
                                   provider=provider)
    out = frame.loc[:, list(PRICE_COLUMNS)].copy()
    out["ts"] = ts.dt.as_unit("ns")
    return out.reset_index(drop=True)


def make_price_frame(ts: Any, *, symbol: str, source: str, close: Any, open: Any = None,
                     high: Any = None, low: Any = None, volume: Any = None,
                     daily: bool = False) -> pd.DataFrame:
    """Build a validated price frame from parallel arrays (None -> NaN, rows without close dropped).

    Args:
        ts: tz-aware timestamps (or anything ``pd.to_datetime(utc=True)`` reads).
        symbol: canonical symbol written to every row.
        source: provider name written to every row.
        close: closes, same length as ts; rows whose close is missing are dropped.
        open: opens, same length as ts (None: all NaN); likewise ``high``, ``low``, ``volume``.
        high: highs, as ``open``.
        low: lows, as ``open``.
        volume: volumes, as ``open``.
        daily: key each bar by its UTC date at 00:00 (keep the last bar of a date).
    """
    stamps = pd.to_datetime(pd.Series(ts), utc=True)
    n = len(stamps)

    def col(values: Any) -> pd.Series:
        if values is None:
            return pd.Series(np.full(n, np.nan), dtype="float64")
        series = pd.Series(list(values), dtype="object")
        return pd.to_numeric(series, errors="coerce").astype("float64")

    frame = pd.DataFrame({"ts": stamps.dt.as_unit("ns"), "symbol": symbol,
                          "open": col(open), "high": col(high), "low": col(low),
                          "close": col(close), "volume": col(volume), "source": source})
    frame = frame[frame["close"].notna()]
    if frame.empty:
        return empty_price_frame()
    if daily:
        frame["ts"] = frame["ts"].dt.floor("D")
    frame = frame.sort_values("ts", kind="stable").drop_duplicates("ts", keep="last")
    return validate_prices(frame, provider=source)


class PriceAdapter(ABC):
    """A market-data provider behind one interface (see module docstring)."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset({"quotes", "history"})
    intervals: ClassVar[frozenset[str]] = frozenset({"1d"})
    max_symbols_per_request: ClassVar[int] = 1

    def __init__(self, settings: Any, *, api_key: str | None = None,
                 ids: Mapping[str, str] | None = None,
                 session: requests.Session | None = None) -> None:
        """Build from the source's settings (base_url, timeout, plan) and a key from the caller."""
        self.settings = settings
        self.base_url = str(settings.base_url).rstrip("/")
        self.timeout = float(settings.timeout_seconds)
        self.plan = getattr(settings, "plan", None)
        self.api_key = api_key
        register_secret(api_key)  # masked in every error message and log line from now on
        self.ids = dict(ids or {})
        self.session = session if session is not None else requests.Session()

    def vendor_id(self, symbol: str) -> str:
        """The provider's id of a canonical symbol (the symbol itself when not mapped)."""
        return self.ids.get(symbol, symbol)

    def id_batches(self, symbols: Sequence[str]) -> Iterator[dict[str, str]]:
        """``{vendor id: symbol}`` per request, at most ``max_symbols_per_request`` each."""
        symbols = list(symbols)
        size = self.max_symbols_per_request
        for i in range(0, len(symbols), size):
            yield {self.vendor_id(s): s for s in symbols[i:i + size]}

    def supports(self, capability: str, interval: str | None = None) -> bool:
        """Whether this adapter offers a capability (and, for history, the interval)."""
        return capability in self.capabilities and (interval is None or interval in self.intervals)

    def oldest_history_day(self, interval: str, today: date) -> date | None:
        """The oldest day this provider (on its configured plan) serves; None: no limit."""
        return None

    def check_interval(self, interval: str) -> None:
        """Raise InvalidInputError for an interval this provider does not offer."""
        if interval not in self.intervals:
            raise InvalidInputError(f"{self.name}: interval {interval!r} not offered "
                                    f"(has {', '.join(sorted(self.intervals))})")

    def _get(self, url: str, params: Mapping[str, Any] | None = None,
             headers: Mapping[str, str] | None = None) -> Any:
        return get_json(self.session, url, params, headers, timeout=self.timeout,
                        provider=self.name)

    def bars_in_range(self, frame: pd.DataFrame, symbol: str, start: datetime, end: datetime,
                      interval: str) -> pd.DataFrame:
        """The bars with start <= ts <= end; none is an EmptyDataError, never an empty frame."""
        clipped = clip_range(frame, start, end)
        if clipped.empty:
            raise EmptyDataError(f"{self.name}: no {interval} bars for {symbol} "
                                 f"{start:%Y-%m-%d}..{end:%Y-%m-%d}")
        return clipped

    @abstractmethod
    def fetch_quotes(self, symbols: Sequence[str]) -> list[Quote]:
        """Latest USD quotes of the symbols the provider knows (unknown ones are left out)."""

    @abstractmethod
    def fetch_history(self, symbol: str, start: datetime, end: datetime,
                      interval: str = "1d") -> pd.DataFrame:
        """Bars with start <= ts <= end (UTC), PRICE_COLUMNS schema."""


def clip_range(frame: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    """Keep rows with start <= ts <= end (inclusive, UTC)."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    return frame[(frame["ts"] >= lo) & (frame["ts"] <= hi)].reset_index(drop=True)
