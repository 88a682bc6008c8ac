"""GET /api/performance?start=YYYY-MM-DD&end=YYYY-MM-DD: TWR, XIRR, vs HODL in BTC and USD."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, jsonify, request

import services
from analytics.performance import MissingPriceError
from errors import DataError
from queries.performance import performance
from webapi.common import json_error, query_params

bp = Blueprint("api_performance", __name__)


def _date(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise ValueError(f"{name} must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD") from None


@bp.get("/api/performance")
@query_params("start", "end")
def get_performance():
    """Performance of the ledger over [start, end] (default: first entry to newest close)."""
    try:
        start, end = _date("start"), _date("end")
        if start and end and start > end:
            raise ValueError("start must not be after end")
    except ValueError as exc:
        return json_error(str(exc), 400)
    settings = services.settings()
    try:
        report = performance(services.repository(), settings, start=start, end=end,
                             method=settings.ledger.cost_basis)
    except MissingPriceError as exc:
        return json_error(f"performance unavailable: {exc}", 422)
    except ValueError as exc:  # empty ledger, no BTC close yet
        return json_error(f"performance unavailable: {exc}", 422)
    except DataError as exc:
        return json_error(str(exc), 503)
    return jsonify(report)
