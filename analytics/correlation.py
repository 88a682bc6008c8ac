"""Correlation of daily log returns of USD closes, aligned pair by pair over mixed calendars.

Close frame (input): the wide frame of ``Repository.load_closes()``: index ``ts`` (tz-aware
UTC, daily at 00:00, sorted, unique), one float column per symbol, NaN where an asset has no
bar (stocks have no weekend rows). Prices must be USD: BTC priced in BTC never moves.

Pair semantics (the same in every function here): for assets (a, b), take the closes dated in
the window ``(as_of - lookback_days, as_of]`` on the dates where **both** have a close, then
the log returns between consecutive such dates, then Pearson on those returns. No forward fill,
so a stock/crypto pair never sees a weekend zero return. ``n_obs`` is the number of those
returns; a pair with fewer than ``min_obs`` (default 20) gets NaN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.units import BTC

logger = logging.getLogger(__name__)

MIN_OBS = 20
BENCHMARK = BTC  # every correlation is read against BTC


@dataclass(frozen=True)
class CorrelationResult:
    """A correlation matrix with the number of returns behind each number."""

    as_of: pd.Timestamp
    lookback_days: int
    min_obs: int
    matrix: pd.DataFrame  # symbols x symbols, NaN where n_obs < min_obs or a series is flat
    n_obs: pd.DataFrame  # symbols x symbols, int64


def _check_closes(prices: pd.DataFrame) -> None:
    if not isinstance(prices.index, pd.DatetimeIndex) or prices.index.tz is None:
        raise ValueError("close frame needs a tz-aware DatetimeIndex")
    if not prices.index.is_monotonic_increasing or not prices.index.is_unique:
        raise ValueError("close frame index must be sorted and unique")
    if not prices.columns.is_unique:
        raise ValueError("close frame has duplicate columns")


def _check_positive(values: np.ndarray) -> None:
    # fmin/fmax skip NaN (a missing bar) and are much cheaper than masking.
    if values.size and (np.fmin.reduce(values, axis=None) <= 0
                        or np.fmax.reduce(values, axis=None) == np.inf):
        raise ValueError("closes must be positive and finite (NaN marks a missing bar)")


def _log_closes(values: np.ndarray) -> np.ndarray:
    _check_positive(values)
    return np.log(values)


def _standardized_returns(logp: np.ndarray) -> np.ndarray:
    """Log returns along each row (one asset per row), demeaned, scaled to unit norm.

    A flat row (zero variance) becomes NaN: Pearson is undefined for it.
    """
    ret = np.diff(logp, axis=1)
    ret -= ret.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", ret, ret))
    norm[norm == 0] = np.nan                # x / NaN is NaN without a warning
    ret /= norm[:, None]
    return ret


def _calendars(present: np.ndarray) -> tuple[np.ndarray, list[slice], list[np.ndarray]]:
    """Group assets (rows of ``present``, one column per date) by their dates with a close.

    Returns the asset order that makes every group contiguous, each group's slice in that
    order and each group's date mask.
    """
    groups: dict[bytes, list[int]] = {}
    for asset, row in enumerate(present):
        groups.setdefault(row.tobytes(), []).append(asset)
    order = np.fromiter((a for members in groups.values() for a in members), dtype="int64",
                        count=len(present))
    sizes = np.cumsum([0, *(len(members) for members in groups.values())])
    slices = [slice(int(a), int(b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return order, slices, [present[members[0]] for members in groups.values()]


def _stamps(index: pd.DatetimeIndex) -> np.ndarray:
    """UTC datetime64 values of a tz-aware index (numpy compares across units correctly)."""
    return index.asi8.view(f"datetime64[{index.unit}]")


def _resolve_as_of(prices: pd.DataFrame, as_of: object) -> pd.Timestamp:
    if as_of is None:
        if prices.empty:
            raise ValueError("close frame is empty: no as_of date")
        return prices.index[-1]
    stamp = pd.Timestamp(as_of)
    if stamp.tzinfo is None:
        raise ValueError("as_of must be tz-aware (UTC)")
    return stamp.tz_convert("UTC")


def _pairwise(closes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlation and return counts of all column pairs of a close array (NaN gaps).

    Works on the assets reordered so that each calendar is a contiguous block (blocks are then
    plain slices) and puts the original order back at the end. Written to allocate little:
    on a busy machine fresh pages cost about as much as the arithmetic.
    """
    n_dates, n = closes.shape
    if n_dates < 2 or n == 0:
        return np.full((n, n), np.nan), np.zeros((n, n), dtype="int64")
    _check_positive(closes)
    present = np.isnan(closes.T)
    np.logical_not(present, out=present)
    order, slices, masks = _calendars(present)
    assets = closes.T[order]                  # one row per asset, calendars contiguous
    np.log(assets, out=assets)
    corr = np.full((n, n), np.nan)
    counts = np.zeros((len(slices), len(slices)), dtype="int64")
    cache: dict[tuple[bytes, int], np.ndarray] = {}

    def z(common: np.ndarray, rows: np.ndarray, group: int) -> np.ndarray:
        # A calendar is often a subset of another (equity inside crypto): reuse its returns.
        key = (common.tobytes(), group)
        if key not in cache:
            block = assets[slices[group]]
            cache[key] = _standardized_returns(block if rows.size == n_dates else block[:, rows])
        return cache[key]

    for g, sl_g in enumerate(slices):
        for h in range(g, len(slices)):
            common = masks[g] & masks[h]
            rows = np.flatnonzero(common)
            counts[g, h] = counts[h, g] = max(rows.size - 1, 0)
            if rows.size >= 2:
                block = z(common, rows, g) @ z(common, rows, h).T
                corr[sl_g, slices[h]] = block
                corr[slices[h], sl_g] = block.T
    back = np.argsort(order)
    group_of = np.repeat(np.arange(len(slices)), [s.stop - s.start for s in slices])[back]
    buffer = np.empty_like(corr)
    np.take(corr, back, axis=0, out=buffer)
    np.take(buffer, back, axis=1, out=corr)
    return corr, counts.take(group_of, axis=0).take(group_of, axis=1)


