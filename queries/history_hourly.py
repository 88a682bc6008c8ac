"""Read side of the hourly value chart and ``/api/portfolio/history?interval=1h``."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from analytics.hourly_value import BTC, hourly_value
from data.store.repository import Repository
from settings import Settings

# Daily closes reach this far back, so an asset without hourly bars (a stock over a long
# weekend) still has its as-of close at the start of the window.
DAILY_MARGIN = timedelta(days=10)


def hourly_history(repo: Repository, settings: Settings, *, days: int) -> pd.DataFrame:
    """The held portfolio's BTC value each hour of the last ``days`` days of hourly bars.

    The window ends at the newest hourly BTC bar (the unit of account's clock).

    Raises:
        ValueError: no hourly BTC bar stored (the hourly job has not run yet).
        DataError: the store cannot be read.
    """
    holdings = {s: q for s, q in repo.load_holdings(settings.portfolio.name).items() if q > 0}
    symbols = sorted({BTC, *holdings})
    newest = repo.load_closes([BTC], interval="1h").index.max()
    if pd.isna(newest):
        raise ValueError("no hourly bars stored yet: the hourly job has not run")
    start = newest - timedelta(days=days)
    hourly = repo.load_closes(symbols, interval="1h", start=start - timedelta(hours=1))
    daily = repo.load_closes(symbols, start=start - DAILY_MARGIN)
    grid = pd.date_range(start + timedelta(hours=1), newest, freq="h")
    return hourly_value(holdings, hourly, daily, grid)
