"""BTC-denominated returns and risk of a daily value series (pure: no IO).

A series valued in BTC moves every calendar day (BTC trades 7 days a week), so volatility is
annualized with 365 periods a year. Holding only BTC is a flat line in these terms: every
return here is read against that benchmark (0 means "did as well as holding BTC").
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

PERIODS_PER_YEAR = 365
# Look-back periods of ``period_returns``, in calendar days.
PERIODS: dict[str, int] = {"24h": 1, "7d": 7, "30d": 30, "90d": 90, "1y": 365}


@dataclass(frozen=True)
class Drawdown:
    """Largest peak-to-trough fall of a value series.

    ``depth`` is <= 0 (-0.25 means a 25 % fall); dates are None for a series that never fell;
    ``recovery_date`` is the first date back at the peak value, None if not recovered yet.
    """

    depth: float
    peak_date: pd.Timestamp | None
    trough_date: pd.Timestamp | None
    recovery_date: pd.Timestamp | None


def growth_index(returns: pd.Series) -> pd.Series:
    """Cumulative growth of 1 unit from daily returns (a NaN return counts as no change)."""
    return (1.0 + returns.fillna(0.0)).cumprod()


def cumulative_returns(returns: pd.Series) -> pd.Series:
    """Cumulative return since the first date of the series."""
    return growth_index(returns) - 1.0


# No page or API reads it yet: kept for issue 14 (BTC returns per look-back period).
def period_returns(returns: pd.Series, periods: dict[str, int] | None = None
                   ) -> dict[str, float | None]:
    """Return over each look-back period, ending at the last date of a daily return series.

    Args:
        returns: daily returns indexed by date (UTC midnight), oldest first.
        periods: label -> days (default ``PERIODS``).

    Returns:
        label -> return, None when the series does not reach back that far.
    """
    periods = PERIODS if periods is None else periods
    out: dict[str, float | None] = {label: None for label in periods}
    if returns.empty:
        return out
    index = growth_index(returns)
    end = index.index[-1]
    for label, days in periods.items():
        start = end - pd.Timedelta(days=days)
        if start < index.index[0]:
            continue
        # As-of the start date: the growth up to that day is the base of the period.
        out[label] = float(index.iloc[-1] / index.asof(start) - 1.0)
    return out


def annualized_volatility(returns: pd.Series, periods_per_year: int = PERIODS_PER_YEAR
                          ) -> float | None:
    """Sample standard deviation of daily returns × sqrt(periods a year); None under 2 returns."""
    clean = returns.dropna()
    if len(clean) < 2:
        return None
    return float(clean.std(ddof=1) * math.sqrt(periods_per_year))


def max_drawdown(values: pd.Series) -> Drawdown:
    """Largest fall from a running peak of a positive value series (NaN values are skipped).

    Raises:
        ValueError: the series has no value.
    """
    clean = values.dropna()
    if clean.empty:
        raise ValueError("max_drawdown needs at least one value")
    peaks = clean.cummax()
    falls = clean / peaks - 1.0
    trough = falls.idxmin()
    depth = float(falls.loc[trough])
    if depth >= 0.0:
        return Drawdown(0.0, None, None, None)
    before = clean.loc[:trough]
    peak = before.idxmax()
    after = clean.loc[trough:]
    recovered = after[after >= clean.loc[peak]]
    return Drawdown(depth, peak, trough, recovered.index[0] if len(recovered) else None)


# No page or API reads it yet: kept for issue 14 (an asset's BTC return, USD and BTC parts).
def decompose_btc_return(usd_return: pd.Series | float, btc_usd_return: pd.Series | float
                         ) -> pd.DataFrame:
    """Split an asset's BTC return into its USD return and the move of BTC against USD.

    ``1 + btc_return = (1 + usd_return) / (1 + btc_usd_return)``; in logs the split is
    additive: ``log1p(btc_return) = usd_effect + btc_effect`` with
    ``usd_effect = log1p(usd_return)`` and ``btc_effect = -log1p(btc_usd_return)``.

    Returns:
        Frame with columns usd_return, btc_usd_return, btc_return, usd_effect, btc_effect.
    """
    usd = pd.Series(usd_return, dtype="float64") if np.isscalar(usd_return) else usd_return
    btc = (pd.Series(btc_usd_return, index=usd.index, dtype="float64")
           if np.isscalar(btc_usd_return) else btc_usd_return)
    return pd.DataFrame({
        "usd_return": usd.astype("float64"),
        "btc_usd_return": btc.astype("float64"),
        "btc_return": (1.0 + usd) / (1.0 + btc) - 1.0,
        "usd_effect": np.log1p(usd.astype("float64")),
        "btc_effect": -np.log1p(btc.astype("float64")),
    })
