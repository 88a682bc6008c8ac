"""Optimizer (50 assets) and 3-year monthly walk-forward backtest (12 assets) vs naive loops.

Optimizer: ``btc_covariance`` + ``optimize_mix`` (min variance, default caps) on 365 days of
50 replayed real series (crypto daily, equities on business days). Naive baseline in the same
run: the covariance pair by pair (pandas align per pair) and SLSQP with finite-difference
gradients, the textbook way.

Backtest: ``queries.backtest.run_backtests`` (current, optimized refit monthly on past closes
only, btc_target) over 3 years of 12 assets. Naive baseline: a per-date Python loop that
values every asset on every day and refits with the naive optimizer on rebalance dates.

Refresh: ``queries.optimize.optimize_portfolio`` on a SQLite store seeded from the bundled
sample (what the Suggested mix panel and "rebalance to this mix" run on every refresh): the
fit cached by store version, the two-sided trades replanned at current prices. Baseline in
the same run: the same call with the cache emptied before each run (what every refresh cost
before the cache).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from analytics.backtest import btc_price_panel, rebalance_dates
from analytics.covariance import btc_covariance, shrink_to_diagonal
from analytics.optimizer import Caps, _category_matrix, capped_equal_weights, optimize_mix
from benchmarks.common import Result, median, pct, ratio, timed
from benchmarks.dataset import history, real_series, today, universe
from queries import optimize as optimize_query
from queries.backtest import BacktestRequest, run_backtests


def closes_of(n_assets: int, days: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """Wide USD close frame of ``n_assets`` replayed assets and their categories."""
    series = real_series()
    assets = universe(n_assets, series)
    long = history(assets, series, end=today(), days=days)
    wide = long.pivot(index="ts", columns="symbol", values="close").sort_index()
    wide.columns.name = None
    return wide, {a.symbol: a.category for a in assets}


def naive_covariance(closes: pd.DataFrame, lookback_days: int) -> pd.DataFrame:
    """Pair by pair: align the two BTC-priced series, take returns, covariance; then shrink."""
    end = closes["BTC"].last_valid_index()
    window = closes.loc[closes.index > end - pd.Timedelta(days=lookback_days)]
    btc = window.drop(columns="BTC").div(window["BTC"], axis=0)
    keep = [s for s in btc.columns if btc[s].notna().sum() > 30]   # >= 30 returns
    cov = np.zeros((len(keep), len(keep)))
    est = np.zeros_like(cov)
    for i, a in enumerate(keep):
        for j in range(i, len(keep)):
            # Consecutive dates where both have a price: log returns, then the moments.
            pair = np.diff(np.log(btc[[a, keep[j]]].dropna().to_numpy()), axis=0)
            cov[i, j] = cov[j, i] = np.cov(pair.T, ddof=1)[0, 1]
            c = pair - pair.mean(axis=0)
            est[i, j] = est[j, i] = np.var(c[:, 0] * c[:, 1]) / len(pair)
    shrunk, _ = shrink_to_diagonal(cov, est)
    return pd.DataFrame(shrunk, index=keep, columns=keep)


def naive_optimize(cov: pd.DataFrame, categories: dict[str, str], caps: Caps) -> dict:
    """SLSQP with finite-difference gradients from the capped equal-weight start."""
    symbols = list(cov.columns)
    _, member = _category_matrix(symbols, categories)
    c, rest = cov.to_numpy(), 1 - caps.target_btc_share
    res = minimize(lambda x: x @ c @ x, capped_equal_weights(member, caps), method="SLSQP",
                   bounds=[(0, caps.max_per_asset)] * len(symbols),
                   constraints=[{"type": "eq", "fun": lambda x: x.sum() - rest},
                                {"type": "ineq", "fun": lambda x: caps.max_per_category
                                 - member @ x}], options={"maxiter": 500, "ftol": 1e-14})
    return {"BTC": caps.target_btc_share, **dict(zip(symbols, res.x, strict=True))}


def naive_backtest(closes: pd.DataFrame, holdings: dict[str, float],
                   categories: dict[str, str], years: int) -> list[float]:
    """Per-date loop: value each asset every day, refit on day one and each first of a month."""
    end = closes["BTC"].last_valid_index()
    panel, _ = btc_price_panel(closes, end - pd.Timedelta(days=365 * years), end)
    dates = {panel.index[0], *rebalance_dates(panel.index, "monthly")}
    last = panel.iloc[-1]
    qty = {s: 0.0 for s in panel.columns}
    qty["BTC"] = sum(q * last[s] for s, q in holdings.items())   # the current value, in BTC
    out = []
    for day, row in panel.iterrows():
        total = sum(q * row[s] for s, q in qty.items())
        if day in dates:
            past = closes.loc[closes.index < day]
            w = naive_optimize(naive_covariance(past, 365), categories, Caps())
            qty = {s: w.get(s, 0.0) * total / row[s] for s in panel.columns}
        out.append(total)
    return out


def refresh_figure(runs: int) -> Result:
    """The Suggested mix + trades on a refresh: cached fit vs recomputed fit (same store)."""
    from data.store.repository import Repository
    from data.store.seed import init_portfolio, seed_store
    from settings import load_settings

    root = Path(__file__).resolve().parents[1]
    now = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)   # the sample's clock
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(root / "config.yaml", {
            "BTCFOLIO__STORE__URL": f"sqlite:///{Path(tmp) / 'store.db'}",
            "BTCFOLIO__CACHE__DIR": str(Path(tmp) / "cache")})
        repo = Repository.from_url(settings.store.url)
        seed_store(repo, root / "data" / "sample" / "prices_daily.csv", now=now)
        init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
        request = optimize_query.OptimizeRequest(fee_bps=10)

        def call() -> object:
            return optimize_query.optimize_portfolio(repo, settings, request, now=now)

        def cold() -> object:
            optimize_query._FITS.clear()
            return call()

        call()
        warm = [timed(call)[0] for _ in range(runs)]
        base = [timed(cold)[0] for _ in range(runs)]
        repo.engine.dispose()
    value, baseline = median(warm), median(base)
    return Result("Suggested mix + two-sided trades per refresh (cached fit), sample store",
                  round(value, 1), "ms", round(baseline, 1), ratio(value, baseline),
                  "<= 50 % of recomputing", value <= 0.5 * baseline)


def results(*, quick: bool) -> list[Result]:
    """Optimizer p50, walk-forward backtest and optimize refresh, each against its naive path."""
    runs = 5 if quick else 21
    closes, cats = closes_of(50, 400)
    ours = [timed(lambda: optimize_mix(btc_covariance(closes, 365), cats))[0]
            for _ in range(runs)]
    # The naive path takes seconds a call: a few runs are enough for its median.
    naive = [timed(lambda: naive_optimize(naive_covariance(closes, 365), cats, Caps()))[0]
             for _ in range(3)]
    p50, base = pct(ours, 50), median(naive)
    out = [Result("optimizer p50, 50 assets x 365 d (covariance + SLSQP)", round(p50, 2), "ms",
                  round(base, 2), ratio(p50, base), "<= 200 ms", p50 <= 200.0)]
    bt_closes, bt_cats = closes_of(12, 365 * 4 + 30)
    holdings = {s: 1.0 / bt_closes[s].dropna().iloc[-1] for s in bt_closes.columns}
    request = BacktestRequest(rebalance="monthly", years=3, fee_bps=10)
    bt_runs = 3 if quick else 5
    times = [timed(lambda: run_backtests(bt_closes, holdings, bt_cats, request))[0]
             for _ in range(bt_runs)]
    naive_ms = timed(lambda: naive_backtest(bt_closes, holdings, bt_cats, 3))[0]
    value = median(times)
    out.append(Result("walk-forward backtest, 12 assets x 3 y monthly (3 strategies)",
                      round(value, 1), "ms", round(naive_ms, 1), ratio(value, naive_ms),
                      "<= 2000 ms", value <= 2000.0))
    out.append(refresh_figure(5 if quick else 15))
    return out
