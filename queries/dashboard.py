"""What the dashboard shows, read from the store: live snapshot, history, allocation.

The page's callbacks call these with a ``ReadContext`` and hand the result to the pure
builders in ``components``; nothing here builds a Dash component.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from analytics.btc_converter import BTC
from analytics.portfolio_value import PortfolioValuation
from data.holdings import backfill_state
from queries.context import ReadContext
from queries.performance import holdings_cost_btc, performance
from queries.valuation import current_valuation, price_candidates, prices_btc_24h


@dataclass(frozen=True)
class StatusFacts:
    """The inputs of the status strip (``components.status.describe_status`` minus ``now``)."""

    quotes_fetched_at: pd.Timestamp | None
    latest: pd.DataFrame
    health: Sequence[dict]
    quote_limit: timedelta
    demo: bool


@dataclass(frozen=True)
class DashboardData:
    """Everything one refresh shows, read from the store (never from a provider)."""

    valuation: PortfolioValuation
    now: datetime
    names: Mapping[str, str]
    categories: Mapping[str, str]
    # BTC prices at the stored closes 24 h before as_of; a holding without a fresh close then
    # is missing (left out of the 24 h change, and named).
    prices_btc_24h: Mapping[str, float]
    pending: Mapping[str, tuple[float, str]] = field(default_factory=dict)  # symbol -> qty, state
    status: StatusFacts | None = None
    cost_btc: Mapping[str, float] = field(default_factory=dict)  # symbol -> cost basis in BTC


def backfill_text(state: dict | None) -> str:
    """'requested', 'running 40%', 'failed' ... from a recorded backfill state."""
    if not state:
        return "not requested"
    progress = state.get("progress")
    done = f" {progress:.0%}" if isinstance(progress, (int, float)) else ""
    return f"{state.get('state', 'unknown')}{done}"


def load_dashboard(ctx: ReadContext) -> DashboardData:
    """The live part of the page: valuation now, 24 h references, pending holdings, status."""
    repo, settings = ctx.repo, ctx.settings
    candidates = price_candidates(ctx)  # read once: valuation and status
    holdings = ctx.holdings()
    valuation = current_valuation(ctx, candidates, holdings)
    pending = {s: (holdings[s], backfill_text(backfill_state(repo, s)))
               for s in valuation.unpriced if s in holdings}
    status = StatusFacts(
        quotes_fetched_at=repo.newest_quote_fetch(), latest=candidates,
        health=repo.load_source_health(), demo=settings.demo,
        quote_limit=timedelta(seconds=settings.cache.stale_if_error_seconds))
    return DashboardData(valuation=valuation, now=ctx.now, names=ctx.names(),
                         categories=ctx.categories(),
                         prices_btc_24h=prices_btc_24h(ctx, valuation), pending=pending,
                         status=status, cost_btc=holdings_cost_btc(repo, settings))


def allocation(ctx: ReadContext, valuation: PortfolioValuation
               ) -> tuple[dict[str, float], dict[str, float]]:
    """Weights by asset and by category (fractions of the BTC value)."""
    categories = ctx.categories()
    by_asset = dict(zip(valuation.assets["symbol"], valuation.assets["weight"], strict=True))
    by_category: dict[str, float] = {}
    for symbol, weight in by_asset.items():
        key = categories.get(symbol, "other")
        by_category[key] = by_category.get(key, 0.0) + float(weight)
    return by_asset, by_category


def performance_and_allocation(ctx: ReadContext) -> tuple[dict, dict, dict]:
    """The ledger's performance report (queries.performance) and the current weights.

    Raises:
        ValueError: no BTC price, no priced holding, an empty ledger or an unpriced holding.
    """
    valuation = current_valuation(ctx)
    if valuation.assets.empty:
        raise ValueError("No priced holdings yet: add an asset above.")
    by_asset, by_category = allocation(ctx, valuation)
    report = performance(ctx.repo, ctx.settings, start=None, end=None,
                         method=ctx.settings.ledger.cost_basis)
    return report, by_asset, by_category


HEATMAP_LIMIT = 30


def heatmap_symbols(ctx: ReadContext, held: Iterable[str], limit: int = HEATMAP_LIMIT
                    ) -> list[str]:
    """The heatmap's assets: BTC, then the held ones by BTC value, at most ``limit``.

    Raises:
        NoPriceError (a ValueError), DataError: as ``current_valuation``.
    """
    assets = current_valuation(ctx).assets
    values = dict(zip(assets["symbol"], assets["value_btc"], strict=True))
    ranked = sorted((s for s in held if s != BTC), key=lambda s: (-values.get(s, 0.0), s))
    return [BTC, *ranked][:limit]
