"""The portfolio valued now, and the BTC prices of 24 h earlier (store reads + analytics).

The rule itself is ``analytics.portfolio_value.value_portfolio`` (docs/valuation.md); this
module only decides which stored prices it sees: each symbol's newest close at or before now
and its stored quote, where a demo quote (``source='demo'``) counts only in demo mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pandas as pd

from analytics.btc_converter import prices_in_btc
from analytics.portfolio_value import PortfolioValuation, value_portfolio
from analytics.units import BTC
from data.providers.demo import DEMO_SOURCE
from queries.context import ReadContext


def price_candidates(ctx: ReadContext) -> pd.DataFrame:
    """Latest-price candidates as of ``ctx.now`` (symbol, price_usd, ts, source, kind).

    Simulated quotes are read only in demo mode: a normal run never shows a demo price.
    """
    latest = ctx.repo.load_latest_prices(until=ctx.now)
    if ctx.settings.demo:
        return latest
    demo = (latest["kind"] == "quote") & (latest["source"] == DEMO_SOURCE)
    return latest[~demo.to_numpy(dtype=bool)].reset_index(drop=True)


def current_valuation(ctx: ReadContext, candidates: pd.DataFrame | None = None,
                      holdings: Mapping[str, float] | None = None) -> PortfolioValuation:
    """The stored portfolio valued in BTC now (every reader's one valuation).

    ``candidates``, ``holdings``: ``price_candidates(ctx)`` and ``ctx.holdings()`` when the
    caller already read them this request (a refresh reads each once).

    Raises:
        NoPriceError (a ValueError): no BTC price at or before now.
        DataError: the store cannot be read.
    """
    latest = price_candidates(ctx) if candidates is None else candidates
    held = ctx.holdings() if holdings is None else holdings
    return value_portfolio(held, latest, asset_kinds=ctx.asset_kinds, now=ctx.now,
                           limits=ctx.limits)


def reference_prices_btc(ctx: ReadContext, at: pd.Timestamp,
                         symbols: list[str]) -> dict[str, float]:
    """Each symbol's BTC price from the stored daily closes as of ``at`` (e.g. 24 h ago).

    A close older than its class's daily limit at ``at`` is no reference (a series that ended,
    a store that stops long before ``at``): the symbol is missing from the answer, so a change
    is never measured against a price from another time. Demo quotes are never a reference.
    """
    limits, kinds = ctx.limits, ctx.asset_kinds
    longest = max(limits.crypto_daily, limits.equity_daily)
    at = pd.Timestamp(at)
    rows = ctx.repo.load_closes_asof(at, sorted({*symbols, BTC}), since=at - longest)
    symbol = rows["symbol"].to_numpy(dtype=object)
    limit = pd.to_timedelta([limits.limit(kinds.get(s, "crypto"), "close") for s in symbol])
    ok = ((at - rows["ts"]).to_numpy() <= limit.to_numpy()) if len(rows) else []
    fresh = dict(zip(symbol[ok], rows["price_usd"].to_numpy()[ok], strict=True))
    wanted = set(symbols)
    return {s: p for s, p in prices_in_btc(fresh).items() if s in wanted}


def prices_btc_24h(ctx: ReadContext, valuation: PortfolioValuation) -> dict[str, float]:
    """The holdings' BTC prices at the stored closes 24 h before the valuation's BTC price."""
    return reference_prices_btc(ctx, valuation.as_of - timedelta(hours=24),
                                list(valuation.assets["symbol"]))
