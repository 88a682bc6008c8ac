"""Convert amounts between assets and BTC at a point in time, with as-of prices (pure: no IO).

``value_btc = amount × usd_price(asset, t) / usd_price(BTC, t)`` where each price is the last
one at or before ``t`` (analytics/asof.py). A price older than its staleness limit
(analytics/staleness.py) is an error in the scalar forms and a flag in the bulk forms.

Inputs: the ``closes`` and ``latest`` frames of analytics/asof.py.

As-of frame (``BTCConverter.asof``), one row per requested timestamp:
    price_usd float (NaN when no price), price_ts datetime64[ns, UTC] (NaT), price_kind str,
    source str, status "ok" | "stale" | "no_price"

The converter holds no state beyond its prices; a reader that wants repeated lookups over
unchanged data reused passes a ``cache`` (the read side owns it: queries/price_cache.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from datetime import datetime
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd

from analytics.asof import AsOfRows, build_series, lookup, lookup_symbols, to_utc_index
from analytics.staleness import (
    DEFAULT_LIMITS,
    NO_PRICE,
    STALE,
    NoPriceError,
    StalenessLimits,
    StalePriceError,
    worse_status,
)
from analytics.units import BTC


class AsOfCache(Protocol):
    """What a converter needs of a cache of as-of frames (queries/price_cache.py has one)."""

    def get(self, key: Hashable) -> pd.DataFrame | None:
        """The frame stored under key, or None."""

    def put(self, key: Hashable, value: pd.DataFrame) -> None:
        """Store a frame under key."""


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=16)
    for arr in arrays:
        h.update(np.ascontiguousarray(arr).tobytes() if arr.dtype != object
                 else "\x1f".join(map(str, arr.ravel())).encode())
    return h.hexdigest()


def prices_in_btc(prices_usd: Mapping[str, float]) -> dict[str, float]:
    """USD prices taken at the same time, each divided by the BTC price ({} without BTC).

    For a handful of as-of prices already looked up (e.g. the closes 24 h ago): the formula
    of ``price_btc`` without building a converter.

    Raises:
        ValueError: a price is not positive and finite.
    """
    if any(not (0 < p < float("inf")) for p in prices_usd.values()):
        raise ValueError("prices must be positive and finite")
    btc = prices_usd.get(BTC)
    return {} if btc is None else {s: float(p) / btc for s, p in prices_usd.items()}


class BTCConverter:
    """As-of USD prices and conversions to and from BTC over stored price data.

    Args:
        closes: wide USD close frame (may be empty); see analytics/asof.py.
        asset_kinds: symbol -> "crypto" | "equity" (unknown symbols are treated as crypto).
        limits: staleness limits.
        latest: optional latest-price candidates frame (adds live quotes).
        cache: optional cache of as-of frames, shared by converters over equal data (the key
            includes a fingerprint of the prices and rules); None (the default) disables it.
    """

    def __init__(self, closes: pd.DataFrame | None = None, *, asset_kinds: Mapping[str, str],
                 limits: StalenessLimits = DEFAULT_LIMITS, latest: pd.DataFrame | None = None,
                 cache: AsOfCache | None = None) -> None:
        self.asset_kinds = dict(asset_kinds)
        self.limits = limits
        self.cache = cache
        self._series = build_series(closes, latest)

    @cached_property
    def fingerprint(self) -> str:
        """Digest of the data and rules behind every lookup (the as-of cache key).

        Computed on first use: a converter without a cache (one refresh's valuation) never
        pays for hashing its prices.
        """
        return _digest(np.array(sorted(self.asset_kinds.items()), dtype=object),
                       np.array([str(self.limits)], dtype=object),
                       *[a for sym in sorted(self._series) for a in
                         (np.array([sym], dtype=object), *vars(self._series[sym]).values())])

    @property
    def symbols(self) -> list[str]:
        """Symbols with at least one price."""
        return sorted(self._series)

    def first_price_ts(self, symbol: str) -> pd.Timestamp | None:
        """Time of the symbol's first price (None when it has none)."""
        series = self._series.get(symbol)
        return pd.Timestamp(series.ts[0], tz="UTC") if series is not None else None

    def last_price_ts(self, symbol: str) -> pd.Timestamp | None:
        """Time of the symbol's newest price (None when it has none)."""
        series = self._series.get(symbol)
        return pd.Timestamp(series.ts[-1], tz="UTC") if series is not None else None

    def _lookup(self, symbol: str, at_ns: np.ndarray) -> AsOfRows:
        return lookup(self._series.get(symbol), symbol, at_ns,
                      asset_kind=self.asset_kinds.get(symbol, "crypto"), limits=self.limits)

    def asof(self, symbol: str, times: object) -> pd.DataFrame:
        """As-of USD prices of one symbol at each time (schema in the module docstring)."""
        index = to_utc_index(times)
        if self.cache is None:
            return self._compute_asof(symbol, index)
        key = (self.fingerprint, symbol, len(index), _digest(index.asi8))
        hit = self.cache.get(key)
        if hit is None:
            hit = self._compute_asof(symbol, index)
            self.cache.put(key, hit)
        return hit.copy()

    def _compute_asof(self, symbol: str, index: pd.DatetimeIndex) -> pd.DataFrame:
        rows = self._lookup(symbol, index.asi8)
        return pd.DataFrame({"price_usd": rows.price_usd, "price_ts": rows.price_ts,
                             "price_kind": rows.price_kind, "source": rows.source,
                             "status": rows.status}, index=index)

    def asof_rows(self, symbols: list[str], at: object) -> AsOfRows:
        """As-of USD prices of many symbols at one time, as plain arrays (no pandas).

        A refresh values every holding at the same instant: one lookup per symbol in numpy,
        where a frame per symbol (``asof``) would cost far more than the lookups themselves.
        """
        return lookup_symbols(self._series, list(symbols), int(to_utc_index(at).asi8[0]),
                              asset_kinds=self.asset_kinds, limits=self.limits)

    def price_btc(self, symbol: str, times: object) -> pd.DataFrame:
        """As-of price of one unit of ``symbol`` in BTC at each time.

        Returns:
            Frame indexed by time: price_btc, price_usd, btc_usd, price_ts, btc_ts, source,
            status (the worse of the asset's and BTC's status; price_btc NaN when either has
            no price).
        """
        asset, btc = self.asof(symbol, times), self.asof(BTC, times)
        return pd.DataFrame({"price_btc": asset["price_usd"] / btc["price_usd"],
                             "price_usd": asset["price_usd"], "btc_usd": btc["price_usd"],
                             "price_ts": asset["price_ts"], "btc_ts": btc["price_ts"],
                             "source": asset["source"],
                             "status": worse_status(asset["status"], btc["status"])},
                            index=asset.index)

    def _scalar_price_btc(self, symbol: str, timestamp: datetime) -> float:
        at = to_utc_index(timestamp)
        for sym in (symbol, BTC):
            row = self.asof(sym, at).iloc[0]
            if row["status"] == NO_PRICE:
                raise NoPriceError(f"{sym}: no price at or before {at[0].isoformat()}")
            if row["status"] == STALE:
                limit = self.limits.limit(self.asset_kinds.get(sym, "crypto"), row["price_kind"])
                raise StalePriceError(sym, row["price_ts"], at[0], limit)
        return float(self.price_btc(symbol, at)["price_btc"].iloc[0])

    def to_btc(self, amount: float, asset_symbol: str, timestamp: datetime) -> float:
        """Value of ``amount`` units of an asset in BTC at ``timestamp`` (as-of prices).

        Raises:
            NoPriceError: the asset or BTC has no price at or before ``timestamp``.
            StalePriceError: that price is older than its staleness limit.
            ValueError: ``amount`` is not finite or ``timestamp`` is naive.
        """
        if not np.isfinite(amount):
            raise ValueError(f"amount must be finite, got {amount}")
        return float(amount) * self._scalar_price_btc(asset_symbol, timestamp)

    def from_btc(self, btc_amount: float, target_symbol: str, timestamp: datetime) -> float:
        """Units of ``target_symbol`` worth ``btc_amount`` BTC at ``timestamp`` (as-of prices).

        Raises:
            NoPriceError, StalePriceError, ValueError: as ``to_btc``.
        """
        if not np.isfinite(btc_amount):
            raise ValueError(f"btc_amount must be finite, got {btc_amount}")
        return float(btc_amount) / self._scalar_price_btc(target_symbol, timestamp)

    def to_btc_series(self, amounts: pd.Series, asset_symbol: str) -> pd.DataFrame:
        """Bulk ``to_btc``: amounts indexed by time -> frame of value_btc + ``price_btc`` columns.

        Past a limit nothing is raised: ``status`` says "stale" (value kept, from the old price)
        or "no_price" (value NaN). Never a silent zero.
        """
        out = self.price_btc(asset_symbol, amounts.index)
        out.insert(0, "value_btc", amounts.to_numpy(float) * out["price_btc"].to_numpy())
        return out

    def from_btc_series(self, btc_amounts: pd.Series, target_symbol: str) -> pd.DataFrame:
        """Bulk ``from_btc``: BTC amounts indexed by time -> ``amount`` + price columns."""
        out = self.price_btc(target_symbol, btc_amounts.index)
        out.insert(0, "amount", btc_amounts.to_numpy(float) / out["price_btc"].to_numpy())
        return out

    def to_btc_frame(self, quantities: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Bulk ``to_btc`` of a frame (index times, one column of quantities per symbol).

        Returns:
            ``(values_btc, status)``: two frames shaped like ``quantities``; values NaN where
            the status is "no_price", kept (but flagged) where "stale".
        """
        values, status = {}, {}
        for symbol in quantities.columns:
            conv = self.to_btc_series(quantities[symbol], str(symbol))
            values[symbol], status[symbol] = conv["value_btc"], conv["status"]
        index = quantities.index
        return (pd.DataFrame(values, index=index, columns=quantities.columns),
                pd.DataFrame(status, index=index, columns=quantities.columns))
