"""Read side of /api/correlation/rolling and the drift chart: rolling correlation to BTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from analytics.correlation import rolling_btc_correlation
from analytics.units import BTC
from data.store.repository import Repository
from settings import Settings


@dataclass(frozen=True)
class CorrelationDrift:
    """Rolling correlation of each held asset to BTC, one column per asset, NaN: no number."""

    window_days: int
    frame: pd.DataFrame


def correlation_drift(repo: Repository, settings: Settings, *, window_days: int = 90,
                      days: int = 365) -> CorrelationDrift:
    """Rolling ``window_days`` correlation to BTC of every held asset over the last ``days``.

    Raises:
        ValueError: no BTC close stored.
        DataError: the store cannot be read.
    """
    held = sorted(s for s, q in repo.load_holdings(settings.portfolio.name).items()
                  if q > 0 and s != BTC)
    newest = repo.load_closes([BTC]).index.max()
    if pd.isna(newest):
        raise ValueError("no BTC close stored: no window for the correlation")
    start = newest - timedelta(days=days + window_days + 1)
    closes = repo.load_closes([BTC, *held], start=start).reindex(
        columns=[BTC, *held])
    rolling = rolling_btc_correlation(closes, window_days)
    shown = rolling.loc[rolling.index > newest - timedelta(days=days)]
    return CorrelationDrift(window_days=window_days, frame=shown)
