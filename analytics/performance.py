"""Performance of a ledger in BTC and USD: TWR, XIRR, HODL benchmark, risk (pure: no IO).

Conventions (docs/performance.md):
* Each calendar day D is valued at its as-of daily USD closes (a stock on Saturday uses
  Friday's close), converted to BTC with BTC's close of D; USD cash is priced 1 USD.
* A flow (DEPOSIT, WITHDRAWAL, opening/correction ADJUSTMENT) is converted at its trade
  date's close; a BTC flow is exactly its amount in BTC terms.
* Daily TTWROR (Portfolio Performance): inflows count at the start of the day, outflows at
  its end: ``r_D = (V_D + OUT_D) / (V_{D-1} + IN_D) - 1``; TWR = prod(1 + r) - 1.
* The period [start, end] starts from the value at the close of the day before ``start``.
* XIRR: actual/365 day counts; the start value is the first flow (invested), the end value
  the last (returned); deposits are invested, withdrawals returned.
* HODL: the start value plus every inflow bought BTC at its day's close (and every outflow
  sold BTC), held to the end. ``vs_hodl_btc = value_btc_end - hodl_btc``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pyxirr import InvalidPaymentsError, xirr

from analytics.ledger import CASH, Entry, NegativeBalance
from analytics.ledger_arrays import (
    LedgerColumns,
    Moves,
    as_columns,
    day_deltas,
    expand,
    negative_balances,
)

BTC = "BTC"
SATS = 100_000_000


class MissingPriceError(ValueError):
    """A held asset (or BTC) has no close on or before a day it must be valued."""


@dataclass(frozen=True)
class Grid:
    """A replayed ledger on a calendar: holdings, prices and flows per day (arrays)."""

    days: pd.DatetimeIndex        # one per calendar day, UTC midnight
    assets: list[str]
    holdings: np.ndarray          # days x assets, quantity at the end of the day
    price_btc: np.ndarray         # days x assets, as-of close in BTC (BTC column exactly 1)
    btc_usd: np.ndarray           # days, BTC's as-of close in USD
    flow_in_btc: np.ndarray       # days, inflows valued at the day's close
    flow_out_btc: np.ndarray      # days, outflows (positive) valued at the day's close
    ledger: LedgerColumns         # the entries, replay order
    moves: Moves                  # their movements (all of them, also those after the end)
    negative: list[NegativeBalance]

    def values_btc(self) -> np.ndarray:
        """Portfolio value in BTC at each day's close."""
        return np.where(self.holdings != 0, self.holdings * self.price_btc, 0.0).sum(axis=1)


def _day_index(days: pd.DatetimeIndex, when: date) -> int:
    return when.toordinal() - days[0].date().toordinal()


