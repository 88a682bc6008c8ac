"""``GET /api/portfolio/history?interval=1h&days=N``: the hourly BTC value (N in 1..7).

``{"interval": "1h", "history": [{"ts": ISO-8601 UTC, "value_btc", "return_btc"}, ...]}``,
oldest first; each hour valued by the as-of rule of ``analytics.hourly_value``. 404-free:
no hourly bar stored yet is a 503 saying so.
"""

from __future__ import annotations

import logging
import math

from flask import jsonify

import services
from errors import DataError
from queries.history_hourly import hourly_history

logger = logging.getLogger(__name__)


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def hourly_response(raw_days: str | None):
    """The hourly history response (``days`` defaults to 1, at most the retention)."""
    settings = services.settings()
    limit = settings.scheduler.hourly_retention_days
    if raw_days is not None and not (raw_days.isascii() and raw_days.isdigit()
                                     and len(raw_days) <= 3 and 1 <= int(raw_days) <= limit):
        return jsonify({"error": f"days must be an integer from 1 to {limit} with interval=1h"}
                       ), 400
    days = int(raw_days) if raw_days is not None else 1
    try:
        frame = hourly_history(services.repository(), settings, days=days)
    except (DataError, ValueError) as exc:
        logger.warning("hourly history unavailable: %s", exc)
        return jsonify({"error": f"hourly history unavailable: {exc}"}), 503
    return jsonify({"interval": "1h", "history": [
        {"ts": ts.isoformat(), "value_btc": _num(row.value_btc), "return_btc": _num(row.return_btc)}
        for ts, row in zip(frame.index, frame.itertuples(index=False), strict=True)]})
