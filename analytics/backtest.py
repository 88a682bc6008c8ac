"""Walk-forward backtest of allocation strategies in BTC terms (pure: no IO).

Price panel: daily dates x symbols, each asset's as-of USD close (the last at or before the
day, at most ``MAX_CARRY`` days old) divided by BTC's close that day, so BTC is exactly 1.
Only assets priced on every day of the period can be held (others are excluded, with why).

Trade model (as ``analytics.rebalancing``): every non-BTC change is a swap against BTC; a
swap costs ``fee_bps`` of the value traded, paid out of the portfolio. A strategy starts at
its own first weights at no cost and is rebalanced back to its target weights on the first
day of each month (or quarter). ``turnover`` is the sum over rebalances of
``sum |w_after - w_before| / 2`` (one-way, BTC included).

Strategies:

* ``current``: today's mix by value, rebalanced back to it.
* ``btc_target``: BTC at the target, the rest in today's non-BTC proportions.
* ``optimized``: refit at each rebalance date on closes dated strictly **before** that date
  (``weight_fn`` receives only those), so no future price can move a past decision.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.covariance import btc_covariance
from analytics.optimizer import Caps, optimize_mix
from analytics.returns import annualized_volatility, max_drawdown
from analytics.units import BTC

logger = logging.getLogger(__name__)

STRATEGIES = ("current", "optimized", "btc_target")
FREQUENCIES = {"monthly": "MS", "quarterly": "QS"}
MAX_CARRY = 7          # days an as-of close may be carried (weekends, holidays)
FEE_ITERATIONS = 4     # fixed-point steps for "fee paid out of the value it is a share of"

WeightFn = Callable[[pd.Timestamp], Mapping[str, float]]


@dataclass(frozen=True)
class StrategyResult:
    """One strategy's BTC value series and its summary."""

    series: pd.Series            # value_btc by date
    turnover: float
    fees_btc: float
    weights: dict[pd.Timestamp, dict[str, float]]  # target weights at each rebalance

    @property
    def total_return_btc(self) -> float:
        """Value at the end / value at the start - 1."""
        return float(self.series.iloc[-1] / self.series.iloc[0] - 1.0)

    @property
    def annualised_return_btc(self) -> float:
        """Compound yearly rate over the period (365-day years)."""
        days = (self.series.index[-1] - self.series.index[0]).days
        growth = self.series.iloc[-1] / self.series.iloc[0]
        return float(growth ** (365.0 / days) - 1.0) if days > 0 else 0.0

    @property
    def volatility_btc_365(self) -> float:
        """Annualised (sqrt 365) volatility of the daily BTC-value returns."""
        vol = annualized_volatility(self.series.pct_change().iloc[1:], 365)
        return 0.0 if vol is None else vol

    @property
    def max_drawdown_btc(self) -> float:
        """Largest peak-to-trough fall, <= 0 (-0.25 is a 25 % fall)."""
        return max_drawdown(self.series).depth


def btc_price_panel(closes: pd.DataFrame, start: pd.Timestamp,
                    end: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, str]]:
    """Daily BTC prices of every asset over [start, end], and the assets left out with why.

    Raises:
        ValueError: no BTC close on some day of the period.
    """
    days = pd.date_range(start.normalize(), end.normalize(), freq="D", tz="UTC")
    usd = closes.reindex(closes.index.union(days)).ffill(limit=MAX_CARRY).reindex(days)
    if usd[BTC].isna().any():
        raise ValueError(f"no BTC close on {usd.index[usd[BTC].isna()][0]:%Y-%m-%d}")
    gaps = usd.columns[usd.isna().any()]
    excluded = {}
    for symbol in gaps:
        first = usd[symbol].first_valid_index()
        excluded[str(symbol)] = ("no price in the period" if first is None else
                                 f"not priced on every day from {start:%Y-%m-%d} "
                                 f"to {end:%Y-%m-%d}")
    panel = usd.drop(columns=gaps).div(usd[BTC], axis=0)
    panel[BTC] = 1.0
    return panel, excluded


