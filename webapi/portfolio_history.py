"""``GET /api/portfolio/history?days=N``: the portfolio's daily BTC value, oldest first.

Blueprint ``bp`` (register on the Flask server of the Dash app). Each day is valued with the
as-of daily closes of that day and that day's actual holdings (the ledger replayed, from its
first entry); the day's return is the flow-adjusted daily TTWROR (queries.history).
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, jsonify, request

import services
from analytics.staleness import NoPriceError
from errors import DataError
from queries.history import portfolio_history
from webapi.common import query_params
from webapi.history_hourly import hourly_response
from webapi.payloads import history_payload

logger = logging.getLogger(__name__)

bp = Blueprint("portfolio_history", __name__)

MAX_DAYS = 3650
DEFAULT_DAYS = 30


def _parse_days(raw: str | None) -> int:
    """The ``days`` query parameter as an int in 1..MAX_DAYS (default 30)."""
    if raw is None:
        return DEFAULT_DAYS
    text = raw.strip()
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise ValueError(f"days must be an integer from 1 to {MAX_DAYS}")
    days = int(text)
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be an integer from 1 to {MAX_DAYS}")
    return days


@bp.get("/api/portfolio/history")
@query_params("days", "interval")
def get_portfolio_history():
    """Last N days of ``{"date", "value_btc", "return_btc"}``; 400 on a bad ``days``.

    ``interval=1h``: the hourly view (``webapi.history_hourly``), days 1..7.
    """
    interval = request.args.get("interval", "1d")
    if interval not in ("1d", "1h"):
        return jsonify({"error": "interval must be 1d or 1h"}), 400
    if interval == "1h":
        return hourly_response(request.args.get("days"))
    try:
        days = _parse_days(request.args.get("days"))
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    try:
        history = portfolio_history(services.read_context())
    except (DataError, NoPriceError) as exc:  # store failed, or no BTC price stored yet
        logger.warning("portfolio history unavailable: %s", exc)
        return jsonify({"error": f"portfolio history unavailable: {exc}"}), 503
    return jsonify(history_payload(history, days))
