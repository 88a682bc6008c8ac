"""GET /api/correlation and GET /api/rebalance (glue: strict query parsing, store reads).

``GET /api/correlation?assets=BTC,ETH,SPY&lookback_days=90``
    assets: configured symbols (default BTC + every held asset); lookback_days: integer in
    [2, 3650] (default 90). ``as_of`` is the date of the newest stored BTC close (the unit of
    account's clock), so a subset of assets gets the same window as the full universe.
    200 ``{as_of, lookback_days, min_obs, assets, matrix, n_obs}`` with ``null`` where a pair
    has no number.
``GET /api/rebalance?target_btc_pct=0.5[&band=0&fee_bps=0&min_trade_btc=0&min_trade_usd=10``
``&include_stale=false]``
    200 ``{as_of, target_btc_pct, fees_btc, trades, skipped, rounding, before, after, excluded}``;
    before/after have exactly the /api/portfolio shape; ``excluded`` maps each holding the plan
    does not trade (stale price, no price) to the reason; ``skipped`` lists legs under
    min_trade_usd (default ``rebalance.min_trade_usd``) or less than one lot (assets with
    ``lot_size`` trade in whole lots). 422 when the plan is impossible (e.g. only BTC held,
    target < 1, a stale BTC price).

A malformed, unknown or repeated query parameter is a 400 ``{"error": ...}``; an unreadable
store or a missing BTC price is a 503.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping

from flask import Blueprint, jsonify, request
from werkzeug.datastructures import MultiDict

import services
from errors import DataError, InvalidInputError
from queries.correlation import NoBenchmarkError, correlation_window
from queries.rebalance import plan_rebalance
from queries.valuation import current_valuation
from webapi.common import json_error, query_params
from webapi.payloads import correlation_payload, rebalance_payload

logger = logging.getLogger(__name__)

bp = Blueprint("api_diversification", __name__)

LOOKBACK_RANGE = (2, 3650)
_INT = re.compile(r"[0-9]{1,6}")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_lookback(raw: str | None, default: int = 90) -> int:
    """lookback_days: an integer in [2, 3650]."""
    if raw is None:
        return default
    if not _INT.fullmatch(raw) or not LOOKBACK_RANGE[0] <= int(raw) <= LOOKBACK_RANGE[1]:
        raise InvalidInputError(f"lookback_days must be an integer in [{LOOKBACK_RANGE[0]}, "
                         f"{LOOKBACK_RANGE[1]}], got {raw!r}")
    return int(raw)


def parse_float(name: str, raw: str | None, default: float, lo: float, hi: float,
                *, hi_open: bool = False) -> float:
    """A plain decimal number in [lo, hi] (or [lo, hi)); NaN, inf and '1_0' are refused."""
    if raw is None:
        return default
    value = float(raw) if _FLOAT.fullmatch(raw) else math.nan
    if not (math.isfinite(value) and lo <= value <= hi and not (hi_open and value == hi)):
        raise InvalidInputError(f"{name} must be a number in [{lo}, {hi}{')' if hi_open else ']'}, "
                         f"got {raw!r}")
    return value


def parse_assets(raw: str | None, known: Mapping[str, object], default: list[str]) -> list[str]:
    """assets: comma-separated configured symbols (case-insensitive), no duplicates."""
    if raw is None:
        return default
    if not raw.isascii():  # before upper(): "ſol".upper() is "SOL"
        raise InvalidInputError("assets: symbols are plain ASCII letters and digits")
    symbols = [part.strip().upper() for part in raw.split(",")]
    if not all(symbols):
        raise InvalidInputError("assets: empty symbol in the list")
    unknown = [s for s in symbols if s not in known]
    if unknown:
        raise InvalidInputError(f"assets: unknown symbol(s) {', '.join(unknown)}")
    if len(set(symbols)) != len(symbols):
        raise InvalidInputError("assets: a symbol is listed twice")
    return symbols


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    """A boolean query parameter: exactly ``true`` or ``false``."""
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise InvalidInputError(f"{name} must be true or false, got {raw[:16]!r}")
    return raw == "true"


@bp.get("/api/correlation")
@query_params("assets", "lookback_days")
def get_correlation():
    """Correlation of daily USD log returns (default: BTC and every held asset)."""
    try:
        symbols = parse_assets(request.args.get("assets"), services.settings().assets, [])
        lookback = parse_lookback(request.args.get("lookback_days"))
    except InvalidInputError as exc:
        return json_error(str(exc), 400)
    try:
        result = correlation_window(services.read_context(), symbols, lookback)
    except (DataError, NoBenchmarkError) as exc:
        return json_error(str(exc), 503)
    return jsonify(correlation_payload(result))


def _rebalance_args(args: MultiDict) -> dict:
    return {
        "target_btc_share": parse_float("target_btc_pct", args.get("target_btc_pct"), 0.5, 0, 1),
        "band": parse_float("band", args.get("band"), 0.0, 0, 1),
        "fee_bps": parse_float("fee_bps", args.get("fee_bps"), 0.0, 0, 10_000, hi_open=True),
        "min_trade_btc": parse_float("min_trade_btc", args.get("min_trade_btc"), 0.0, 0,
                                     21_000_000),
        "min_trade_usd": parse_float("min_trade_usd", args.get("min_trade_usd"),
                                     services.settings().rebalance.min_trade_usd, 0, 1e12),
        "lot_sizes": services.settings().lot_sizes(),
        "include_stale": parse_bool("include_stale", args.get("include_stale")),
    }


@bp.get("/api/rebalance")
@query_params("target_btc_pct", "band", "fee_bps", "min_trade_btc", "min_trade_usd",
              "include_stale")
def get_rebalance():
    """Trades that bring the stored portfolio's BTC share to target_btc_pct (default 0.5)."""
    try:
        kwargs = _rebalance_args(request.args)
    except InvalidInputError as exc:
        return json_error(str(exc), 400)
    ctx = services.read_context()
    try:
        valuation = current_valuation(ctx)
    except (DataError, ValueError) as exc:
        return json_error(str(exc), 503)
    try:
        result = plan_rebalance(valuation, **kwargs)
    except ValueError as exc:
        return json_error(str(exc), 422)
    return jsonify(rebalance_payload(result))
