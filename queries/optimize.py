"""Read side of /api/optimize and the Suggested mix panel: store reads -> optimizer -> trades.

The trades come from ``analytics.rebalancing.rebalance_to_btc`` with the optimizer's non-BTC
mix as ``target_weights``: the same trade shape, fee model and minimum-trade rule as
/api/rebalance (so, as there, the flow never buys and sells non-BTC assets at once).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from analytics.btc_converter import StalenessLimits
from analytics.categories import categories_from_assets
from analytics.correlation import BENCHMARK
from analytics.covariance import CovarianceEstimate, btc_covariance
from analytics.optimizer import Caps, MixRisk, OptimizedMix, optimize_mix, risk_of_weights
from analytics.portfolio_value import PortfolioValuation, value_portfolio
from analytics.rebalancing import RebalancePlan, rebalance_to_btc
from data.store.repository import Repository
from settings import Settings

logger = logging.getLogger(__name__)

UNIVERSES = ("held", "all")


@dataclass(frozen=True)
class OptimizeRequest:
    """What to optimize: method, caps, window, universe, and the trade rules."""

    method: str = "min_variance"
    caps: Caps = Caps()
    lookback_days: int = 365
    universe: str = "held"
    fee_bps: float = 0.0
    min_trade_btc: float = 0.0


@dataclass(frozen=True)
class OptimizeResult:
    """The proposal, the current mix's risk, and the trades from one to the other."""

    mix: OptimizedMix
    estimate: CovarianceEstimate
    current_weights: dict[str, float]
    current_risk: MixRisk
    current_at_target: dict[str, float]   # today's non-BTC proportions, BTC at the target
    current_at_target_risk: MixRisk
    plan: RebalancePlan
    valuation: PortfolioValuation
    priced: PortfolioValuation | None = None  # a unit of every symbol of the proposal, priced


def _kinds(settings: Settings) -> dict[str, str]:
    return {symbol: asset.kind for symbol, asset in settings.assets.items()}


def _unit_valuation(repo: Repository, settings: Settings, symbols: list[str],
                    now: datetime) -> PortfolioValuation:
    """One unit of each symbol valued by the valuation's as-of rules (its prices, times, flags)."""
    return value_portfolio({s: 1.0 for s in symbols}, repo.load_latest_prices(),
                           asset_kinds=_kinds(settings), now=now,
                           limits=StalenessLimits.from_settings(settings.staleness))


def _trades(holdings: Mapping[str, float], prices: pd.DataFrame, mix: OptimizedMix,
            request: OptimizeRequest) -> RebalancePlan:
    others = {s: w for s, w in mix.weights.items() if s != BENCHMARK and w > 0}
    total = sum(others.values())
    weights = {s: w / total for s, w in others.items()} if total > 0 else None
    return rebalance_to_btc(holdings, prices, mix.caps.target_btc_pct,
                            fee_bps=request.fee_bps, min_trade_btc=request.min_trade_btc,
                            target_weights=weights)


def optimize_portfolio(repo: Repository, settings: Settings, request: OptimizeRequest, *,
                       now: datetime) -> OptimizeResult:
    """Optimize the held (or whole configured) universe and plan the trades to the proposal.

    Raises:
        InfeasibleConstraintError: the caps cannot hold (a ValueError naming the constraint).
        ValueError: no BTC price, or no price for an asset of the proposal.
        DataError: the store cannot be read.
    """
    holdings = repo.load_holdings(settings.portfolio.name)
    valuation = value_portfolio(holdings, repo.load_latest_prices(), asset_kinds=_kinds(settings),
                                now=now, limits=StalenessLimits.from_settings(settings.staleness))
    symbols = list(settings.assets) if request.universe == "all" else sorted(
        {BENCHMARK, *(s for s, q in holdings.items() if q > 0)})
    newest = repo.load_closes([BENCHMARK]).index.max()
    if pd.isna(newest):
        raise ValueError("no BTC close stored: nothing to estimate risk from")
    closes = repo.load_closes(symbols, start=newest - timedelta(days=request.lookback_days + 1))
    estimate = btc_covariance(closes.reindex(columns=symbols), request.lookback_days)
    mix = optimize_mix(estimate, categories_from_assets(settings.assets), method=request.method,
                       caps=request.caps)
    current = {str(s): float(w) for s, w in zip(valuation.assets["symbol"],
                                                valuation.assets["weight"], strict=True)}
    unit = _unit_valuation(repo, settings, sorted({*mix.weights, *holdings}), now)
    prices = unit.assets[["symbol", "price_btc", "price_usd"]]
    plan = _trades({s: holdings[s] for s in valuation.assets["symbol"]}, prices, mix, request)
    at_target = current_at_target(current, mix.caps.target_btc_pct)
    return OptimizeResult(mix=mix, estimate=estimate, current_weights=current,
                          current_risk=risk_of_weights(estimate, current),
                          current_at_target=at_target,
                          current_at_target_risk=risk_of_weights(estimate, at_target),
                          plan=plan, valuation=valuation, priced=unit)


def current_at_target(current: Mapping[str, float], target: float) -> dict[str, float]:
    """Today's mix with BTC moved to the target and the rest scaled (the like-for-like mix).

    With nothing but BTC held the non-BTC part is empty (BTC keeps its own share).
    """
    others = {s: w for s, w in current.items() if s != BENCHMARK and w > 0}
    total = sum(others.values())
    if total <= 0:
        return dict(current)
    return {BENCHMARK: target, **{s: w / total * (1.0 - target) for s, w in others.items()}}
