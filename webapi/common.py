"""Shared glue for the JSON API: declared query parameters, JSON errors, read routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import jsonify, request

from analytics.optimizer import InfeasibleConstraintError
from errors import DataError, InvalidInputError

Req = TypeVar("Req")
Result = TypeVar("Result")


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


def query_response(parse: Callable[[Any], Req], run: Callable[[Req], Result],
                   payload: Callable[[Result, Req], dict], *, unavailable: str,
                   empty: str | None = None):
    """Answer a read route: parse the query string, run the query, serialise its result.

    Args:
        parse: the strict parser of the query string (raises InvalidInputError).
        run: the query run on the parsed request.
        payload: the JSON body of the result and the request.
        unavailable: what a 503 says before the error ("optimizer unavailable").
        empty: what a 422 says before the reason ("no proposal") when the history cannot
            support the request (a ValueError); None: a ValueError is a 503 too.

    Returns:
        200 with the payload; 400 on bad input, or ``{error, constraint}`` when the optimizer's
        caps cannot hold; 503 when the store fails; 422 (or 503) on a ValueError.
    """
    try:
        req = parse(request.args)
    except InvalidInputError as exc:
        return json_error(str(exc), 400)
    try:
        result = run(req)
    except InfeasibleConstraintError as exc:
        return jsonify({"error": str(exc), "constraint": exc.constraint}), 400
    except DataError as exc:
        return json_error(f"{unavailable}: {exc}", 503)
    except ValueError as exc:
        if empty is None:
            return json_error(f"{unavailable}: {exc}", 503)
        return json_error(f"{empty}: {exc}", 422)
    return jsonify(payload(result, req))
