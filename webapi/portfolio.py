"""GET /api/portfolio: the stored portfolio valued in BTC."""

from __future__ import annotations

import math

from flask import Blueprint, jsonify

from analytics.portfolio_value import SATS_PER_BTC, PortfolioValuation
from data.errors import DataError
from webapi.common import current_valuation, json_error

bp = Blueprint("api_portfolio", __name__)


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def portfolio_payload(valuation: PortfolioValuation) -> dict:
    """The /api/portfolio JSON for a valuation (pure)."""
    assets = [{
        "symbol": row.symbol, "quantity": _num(row.quantity), "price_usd": _num(row.price_usd),
        "price_btc": _num(row.price_btc), "value_btc": _num(row.value_btc),
        "value_sats": _num(row.value_btc * SATS_PER_BTC), "value_usd": _num(row.value_usd),
        "weight": _num(row.weight), "price_ts": row.price_ts.isoformat(), "source": row.source,
        "stale": bool(row.stale),
    } for row in valuation.assets.itertuples(index=False)]
    return {
        "portfolio_value_btc": valuation.total_btc,
        "value_usd": valuation.total_btc * valuation.btc_usd,
        "holdings": {a["symbol"]: a["value_btc"] for a in assets},
        "btc_allocation": valuation.btc_allocation,
        "as_of": valuation.as_of.isoformat(),
        "btc_usd": valuation.btc_usd,
        "assets": assets,
    }


@bp.get("/api/portfolio")
def get_portfolio():
    """The portfolio's value in BTC, per asset, priced as of the newest BTC price."""
    try:
        return jsonify(portfolio_payload(current_valuation()))
    except (DataError, ValueError) as exc:
        return json_error(str(exc), 503)
