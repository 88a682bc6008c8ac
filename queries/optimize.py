"""Read side of /api/optimize and the Suggested mix panel: store reads -> optimizer -> trades.

The trades come from ``analytics.mix_rebalancing.rebalance_to_weights``: one two-sided plan to
the whole proposal (sells of the overweight assets, buys of the underweight ones, BTC at its
target), with the trade shape, fee model, lot sizes and minimum trade of /api/rebalance. As
there, a holding at a stale price (or with none) is never traded, and so is a held asset the
optimizer left out (too little history): both keep their value and are listed in
``not_traded``; a proposed asset whose price is stale is not bought.

The fitted mix is cached by the store version (ledger counter + closes fingerprint, see
``queries.store_cache``) and the request, so a page load or a refresh with unchanged holdings
and closes does not run the optimizer again; the trades are replanned at the current prices.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from analytics.btc_converter import StalenessLimits
from analytics.categories import categories_from_assets
from analytics.correlation import BENCHMARK
from analytics.covariance import CovarianceEstimate, btc_covariance
from analytics.mix_rebalancing import rebalance_to_weights
from analytics.optimizer import Caps, MixRisk, OptimizedMix, optimize_mix, risk_of_weights
from analytics.portfolio_value import PortfolioValuation, value_portfolio
from analytics.rebalancing import RebalancePlan
from data.storage import Repository
from queries.rebalance import stale_or_unpriced
from queries.store_cache import ResultCache, store_version
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
    min_trade_usd: float | None = None    # None: the configured rebalance.min_trade_usd
    include_stale: bool = False           # trade holdings valued at a stale price too


@dataclass(frozen=True)
class OptimizeResult:
    """The proposal, the current mix's risk, and the trades from one to the other."""

    mix: OptimizedMix
    estimate: CovarianceEstimate
    current_weights: dict[str, float]
    current_risk: MixRisk
    current_at_target: dict[str, float]   # today's non-BTC proportions, BTC at the target
    current_at_target_risk: MixRisk
    plan: RebalancePlan | None             # None when no trades can be planned (``no_plan``)
    valuation: PortfolioValuation
    priced: PortfolioValuation | None = None  # a unit of every symbol of the proposal, priced
    not_traded: dict[str, str] = field(default_factory=dict)  # symbol -> why it is not traded
    no_plan: str | None = None  # why there are no trades (e.g. the BTC price is stale)


def _kinds(settings: Settings) -> dict[str, str]:
    return {symbol: asset.kind for symbol, asset in settings.assets.items()}


def _unit_valuation(latest: pd.DataFrame, settings: Settings, symbols: list[str],
                    now: datetime) -> PortfolioValuation:
    """One unit of each symbol valued by the valuation's as-of rules (its prices, times, flags)."""
    return value_portfolio({s: 1.0 for s in symbols}, latest, asset_kinds=_kinds(settings),
                           now=now, limits=StalenessLimits.from_settings(settings.staleness))


_FITS = ResultCache()


def _fit(repo: Repository, settings: Settings, request: OptimizeRequest,
         symbols: list[str]) -> tuple[OptimizedMix, CovarianceEstimate]:
    """Covariance and optimizer over ``symbols``, cached by the store version and request."""
    categories = categories_from_assets(settings.assets)
    key = ("optimize", store_version(repo, settings.portfolio.name, symbols), request.method,
           request.caps, request.lookback_days, tuple(sorted(categories.items())))

    def compute() -> tuple[OptimizedMix, CovarianceEstimate]:
        newest = repo.load_closes([BENCHMARK]).index.max()
        if pd.isna(newest):
            raise ValueError("no BTC close stored: nothing to estimate risk from")
        closes = repo.load_closes(symbols,
                                  start=newest - timedelta(days=request.lookback_days + 1))
        estimate = btc_covariance(closes.reindex(columns=symbols), request.lookback_days)
        return optimize_mix(estimate, categories, method=request.method,
                            caps=request.caps), estimate

    return _FITS.get(key, compute)