def correlation_matrix(prices: pd.DataFrame, lookback_days: int = 90, *,
                       as_of: object = None, min_obs: int = MIN_OBS) -> CorrelationResult:
    """Pairwise-aligned Pearson correlation of daily log returns of USD closes.

    Columns sharing a calendar (same present dates in the window, e.g. all crypto) are
    correlated as one block; two calendars (e.g. crypto x equity) are correlated on the
    intersection of their dates with one matrix product. Columns with irregular gaps simply
    form calendars of their own, so the result always equals the plain per-pair computation.

    Args:
        prices: close frame (see module docstring).
        lookback_days: window length in calendar days.
        as_of: window end (tz-aware); default the last index date of ``prices``.
        min_obs: fewest common returns for a number.

    Returns:
        CorrelationResult; the diagonal is 1 where the asset has ``min_obs`` returns.

    Raises:
        ValueError: bad frame, non-positive closes, ``lookback_days < 1`` or ``min_obs < 2``.
    """
    _check_closes(prices)
    if lookback_days < 1 or min_obs < 2:
        raise ValueError("lookback_days must be >= 1 and min_obs >= 2")
    end = _resolve_as_of(prices, as_of)
    # The index is sorted (checked): the window (end - lookback, end] is one row slice.
    # numpy searches are much cheaper than pandas' here.
    stamps = _stamps(prices.index)
    start = (end - pd.Timedelta(days=lookback_days)).to_datetime64()
    rows = slice(np.searchsorted(stamps, start, side="right"),
                 np.searchsorted(stamps, end.to_datetime64(), side="right"))
    window = prices.to_numpy(dtype="float64")[rows]
    corr, n_obs = _pairwise(window)
    np.clip(corr, -1.0, 1.0, out=corr)
    corr[n_obs < min_obs] = np.nan
    diag = np.diag_indices(corr.shape[0])
    corr[diag] = np.where(np.isnan(corr[diag]), np.nan, 1.0)
    names = prices.columns
    return CorrelationResult(
        as_of=end, lookback_days=int(lookback_days), min_obs=int(min_obs),
        matrix=pd.DataFrame(corr, index=names, columns=names, copy=False),
        n_obs=pd.DataFrame(n_obs, index=names, columns=names, copy=False))


