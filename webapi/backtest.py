"""GET /api/backtest and GET /api/correlation/rolling (glue: strict parsing -> queries -> JSON).

``GET /api/backtest?strategy=current|optimized|btc_target&rebalance=monthly|quarterly&years=3
&fee_bps=10&target_btc_pct=0.5``
    200 ``{start, end, rebalance, years, fee_bps, target_btc_pct, excluded, strategies}`` with
    ``strategies`` {name: {total_return_btc, annualised_return_btc, volatility_btc_365,
    max_drawdown_btc, turnover, fees_btc, series [{date, value_btc}]}} (every strategy when
    ``strategy`` is absent). 422 when the history cannot support it.
``GET /api/correlation/rolling?window_days=90&days=365``
    200 ``{as_of, window_days, days, series: {symbol: [{date, corr_btc}]}}`` for every held
    asset, ``null`` where a window has too few common returns (a series that ended).
"""

from __future__ import annotations

import logging

from flask import Blueprint

import services
from analytics.backtest import FREQUENCIES, STRATEGIES, StrategyResult
from queries.backtest import Backtest, BacktestRequest, backtest_portfolio
from queries.correlation_drift import CorrelationDrift, correlation_drift
from webapi.common import query_params, query_response
from webapi.diversification import parse_float
from webapi.optimize import _num, parse_choice, parse_int

logger = logging.getLogger(__name__)

bp = Blueprint("api_backtest", __name__)


def parse_backtest(args) -> BacktestRequest:  # untyped: a werkzeug MultiDict
    """The BacktestRequest of a query string (strict)."""
    strategy = parse_choice("strategy", args.get("strategy"), STRATEGIES, "")
    return BacktestRequest(
        strategies=(strategy,) if strategy else STRATEGIES,
        rebalance=parse_choice("rebalance", args.get("rebalance"), tuple(FREQUENCIES),
                               "monthly"),
        years=parse_int("years", args.get("years"), 3, 1, 10),
        fee_bps=parse_float("fee_bps", args.get("fee_bps"), 10.0, 0, 10_000, hi_open=True),
        target_btc_share=parse_float("target_btc_pct", args.get("target_btc_pct"), 0.5, 0, 1))


def strategy_payload(result: StrategyResult) -> dict:
    """One strategy's summary and its daily BTC value series."""
    return {
        "total_return_btc": _num(result.total_return_btc),
        "annualised_return_btc": _num(result.annualised_return_btc),
        "volatility_btc_365": _num(result.volatility_btc_365),
        "max_drawdown_btc": _num(result.max_drawdown_btc),
        "turnover": _num(result.turnover), "fees_btc": _num(result.fees_btc),
        "series": [{"date": f"{d:%Y-%m-%d}", "value_btc": _num(v)}
                   for d, v in result.series.items()],
    }


def backtest_payload(backtest: Backtest, req: BacktestRequest) -> dict:
    """The /api/backtest body."""
    return {
        "start": f"{backtest.start:%Y-%m-%d}", "end": f"{backtest.end:%Y-%m-%d}",
        "rebalance": req.rebalance, "years": req.years, "fee_bps": req.fee_bps,
        "target_btc_pct": req.target_btc_share, "excluded": backtest.excluded,
        "strategies": {name: strategy_payload(r) for name, r in backtest.results.items()},
    }


@bp.get("/api/backtest")
@query_params("strategy", "rebalance", "years", "fee_bps", "target_btc_pct")
def get_backtest():
    """Walk-forward backtest of the strategies in BTC terms."""
    return query_response(
        parse_backtest,
        lambda req: backtest_portfolio(services.repository(), services.settings(), req),
        backtest_payload, unavailable="backtest unavailable", empty="no backtest")


def parse_drift(args) -> dict[str, int]:  # untyped: a werkzeug MultiDict
    """``window_days`` and ``days`` of a query string (strict)."""
    return {"window_days": parse_int("window_days", args.get("window_days"), 90, 20, 365),
            "days": parse_int("days", args.get("days"), 365, 30, 3650)}


def drift_payload(drift: CorrelationDrift, days: int) -> dict:
    """The /api/correlation/rolling body."""
    frame = drift.frame
    return {
        "as_of": frame.index[-1].isoformat() if len(frame) else None,
        "window_days": drift.window_days, "days": days,
        "series": {str(s): [{"date": f"{d:%Y-%m-%d}", "corr_btc": _num(v)}
                            for d, v in frame[s].items()] for s in frame.columns},
    }


@bp.get("/api/correlation/rolling")
@query_params("window_days", "days")
def get_correlation_rolling():
    """Rolling correlation to BTC of every held asset (correlation drift)."""
    return query_response(
        parse_drift,
        lambda req: correlation_drift(services.repository(), services.settings(), **req),
        lambda drift, req: drift_payload(drift, req["days"]),
        unavailable="correlation drift unavailable")
