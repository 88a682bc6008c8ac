"""GET /api/portfolio: the stored portfolio valued in BTC."""

from __future__ import annotations

from flask import Blueprint, jsonify

import services
from errors import DataError
from queries.valuation import current_valuation
from webapi.common import json_error
from webapi.payloads import portfolio_payload

bp = Blueprint("api_portfolio", __name__)


@bp.get("/api/portfolio")
def get_portfolio():
    """The portfolio's value in BTC now, each asset at its own newest price (docs/valuation.md)."""
    try:
        return jsonify(portfolio_payload(current_valuation(services.read_context())))
    except (DataError, ValueError) as exc:
        return json_error(str(exc), 503)
