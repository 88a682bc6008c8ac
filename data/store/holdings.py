"""Write path for holdings shared by the dashboard form and the JSON API.

Validation is the pure ``analytics.holding_input``; this module stores the result and, for an
asset with no stored history, records a backfill request (``backfills.request_backfill``),
which the scheduler's backfill job picks up; the dashboard shows whatever state it finds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from analytics.holding_input import validate_holding, validate_symbol
from data.store import ledger_store
from data.store.backfills import request_backfill
from data.store.repository import Repository
from data.store.universe import effective_universe
from settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HoldingChange:
    """The outcome of an edit: the position before and after, and whether a backfill was asked."""

    symbol: str
    quantity: float          # the position after the edit
    backfill_requested: bool
    before: float = 0.0      # the position before the edit

    def describe(self) -> str:
        """'ETH 4 → 5': what the edit did to the position."""
        return f"{self.symbol} {self.before:,.10g} → {self.quantity:,.10g}"


def has_history(repo: Repository, symbol: str) -> bool:
    """True when the store holds at least one price of the symbol (close or quote)."""
    return bool((repo.load_latest_prices([symbol])["symbol"] == symbol).any())


def _request_backfill(repo: Repository, symbol: str, now: datetime) -> bool:
    if has_history(repo, symbol):
        return False
    logger.info("backfill requested for %s", symbol)
    return request_backfill(repo, symbol, now=now)


def _position(repo: Repository, settings: Settings, symbol: object,
              quantity: object) -> tuple[str, float, str, Decimal]:
    """(symbol, quantity, portfolio, balance now) of a checked holdings request.

    Raises:
        InvalidInputError: invalid symbol or quantity.
    """
    canonical, qty = validate_holding(symbol, quantity, effective_universe(settings, repo).keys())
    portfolio = settings.portfolio.name
    return canonical, qty, portfolio, ledger_store.balances(repo, portfolio).get(canonical,
                                                                                Decimal(0))


def add_holding(repo: Repository, settings: Settings, symbol: object, quantity: object, *,
                now: datetime) -> HoldingChange:
    """Set a position to a quantity (a correction entry); request a backfill if needed.

    Raises:
        InvalidInputError: invalid symbol or quantity (nothing is stored).
        StorageError: the store failed.
    """
    canonical, qty, portfolio, before = _position(repo, settings, symbol, quantity)
    ledger_store.set_quantity(repo, portfolio, canonical, qty, now=now)
    return HoldingChange(canonical, qty, _request_backfill(repo, canonical, now), float(before))


def deposit_holding(repo: Repository, settings: Settings, symbol: object, quantity: object, *,
                    now: datetime) -> HoldingChange:
    """Add to a position (a DEPOSIT at today's market price); request a backfill if needed.

    Raises:
        InvalidInputError: invalid symbol or quantity (nothing is stored).
        StorageError: the store failed.
    """
    canonical, qty, portfolio, before = _position(repo, settings, symbol, quantity)
    entry = ledger_store.deposit(repo, portfolio, canonical, qty, now=now)
    return HoldingChange(canonical, float(before + entry.quantity),
                         _request_backfill(repo, canonical, now), float(before))


def remove_holding(repo: Repository, settings: Settings, symbol: object) -> str | None:
    """Remove a holding; return its canonical symbol, or None when it was not held.

    Raises:
        InvalidInputError: not an asset of the configured universe.
    """
    canonical = validate_symbol(symbol, effective_universe(settings, repo).keys())
    removed = ledger_store.withdraw_all(repo, settings.portfolio.name, canonical,
                                        now=datetime.now(timezone.utc).replace(microsecond=0))
    return canonical if removed is not None else None
