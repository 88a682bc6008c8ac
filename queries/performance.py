"""Read side of performance: store reads (ledger, closes) -> pure analytics report.

The ledger (read as columns, ``ledger_store.load_columns``) is cached per process by its
change counter (``ledger_store.ledger_version``, bumped in the writing transaction, so every
worker sees every change) and a report by that counter plus a fingerprint of the closes it
used: a repeated request (the dashboard's panel, the API) replays 10,000 entries only when the
ledger or a close changed.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from threading import Lock

from analytics.ledger_arrays import LedgerColumns
from analytics.lots import cost_basis
from analytics.performance import build_grid
from analytics.performance_report import performance_report
from analytics.units import BTC, USD
from data.store import ledger_store
from data.store.repository import Repository

_CACHE: OrderedDict[tuple, object] = OrderedDict()
_LOCK = Lock()
_MAX_ITEMS = 16


def _cached(key: tuple, compute):
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = compute()
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _MAX_ITEMS:
            _CACHE.popitem(last=False)
    return value


def _symbols(ledger: LedgerColumns) -> list[str]:
    return sorted((ledger.symbols() | {BTC}) - {USD})


def load_ledger(repo: Repository, portfolio: str) -> tuple[str, LedgerColumns]:
    """(change counter, ledger as columns) of a portfolio, read only when it changed."""
    version = ledger_store.ledger_version(repo, portfolio)
    key = ("ledger", id(repo.engine), str(repo.engine.url), portfolio, version)
    return version, _cached(key, lambda: ledger_store.load_columns(repo, portfolio))


def holdings_cost_btc(repo: Repository, settings) -> dict[str, float]:
    """Remaining cost in BTC of each held asset (the configured lot method); {} when unknown.

    Unknown: an empty ledger, no BTC close, or an asset without a price yet (just added).
    Called on every dashboard refresh, so it is cached by the ledger's change counter and the
    newest BTC close (one index seek) rather than by the full closes fingerprint.
    """
    portfolio, method = settings.portfolio.name, settings.ledger.cost_basis
    version, entries = load_ledger(repo, portfolio)
    newest = ledger_store.newest_close_ts(repo, BTC)
    if not len(entries) or newest is None:
        return {}

    def compute() -> dict[str, float]:
        closes = ledger_store.load_daily_closes(repo, _symbols(entries))
        try:
            grid = build_grid(entries, closes, end=newest.date())
        except ValueError:
            return {}
        return {a: sum(lot.cost_btc for lot in p.lots)
                for a, p in cost_basis(grid, method=method).items() if p.lots}

    key = ("cost", id(repo.engine), str(repo.engine.url), portfolio, version, newest, method)
    return _cached(key, compute)


def performance(repo: Repository, settings, *, start: date | None,
                end: date | None, method: str | None = None) -> dict:
    """The ``/api/performance`` body for the configured portfolio over [start, end].

    ``end`` defaults to the day of the newest stored BTC close.

    Raises:
        MissingPriceError: a held asset or BTC has no close when it must be valued.
        ValueError: empty ledger, bad period or cost-basis method.
        StorageError: the store failed.
    """
    portfolio = settings.portfolio.name
    version, entries = load_ledger(repo, portfolio)
    symbols = _symbols(entries)
    key = ("report", id(repo.engine), str(repo.engine.url), portfolio, version,
           ledger_store.closes_fingerprint(repo, symbols), start, end, method)

    def compute() -> dict:
        closes = ledger_store.load_daily_closes(repo, symbols)
        last = end
        if last is None:
            if BTC not in closes.columns or closes[BTC].dropna().empty:
                raise ValueError("no BTC close stored yet")
            last = closes[BTC].dropna().index.max().date()
        return performance_report(entries, closes, start=start, end=last,
                                  method=method or "fifo")

    return _cached(key, compute)