def _windowed(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gather values[lo:hi] per window into a padded (windows x width) array plus its mask."""
    width = int((hi - lo).max(initial=0))
    offs = lo[:, None] + np.arange(width)[None, :]
    mask = offs < hi[:, None]
    return np.where(mask, values[np.minimum(offs, max(values.size - 1, 0))], 0.0), mask


def _pair_rolling(pair: np.ndarray, dates: pd.DatetimeIndex, ends: pd.DatetimeIndex,
                  window: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    """Rolling Pearson of one aligned pair (no NaN) evaluated at each of ``ends``."""
    if len(dates) < 2:
        return np.full(len(ends), np.nan), np.zeros(len(ends), dtype="int64")
    ret = np.diff(_log_closes(pair), axis=0)
    stamps, at = _stamps(dates), _stamps(ends)
    # Returns [lo, hi): start date inside the window, end date at or before the window end.
    hi = np.searchsorted(stamps[1:], at, side="right")
    lo = np.searchsorted(stamps[:-1], at - window.to_timedelta64(), side="right")
    lo = np.minimum(lo, hi)
    count = hi - lo
    x, mask = _windowed(ret[:, 0], lo, hi)
    y, _ = _windowed(ret[:, 1], lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(mask, x - x.sum(axis=1, keepdims=True) / count[:, None], 0.0)
        y = np.where(mask, y - y.sum(axis=1, keepdims=True) / count[:, None], 0.0)
        r = (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
    return np.clip(r, -1.0, 1.0), count


def rolling_btc_correlation(prices: pd.DataFrame, window_days: int = 30, *,
                            benchmark: str = BENCHMARK, min_obs: int = MIN_OBS) -> pd.DataFrame:
    """Rolling correlation of each asset to the benchmark (BTC), same pair semantics.

    The value at date t is ``correlation_matrix(prices, window_days, as_of=t)`` for the pair
    (asset, benchmark), evaluated at every index date. Note: a 30-day window holds only 19-21
    equity returns, so pass a smaller ``min_obs`` (e.g. 15) for an unbroken stock line.

    Args:
        prices: close frame (see module docstring) holding the benchmark column.
        window_days: window length in calendar days (e.g. 30 or 90).
        benchmark: the column every asset is compared with.
        min_obs: fewest common returns for a number.

    Returns:
        Frame indexed like ``prices``, one column per non-benchmark asset, NaN without a number.

    Raises:
        ValueError: bad frame, missing benchmark, non-positive closes, bad window or min_obs.
    """
    _check_closes(prices)
    if benchmark not in prices.columns:
        raise ValueError(f"benchmark {benchmark} is not a column of the close frame")
    if window_days < 1 or min_obs < 2:
        raise ValueError("window_days must be >= 1 and min_obs >= 2")
    window = pd.Timedelta(days=window_days)
    out = {}
    for symbol in prices.columns.drop(benchmark):
        both = prices[[benchmark, symbol]].dropna()
        r, count = _pair_rolling(both.to_numpy(dtype="float64"), both.index, prices.index, window)
        out[symbol] = np.where(count >= min_obs, r, np.nan)
    return pd.DataFrame(out, index=prices.index, columns=prices.columns.drop(benchmark))
