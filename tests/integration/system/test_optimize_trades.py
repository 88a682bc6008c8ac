""""Rebalance to this mix" on the sample store: the trades, applied to the holdings and valued
again, land on the optimizer's proposal (exactly without lots and minimum trade, within what
they left untraded with them); and the optimizer/backtest results are cached by store version."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from analytics.optimizer import METHODS
from analytics.portfolio_value import value_portfolio
from data.models import Quote
from queries import backtest as backtest_query
from queries import optimize as optimize_query
from queries.backtest import BacktestRequest, backtest_portfolio
from queries.optimize import OptimizeRequest, optimize_portfolio


def _apply(holdings: dict[str, float], trades) -> dict[str, float]:
    out = dict(holdings)
    for t in trades.itertuples(index=False):
        out[t.symbol] = out.get(t.symbol, 0.0) + (t.quantity if t.side == "buy" else -t.quantity)
    assert min(out.values()) >= 0
    return {s: q for s, q in out.items() if q > 0}


def _revalue(repo, settings, holdings, now) -> dict[str, float]:
    kinds = {s: a.kind for s, a in settings.assets.items()}
    val = value_portfolio(holdings, repo.load_latest_prices(), asset_kinds=kinds, now=now)
    return dict(zip(val.assets["symbol"], val.assets["weight"], strict=True)), val.total_btc


def _no_lots(settings):
    assets = {s: a.model_copy(update={"lot_size": None}) for s, a in settings.assets.items()}
    return settings.model_copy(update={"assets": assets})


@pytest.mark.parametrize("method", METHODS)
def test_trades_applied_without_rounding_rules_land_exactly_on_the_proposal(repo, settings, now,
                                                                             method):
    settings = _no_lots(settings)
    res = optimize_portfolio(repo, settings, OptimizeRequest(method=method, fee_bps=25,
                                                             min_trade_usd=0), now=now)
    assert res.plan is not None and res.not_traded == {}
    sides = res.plan.trades[res.plan.trades["symbol"] != "BTC"]["side"]
    assert {"buy", "sell"} <= set(sides)                       # two-sided, in one plan
    before = repo.load_holdings(settings.portfolio.name)
    weights, total = _revalue(repo, settings, _apply(before, res.plan.trades), now)
    for symbol, w in res.mix.weights.items():
        assert weights.get(symbol, 0.0) == pytest.approx(w, abs=1e-9), symbol
    assert weights["BTC"] == pytest.approx(0.5, abs=1e-12)
    assert total == pytest.approx(res.valuation.total_btc - res.plan.fees_btc, rel=1e-12)


def test_trades_with_lots_and_minimum_trade_land_within_the_untraded_value(repo, settings, now):
    res = optimize_portfolio(repo, settings, OptimizeRequest(method="risk_parity", fee_bps=10,
                                                             min_trade_usd=50), now=now)
    lots = settings.lot_sizes()
    for t in res.plan.trades.itertuples(index=False):
        if t.symbol in lots:
            assert t.quantity / lots[t.symbol] == pytest.approx(round(t.quantity), abs=1e-9)
        if t.symbol != "BTC":
            assert t.value_usd >= 50
    before = repo.load_holdings(settings.portfolio.name)
    weights, total = _revalue(repo, settings, _apply(before, res.plan.trades), now)
    assert res.plan.rounding_btc > 0                       # the lots did leave something
    slack = res.plan.rounding_btc / 0.999 ** 2 / total + 1e-9
    for symbol, w in res.mix.weights.items():
        assert abs(weights.get(symbol, 0.0) - w) <= slack, symbol
    # A crypto asset (no lot size) absorbed the rounding: BTC is on its target.
    assert weights["BTC"] == pytest.approx(0.5, abs=1e-12)
    side = res.plan.trades.groupby("side")["value_btc"].sum()
    assert side["buy"] == pytest.approx(side["sell"] - res.plan.fees_btc, rel=1e-12)


def test_stale_holdings_are_not_traded_and_named(repo, settings, now):
    # Ten days on, the stocks' closes are past their 4-day limit; crypto has fresh quotes.
    later = now + timedelta(days=10)
    quotes = [Quote(s, float(repo.load_closes([s])[s].dropna().iloc[-1]), later, "test")
              for s in ("BTC", "ETH", "SOL", "USDC")]
    repo.upsert_quotes(quotes, fetched_at=later)
    res = optimize_portfolio(repo, settings, OptimizeRequest(), now=later)
    assert res.plan is not None
    assert {"SPY", "QQQ", "AAPL", "GLD"} <= set(res.not_traded)
    assert all(why.startswith("stale price") for why in res.not_traded.values())
    assert not set(res.plan.trades["symbol"]) & set(res.not_traded)
    assert res.plan.btc_share_after == pytest.approx(0.5, abs=1e-9)


def test_optimizer_is_cached_by_store_version_and_request(repo, settings, now, monkeypatch):
    calls = []
    real = optimize_query.optimize_mix
    monkeypatch.setattr(optimize_query, "optimize_mix",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    request = OptimizeRequest(method="risk_parity")
    first = optimize_portfolio(repo, settings, request, now=now)
    again = optimize_portfolio(repo, settings, request, now=now + timedelta(seconds=30))
    assert len(calls) == 1 and again.mix is first.mix           # a refresh: no recompute
    optimize_portfolio(repo, settings, OptimizeRequest(method="min_variance"), now=now)
    assert len(calls) == 2                                       # other parameters
    repo.set_holding("ETH", 5.0, settings.portfolio.name)       # a ledger change
    optimize_portfolio(repo, settings, request, now=now)
    assert len(calls) == 3
    _add_close(repo, "SOL")                                      # a price change
    optimize_portfolio(repo, settings, request, now=now)
    assert len(calls) == 4


def test_backtest_is_cached_by_store_version_and_request(repo, settings, monkeypatch):
    calls = []
    real = backtest_query.run_backtests
    monkeypatch.setattr(backtest_query, "run_backtests",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    request = BacktestRequest(rebalance="quarterly")
    first = backtest_portfolio(repo, settings, request)
    assert backtest_portfolio(repo, settings, request) is first and len(calls) == 1
    backtest_portfolio(repo, settings, BacktestRequest(rebalance="quarterly", fee_bps=20))
    assert len(calls) == 2
    repo.set_holding("SOL", 41.0, settings.portfolio.name)
    backtest_portfolio(repo, settings, request)
    assert len(calls) == 3
    _add_close(repo, "BTC")
    backtest_portfolio(repo, settings, request)
    assert len(calls) == 4


def _add_close(repo, symbol: str) -> None:
    """One more daily close, a day after the symbol's newest."""
    closes = repo.load_closes([symbol])[symbol].dropna()
    day, price = closes.index[-1] + timedelta(days=1), float(closes.iloc[-1]) * 1.01
    frame = pd.DataFrame({"symbol": [symbol], "ts": [day], "open": [price], "high": [price],
                          "low": [price], "close": [price], "volume": [0.0], "source": ["test"]})
    repo.upsert_prices(frame, interval="1d")
