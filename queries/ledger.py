"""Read side of the ledger: entries and balances as JSON-ready values (no Dash/Flask)."""

from __future__ import annotations

from analytics.ledger import Entry, canonical_quantity, replay
from analytics.units import BTC, SATS_PER_BTC
from data.store import ledger_store
from data.store.repository import Repository


def entry_json(entry: Entry) -> dict:
    """One entry for the API and the page: quantities as exact decimal text, BTC also in sats."""
    def q(value):
        return None if value is None else canonical_quantity(value)

    out = {"id": entry.id, "type": entry.type, "subtype": entry.subtype,
           "date": entry.ts.isoformat(), "trade_date": entry.trade_date.isoformat(),
           "account": entry.account, "asset": entry.asset, "quantity": q(entry.quantity),
           "counter_asset": entry.counter_asset, "counter_quantity": q(entry.counter_quantity),
           "fee_asset": entry.fee_asset, "fee_quantity": q(entry.fee_quantity),
           "to_account": entry.to_account, "note": entry.note, "external_id": entry.external_id,
           "import_batch": entry.import_batch}
    for side in ("quantity", "counter_quantity", "fee_quantity"):
        asset = {"quantity": entry.asset, "counter_quantity": entry.counter_asset,
                 "fee_quantity": entry.fee_asset}[side]
        value = getattr(entry, side)
        if asset == BTC and value is not None:
            out[f"{side}_sats"] = int((value * SATS_PER_BTC).to_integral_value())
    return out


def transactions(repo: Repository, portfolio: str) -> dict:
    """Every entry (newest first), the balances and the negative-balance flags.

    Raises:
        StorageError: the store failed.
    """
    entries = ledger_store.load_entries(repo, portfolio)
    replayed = replay(entries)
    return {
        "transactions": [entry_json(e) for e in sorted(
            entries, key=lambda e: (e.trade_date, e.ts, e.id or 0), reverse=True)],
        "holdings": {a: canonical_quantity(q) for a, q in replayed.holdings().items()},
        "negative_balances": [
            {"account": n.account, "asset": n.asset, "date": n.trade_date.isoformat(),
             "balance": canonical_quantity(n.balance), "entry_id": n.entry_id,
             "message": f"{n.asset} in {n.account} goes below zero on {n.trade_date}: "
                        "a buy or deposit is missing"} for n in replayed.negative]}
