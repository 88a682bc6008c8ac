"""Per-process memo of derived results keyed by the store version they were computed from.

The optimizer and the backtest read only the ledger (which assets are held) and the daily
closes of those assets. ``store_version`` names that state: the ledger's change counter
(``ledger_store.ledger_version``, bumped in the writing transaction) and a fingerprint of the
closes (rows, newest time, sum: changes with any added or corrected close). Both are read from
the store on every call, so every worker of a deployment sees every change; what is cached is
only the computation. Quotes are not part of it: a 30 s refresh with new quotes but unchanged
holdings and closes reuses the result (the trades, which do use quotes, are recomputed by the
caller from the current valuation, which is cheap).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from threading import Lock
from typing import TypeVar

from data.store import ledger_store, universe
from data.store.repository import PRICES_VERSION_KEY, Repository

T = TypeVar("T")


def store_version(repo: Repository, portfolio: str, symbols: Iterable[str]) -> tuple:
    """(store identity, ledger change counter, fingerprint of the symbols' daily closes)."""
    symbols = sorted(set(symbols))
    return (id(repo.engine), str(repo.engine.url), ledger_store.ledger_version(repo, portfolio),
            tuple(symbols), ledger_store.closes_fingerprint(repo, symbols))


def data_version(repo: Repository, portfolio: str) -> tuple:
    """A name for everything a dashboard panel is derived from, read in two small queries.

    The ledger's change counter, the tokens of the daily and hourly bars and of the custom
    universe (each changes with every write), and when the newest quote was fetched. Equal
    versions mean equal inputs, in every process of a deployment.
    """
    keys = [ledger_store.VERSION_KEY + portfolio, PRICES_VERSION_KEY + "1d",
            PRICES_VERSION_KEY + "1h", universe.VERSION_KEY]
    values = repo.meta_values(keys)
    return (id(repo.engine), str(repo.engine.url), *(values.get(k) for k in keys),
            repo.newest_quote_fetch())


class ResultCache:
    """A small thread-safe LRU memo: ``get(key, compute)`` computes once per key."""

    def __init__(self, max_items: int = 32) -> None:
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._lock = Lock()
        self._max = max_items

    def get(self, key: tuple, compute: Callable[[], T]) -> T:
        """The cached value of ``key``, computed (outside the lock) when absent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (tests; a restored backup)."""
        with self._lock:
            self._items.clear()
