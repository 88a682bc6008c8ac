"""GET /api/portfolio: the stored portfolio valued in BTC."""

from __future__ import annotations

from flask import Blueprint, jsonify

from analytics.portfolio_value import portfolio_payload
from data.errors import DataError
from webapi.common import current_valuation, json_error

bp = Blueprint("api_portfolio", __name__)


@bp.get("/api/portfolio")
def get_portfolio():
    """The portfolio's value in BTC, per asset, priced as of the newest BTC price."""
    try:
        return jsonify(portfolio_payload(current_valuation()))
    except (DataError, ValueError) as exc:
        return json_error(str(exc), 503)
