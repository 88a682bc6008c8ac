"""Glue for the dashboard: one function per data need (store read -> pure analytics).

Callbacks call only these; the numbers come from the pure analytics modules (BTC conversion
and history: issue 4; correlation and rebalancing: issue 5).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

import services
from analytics.btc_converter import BTCConverter, prices_in_btc
from analytics.portfolio_history import portfolio_value_history
from analytics.portfolio_value import PortfolioValuation, value_portfolio
from analytics.rebalancing import rebalance_to_btc
from components.dashboard_view import DashboardData
from components.export import holdings_csv
from components.status import describe_status
from data.demo import demo_feed
from data.holdings import backfill_state
from webapi.common import asset_kinds, staleness_limits

logger = logging.getLogger(__name__)
LOW_CORRELATION = 0.5


def _names_categories() -> tuple[dict[str, str], dict[str, str]]:
    assets = services.settings().assets
    return ({s: a.name for s, a in assets.items()}, {s: a.category for s, a in assets.items()})


def latest_prices(now: datetime, stored: pd.DataFrame | None = None) -> pd.DataFrame:
    """Stored latest-price candidates, plus the simulated quotes in demo mode (memory only).

    ``stored``: the store's candidates when the caller already read them this refresh.
    """
    repo, settings = services.repository(), services.settings()
    latest = repo.load_latest_prices() if stored is None else stored
    if not settings.demo:
        return latest
    ticks = demo_feed(repo, now=now, step_seconds=settings.refresh.interval_seconds).quotes(now)
    demo = pd.DataFrame([(q.symbol, q.price_usd, pd.Timestamp(q.ts), q.source, "quote")
                         for q in ticks], columns=list(latest.columns))
    return pd.concat([latest, demo], ignore_index=True) if len(latest) else demo


def current_valuation(now: datetime, stored: pd.DataFrame | None = None
                      ) -> tuple[PortfolioValuation, dict[str, float]]:
    """The portfolio valued in BTC now, and the holdings that have no price yet."""
    repo, settings = services.repository(), services.settings()
    holdings = repo.load_holdings(settings.portfolio.name)
    valuation = value_portfolio(holdings, latest_prices(now, stored),
                                asset_kinds=asset_kinds(settings),
                                now=now, limits=staleness_limits(settings))
    return valuation, {s: holdings[s] for s in valuation.unpriced}


def _converter(closes: pd.DataFrame) -> BTCConverter:
    settings = services.settings()
    return BTCConverter(closes, asset_kinds=asset_kinds(settings),
                        limits=staleness_limits(settings))


def prices_btc_before(as_of: pd.Timestamp, delta: timedelta = timedelta(hours=24), *,
                      stored: pd.DataFrame | None = None,
                      symbols: list[str] | None = None) -> dict[str, float]:
    """Each asset's BTC price as of ``as_of - delta`` from the stored daily closes.

    ``stored``: the store's latest-price candidates when the caller already read them.
    ``symbols``: only these assets (default: every stored one); BTC is always read.
    """
    repo, when = services.repository(), pd.Timestamp(as_of) - delta
    # Look back from the newest stored close when the store ends earlier (offline, demo).
    stored = repo.load_latest_prices() if stored is None else stored
    is_close = stored["kind"].to_numpy() == "close"
    if symbols is None:
        symbols = sorted(set(stored["symbol"].to_numpy()[is_close]))
    btc_close = np.flatnonzero(is_close & (stored["symbol"].to_numpy() == "BTC"))
    newest = stored["ts"].iloc[btc_close].max() if len(btc_close) else when
    start = min(when, newest) - timedelta(days=14)
    # The newest close of each symbol in the window, read through the store's key: a
    # refresh needs one price per holding, not the window pivoted.
    rows = repo.load_closes_asof(when, sorted({*symbols, "BTC"}), since=start)
    wanted = set(symbols)
    btc = prices_in_btc(dict(zip(rows["symbol"], rows["price_usd"], strict=True)))
    return {s: p for s, p in btc.items() if s in wanted}


def backfill_text(state: dict | None) -> str:
    """'requested', 'running 40%', 'failed' ... from a recorded backfill state."""
    if not state:
        return "not requested"
    progress = state.get("progress")
    done = f" {progress:.0%}" if isinstance(progress, (int, float)) else ""
    return f"{state.get('state', 'unknown')}{done}"


def load_dashboard(now: datetime) -> DashboardData:
    """Everything the live part of the page shows, read from the store (never a provider)."""
    repo, settings = services.repository(), services.settings()
    stored = repo.load_latest_prices()  # read once: valuation, 24 h reference and status
    valuation, unpriced = current_valuation(now, stored)
    pending = {s: (q, backfill_text(backfill_state(repo, s))) for s, q in unpriced.items()}
    banner = describe_status(
        quotes_fetched_at=repo.newest_quote_fetch(), latest=stored,
        health=repo.load_source_health(), now=now, demo=settings.demo,
        quote_limit=timedelta(seconds=settings.cache.stale_if_error_seconds))
    names, categories = _names_categories()
    return DashboardData(valuation=valuation, now=now, names=names, categories=categories,
                         prices_btc_24h=prices_btc_before(
                             valuation.as_of, stored=stored,
                             symbols=list(valuation.assets["symbol"])),
                         pending=pending,
                         banner=banner)


def value_history(holdings: dict[str, float]) -> pd.DataFrame:
    """Daily BTC value at constant quantities and the flat 'held BTC' line.

    Returns index date, columns value_btc and held_btc: the value of the first day on which
    every holding has a price, held as BTC (flat in BTC terms by definition). Days before
    that (an asset not yet listed) are left out so the line starts from a complete portfolio.
    """
    closes = services.repository().load_closes(list(holdings) + ["BTC"])
    history = portfolio_value_history(holdings, _converter(closes)).daily
    complete = history.index[history["complete"].to_numpy(dtype=bool)]
    daily = history.loc[history.index >= complete[0], "value_btc"] if len(complete) else (
        history["value_btc"])
    daily = daily.dropna()
    held = float(daily.iloc[0]) if len(daily) else 0.0
    return pd.DataFrame({"value_btc": daily, "held_btc": held})


def allocation(valuation: PortfolioValuation) -> tuple[dict[str, float], dict[str, float]]:
    """Weights by asset and by category (fractions of the BTC value)."""
    _, categories = _names_categories()
    by_asset = dict(zip(valuation.assets["symbol"], valuation.assets["weight"], strict=True))
    by_category: dict[str, float] = {}
    for symbol, weight in by_asset.items():
        key = categories.get(symbol, "other")
        by_category[key] = by_category.get(key, 0.0) + float(weight)
    return by_asset, by_category


def history_and_allocation(now: datetime) -> tuple[pd.DataFrame, dict, dict]:
    """Value history of the current holdings and their weights by asset and by category.

    Raises:
        ValueError: no BTC price, or no priced holding.
    """
    valuation, _ = current_valuation(now)
    if valuation.assets.empty:
        raise ValueError("No priced holdings yet: add an asset above.")
    holdings = dict(zip(valuation.assets["symbol"], valuation.assets["quantity"], strict=True))
    by_asset, by_category = allocation(valuation)
    return value_history(holdings), by_asset, by_category


def rebalance_trades(valuation: PortfolioValuation, target_btc: float) -> pd.DataFrame:
    """Trades (analytics.rebalancing TRADE_COLUMNS) bringing BTC to ``target_btc`` of the value.

    Raises:
        ValueError: target out of [0, 1], or nothing to trade against (e.g. only BTC held).
    """
    prices = valuation.assets[["symbol", "price_btc", "price_usd"]]
    if not (prices["symbol"] == "BTC").any():
        btc_row = pd.DataFrame({"symbol": ["BTC"], "price_btc": [1.0],
                                "price_usd": [valuation.btc_usd]})
        prices = pd.concat([btc_row, prices], ignore_index=True)
    holdings = dict(zip(valuation.assets["symbol"], valuation.assets["quantity"], strict=True))
    return rebalance_to_btc(holdings, prices, target_btc).trades


def export_csv(now: datetime) -> str:
    """The holdings CSV of the current valuation."""
    valuation, _ = current_valuation(now)
    names, categories = _names_categories()
    return holdings_csv(valuation, names=names, categories=categories)
