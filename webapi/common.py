"""Shared glue for the JSON API: declared query parameters and JSON errors."""

from __future__ import annotations

from flask import jsonify


def query_params(*names: str):
    """Declare the query parameters a /api view accepts; any other (or a repeated one) is a 400.

    Enforced for every /api route by ``webapi.register_api``: a route that declares nothing
    accepts no query parameter, so a typo or a probe is refused instead of silently ignored.
    """
    def mark(view):
        view.query_params = frozenset(names)
        return view
    return mark


def query_error(args, allowed: frozenset[str]) -> str | None:
    """Why the query string is refused (unknown or repeated parameter), or None."""
    unknown = sorted(set(args) - allowed)
    if unknown:
        return f"unknown query parameter(s): {', '.join(name[:32] for name in unknown)}"
    repeated = sorted(k for k in args if len(args.getlist(k)) > 1)
    if repeated:
        return f"query parameter(s) given twice: {', '.join(repeated)}"
    return None


def json_error(message: str, status: int = 400):
    """A JSON error response (never a traceback)."""
    return jsonify({"error": message}), status
