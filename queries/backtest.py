"""Read side of /api/backtest and the backtest panel: store reads -> walk-forward simulation.

Every strategy starts on the same day with the current portfolio's BTC value (the holdings at
the newest closes) and holds only assets priced on every day of the period; "current" is the
holdings' mix by value at the newest close.

A result is cached by the store version (ledger counter + fingerprint of the held assets'
closes, ``queries.store_cache``) and the request: a page load or a refresh with unchanged
holdings and closes does not simulate again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from analytics.backtest import (
    BTC,
    STRATEGIES,
    StrategyResult,
    btc_price_panel,
    btc_target_mix,
    constant_mix,
    rebalance_dates,
    run_strategy,
    walk_forward_optimizer,
)
from analytics.categories import categories_from_assets
from analytics.optimizer import Caps
from data.storage import Repository
from queries.store_cache import ResultCache, store_version
from settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacktestRequest:
    """Which strategies, how often to rebalance, over how many years, at what cost."""

    strategies: tuple[str, ...] = STRATEGIES
    rebalance: str = "monthly"
    years: int = 3
    fee_bps: float = 10.0
    target_btc_pct: float = 0.5


@dataclass(frozen=True)
class Backtest:
    """Each strategy's result over the same period, and the assets left out."""

    start: pd.Timestamp
    end: pd.Timestamp
    results: dict[str, StrategyResult]
    excluded: dict[str, str]


def run_backtests(closes: pd.DataFrame, holdings: dict[str, float], categories: dict[str, str],
                  request: BacktestRequest) -> Backtest:
    """The requested strategies on a USD close frame (pure; the store read is the caller's).

    Raises:
        ValueError: no BTC close, too little history, nothing held, or infeasible caps.
    """
    end = closes[BTC].last_valid_index()
    if end is None:
        raise ValueError("no BTC close stored")
    start = max(end - pd.Timedelta(days=365 * request.years), closes[BTC].first_valid_index())
    panel, excluded = btc_price_panel(closes, start, end)
    held = {s: q for s, q in holdings.items() if q > 0 and s in panel.columns}
    value = pd.Series(held, dtype="float64") * panel.iloc[-1].reindex(list(held))
    if value.sum() <= 0:
        raise ValueError("no held asset is priced over the whole period")
    current = (value / value.sum()).to_dict()
    dates = rebalance_dates(panel.index, request.rebalance)
    universe = [s for s in held if s != BTC]
    caps = Caps(target_btc_pct=request.target_btc_pct)
    makers = {
        "current": lambda: constant_mix(current),
        "btc_target": lambda: constant_mix(btc_target_mix(current, request.target_btc_pct)),
        "optimized": lambda: walk_forward_optimizer(closes, categories, caps=caps,
                                                    universe=universe),
    }
    results = {name: run_strategy(panel, makers[name](), dates, fee_bps=request.fee_bps,
                                  initial_value_btc=float(value.sum()))
               for name in request.strategies}
    return Backtest(start=panel.index[0], end=panel.index[-1], results=results,
                    excluded={s: why for s, why in excluded.items() if s in holdings})


def backtest_portfolio(repo: Repository, settings: Settings,
                       request: BacktestRequest) -> Backtest:
    """The stored holdings' backtest (store reads + ``run_backtests``).

    Raises:
        ValueError: see ``run_backtests``.
        DataError: the store cannot be read.
    """
    holdings = repo.load_holdings(settings.portfolio.name)
    symbols = sorted({BTC, *holdings})
    categories = categories_from_assets(settings.assets)
    key = ("backtest", store_version(repo, settings.portfolio.name, symbols), request,
           tuple(sorted(categories.items())))
    return _RESULTS.get(key, lambda: run_backtests(repo.load_closes(symbols), holdings,
                                                   categories, request))


_RESULTS = ResultCache()
