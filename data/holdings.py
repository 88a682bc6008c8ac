"""Write path for holdings shared by the dashboard form and the JSON API.

Validation is the pure ``analytics.holding_input``; this module stores the result and, for an
asset with no stored history, records a backfill request in the store's meta table under
``backfill:<SYMBOL>`` (JSON ``{"state": "requested", "requested_at": ISO}``). The ingest /
scheduler side is expected to pick these up and overwrite the state ("running", "done",
"failed", optional "progress" 0..1); the dashboard shows whatever state it finds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from analytics.holding_input import validate_holding, validate_symbol
from data.storage import Repository
from data.universe import effective_universe
from settings import Settings

logger = logging.getLogger(__name__)
BACKFILL_PREFIX = "backfill:"


@dataclass(frozen=True)
class HoldingChange:
    """The outcome of an add: what was stored and whether a backfill was requested."""

    symbol: str
    quantity: float
    backfill_requested: bool


def backfill_state(repo: Repository, symbol: str) -> dict | None:
    """The recorded backfill state of a symbol (None when none was requested)."""
    raw = repo.get_meta(BACKFILL_PREFIX + symbol)
    if raw is None:
        return None
    try:
        state = json.loads(raw)
    except ValueError:
        return {"state": "unknown"}
    return state if isinstance(state, dict) else {"state": "unknown"}


def has_history(repo: Repository, symbol: str) -> bool:
    """True when the store holds at least one price of the symbol (close or quote)."""
    return bool((repo.load_latest_prices([symbol])["symbol"] == symbol).any())


def add_holding(repo: Repository, settings: Settings, symbol: object, quantity: object, *,
                now: datetime) -> HoldingChange:
    """Validate and store one holding (replacing its quantity); request a backfill if needed.

    Raises:
        HoldingInputError: invalid symbol or quantity (nothing is stored).
        StorageError: the store failed.
    """
    canonical, qty = validate_holding(symbol, quantity,
                                      effective_universe(settings, repo).keys())
    repo.set_holding(canonical, qty, settings.portfolio.name)
    requested = False
    if not has_history(repo, canonical):
        requested = repo.claim_meta(BACKFILL_PREFIX + canonical, json.dumps(
            {"state": "requested", "requested_at": now.isoformat()}))
        logger.info("backfill requested for %s", canonical)
    return HoldingChange(canonical, qty, requested)


def remove_holding(repo: Repository, settings: Settings, symbol: object) -> str | None:
    """Remove a holding; return its canonical symbol, or None when it was not held.

    Raises:
        HoldingInputError: not an asset of the configured universe.
    """
    canonical = validate_symbol(symbol, effective_universe(settings, repo).keys())
    return canonical if repo.remove_holding(canonical, settings.portfolio.name) else None
