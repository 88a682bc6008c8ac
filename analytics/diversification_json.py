"""JSON payloads (plain dicts) for the correlation and rebalancing API (pure: no IO, no Flask).

Every float that is NaN or infinite becomes ``None`` (JSON ``null``): JSON has no NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.correlation import CorrelationResult
from analytics.rebalancing import SATS_PER_BTC, RebalancePlan


def _num(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _grid(frame: pd.DataFrame, *, integer: bool = False) -> list[list]:
    cast = int if integer else _num
    return [[cast(v) for v in row] for row in frame.to_numpy()]


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


def holdings_payload(frame: pd.DataFrame, *, as_of: pd.Timestamp, btc_usd: float,
                     unpriced: tuple[str, ...] = ()) -> dict:
    """A holdings frame (rebalancing HOLDING_COLUMNS) in the shape of /api/portfolio.

    ``unpriced``: held symbols without a price, left out of the plan (as in /api/portfolio).
    """
    assets = [{
        "symbol": str(row.symbol), "quantity": _num(row.quantity),
        "price_usd": _num(row.price_usd), "price_btc": _num(row.price_btc),
        "value_btc": _num(row.value_btc), "value_sats": _num(row.value_btc * SATS_PER_BTC),
        "value_usd": _num(row.value_usd), "weight": _num(row.weight),
    } for row in frame.itertuples(index=False)]
    total = float(np.sum(frame["value_btc"].to_numpy(dtype="float64")))
    btc = float(frame.loc[frame["symbol"] == "BTC", "value_btc"].sum())
    return {
        "portfolio_value_btc": _num(total),
        "value_usd": _num(total * btc_usd),
        "holdings": {a["symbol"]: a["value_btc"] for a in assets},
        "btc_allocation": _num(btc / total) if total > 0 else 0.0,
        "as_of": as_of.isoformat(),
        "btc_usd": _num(btc_usd),
        "assets": assets,
        "unpriced": list(unpriced),
    }


def rebalance_payload(plan: RebalancePlan, *, as_of: pd.Timestamp,
                      unpriced: tuple[str, ...] = ()) -> dict:
    """The /api/rebalance body: trades plus the portfolio before and after them."""
    trades = [{
        "symbol": str(t.symbol), "side": str(t.side), "quantity": _num(t.quantity),
        "price_btc": _num(t.price_btc), "value_btc": _num(t.value_btc),
        "value_sats": int(t.value_sats), "value_usd": _num(t.value_usd), "fee_btc": _num(t.fee_btc),
    } for t in plan.trades.itertuples(index=False)]
    return {
        "as_of": as_of.isoformat(),
        "target_btc_pct": plan.target_btc_pct,
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
        "before": holdings_payload(plan.before, as_of=as_of, btc_usd=plan.btc_usd,
                                   unpriced=unpriced),
        "after": holdings_payload(plan.after, as_of=as_of, btc_usd=plan.btc_usd,
                                  unpriced=unpriced),
    }
