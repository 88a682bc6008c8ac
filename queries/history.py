"""Read side of ``/api/portfolio/history``: each day valued with that day's actual holdings.

Holdings per day come from the ledger; each day is valued with its as-of closes under the
rules of ``analytics.portfolio_history`` (stale or unpriced assets excluded and named). The
day's return is Portfolio Performance's daily TTWROR, so a deposit is not a gain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.btc_converter import BTCConverter
from analytics.ledger import daily_positions
from analytics.performance import daily_twr
from analytics.portfolio_history import ValueHistory, daily_dates, value_quantities
from analytics.returns import cumulative_returns
from analytics.units import BTC, USD
from data.store import ledger_store
from queries.context import ReadContext
from queries.price_cache import AS_OF_CACHE


def portfolio_history(ctx: ReadContext) -> ValueHistory:
    """Daily BTC value of the ledger's actual holdings from its first entry to the last close.

    Raises:
        NoPriceError: no BTC price stored.
        StorageError: the store failed.
    """
    entries = ledger_store.load_entries(ctx.repo, ctx.settings.portfolio.name)
    symbols = {e.asset for e in entries} | {e.counter_asset for e in entries if e.counter_asset}
    closes = ctx.repo.load_closes(sorted((symbols | {BTC}) - {USD}))
    converter = BTCConverter(closes, asset_kinds=ctx.asset_kinds, limits=ctx.limits,
                             cache=AS_OF_CACHE)
    first = min((e.trade_date for e in entries), default=None)
    start = pd.Timestamp(first, tz="UTC") if first else None
    dates = daily_dates(converter, start=start)
    held, flows = daily_positions(entries, [d.date() for d in dates])
    quantities = pd.DataFrame(held, index=dates, columns=sorted(held))
    history = value_quantities(quantities, converter)
    values = history.daily["value_btc"].fillna(0.0).to_numpy()
    flow_btc = np.zeros(len(dates)) if not flows else (
        converter.to_btc_frame(pd.DataFrame(flows, index=dates))[0].fillna(0.0).sum(axis=1)
        .to_numpy())
    returns = daily_twr(values, np.clip(flow_btc, 0, None), np.clip(-flow_btc, 0, None), 0.0)
    returns = pd.Series(returns, index=dates).where(history.daily["value_btc"].notna())
    returns.iloc[0] = np.nan  # the first day has no previous close to compare with
    daily = history.daily.assign(return_btc=returns,
                                 cumulative_return_btc=cumulative_returns(returns))
    return ValueHistory(daily=daily, assets_btc=history.assets_btc, status=history.status)
