"""POST /api/holdings and DELETE /api/holdings/<symbol>: edit the stored portfolio."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

import services
from data.store.holdings import add_holding, remove_holding
from errors import DataError, InvalidInputError
from webapi.common import json_error

bp = Blueprint("api_holdings", __name__)
MAX_BODY_BYTES = 4096  # {"symbol": ..., "quantity": ...} is tiny; anything larger is abuse


class _DuplicateKeyError(ValueError):
    """A JSON object names a key twice (parsers disagree on which one wins: refuse it)."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKeyError("a key is given twice in the JSON body")
    return dict(pairs)


def _read_json_body() -> tuple[object, tuple | None]:
    """(decoded body, None) or (None, error response): 415, 413 oversized, 400 malformed."""
    # Only application/json: a cross-site HTML form cannot send it without a CORS preflight,
    # so another web page cannot edit the portfolio through the user's browser.
    if request.mimetype != "application/json":
        return None, json_error("the body must be JSON (Content-Type: application/json)", 415)
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None, json_error(f"request body larger than {MAX_BODY_BYTES} bytes", 413)
    raw = request.stream.read(MAX_BODY_BYTES + 1)  # also bounds chunked bodies
    if len(raw) > MAX_BODY_BYTES:
        return None, json_error(f"request body larger than {MAX_BODY_BYTES} bytes", 413)
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys), None
    except _DuplicateKeyError as exc:
        return None, json_error(str(exc), 400)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[... nesting
        return None, json_error("the body must be a JSON object", 400)


@bp.post("/api/holdings")
def post_holding():
    """Add or replace a holding: {"symbol": "SLV", "quantity": 10} -> 201."""
    body, error = _read_json_body()
    if error:
        return error
    if not isinstance(body, dict) or set(body) - {"symbol", "quantity"}:
        return json_error('expected {"symbol": <string>, "quantity": <number>}', 400)
    try:
        change = add_holding(services.repository(), services.settings(), body.get("symbol"),
                             body.get("quantity"), now=services.now())
    except InvalidInputError as exc:
        return json_error(exc.detail, 400)
    except DataError as exc:
        return json_error(str(exc), 503)
    return jsonify({"symbol": change.symbol, "quantity": change.quantity,
                    "backfill": "requested" if change.backfill_requested else None}), 201


@bp.delete("/api/holdings/<symbol>")
def delete_holding(symbol: str):
    """Remove a holding -> 200; 404 when it is not held or not a configured asset."""
    try:
        removed = remove_holding(services.repository(), services.settings(), symbol)
    except InvalidInputError as exc:
        return json_error(str(exc), 404)
    except DataError as exc:
        return json_error(str(exc), 503)
    if removed is None:
        return json_error(f"{symbol.upper()[:32]} is not held", 404)
    return jsonify({"removed": removed})
