"""The read side's cache of as-of lookups (the pure converter holds none of its own).

Keyed by the converter's fingerprint of its prices and rules plus the symbol and times, so a
30 s refresh that reloads unchanged closes reuses the history's lookups, and any change to a
stored price (a new close, a healed gap) gives new keys: nothing is ever served stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import pandas as pd


class ConversionCache:
    """Thread-safe bounded LRU of as-of frames (``analytics.btc_converter.AsOfCache``)."""

    def __init__(self, maxsize: int = 128) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> pd.DataFrame | None:
        """The cached frame for key (counted as a hit), or None (a miss)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: pd.DataFrame) -> None:
        """Store a frame, evicting the least recently used past ``maxsize``."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


# One per process, shared by every read: equal data (same fingerprint) reuses past lookups.
AS_OF_CACHE = ConversionCache()