def rebalance_dates(index: pd.DatetimeIndex, frequency: str) -> pd.DatetimeIndex:
    """First day of each month (quarter) inside the index, after its first day."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"rebalance must be one of {', '.join(FREQUENCIES)}, got {frequency!r}")
    firsts = pd.date_range(index[0], index[-1], freq=FREQUENCIES[frequency])
    return firsts[firsts > index[0]]


def _target(weights: Mapping[str, float], symbols: list[str]) -> np.ndarray:
    w = np.array([float(weights.get(s, 0.0)) for s in symbols])
    unknown = set(weights) - set(symbols)
    if any(weights[s] > 0 for s in unknown):
        raise ValueError(f"weights for unpriced asset(s): {', '.join(sorted(unknown))}")
    if not (np.all(w >= -1e-12) and abs(w.sum() - 1.0) <= 1e-9):
        raise ValueError("strategy weights must be non-negative and sum to 1")
    return np.clip(w, 0.0, None)


def _trade(values: np.ndarray, w: np.ndarray, fee: float, btc: int) -> tuple[np.ndarray, float]:
    """Values after moving to weights w, and the fee (a share of what is traded)."""
    total, paid = float(values.sum()), 0.0
    others = np.ones(len(values), dtype=bool)
    others[btc] = False
    for _ in range(FEE_ITERATIONS):
        new = w * (total - paid)
        paid = fee * float(np.abs(new - values)[others].sum())
    return w * (total - paid), paid


def run_strategy(panel: pd.DataFrame, weight_fn: WeightFn, dates: pd.DatetimeIndex, *,
                 fee_bps: float = 0.0, initial_value_btc: float = 1.0) -> StrategyResult:
    """Simulate: start at weight_fn(first day), rebalance to weight_fn(d) on each of ``dates``.

    Between rebalances quantities are constant, so each segment is one matrix product.

    Raises:
        ValueError: bad fee or start value, or weights that do not sum to 1.
    """
    if not (0.0 <= fee_bps < 10_000 and math.isfinite(initial_value_btc)
            and initial_value_btc > 0):
        raise ValueError("fee_bps must be in [0, 10000) and the start value positive")
    symbols, prices = [str(s) for s in panel.columns], panel.to_numpy(dtype="float64")
    btc, fee = symbols.index(BTC), fee_bps / 10_000.0
    w = _target(weight_fn(panel.index[0]), symbols)
    qty = w * initial_value_btc / prices[0]
    bounds = [0, *panel.index.searchsorted(dates), len(panel)]
    values = np.empty(len(panel))
    turnover = fees = 0.0
    history = {panel.index[0]: dict(zip(symbols, w, strict=True))}
    for seg, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if seg > 0:
            held = qty * prices[lo]
            w_new = _target(weight_fn(panel.index[lo]), symbols)
            after, paid = _trade(held, w_new, fee, btc)
            turnover += float(np.abs(w_new - held / held.sum()).sum()) / 2.0
            fees += paid
            qty = after / prices[lo]
            history[panel.index[lo]] = dict(zip(symbols, w_new, strict=True))
        values[lo:hi] = prices[lo:hi] @ qty
    return StrategyResult(series=pd.Series(values, index=panel.index, name="value_btc"),
                          turnover=turnover, fees_btc=fees, weights=history)


def constant_mix(weights: Mapping[str, float]) -> WeightFn:
    """The same weights at every date."""
    fixed = dict(weights)
    return lambda _date: fixed


def btc_target_mix(current: Mapping[str, float], target_btc_share: float) -> dict[str, float]:
    """BTC at the target, the rest in the current non-BTC proportions.

    Raises:
        ValueError: target outside [0, 1], or below 1 with nothing but BTC held.
    """
    if not 0.0 <= target_btc_share <= 1.0:
        raise ValueError(f"target_btc_share must be in [0, 1], got {target_btc_share}")
    others = {s: float(w) for s, w in current.items() if s != BTC and w > 0}
    total = sum(others.values())
    if target_btc_share < 1.0 and total <= 0:
        raise ValueError("only BTC is held: no mix for the non-BTC part")
    rest = 1.0 - target_btc_share
    return {BTC: float(target_btc_share),
            **({s: w / total * rest for s, w in others.items()} if rest > 0 else {})}


def walk_forward_optimizer(closes: pd.DataFrame, categories: Mapping[str, str], *,
                           caps: Caps, method: str = "min_variance", lookback_days: int = 365,
                           universe: list[str]) -> WeightFn:
    """Weights refit at each date on the closes dated strictly before it (no look-ahead).

    ``closes`` is the USD close frame; at date d the optimizer sees ``closes[index < d]``
    only, and the window ends at BTC's last close before d.
    """
    stamps = closes.index

    def weights_at(date: pd.Timestamp) -> dict[str, float]:
        past = closes.iloc[:stamps.searchsorted(date, side="left")]
        estimate = btc_covariance(past, lookback_days)
        mix = optimize_mix(estimate, categories, method=method, caps=caps, universe=universe)
        return mix.weights

    return weights_at
