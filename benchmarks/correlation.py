"""Correlation matrix of 200 assets × 365 days of mixed calendars against its numpy floor.

Measured: ``analytics.correlation.correlation_matrix`` on the wide close frame (crypto every
day, equities on US business days, NaN elsewhere), pair-aligned as the dashboard does.
Floor: ``numpy.corrcoef`` on an already aligned panel: the same closes cut beforehand (untimed)
to the dates where every asset has a close, as a numpy array; timed are the log returns of
that panel and ``corrcoef``: the arithmetic of the job without any alignment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.correlation import correlation_matrix
from benchmarks.common import Result, median, ratio, timed
from benchmarks.dataset import aligned_window, history, real_series, today, universe

N_ASSETS, DAYS = 200, 365


def panel(n_assets: int = N_ASSETS, days: int = DAYS) -> pd.DataFrame:
    """Wide close frame of the last ``days`` days (NaN where a market was closed)."""
    series = real_series()
    frame = history(universe(n_assets, series), series, end=today(), days=days)
    return aligned_window(frame, days)


def aligned_panel(closes: pd.DataFrame) -> np.ndarray:
    """The closes on the dates every asset has one (dates x assets)."""
    return closes.dropna().to_numpy(dtype="float64")


def floor(aligned: np.ndarray) -> np.ndarray:
    """The floor: log returns of the aligned panel and their correlation matrix."""
    return np.corrcoef(np.diff(np.log(aligned), axis=0).T)


def check(closes: pd.DataFrame) -> float:
    """Largest difference between the two paths where they define the same numbers.

    On an aligned panel (no gaps) ``correlation_matrix`` must equal ``numpy.corrcoef``.
    """
    aligned = closes.dropna()
    ours = correlation_matrix(aligned, lookback_days=DAYS + 1, min_obs=2).matrix.to_numpy()
    return float(np.nanmax(np.abs(ours - floor(aligned_panel(closes)))))


def results(*, quick: bool) -> list[Result]:
    """Median of 11 (quick) or 101 runs of ours and the floor; target <= 3x the floor."""
    runs = 11 if quick else 101
    closes = panel()
    aligned = aligned_panel(closes)
    ours, floors = [], []
    for _ in range(runs):
        ours.append(timed(lambda: correlation_matrix(closes, lookback_days=DAYS))[0])
        floors.append(timed(lambda: floor(aligned))[0])
    value, base = median(ours), median(floors)
    r = ratio(value, base)
    return [Result(f"correlation {N_ASSETS} x {DAYS} d, mixed calendars", round(value, 3), "ms",
                   round(base, 3), r, "<= 3x floor", r is not None and r <= 3.0)]
