"""The portfolio's daily BTC value (as-of closes of each day), for the API and the page."""

from __future__ import annotations

from analytics.btc_converter import BTC, BTCConverter
from analytics.portfolio_history import ValueHistory, portfolio_value_history
from queries.context import ReadContext


def portfolio_history(ctx: ReadContext) -> ValueHistory:
    """Daily value of the stored holdings, held constant, from BTC's first to its newest close.

    Raises:
        NoPriceError (a ValueError): no BTC price stored.
        DataError: the store cannot be read.
    """
    holdings = ctx.holdings()
    closes = ctx.repo.load_closes(sorted({BTC, *holdings}))
    converter = BTCConverter(closes, asset_kinds=ctx.asset_kinds, limits=ctx.limits)
    return portfolio_value_history(holdings, converter)
