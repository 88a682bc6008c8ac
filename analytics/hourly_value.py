"""Hourly BTC value of constant holdings, by the as-of rule (pure: no IO).

Inputs: wide USD close frames (index tz-aware UTC, one column per symbol, NaN gaps) of hourly
bars and of daily closes. At each hour t every asset is priced at its newest observation at
or before t, hourly bar or daily close alike (a stock has no bar on Sunday: Friday's close
stands), BTC likewise; never a later price.

Output frame: index hourly ts, columns ``value_btc`` (NaN where an asset has no price yet)
and ``return_btc`` (change from the previous hour).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analytics.asof import positions
from analytics.units import BTC


def _asof(observations: pd.Series, grid: pd.DatetimeIndex) -> np.ndarray:
    """The newest value at or before each grid time (NaN before the first)."""
    clean = observations.dropna().sort_index()
    clean = clean[~clean.index.duplicated(keep="last")]
    pos = positions(clean.index, grid)
    values = clean.to_numpy(dtype="float64")
    return np.where(pos >= 0, values[np.maximum(pos, 0)] if len(values) else np.nan, np.nan)


def hourly_value(holdings: Mapping[str, float], hourly: pd.DataFrame, daily: pd.DataFrame,
                 grid: pd.DatetimeIndex) -> pd.DataFrame:
    """BTC value of ``holdings`` at each time of ``grid``.

    Raises:
        ValueError: no BTC price at the last grid time.
    """
    def observations(symbol: str) -> pd.Series:
        parts = [f[symbol] for f in (daily, hourly) if symbol in f.columns]
        # Hourly bars last: at the same timestamp the hourly bar wins.
        return pd.concat(parts) if parts else pd.Series(dtype="float64")

    btc = _asof(observations(BTC), grid)
    if not len(grid) or np.isnan(btc[-1]):
        raise ValueError("no BTC price for the hourly window")
    total = np.zeros(len(grid))
    for symbol, quantity in holdings.items():
        price = btc if symbol == BTC else _asof(observations(symbol), grid)
        total = total + quantity * price / btc
    value = pd.Series(total, index=grid, name="value_btc")
    return pd.DataFrame({"value_btc": value, "return_btc": value.pct_change(fill_method=None)})