def price_matrix(closes: pd.DataFrame, days: pd.DatetimeIndex, assets: Sequence[str]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """As-of USD closes of ``assets`` on ``days`` (NaN before an asset's first close) and BTC's.

    Raises:
        MissingPriceError: no BTC close at all.
    """
    if BTC not in closes.columns:
        raise MissingPriceError("no BTC close: nothing can be valued in BTC")
    index = pd.DatetimeIndex(closes.index).tz_convert("UTC").normalize()
    frame = closes.set_axis(index).groupby(level=0).last().sort_index()
    wanted = [a for a in assets if a != CASH]
    asof = frame.reindex(columns=list(dict.fromkeys([BTC, *wanted]))).ffill()
    asof = asof.reindex(asof.index.union(days)).ffill().reindex(days)
    # NaN before BTC's first close: fine while nothing is held (checked in build_grid).
    btc = asof[BTC].to_numpy(dtype=float)
    usd = np.column_stack([np.ones(len(days)) if a == CASH else asof[a].to_numpy(dtype=float)
                           for a in assets]) if assets else np.zeros((len(days), 0))
    return usd, btc


def build_grid(ledger: Sequence[Entry] | LedgerColumns, closes: pd.DataFrame, *, end: date,
               first: date | None = None) -> Grid:
    """Replay the ledger onto every calendar day from the first entry (or ``first``) to ``end``.

    Holdings per day are cumulative sums of the day's movements (``analytics.ledger_arrays``);
    negative balances are found with exact decimals.

    Raises:
        MissingPriceError: a held asset has no close on a day it is held.
        ValueError: no entries and no ``first`` day.
    """
    columns = as_columns(ledger)
    moves = expand(columns)
    upto = int(np.searchsorted(moves.day, end.toordinal(), side="right"))
    start = min(([int(moves.day[0])] if upto else [])
                + ([first.toordinal()] if first else []), default=None)
    if start is None:
        raise ValueError("the ledger is empty: nothing to measure")
    origin = date.fromordinal(start)
    days = pd.date_range(pd.Timestamp(origin, tz="UTC"), pd.Timestamp(end, tz="UTC"), freq="D")
    assets = sorted({moves.assets[a] for a in np.unique(moves.asset[:upto]).tolist()} | {BTC})
    col = {a: i for i, a in enumerate(assets)}
    usd, btc = price_matrix(closes, days, assets)
    price_btc = usd / btc[:, None]
    price_btc[:, col[BTC]] = 1.0  # a BTC flow is exactly its amount
    holdings = np.cumsum(day_deltas(moves, origin, len(days), col, upto), axis=0)
    flow_in, flow_out = _flows(moves, upto, start, price_btc, col, days)
    _check_priced(holdings, price_btc, days, assets)
    return Grid(days, assets, holdings, price_btc, btc, flow_in, flow_out, columns, moves,
                negative_balances(columns, moves))


def _flows(moves: Moves, upto: int, origin: int, price_btc: np.ndarray, col: dict[str, int],
           days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Inflows and outflows (positive) per day, each valued at its day's close in BTC."""
    flows = np.flatnonzero(moves.flow[:upto])
    rows = moves.day[flows] - origin
    cols = np.array([col[moves.assets[a]] for a in moves.asset[flows].tolist()], dtype=np.int64)
    qty = moves.quantity[flows]
    value = qty * price_btc[rows, cols]
    if np.isnan(value).any():
        bad = int(np.flatnonzero(np.isnan(value))[0])
        raise MissingPriceError(f"no close of {moves.assets[moves.asset[flows[bad]]]} on or "
                                f"before {days[rows[bad]]:%Y-%m-%d} to value its flow")
    flow_in = np.bincount(rows[qty > 0], value[qty > 0], len(days))
    flow_out = -np.bincount(rows[qty < 0], value[qty < 0], len(days))
    return flow_in, flow_out


def _check_priced(holdings: np.ndarray, price_btc: np.ndarray, days: pd.DatetimeIndex,
                  assets: list[str]) -> None:
    unpriced = (np.abs(holdings) > 0) & np.isnan(price_btc)
    if unpriced.any():
        day, asset = np.argwhere(unpriced)[0]
        raise MissingPriceError(f"no close of {assets[asset]} on or before "
                                f"{days[day]:%Y-%m-%d}, a day it is held")


def daily_twr(values: np.ndarray, flow_in: np.ndarray, flow_out: np.ndarray,
              start_value: float) -> np.ndarray:
    """Daily TTWROR returns: inflows at the start of the day, outflows at its end.

    A day with nothing invested (denominator 0) has return 0.
    """
    previous = np.concatenate([[start_value], values[:-1]])
    base = previous + flow_in
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (values + flow_out) / base - 1.0
    return np.where(base > 0, r, 0.0)


def xirr_rate(days: Sequence[date], amounts: Sequence[float]) -> float | None:
    """Annualised money-weighted return (actual/365); None when it does not exist."""
    pairs = [(d, a) for d, a in zip(days, amounts, strict=True) if a != 0]
    if len(pairs) < 2:
        return None
    try:
        rate = xirr([d for d, _ in pairs], [a for _, a in pairs], day_count="ACT/365F")
    except (InvalidPaymentsError, ValueError):
        return None
    return float(rate) if rate is not None and math.isfinite(rate) else None


def max_drawdown(index: pd.Series) -> dict:
    """Deepest fall of a growth index from a running peak: depth, peak, trough, recovered."""
    if index.empty:
        return {"depth": 0.0, "peak": None, "trough": None, "recovered": None}
    running = index.cummax()
    drawdown = index / running - 1.0
    trough = drawdown.idxmin()
    depth = float(drawdown.loc[trough])
    if depth >= 0:
        return {"depth": 0.0, "peak": None, "trough": None, "recovered": None}
    peak = index.loc[:trough].idxmax()
    after = index.loc[trough:]
    back = after[after >= index.loc[peak]]
    return {"depth": depth, "peak": peak.date().isoformat(), "trough": trough.date().isoformat(),
            "recovered": back.index[0].date().isoformat() if len(back) else None}


def period_days(grid: Grid, start: date, end: date) -> slice:
    """The grid rows of [start, end]."""
    return slice(max(_day_index(grid.days, start), 0), _day_index(grid.days, end) + 1)


def annualise(total: float, days: int) -> float | None:
    """A period return as a yearly rate (365-day years); None for an empty period."""
    if days <= 0 or total <= -1:
        return None if days <= 0 else -1.0
    return (1.0 + total) ** (365.0 / days) - 1.0


def previous_day(when: date) -> date:
    """The day before."""
    return when - timedelta(days=1)
