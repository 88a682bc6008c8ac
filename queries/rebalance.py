"""Rebalance plans over the portfolio valued now (the page's table and /api/rebalance).

A holding valued at a stale price is never traded: a trade at a price that is days (or, for a
series that ended, months) old is not a plan. It keeps its value in the total (as everywhere)
and is listed in ``excluded`` with the reason, unless the caller asks for ``include_stale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.portfolio_value import PortfolioValuation, revalue
from analytics.rebalancing import RebalancePlan, rebalance_to_btc
from analytics.units import BTC
from queries.context import ReadContext
from queries.valuation import current_valuation


@dataclass(frozen=True)
class Rebalance:
    """A plan with the portfolio before and after it, valued exactly as ``/api/portfolio``."""

    plan: RebalancePlan
    before: PortfolioValuation
    after: PortfolioValuation
    excluded: dict[str, str]  # symbol -> why it is not traded

    @property
    def trades(self) -> pd.DataFrame:
        """The trades (analytics.rebalancing TRADE_COLUMNS)."""
        return self.plan.trades


def stale_or_unpriced(valuation: PortfolioValuation, include_stale: bool) -> dict[str, str]:
    """Held symbols the plan must not trade, with the reason."""
    out = {s: "no price yet" for s in valuation.unpriced}
    if include_stale:
        return out
    if valuation.btc_stale:
        raise ValueError(f"the BTC price (as of {valuation.as_of:%Y-%m-%d %H:%M} UTC) is past "
                         "its staleness limit: no plan until it is fresh (or include_stale)")
    stale_rows = valuation.assets["stale"].to_numpy(dtype=bool)
    if not stale_rows.any():  # the usual case: no frame to filter on the refresh tick
        return out
    for row in valuation.assets[stale_rows].itertuples(index=False):
        out[str(row.symbol)] = (f"stale price from {pd.Timestamp(row.price_ts):%Y-%m-%d %H:%M} "
                                "UTC (past its staleness limit)")
    return out


def plan_rebalance(valuation: PortfolioValuation, target_btc_share: float, *,
                   include_stale: bool = False, **options) -> Rebalance:
    """Trades that bring BTC to ``target_btc_share`` of the whole value (pure).

    Stale holdings count in the total but are never traded (``include_stale`` trades them).
    ``options``: ``band``, ``fee_bps``, ``min_trade_btc``, ``min_trade_usd``, ``lot_sizes`` of
    ``rebalance_to_btc``.

    Raises:
        ValueError: an option out of range, a stale BTC price, or no plan possible (e.g. only
            BTC held and a target below 1).
    """
    excluded = stale_or_unpriced(valuation, include_stale)
    prices = valuation.assets  # rebalance_to_btc reads symbol, price_btc and price_usd only
    if not (prices["symbol"].to_numpy() == BTC).any():
        btc_row = pd.DataFrame({"symbol": [BTC], "price_btc": [1.0],
                                "price_usd": [valuation.btc_usd]})
        prices = pd.concat([btc_row, prices[["symbol", "price_btc", "price_usd"]]],
                           ignore_index=True)
    holdings = dict(zip(valuation.assets["symbol"], valuation.assets["quantity"], strict=True))
    plan = rebalance_to_btc(holdings, prices, target_btc_share, frozen=list(excluded), **options)
    return with_valuations(valuation, plan, excluded)


def with_valuations(valuation: PortfolioValuation, plan: RebalancePlan,
                    excluded: dict[str, str] | None = None, *,
                    priced: PortfolioValuation | None = None) -> Rebalance:
    """A plan of ``valuation``'s holdings with the portfolio after it, valued like before.

    ``priced``: a valuation that also prices what the plan buys and was not held.
    """
    held = list(valuation.assets["symbol"])
    held_set = set(held)
    after_qty = dict(zip(plan.after["symbol"], plan.after["quantity"], strict=True))
    # The holdings' rows in their order, then what the plan buys that was not held (BTC, or an
    # asset of a suggested mix).
    bought = [s for s, q in after_qty.items() if s not in held_set and q > 0]
    order = [*held, *([BTC] if BTC in bought else []), *[s for s in bought if s != BTC]]
    after = revalue(priced or valuation, {s: float(after_qty.get(s, 0.0)) for s in order})
    return Rebalance(plan=plan, before=valuation, after=after, excluded=dict(excluded or {}))


def rebalance_now(ctx: ReadContext, target_btc_share: float, *, include_stale: bool = False,
                  **options) -> Rebalance:
    """``plan_rebalance`` of the stored portfolio valued now.

    Raises:
        NoPriceError, DataError: as ``current_valuation``; ValueError: as ``plan_rebalance``.
    """
    return rebalance_valued(ctx, current_valuation(ctx), target_btc_share,
                            include_stale=include_stale, **options)


def rebalance_valued(ctx: ReadContext, valuation: PortfolioValuation, target_btc_share: float,
                     *, include_stale: bool = False, **options) -> Rebalance:
    """``rebalance_now`` on a valuation the caller already has (a refresh values once).

    Raises:
        ValueError: as ``plan_rebalance``.
    """
    options.setdefault("min_trade_usd", ctx.settings.rebalance.min_trade_usd)
    return plan_rebalance(valuation, target_btc_share, include_stale=include_stale,
                          lot_sizes=ctx.settings.lot_sizes(), **options)
