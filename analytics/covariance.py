"""Covariance of BTC-denominated daily log returns, pairwise aligned and shrunk (pure: no IO).

Close frame (input): the wide USD close frame of ``analytics.correlation`` (tz-aware daily
index, one column per symbol, NaN where an asset has no bar). BTC's column is required.

An asset's BTC price is ``close_usd / btc_close_usd`` on the dates where both exist. For a pair
(a, b) the returns are taken between consecutive dates where **both** BTC prices exist inside
the window ``(as_of - lookback_days, as_of]`` (no forward fill: a stock never gets a weekend
zero return), exactly as the correlation module does for USD prices.

A matrix of pairwise estimates need not be positive definite, and with few common days a plain
sample covariance is singular. The estimate is therefore shrunk toward its own diagonal (the
variances are kept, the covariances pulled toward 0) with the Ledoit–Wolf optimal intensity
(Ledoit & Wolf 2004; with this target it is Schäfer & Strimmer's "target D"): the summed
estimation variance of the off-diagonal covariances over their summed squares. If that is
still not enough for positive definiteness the intensity is raised to the smallest value that
is (the eigenvalues of the shrunk correlation matrix are ``delta + (1 - delta) * lambda``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.correlation import BENCHMARK, _calendars, _check_closes, _check_positive

logger = logging.getLogger(__name__)

# Fewest returns an asset needs in the window to be estimated at all.
MIN_ASSET_OBS = 30
# Fewest common returns for a pair's own covariance; below it the pair is left at the target (0).
MIN_PAIR_OBS = 10
# Smallest eigenvalue kept in the shrunk correlation matrix (positive definite, not just PSD).
EIGEN_FLOOR = 1e-6
DAYS_PER_YEAR = 365
# A last close older than this before the window end means the series has ended.
ENDED_AFTER = pd.Timedelta(days=7)


@dataclass(frozen=True)
class CovarianceEstimate:
    """Shrunk covariance of daily BTC-denominated log returns, and who was left out and why."""

    as_of: pd.Timestamp
    lookback_days: int
    cov: pd.DataFrame          # symbols x symbols (daily), positive definite
    n_obs: pd.DataFrame        # common returns behind each pair (int64)
    shrinkage: float           # intensity used, in [0, 1]
    excluded: dict[str, str]   # symbol -> reason

    @property
    def symbols(self) -> list[str]:
        """The estimated assets, in matrix order."""
        return [str(s) for s in self.cov.columns]


def _block_moments(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariances (1/(n-1)) of rows of x with rows of y, and the variance of each estimate.

    The estimation variance of s_ij is mean((x_i - mean) ** 2 (y_j - mean) ** 2 - s_ij ** 2) / n,
    the Ledoit–Wolf pi_ij divided by the number of returns.
    """
    n = x.shape[1]
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    s_biased = xc @ yc.T / n
    pi = (xc * xc) @ (yc * yc).T / n - s_biased ** 2
    return s_biased * n / (n - 1), np.maximum(pi, 0.0) / n


