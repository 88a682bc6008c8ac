"""The as-of rule, written once: the last price at or before t, never a later one.

Price series are flat numpy arrays per symbol built from the stored frames:
    closes  wide frame of USD closes: index ts (tz-aware UTC), one column per symbol, NaN gaps
            (``Repository.load_closes()``); price kind "close".
    latest  optional candidates frame (``Repository.load_latest_prices()``): symbol, price_usd,
            ts (UTC), source, kind "close" | "quote".

A lookup (``lookup``) gives, per requested time, the price, its time, kind and source and a
status (analytics/staleness.py). The pseudo-symbol ``USD`` (price 1 at all times) is accepted
wherever a symbol is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import pandas as pd

from analytics.staleness import OK, StalenessLimits, limits_ns, price_status
from analytics.units import USD

NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds


def to_utc_index(times: object) -> pd.DatetimeIndex:
    """Tz-aware timestamps (scalar or list-like) as a ns-unit UTC DatetimeIndex."""
    index = pd.DatetimeIndex(pd.to_datetime([times] if np.isscalar(times)
                                            or isinstance(times, datetime) else times))
    if len(index) and index.tz is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return index.tz_convert("UTC").as_unit("ns")


def positions(ts_sorted: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Index of the last time at or before each of ``at`` in ascending ``ts_sorted`` (-1: none)."""
    return np.searchsorted(ts_sorted, at, side="right") - 1


@dataclass(frozen=True)
class PriceSeries:
    """One symbol's prices, oldest first."""

    ts: np.ndarray       # int64 ns since epoch, sorted ascending
    price: np.ndarray    # float64 USD
    kind: np.ndarray     # object: "close" | "quote"
    source: np.ndarray   # object


def build_series(closes: pd.DataFrame | None, latest: pd.DataFrame | None
                 ) -> dict[str, PriceSeries]:
    """Price series per symbol from a wide close frame and a latest-price candidates frame.

    At equal (symbol, ts) a candidate row (after the closes) wins.

    Raises:
        ValueError: a price is not positive and finite, or a time is naive.
    """
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
    return {str(name): PriceSeries(ts_s[a:b], price_s[a:b], kind_s[a:b], source_s[a:b])
            for name, a, b in zip(names, bounds[:-1], bounds[1:], strict=True)}


@dataclass(frozen=True)
class AsOfRows:
    """As-of prices as plain arrays, one entry per lookup (a symbol, or a time)."""

    symbols: list[str]
    price_usd: np.ndarray   # float, NaN without a price
    ts_ns: np.ndarray       # int64 ns since epoch, NAT without a price
    price_kind: np.ndarray  # object: "close" | "quote" | "fixed" | None
    source: np.ndarray      # object
    status: np.ndarray      # object: ok | stale | no_price

    @property
    def price_ts(self) -> pd.DatetimeIndex:
        """Times of the prices (NaT without one)."""
        return pd.DatetimeIndex(self.ts_ns.astype("datetime64[ns]"), tz="UTC")


def _resolve(symbols: list[str], at_ns: np.ndarray, found: np.ndarray, fixed: np.ndarray,
             picked: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
             limit_ns: tuple[np.ndarray | int, np.ndarray | int]) -> AsOfRows:
    """The rule on picked prices: found ones with their status, ``fixed`` (USD) at 1, else none."""
    price, ts, kind, source = picked
    status = price_status(found, at_ns - ts, kind, *limit_ns)
    status[fixed] = OK
    return AsOfRows(symbols=symbols,
                    price_usd=np.where(fixed, 1.0, np.where(found, price, np.nan)),
                    ts_ns=np.where(fixed, at_ns, np.where(found, ts, NAT)).astype(np.int64),
                    price_kind=np.where(fixed, "fixed", np.where(found, kind, None)).astype(object),
                    source=np.where(fixed, "fixed", np.where(found, source, None)).astype(object),
                    status=status)


def lookup(series: PriceSeries | None, symbol: str, at_ns: np.ndarray, *, asset_kind: str,
           limits: StalenessLimits) -> AsOfRows:
    """As-of prices of one symbol at each time of ``at_ns`` (int64 ns since epoch, UTC).

    The as-of rule of every reader: the last price at or before each time (never a later one,
    nothing before the first price), its status by the staleness limits; ``USD`` without a
    series of its own is 1 at every time.
    """
    at_ns = np.asarray(at_ns, dtype=np.int64)
    n = len(at_ns)
    if series is None:
        none = np.full(n, None, dtype=object)
        return _resolve([symbol] * n, at_ns, np.zeros(n, dtype=bool),
                        np.full(n, symbol == USD), (np.full(n, np.nan), at_ns, none, none),
                        (0, 0))
    pos = positions(series.ts, at_ns)
    take = np.maximum(pos, 0)
    return _resolve([symbol] * n, at_ns, pos >= 0, np.zeros(n, dtype=bool),
                    (series.price[take], series.ts[take], series.kind[take],
                     series.source[take]), limits_ns(limits, asset_kind))


def lookup_symbols(series: Mapping[str, PriceSeries], symbols: list[str], at_ns: int, *,
                   asset_kinds: Mapping[str, str], limits: StalenessLimits) -> AsOfRows:
    """As-of prices of many symbols at one time (the rule of ``lookup``, one entry a symbol).

    A refresh values every holding at the same instant: one scalar search per symbol, then the
    rule applied to all of them at once (a ``lookup`` per symbol costs far more at 200 assets).
    """
    n = len(symbols)
    found, fixed = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    price, ts = np.full(n, np.nan), np.full(n, NAT, dtype=np.int64)
    kind, source = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    quote_ns, close_ns = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    by_kind: dict[str, tuple[int, int]] = {}
    for i, symbol in enumerate(symbols):
        one = series.get(symbol)
        if one is None:
            fixed[i] = symbol == USD
            continue
        pos = int(np.searchsorted(one.ts, at_ns, side="right")) - 1
        if pos < 0:
            continue
        asset_kind = asset_kinds.get(symbol, "crypto")
        if asset_kind not in by_kind:
            by_kind[asset_kind] = limits_ns(limits, asset_kind)
        found[i] = True
        price[i], ts[i] = one.price[pos], one.ts[pos]
        kind[i], source[i] = one.kind[pos], one.source[pos]
        quote_ns[i], close_ns[i] = by_kind[asset_kind]
    rows = _resolve(list(symbols), np.full(n, at_ns, dtype=np.int64), found, fixed,
                    (price, ts, kind, source), (quote_ns, close_ns))
    return replace(rows, status=rows.status.astype(object))
