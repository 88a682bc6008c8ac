"""Read side of performance: store reads (ledger, closes) -> pure analytics report."""

from __future__ import annotations

from datetime import date

from analytics.performance_report import performance_report
from data import ledger_store
from data.storage import Repository


def performance(repo: Repository, settings, *, start: date | None,  # noqa: ANN001
                end: date | None, method: str | None = None) -> dict:
    """The ``/api/performance`` body for the configured portfolio over [start, end].

    ``end`` defaults to the day of the newest stored BTC close.

    Raises:
        MissingPriceError: a held asset or BTC has no close when it must be valued.
        ValueError: empty ledger, bad period or cost-basis method.
        StorageError: the store failed.
    """
    entries = ledger_store.load_entries(repo, settings.portfolio.name)
    symbols = sorted({e.asset for e in entries} | {e.counter_asset for e in entries
                                                    if e.counter_asset}
                     | {e.fee_asset for e in entries if e.fee_asset} | {"BTC"})
    closes = repo.load_closes([s for s in symbols if s != "USD"])
    if end is None:
        if "BTC" not in closes.columns or closes["BTC"].dropna().empty:
            raise ValueError("no BTC close stored yet")
        end = closes["BTC"].dropna().index.max().date()
    return performance_report(entries, closes, start=start, end=end,
                              method=method or "fifo")