def pairwise_covariance(logp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-aligned covariance of returns of log prices (one asset per row, NaN gaps).

    Assets sharing a calendar are handled as one block (one matrix product per pair of
    calendars), so the cost does not grow with the number of pairs.

    Returns:
        covariance, its estimation variance, and the number of common returns per pair.
    """
    n = logp.shape[0]
    cov, var_est = np.zeros((n, n)), np.zeros((n, n))
    counts = np.zeros((n, n), dtype="int64")
    order, slices, masks = _calendars(~np.isnan(logp))
    rows_of = [order[sl] for sl in slices]
    for g, members_g in enumerate(rows_of):
        for h in range(g, len(rows_of)):
            dates = np.flatnonzero(masks[g] & masks[h])
            members_h = rows_of[h]
            grid = np.ix_(members_g, members_h)
            counts[grid] = max(dates.size - 1, 0)
            if dates.size < 3:
                continue
            x = np.diff(logp[np.ix_(members_g, dates)], axis=1)
            y = np.diff(logp[np.ix_(members_h, dates)], axis=1)
            block, est = _block_moments(x, y)
            cov[grid], var_est[grid] = block, est
            cov[np.ix_(members_h, members_g)] = block.T
            var_est[np.ix_(members_h, members_g)] = est.T
            counts[np.ix_(members_h, members_g)] = max(dates.size - 1, 0)
    return cov, var_est, counts


def shrink_to_diagonal(cov: np.ndarray, var_est: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit–Wolf shrinkage toward the diagonal, raised if needed to be positive definite.

    Args:
        cov: symmetric covariance with a positive diagonal.
        var_est: estimation variance of each entry (same shape).

    Returns:
        The shrunk covariance and the intensity used.
    """
    n = cov.shape[0]
    if n <= 1:
        return cov.copy(), 0.0
    off = ~np.eye(n, dtype=bool)
    denom = float(np.square(cov[off]).sum())
    delta = float(np.clip(var_est[off].sum() / denom, 0.0, 1.0)) if denom > 0 else 1.0
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    lam = float(np.linalg.eigvalsh(corr)[0])
    if lam < EIGEN_FLOOR:
        # delta + (1 - delta) * lam >= floor  <=>  delta >= (floor - lam) / (1 - lam)
        delta = max(delta, (EIGEN_FLOOR - lam) / (1.0 - lam))
    shrunk = (1.0 - delta) * cov
    shrunk[np.diag_indices(n)] = np.diag(cov)
    return shrunk, delta


def _window(closes: pd.DataFrame, lookback_days: int, as_of: pd.Timestamp) -> pd.DataFrame:
    start = as_of - pd.Timedelta(days=lookback_days)
    return closes.loc[(closes.index > start) & (closes.index <= as_of)]


def _exclusions(prices_btc: pd.DataFrame, counts: np.ndarray, history_end: pd.Series,
                as_of: pd.Timestamp, min_obs: int) -> dict[str, str]:
    """Assets with too few returns in the window, each with the reason."""
    out = {}
    for i, symbol in enumerate(prices_btc.columns):
        n = int(counts[i, i])
        last = history_end.get(symbol)
        if last is None or pd.isna(last):
            out[symbol] = "no stored price history"
        elif last < as_of - ENDED_AFTER:
            # A series that stopped (MATIC renamed) cannot be bought now, whatever its past.
            out[symbol] = f"series ended {last:%Y-%m-%d}"
        elif n < min_obs:
            out[symbol] = f"only {n} daily returns in the window (need {min_obs})"
    return out


def btc_covariance(closes: pd.DataFrame, lookback_days: int = 365, *, as_of: object = None,
                   min_obs: int = MIN_ASSET_OBS, min_pair_obs: int = MIN_PAIR_OBS,
                   benchmark: str = BENCHMARK) -> CovarianceEstimate:
    """Shrunk covariance of daily log returns of every non-BTC asset priced in BTC.

    Args:
        closes: USD close frame (see module docstring) with a ``benchmark`` column.
        lookback_days: window length in calendar days.
        as_of: window end (tz-aware); default the benchmark's last close.
        min_obs: fewest returns an asset needs (fewer: excluded, with the reason).
        min_pair_obs: fewest common returns for a pair's own covariance (fewer: 0).
        benchmark: the unit of account's column.

    Returns:
        CovarianceEstimate over the assets kept (may be empty).

    Raises:
        ValueError: bad frame, no benchmark column or close, non-positive closes.
    """
    _check_closes(closes)
    if benchmark not in closes.columns:
        raise ValueError(f"{benchmark} is not a column of the close frame")
    if lookback_days < 2 or min_obs < 3 or min_pair_obs < 3:
        raise ValueError("lookback_days must be >= 2, min_obs and min_pair_obs >= 3")
    end = closes[benchmark].last_valid_index() if as_of is None else pd.Timestamp(as_of)
    if end is None or end.tzinfo is None:
        raise ValueError("no benchmark close (or a naive as_of): no window end")
    history_end = closes.drop(columns=benchmark).apply(pd.Series.last_valid_index)
    window = _window(closes, lookback_days, end)
    values = window.to_numpy(dtype="float64")
    _check_positive(values)
    others = window.columns.drop(benchmark)
    prices_btc = window[others].div(window[benchmark], axis=0)
    logp = np.log(prices_btc.to_numpy(dtype="float64").T)
    cov, var_est, counts = pairwise_covariance(logp)
    excluded = _exclusions(prices_btc, counts, history_end, end, min_obs)
    keep = np.array([s not in excluded for s in others], dtype=bool)
    cov, var_est, counts = cov[np.ix_(keep, keep)], var_est[np.ix_(keep, keep)], \
        counts[np.ix_(keep, keep)]
    thin = counts < min_pair_obs
    cov[thin], var_est[thin] = 0.0, 0.0
    flat = np.flatnonzero(np.diag(cov) <= 0)
    if flat.size:
        raise ValueError(f"{others[keep][flat[0]]} does not move against BTC: no variance")
    shrunk, delta = shrink_to_diagonal(cov, var_est)
    names = others[keep]
    logger.debug("btc covariance: %d assets, shrinkage %.3f", len(names), delta)
    return CovarianceEstimate(
        as_of=end, lookback_days=int(lookback_days),
        cov=pd.DataFrame(shrunk, index=names, columns=names),
        n_obs=pd.DataFrame(counts, index=names, columns=names),
        shrinkage=delta, excluded=excluded)
