"""The heavy panels (history, correlation, backtest, drift) memoized by the store's data version.

Every tab that opens renders these four panels, at 35-50 ms of CPU each, and all of them show
the same store: 200 tabs opening at once queued 200 copies of the same work (page-load p95
505 ms, issue 17's target 250 ms). A panel's answer is reused while nothing it is derived from
has changed: the same callback inputs, the same ``queries.store_cache.data_version`` (ledger,
daily and hourly bars, custom universe, newest quote) and the same minute of the app's clock
(for what is read relative to *now*: ages, windows ending today). Per process, LRU-bounded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TypeVar

import services
from errors import DataError
from queries.store_cache import ResultCache, data_version

T = TypeVar("T")

_PANELS = ResultCache(max_items=64)


def cached_panel(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` answered from the memo when its inputs and the data version are unchanged."""

    @functools.wraps(fn)
    def panel(*args: object) -> T:
        ctx = services.read_context()
        try:
            version = data_version(ctx.repo, ctx.settings.portfolio.name)
        except DataError:
            return fn(*args)  # the panel itself says the store cannot be read
        minute = ctx.now.replace(second=0, microsecond=0)
        # Callback inputs arrive from the browser: any JSON value, keyed by its text.
        key = (fn.__module__, fn.__qualname__, json.dumps(args, sort_keys=True, default=repr),
               id(ctx.settings), version, minute)
        return _PANELS.get(key, lambda: fn(*args))

    return panel


def forget_panels() -> None:
    """Drop every memoized panel (tests; a restored backup)."""
    _PANELS.clear()
