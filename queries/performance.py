"""Read side of performance: store reads (ledger, closes) -> pure analytics report."""

from __future__ import annotations

from datetime import date

from analytics.lots import cost_basis
from analytics.performance import build_grid
from analytics.performance_report import performance_report
from data import ledger_store
from data.storage import Repository


def _ledger_and_closes(repo: Repository, portfolio: str):
    entries = ledger_store.load_entries(repo, portfolio)
    symbols = sorted({e.asset for e in entries} | {e.counter_asset for e in entries
                                                    if e.counter_asset}
                     | {e.fee_asset for e in entries if e.fee_asset} | {"BTC"})
    return entries, repo.load_closes([s for s in symbols if s != "USD"])


def holdings_cost_btc(repo: Repository, settings) -> dict[str, float]:  # noqa: ANN001
    """Remaining cost in BTC of each held asset (the configured lot method); {} when unknown.

    Unknown: an empty ledger, no BTC close, or an asset without a price yet (just added).
    """
    entries, closes = _ledger_and_closes(repo, settings.portfolio.name)
    if not entries or "BTC" not in closes.columns or closes["BTC"].dropna().empty:
        return {}
    try:
        grid = build_grid(entries, closes, end=closes["BTC"].dropna().index.max().date())
    except ValueError:
        return {}
    lots = cost_basis(grid, method=settings.ledger.cost_basis)
    return {a: sum(lot.cost_btc for lot in p.lots) for a, p in lots.items() if p.lots}


def performance(repo: Repository, settings, *, start: date | None,  # noqa: ANN001
                end: date | None, method: str | None = None) -> dict:
    """The ``/api/performance`` body for the configured portfolio over [start, end].

    ``end`` defaults to the day of the newest stored BTC close.

    Raises:
        MissingPriceError: a held asset or BTC has no close when it must be valued.
        ValueError: empty ledger, bad period or cost-basis method.
        StorageError: the store failed.
    """
    entries, closes = _ledger_and_closes(repo, settings.portfolio.name)
    if end is None:
        if "BTC" not in closes.columns or closes["BTC"].dropna().empty:
            raise ValueError("no BTC close stored yet")
        end = closes["BTC"].dropna().index.max().date()
    return performance_report(entries, closes, start=start, end=end,
                              method=method or "fifo")
