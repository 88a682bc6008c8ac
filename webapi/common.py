"""Shared glue for the JSON API: settings-derived arguments and the valuation read path."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify

import services
from analytics.portfolio_value import PortfolioValuation, StalenessLimits, value_portfolio
from data import clock
from settings import Settings


def staleness_limits(settings: Settings) -> StalenessLimits:
    """StalenessLimits from the `staleness` config section."""
    return StalenessLimits.from_settings(settings.staleness)


def asset_kinds(settings: Settings) -> dict[str, str]:
    """Asset class (crypto/equity) of every configured asset."""
    return {symbol: asset.kind for symbol, asset in settings.assets.items()}


def current_valuation(now: datetime | None = None) -> PortfolioValuation:
    """Value the stored portfolio at its newest BTC price (store read + pure valuation)."""
    repo, settings = services.repository(), services.settings()
    return value_portfolio(repo.load_holdings(settings.portfolio.name), repo.load_latest_prices(),
                           asset_kinds=asset_kinds(settings), now=now or clock.utcnow(),
                           limits=staleness_limits(settings))


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
