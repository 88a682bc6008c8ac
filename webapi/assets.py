"""GET/POST /api/assets and DELETE /api/assets/<symbol>: the universe, custom assets included."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify

import services
from analytics.asset_input import validate_asset_symbol
from data.ingest.custom_assets import add_custom_asset
from data.store.universe import (
    AssetConflictError,
    AssetNotFoundError,
    delete_custom_asset,
    effective_universe,
)
from errors import DataError, InvalidInputError
from webapi.common import json_error
from webapi.holdings import _read_json_body  # the one strict JSON body reader of the API

bp = Blueprint("api_assets", __name__)


def _describe(symbol: str, asset, *, origin: str, status: str | None,
              priced: set[str], held: set[str]) -> dict:
    return {"symbol": symbol, "name": asset.name, "category": asset.category,
            "kind": asset.kind, "origin": origin, "symbols": dict(asset.symbols),
            "sources": list(asset.sources), "status": status,
            "data": "ok" if symbol in priced else "no data yet", "held": symbol in held}


@bp.get("/api/assets")
def get_assets():
    """The effective universe: config.yaml's assets, then custom ones, each with its origin."""
    repo, settings = services.repository(), services.settings()
    try:
        universe = effective_universe(settings, repo)
        priced = set(repo.load_latest_prices()["symbol"])
        held = set(repo.load_holdings(settings.portfolio.name))
    except DataError as exc:
        return json_error(str(exc), 503)
    return jsonify({"assets": [
        _describe(s, a, origin=universe.origin(s), status=universe.status(s), priced=priced,
                  held=held) for s, a in universe.items()]})


@bp.post("/api/assets")
def post_asset():
    """Add a custom asset -> 201; 400 bad input or an id a provider refused, 409 exists."""
    body, error = _read_json_body()
    if error:
        return error
    repo, settings = services.repository(), services.settings()
    try:
        added = add_custom_asset(repo, settings, body, now=datetime.now(timezone.utc))
    except InvalidInputError as exc:
        return json_error(exc.detail, 400)
    except AssetConflictError as exc:
        return json_error(str(exc), 409)
    except DataError as exc:
        return json_error(str(exc), 503)
    return jsonify({"symbol": added.symbol, "name": added.name, "category": added.category,
                    "kind": added.kind, "origin": "custom", "symbols": added.symbols,
                    "sources": list(added.sources), "status": added.status,
                    "data": "no data yet", "backfill": "requested",
                    "checked_with": list(added.probe.verified_by),
                    "not_checked": list(added.probe.unchecked)}), 201


@bp.delete("/api/assets/<symbol>")
def delete_asset(symbol: str):
    """Remove a custom asset -> 200; 409 while held or for a config asset; 404 unknown."""
    try:
        canonical = validate_asset_symbol(symbol)
    except InvalidInputError as exc:
        return json_error(f"symbol: {exc}", 400)
    try:
        delete_custom_asset(services.repository(), services.settings(), canonical)
    except AssetConflictError as exc:
        return json_error(str(exc), 409)
    except AssetNotFoundError as exc:
        return json_error(str(exc), 404)
    except DataError as exc:
        return json_error(str(exc), 503)
    return jsonify({"removed": canonical})
