"""Convert amounts between assets and BTC at a point in time, with as-of prices (pure: no IO).

``value_btc = amount × usd_price(asset, t) / usd_price(BTC, t)`` where each price is the last
one at or before ``t`` (never a later one; nothing before an asset's first price). A price older
than its staleness limit (per asset kind and price kind, from config) is an error in the scalar
forms and a flag in the bulk forms.

Inputs:
    closes  wide frame of USD closes: index ts (tz-aware UTC), one column per symbol, NaN gaps
            (``Repository.load_closes()``); price kind "close".
    latest  optional candidates frame (``Repository.load_latest_prices()``): symbol, price_usd,
            ts (UTC), source, kind "close" | "quote".

As-of frame (``BTCConverter.asof``), one row per requested timestamp:
    price_usd float (NaN when no price), price_ts datetime64[ns, UTC] (NaT), price_kind str,
    source str, status "ok" | "stale" | "no_price"
The pseudo-symbol ``USD`` (price 1 at all times) is accepted wherever a symbol is.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

BTC = "BTC"
USD = "USD"
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


class ConversionCache:
    """Thread-safe bounded LRU of as-of lookups keyed by (data fingerprint, symbol, times)."""

    def __init__(self, maxsize: int = 128) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> pd.DataFrame | None:
        """The cached frame for key (counted as a hit), or None (a miss)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: pd.DataFrame) -> None:
        """Store a frame, evicting the least recently used past ``maxsize``."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


# Shared by every converter of the process: equal data (same fingerprint) reuses past lookups,
# so a 30 s refresh that reloads unchanged closes does not recompute the history.
DEFAULT_CACHE = ConversionCache()


def to_utc_index(times: object) -> pd.DatetimeIndex:
    """Tz-aware timestamps (scalar or list-like) as a ns-unit UTC DatetimeIndex."""
    index = pd.DatetimeIndex(pd.to_datetime([times] if np.isscalar(times)
                                            or isinstance(times, datetime) else times))
    if len(index) and index.tz is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return index.tz_convert("UTC").as_unit("ns")


@dataclass(frozen=True)
class _Prices:
    ts: np.ndarray       # int64 ns since epoch, sorted ascending
    price: np.ndarray    # float64 USD
    kind: np.ndarray     # object: "close" | "quote"
    source: np.ndarray   # object


_NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds


@dataclass(frozen=True)
class AsOfRows:
    """``BTCConverter.asof_rows``: one entry per symbol, the ``asof`` columns as arrays."""

    symbols: list[str]
    price_usd: np.ndarray   # float, NaN without a price
    ts_ns: np.ndarray       # int64 ns since epoch, _NAT without a price
    price_kind: np.ndarray  # object: "close" | "quote" | "fixed" | None
    source: np.ndarray      # object
    status: np.ndarray      # object: ok | stale | no_price

    @property
    def price_ts(self) -> pd.DatetimeIndex:
        """Times of the prices (NaT without one)."""
        return pd.DatetimeIndex(self.ts_ns.astype("datetime64[ns]"), tz="UTC")


def _ns(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1) * 1000


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
        closes: wide USD close frame (may be empty); see the module docstring.
        asset_kinds: symbol -> "crypto" | "equity" (unknown symbols are treated as crypto).
        limits: staleness limits.
        latest: optional latest-price candidates frame (adds live quotes).
        cache: as-of cache (the process-wide ``DEFAULT_CACHE`` by default; None disables).
    """

    def __init__(self, closes: pd.DataFrame | None = None, *, asset_kinds: Mapping[str, str],
                 limits: StalenessLimits = DEFAULT_LIMITS, latest: pd.DataFrame | None = None,
                 cache: ConversionCache | None = DEFAULT_CACHE) -> None:
        self.asset_kinds = dict(asset_kinds)
        self.limits = limits
        self.cache = cache
        self._series = self._build(closes, latest)

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

    @staticmethod
    def _build(closes: pd.DataFrame | None, latest: pd.DataFrame | None) -> dict[str, _Prices]:
        # Flat numpy arrays, one sort, one split: a pandas melt/sort/groupby (or per-symbol
        # work) costs far more than the data at 200 assets, on every refresh.
        sym, ns, price, kind, source = [], [], [], [], []
        if closes is not None and not closes.empty:
            values = closes.to_numpy(dtype=float)
            have = ~np.isnan(values)
            rows, cols = np.nonzero(have)
            sym.append(np.asarray(closes.columns.astype(str), dtype=object)[cols])
            ns.append(to_utc_index(closes.index).asi8[rows])
            price.append(values[rows, cols])
            kind.append(np.full(len(rows), "close", dtype=object))
            source.append(kind[-1])
        if latest is not None and not latest.empty:
            sym.append(latest["symbol"].astype(str).to_numpy(dtype=object))
            ns.append(to_utc_index(latest["ts"]).asi8)
            price.append(latest["price_usd"].to_numpy(dtype=float))
            kind.append(latest["kind"].to_numpy(dtype=object))
            source.append(latest["source"].to_numpy(dtype=object))
        if not sym:
            return {}
        sym_all, ns_all, price_all = (np.concatenate(a) for a in (sym, ns, price))
        if (price_all <= 0).any() or not np.isfinite(price_all).all():
            raise ValueError("prices must be positive and finite")
        names, codes = np.unique(sym_all.astype(str), return_inverse=True)
        # Stable: at equal (symbol, ts) a candidate row (after the closes) wins.
        order = np.lexsort((ns_all, codes))
        codes = codes[order]
        bounds = np.searchsorted(codes, np.arange(len(names) + 1))
        ts_s, price_s = ns_all[order].astype(np.int64), price_all[order]
        kind_s, source_s = np.concatenate(kind)[order], np.concatenate(source)[order]
        return {str(name): _Prices(ts_s[a:b], price_s[a:b], kind_s[a:b], source_s[a:b])
                for name, a, b in zip(names, bounds[:-1], bounds[1:], strict=True)}

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
        n = len(index)
        if symbol == USD and USD not in self._series:
            return pd.DataFrame({"price_usd": np.ones(n), "price_ts": index,
                                 "price_kind": "fixed", "source": "fixed", "status": OK},
                                index=index)
        series = self._series.get(symbol)
        if series is None:
            return pd.DataFrame({"price_usd": np.full(n, np.nan),
                                 "price_ts": pd.DatetimeIndex([pd.NaT] * n, tz="UTC"),
                                 "price_kind": None, "source": None, "status": NO_PRICE},
                                index=index)
        # Last price at or before t: never a later one, nothing before the first price.
        pos = np.searchsorted(series.ts, index.asi8, side="right") - 1
        found = pos >= 0
        take = np.where(found, pos, 0)
        price_ns = np.where(found, series.ts[take], np.iinfo(np.int64).min)
        kinds = np.where(found, series.kind[take], None)
        age = index.asi8 - series.ts[take]
        asset_kind = self.asset_kinds.get(symbol, "crypto")
        limit_ns = np.where(kinds == "quote", _ns(self.limits.limit(asset_kind, "quote")),
                            _ns(self.limits.limit(asset_kind, "close")))
        status = np.where(~found, NO_PRICE, np.where(age > limit_ns, STALE, OK))
        price_ts = pd.DatetimeIndex(np.where(found, price_ns, np.iinfo(np.int64).min)
                                    .astype("datetime64[ns]"), tz="UTC")
        return pd.DataFrame({"price_usd": np.where(found, series.price[take], np.nan),
                             "price_ts": price_ts, "price_kind": kinds,
                             "source": np.where(found, series.source[take], None),
                             "status": status}, index=index)

    def asof_rows(self, symbols: list[str], at: object) -> AsOfRows:
        """As-of USD prices of many symbols at one time, as plain arrays (no pandas).

        A refresh values every holding at the same instant: one lookup per symbol in numpy,
        where a frame per symbol (``asof``) would cost far more than the lookups themselves.
        """
        stamp = int(to_utc_index(at).asi8[0])
        n = len(symbols)
        price, ts = np.full(n, np.nan), np.full(n, _NAT, dtype=np.int64)
        kinds, sources = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
        status = np.full(n, NO_PRICE, dtype=object)
        for i, symbol in enumerate(symbols):
            series = self._series.get(symbol)
            if series is None:
                if symbol == USD:
                    price[i], ts[i], kinds[i], sources[i], status[i] = (
                        1.0, stamp, "fixed", "fixed", OK)
                continue
            pos = int(np.searchsorted(series.ts, stamp, side="right")) - 1
            if pos < 0:
                continue
            kind = series.kind[pos]
            limit = self.limits.limit(self.asset_kinds.get(symbol, "crypto"),
                                      "quote" if kind == "quote" else "close")
            price[i], ts[i], kinds[i], sources[i] = (series.price[pos], series.ts[pos], kind,
                                                     series.source[pos])
            status[i] = STALE if stamp - ts[i] > _ns(limit) else OK
        return AsOfRows(symbols=list(symbols), price_usd=price, ts_ns=ts, price_kind=kinds,
                        source=sources, status=status)

    def price_btc(self, symbol: str, times: object) -> pd.DataFrame:
        """As-of price of one unit of ``symbol`` in BTC at each time.

        Returns:
            Frame indexed by time: price_btc, price_usd, btc_usd, price_ts, btc_ts, source,
            status (the worse of the asset's and BTC's status; price_btc NaN when either has
            no price).
        """
        asset, btc = self.asof(symbol, times), self.asof(BTC, times)
        status = np.where(btc["status"].map(_SEVERITY) > asset["status"].map(_SEVERITY),
                          btc["status"], asset["status"])
        return pd.DataFrame({"price_btc": asset["price_usd"] / btc["price_usd"],
                             "price_usd": asset["price_usd"], "btc_usd": btc["price_usd"],
                             "price_ts": asset["price_ts"], "btc_ts": btc["price_ts"],
                             "source": asset["source"], "status": status}, index=asset.index)

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
