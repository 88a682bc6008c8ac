"""The portfolio's daily value in BTC from day-by-day quantities (pure: no IO).

Valuation of day D (a UTC date, timestamp D 00:00): each asset at its as-of daily close of D
(a stock on Saturday uses Friday's close). An asset whose as-of price is past its staleness
limit (e.g. MATIC after its series ended) keeps its value at that price and is named in
``stale`` (the same rule as the valuation now, docs/valuation.md, so the last day equals
``/api/portfolio`` on the same as-of day). An asset with no price yet (before its first day) is
**excluded** from that day's total and named in ``excluded``; it is never back-filled and never
counted as zero. The day-over-day return is chain-linked over the assets valued on both days,
so an asset dropping in or out does not show as a fake gain or loss.

``ValueHistory.daily``, one row per calendar day, oldest first, index ``date`` (UTC midnight):
    value_btc              float   sum of the included assets' BTC values (NaN: none valued)
    value_usd              float   value_btc × BTC/USD close of the day
    return_btc             float   day-over-day BTC return (NaN on the first day)
    cumulative_return_btc  float   growth since the first day of the frame
    complete               bool    every holding was valued (at a fresh or a stale price)
    excluded               str     comma-separated symbols without a price that day ("" if none)
    stale                  str     comma-separated symbols valued at a stale price ("" if none)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.btc_converter import BTCConverter
from analytics.returns import cumulative_returns
from analytics.staleness import NO_PRICE, OK, STALE, NoPriceError
from analytics.units import BTC

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValueHistory:
    """Daily BTC value of a portfolio; schemas in the module docstring."""

    daily: pd.DataFrame
    assets_btc: pd.DataFrame  # index date, one column per holding: BTC value (NaN = no price)
    status: pd.DataFrame      # index date, one column per holding: "ok" | "stale" | "no_price"


def daily_dates(converter: BTCConverter, *, start: pd.Timestamp | None = None,
                end: pd.Timestamp | None = None) -> pd.DatetimeIndex:
    """Calendar days (UTC midnight) from BTC's first to its newest stored price, clipped.

    Raises:
        NoPriceError: BTC has no price at all.
    """
    first, last = converter.first_price_ts(BTC), converter.last_price_ts(BTC)
    if first is None or last is None:
        raise NoPriceError("no BTC price stored: cannot value anything in BTC")
    lo = max(first.floor("D"), start.floor("D")) if start is not None else first.floor("D")
    hi = min(last.floor("D"), end.floor("D")) if end is not None else last.floor("D")
    return pd.date_range(lo, hi, freq="D", name="date").as_unit("ns")


def chain_linked_returns(values: pd.DataFrame) -> pd.Series:
    """Day-over-day return of the sum of columns, over the columns valued on both days."""
    prev = values.shift(1)
    both = values.notna() & prev.notna()
    now_sum = values.where(both).sum(axis=1)
    prev_sum = prev.where(both).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = now_sum / prev_sum - 1.0
    return out.where(prev_sum > 0)


def value_quantities(quantities: pd.DataFrame, converter: BTCConverter) -> ValueHistory:
    """Value a day-by-day quantities frame (index dates, one column per symbol).

    A symbol not held on a day (quantity 0) counts as valued at 0 that day, so a position
    bought later is not reported as excluded before it existed (ledger holdings).
    """
    dates = quantities.index
    values, status = converter.to_btc_frame(quantities)
    values.index = status.index = dates
    not_held = quantities.to_numpy() == 0
    values = values.mask(not_held, 0.0)
    status = status.mask(not_held, OK)
    # A stale price keeps its value (flagged in ``stale``); only a missing price is excluded.
    included = values.where(status != NO_PRICE)
    valued_any = included.notna().any(axis=1)
    total = included.sum(axis=1).where(valued_any | (quantities.shape[1] == 0))
    btc_usd = converter.asof(BTC, dates)["price_usd"].to_numpy()
    returns = chain_linked_returns(included)
    names = np.array([str(c) for c in status.columns], dtype=object)
    flags = status.to_numpy()
    daily = pd.DataFrame({
        "value_btc": total, "value_usd": total * btc_usd, "return_btc": returns,
        "cumulative_return_btc": cumulative_returns(returns),
        "complete": (status != NO_PRICE).all(axis=1),
        "excluded": [", ".join(names[row == NO_PRICE]) for row in flags],
        "stale": [", ".join(names[row == STALE]) for row in flags]}, index=dates)
    return ValueHistory(daily=daily, assets_btc=included, status=status)
