"""JSON bodies of the API (plain dicts of floats, ints, str, bool, None; no Flask here).

Every float that is NaN or infinite becomes ``None`` (JSON ``null``): JSON has no NaN.
Times are ISO-8601 UTC.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.correlation import CorrelationResult
from analytics.portfolio_history import ValueHistory
from analytics.portfolio_value import PortfolioValuation
from queries.rebalance import Rebalance


def _num(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _grid(frame: pd.DataFrame, *, integer: bool = False) -> list[list]:
    cast = int if integer else _num
    return [[cast(v) for v in row] for row in frame.to_numpy()]


def portfolio_payload(valuation: PortfolioValuation) -> dict:
    """JSON body of ``GET /api/portfolio`` (plain floats/ints/str/bool; NaN never emitted).

    ``{"portfolio_value_btc", "value_usd", "holdings": {symbol: value_btc}, "btc_allocation",
    "as_of", "btc_usd", "assets": [{symbol, quantity, price_usd, price_btc, value_btc,
    value_usd, value_sats, weight, price_ts, source, stale}, ...]}``; times are ISO-8601 UTC;
    ``value_sats`` is a whole number of satoshis (rounded).
    """
    assets = [{
        "symbol": str(r.symbol), "quantity": float(r.quantity), "price_usd": float(r.price_usd),
        "price_btc": float(r.price_btc), "value_btc": float(r.value_btc),
        "value_usd": float(r.value_usd), "value_sats": int(r.value_sats),
        "weight": float(r.weight), "price_ts": pd.Timestamp(r.price_ts).isoformat(),
        "source": str(r.source), "stale": bool(r.stale),
    } for r in valuation.assets.itertuples(index=False)]
    return {"portfolio_value_btc": float(valuation.total_btc),
            "value_usd": float(valuation.total_usd),
            "holdings": {a["symbol"]: a["value_btc"] for a in assets},
            "btc_allocation": float(valuation.btc_allocation),
            "as_of": valuation.as_of.isoformat(), "btc_usd": float(valuation.btc_usd),
            "assets": assets, "unpriced": list(valuation.unpriced)}


def history_payload(history: ValueHistory, days: int) -> dict:
    """JSON body of ``GET /api/portfolio/history``: the last ``days`` rows, oldest first.

    ``{"history": [{"date": "YYYY-MM-DD", "value_btc": float, "return_btc": float,
    "stale": [symbol, ...]}, ...]}``; a number that does not exist (first day's return, a day
    with nothing valued) is null; ``stale`` names the holdings valued at a stale price.
    """
    tail = history.daily.iloc[-days:] if days > 0 else history.daily.iloc[:0]

    def num(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    rows = zip(tail.index, tail.itertuples(index=False), strict=True)
    return {"history": [{"date": date.strftime("%Y-%m-%d"), "value_btc": num(row.value_btc),
                         "return_btc": num(row.return_btc),
                         "stale": [s for s in row.stale.split(", ") if s]}
                        for date, row in rows]}


def correlation_payload(result: CorrelationResult) -> dict:
    """The /api/correlation body: assets, matrix (null without a number) and n_obs."""
    return {
        "as_of": result.as_of.isoformat(),
        "lookback_days": result.lookback_days,
        "min_obs": result.min_obs,
        "assets": [str(s) for s in result.matrix.columns],
        "matrix": _grid(result.matrix),
        "n_obs": _grid(result.n_obs, integer=True),
    }


def rebalance_payload(result: Rebalance) -> dict:
    """The /api/rebalance body: trades, the portfolio before and after, the untraded holdings.

    Before and after have exactly the /api/portfolio shape; each untraded holding carries the
    reason the plan leaves it alone.
    """
    plan = result.plan
    trades = [{
        "symbol": str(t.symbol), "side": str(t.side), "quantity": _num(t.quantity),
        "price_btc": _num(t.price_btc), "value_btc": _num(t.value_btc),
        "value_sats": int(t.value_sats), "value_usd": _num(t.value_usd), "fee_btc": _num(t.fee_btc),
    } for t in plan.trades.itertuples(index=False)]
    return {
        "as_of": result.before.as_of.isoformat(),
        "target_btc_pct": plan.target_btc_share,
        "fees_btc": _num(plan.fees_btc),
        "trades": trades,
        "skipped": [{
            "symbol": str(s.symbol), "side": str(s.side), "quantity": _num(s.quantity),
            "value_btc": _num(s.value_btc), "value_usd": _num(s.value_usd),
            "reason": str(s.reason),
        } for s in plan.skipped.itertuples(index=False)],
        # The plan misses the target only by what rounding and skipped legs left untraded.
        "rounding": {"untraded_btc": _num(plan.rounding_btc),
                     "btc_share_after": _num(plan.btc_share_after),
                     "target_gap": _num(plan.target_gap)},
        "before": portfolio_payload(result.before),
        "after": portfolio_payload(result.after),
        "excluded": dict(result.excluded),
    }
