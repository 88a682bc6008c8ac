"""JSON API (Flask blueprints on the Dash server). Glue layer: read the store, call pure code."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, NotFound

from webapi import diversification, health, holdings, portfolio, portfolio_history


def register_api(server: Flask) -> None:
    """Attach every /api blueprint and JSON error handlers to the Flask server."""
    for module in (portfolio, portfolio_history, diversification, health, holdings):
        server.register_blueprint(module.bp)

    # Without this, Dash's catch-all page route would answer unknown /api paths with 200 HTML.
    @server.route("/api/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def _unknown_api(_rest: str):
        raise NotFound(f"no such API route: /api/{_rest}")

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Pages keep Dash's own handling; only /api answers in JSON.
        if not request.path.startswith("/api/"):
            return exc
        return jsonify({"error": exc.description or exc.name}), exc.code
