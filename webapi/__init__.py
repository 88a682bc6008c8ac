"""JSON API (Flask blueprints on the Dash server). Glue layer: read the store, call pure code."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from webapi import (
    assets,
    backtest,
    diversification,
    health,
    holdings,
    optimize,
    performance,
    portfolio,
    portfolio_history,
    transactions,
)
from webapi.common import json_error, query_error


def register_api(server: Flask) -> None:
    """Attach every /api blueprint and JSON error handlers to the Flask server."""
    for module in (portfolio, portfolio_history, diversification, health, holdings, assets,
                   transactions, performance, optimize, backtest):
        server.register_blueprint(module.bp)

    # Without this, Dash's catch-all page route would answer unknown /api paths with 200 HTML.
    @server.route("/api/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def _unknown_api(_rest: str):
        # The catch-all also matches a real route called with the wrong method: that is a 405.
        urls = server.url_map.bind_to_environ(request.environ)
        allowed = []
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            try:
                endpoint, _ = urls.match(method=method)
            except HTTPException:
                continue
            if endpoint != "_unknown_api":
                allowed.append(method)
        if allowed:
            raise MethodNotAllowed(valid_methods=allowed)
        raise NotFound(f"no such API route: /api/{_rest}")

    @server.before_request
    def _strict_query():
        # Every /api view declares its query parameters (webapi.common.query_params).
        if not request.path.startswith("/api/") or request.endpoint in (None, "_unknown_api"):
            return None
        view = server.view_functions[request.endpoint]
        problem = query_error(request.args, getattr(view, "query_params", frozenset()))
        return json_error(problem, 400) if problem else None

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Pages keep Dash's own handling; only /api answers in JSON.
        if not request.path.startswith("/api/"):
            return exc
        return jsonify({"error": exc.description or exc.name}), exc.code