def not_traded(valuation: PortfolioValuation, unit: PortfolioValuation, mix: OptimizedMix,
               estimate: CovarianceEstimate, include_stale: bool) -> dict[str, str]:
    """Symbols the plan to the mix must not trade, with the reason.

    Held: stale or unpriced (as /api/rebalance), or left out by the optimizer. Proposed but
    not held: no price, or (unless ``include_stale``) a stale one.
    """
    out = stale_or_unpriced(valuation, include_stale)
    held = set(valuation.assets["symbol"])
    for symbol in sorted(held - {BENCHMARK} - set(mix.weights)):
        reason = estimate.excluded.get(symbol, "not in the optimizer's universe")
        out.setdefault(symbol, f"left out by the optimizer: {reason}")
    wanted = {s for s, w in mix.weights.items() if w > 0 and s not in held}
    out.update({s: "no price yet (not bought)" for s in unit.unpriced if s in wanted})
    if not include_stale:
        stale = unit.assets[unit.assets["stale"].to_numpy(dtype=bool)]
        for row in stale.itertuples(index=False):
            if row.symbol in wanted:
                when = pd.Timestamp(row.price_ts).strftime("%Y-%m-%d %H:%M")
                out[str(row.symbol)] = f"stale price from {when} UTC (not bought)"
    return out


def _plan(valuation: PortfolioValuation, unit: PortfolioValuation, mix: OptimizedMix,
          frozen: Mapping[str, str], request: OptimizeRequest,
          settings: Settings) -> RebalancePlan:
    holdings = dict(zip(valuation.assets["symbol"], valuation.assets["quantity"], strict=True))
    min_usd = (settings.rebalance.min_trade_usd if request.min_trade_usd is None
               else request.min_trade_usd)
    return rebalance_to_weights(holdings, unit.assets[["symbol", "price_btc", "price_usd"]],
                                mix.weights, fee_bps=request.fee_bps,
                                min_trade_btc=request.min_trade_btc, min_trade_usd=min_usd,
                                lot_sizes=settings.lot_sizes(), frozen=list(frozen))


def optimize_portfolio(repo: Repository, settings: Settings, request: OptimizeRequest, *,
                       now: datetime) -> OptimizeResult:
    """Optimize the held (or whole configured) universe and plan the trades to the proposal.

    Raises:
        InfeasibleConstraintError: the caps cannot hold (a ValueError naming the constraint).
        ValueError: no BTC close or price. A plan that cannot be made (a stale BTC price
            unless ``include_stale``, no tradeable asset for the non-BTC part) is no error:
            the result has ``plan=None`` and the reason in ``no_plan``.
        DataError: the store cannot be read.
    """
    holdings = repo.load_holdings(settings.portfolio.name)
    latest = repo.load_latest_prices()
    valuation = value_portfolio(holdings, latest, asset_kinds=_kinds(settings), now=now,
                                limits=StalenessLimits.from_settings(settings.staleness))
    symbols = list(settings.assets) if request.universe == "all" else sorted(
        {BENCHMARK, *(s for s, q in holdings.items() if q > 0)})
    mix, estimate = _fit(repo, settings, request, symbols)
    current = {str(s): float(w) for s, w in zip(valuation.assets["symbol"],
                                                valuation.assets["weight"], strict=True)}
    unit = _unit_valuation(latest, settings, sorted({*mix.weights, *holdings}), now)
    try:
        frozen = not_traded(valuation, unit, mix, estimate, request.include_stale)
        plan, no_plan = _plan(valuation, unit, mix, frozen, request, settings), None
    except ValueError as exc:  # e.g. a stale BTC price: the proposal stands, no trades
        frozen, plan, no_plan = {}, None, str(exc)
    at_target = current_at_target(current, mix.caps.target_btc_pct)
    return OptimizeResult(mix=mix, estimate=estimate, current_weights=current,
                          current_risk=risk_of_weights(estimate, current),
                          current_at_target=at_target,
                          current_at_target_risk=risk_of_weights(estimate, at_target),
                          plan=plan, valuation=valuation, priced=unit, not_traded=frozen,
                          no_plan=no_plan)


def current_at_target(current: Mapping[str, float], target: float) -> dict[str, float]:
    """Today's mix with BTC moved to the target and the rest scaled (the like-for-like mix).

    With nothing but BTC held the non-BTC part is empty (BTC keeps its own share).
    """
    others = {s: w for s, w in current.items() if s != BENCHMARK and w > 0}
    total = sum(others.values())
    if total <= 0:
        return dict(current)
    return {BENCHMARK: target, **{s: w / total * (1.0 - target) for s, w in others.items()}}
