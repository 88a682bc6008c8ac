"""Correlation windows over the stored daily closes (the page's heatmap and /api/correlation)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from analytics.correlation import CorrelationResult, correlation_matrix
from analytics.units import BTC
from queries.context import ReadContext


class NoBenchmarkError(ValueError):
    """No BTC close is stored: a correlation window has no ``as_of`` date."""


def correlation_window(ctx: ReadContext, symbols: list[str] | None,
                       lookback_days: int) -> CorrelationResult:
    """Correlation of daily USD log returns of ``symbols`` (default BTC + every holding).

    The window ends at the newest stored BTC close (the unit of account's clock), so a subset
    of assets gets the same window as the whole universe. A configured symbol without stored
    closes in the window stays in the matrix with no numbers.

    Raises:
        NoBenchmarkError: no BTC close stored.
        DataError: the store cannot be read.
    """
    if not symbols:
        symbols = list(dict.fromkeys([BTC, *ctx.holdings()]))
    newest = ctx.repo.load_closes([BTC]).index.max()
    if pd.isna(newest):  # no BTC close at all
        raise NoBenchmarkError("no BTC close stored: no as_of date for the window")
    start = newest - timedelta(days=lookback_days + 1)
    closes = ctx.repo.load_closes(list(dict.fromkeys([*symbols, BTC])), start=start)
    as_of = closes[BTC].last_valid_index()
    return correlation_matrix(closes.reindex(columns=symbols), lookback_days, as_of=as_of)
