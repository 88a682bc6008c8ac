"""Pick assets with a low correlation to BTC, spread over categories, and score diversification.

Pick frame (output)::

    rank int (1 = first pick), symbol str, category str, corr_btc float, n_obs int
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.categories import UNCATEGORIZED
from analytics.correlation import BENCHMARK, CorrelationResult

logger = logging.getLogger(__name__)

PICK_COLUMNS = ["rank", "symbol", "category", "corr_btc", "n_obs"]


@dataclass(frozen=True)
class Selection:
    """Ranked picks and the effective number of bets of BTC plus the picks."""

    picks: pd.DataFrame
    effective_bets: float
    threshold: float


def _complete_block(matrix: pd.DataFrame) -> pd.DataFrame:
    """Drop the asset with most missing correlations until none is missing."""
    block = matrix
    while len(block) and block.isna().to_numpy().any():
        worst = block.isna().sum().idxmax()
        logger.debug("effective bets: dropping %s (missing correlations)", worst)
        block = block.drop(index=worst, columns=worst)
    return block


def effective_number_of_bets(matrix: pd.DataFrame) -> float:
    """Effective number of independent bets: N**2 / sum of squared correlations.

    This is the participation ratio of the correlation matrix's eigenvalues,
    (sum lambda)**2 / sum lambda**2: N for uncorrelated assets, 1 for perfectly correlated
    (or anti-correlated) ones. Assets with missing correlations are dropped first (the one
    with most gaps, repeatedly), so the score covers the largest complete block found.

    Args:
        matrix: square correlation matrix (NaN where there is no number).

    Returns:
        The score, between 1 and the number of assets kept.

    Raises:
        ValueError: the matrix is not square or no asset has a complete row.
    """
    if matrix.shape[0] != matrix.shape[1] or not matrix.index.equals(matrix.columns):
        raise ValueError("correlation matrix must be square with matching labels")
    block = _complete_block(matrix).to_numpy(dtype="float64")
    if block.size == 0:
        raise ValueError("no asset with a complete row of correlations")
    return float(block.shape[0] ** 2 / np.square(block).sum())


def _spread(candidates: pd.DataFrame) -> pd.DataFrame:
    """Round robin over categories: each round takes every category's next best asset."""
    ordered = candidates.sort_values(["corr_btc", "symbol"])
    ordered = ordered.assign(round=ordered.groupby("category").cumcount())
    return ordered.sort_values(["round", "corr_btc", "symbol"]).drop(columns="round")


def select_low_btc_correlation(result: CorrelationResult, categories: Mapping[str, str], *,
                               threshold: float = 0.5, benchmark: str = BENCHMARK,
                               max_picks: int | None = None) -> Selection:
    """Rank the assets whose correlation to BTC is below ``threshold``.

    Lower (signed) correlation ranks first, but the ranking goes round robin over categories
    so the top picks cover as many categories as possible. Assets without a number (too few
    common returns) are never picked.

    Args:
        result: a correlation matrix holding the benchmark.
        categories: ``{symbol: category}``; unknown symbols count as ``uncategorized``.
        threshold: strict upper bound on the correlation to BTC.
        benchmark: the asset the correlation is measured against.
        max_picks: keep at most this many picks.

    Returns:
        Selection with the pick frame and the effective bets of benchmark + picks.

    Raises:
        ValueError: benchmark missing from the matrix, bad threshold or max_picks.
    """
    if benchmark not in result.matrix.columns:
        raise ValueError(f"{benchmark} is not in the correlation matrix")
    if not -1.0 <= threshold <= 1.0 or (max_picks is not None and max_picks < 0):
        raise ValueError("threshold must be in [-1, 1] and max_picks >= 0")
    corr = result.matrix[benchmark].drop(benchmark)
    low = corr[corr < threshold]            # NaN compares False: no number, no pick
    candidates = pd.DataFrame({
        "symbol": low.index.to_numpy(dtype=object),
        "category": [categories.get(s, UNCATEGORIZED) for s in low.index],
        "corr_btc": low.to_numpy(dtype="float64"),
        "n_obs": result.n_obs.loc[low.index, benchmark].to_numpy(dtype="int64"),
    })
    picks = _spread(candidates).head(max_picks) if max_picks is not None else _spread(candidates)
    picks = picks.reset_index(drop=True)
    picks.insert(0, "rank", np.arange(1, len(picks) + 1, dtype="int64"))
    chosen = [benchmark, *picks["symbol"]]
    bets = effective_number_of_bets(result.matrix.loc[chosen, chosen])
    return Selection(picks=picks[PICK_COLUMNS], effective_bets=bets, threshold=float(threshold))
