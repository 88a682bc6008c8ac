"""Write ledger entries as a file (pure): btcfolio's generic CSV or Ghostfolio's export JSON.

The CSV carries every field exactly (quantities as exact decimal text, the UTC time with its
offset, the local trade date, the subtype), so importing it gives the same ledger.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timezone

from analytics.ledger import CASH, Entry, canonical_quantity

CSV_COLUMNS = ("date", "type", "account", "asset", "quantity", "price", "price_currency", "fee",
               "fee_asset", "counter_asset", "counter_quantity", "to_account", "external_id",
               "note", "subtype", "trade_date")


def _q(value) -> str:
    return "" if value is None else canonical_quantity(value)


def export_csv(entries: Sequence[Entry]) -> str:
    """The entries as generic CSV (one row each, storage order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow([
            e.ts.astimezone(timezone.utc).isoformat(), e.type, e.account, e.asset,
            _q(e.quantity), "", "", _q(e.fee_quantity), e.fee_asset or "",
            e.counter_asset or "", _q(e.counter_quantity), e.to_account or "",
            e.external_id or "", e.note or "", e.subtype or "", e.trade_date.isoformat()])
    return out.getvalue()


def _activity(e: Entry) -> dict | None:
    """A Ghostfolio activity for the entries it can express (trades and income in USD, fees)."""
    base = {"accountId": e.account, "comment": e.note, "currency": "USD",
            "date": e.ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "fee": float(e.fee_quantity) if e.fee_quantity and e.fee_asset == CASH else 0.0}
    if e.type == "TRADE" and e.counter_asset == CASH and e.asset != CASH:
        return {**base, "type": "BUY", "symbol": e.asset, "quantity": float(e.quantity),
                "unitPrice": float(e.counter_quantity / e.quantity)}
    if e.type == "TRADE" and e.asset == CASH and e.counter_asset:
        return {**base, "type": "SELL", "symbol": e.counter_asset,
                "quantity": float(e.counter_quantity),
                "unitPrice": float(e.quantity / e.counter_quantity)}
    if e.type == "INCOME" and e.asset == CASH:
        kind = "INTEREST" if e.subtype == "interest" else "DIVIDEND"
        return {**base, "type": kind, "symbol": "USD", "quantity": 1.0,
                "unitPrice": float(e.quantity)}
    if e.type == "FEE" and e.asset == CASH:
        return {**base, "type": "FEE", "symbol": "USD", "quantity": 0.0, "unitPrice": 0.0,
                "fee": float(e.quantity)}
    return None


def export_ghostfolio(entries: Sequence[Entry], *, now: datetime) -> str:
    """Ghostfolio export JSON; entries Ghostfolio has no activity for are counted as skipped."""
    activities = [a for a in (_activity(e) for e in entries) if a is not None]
    meta = {"date": now.astimezone(timezone.utc).isoformat(), "version": "btcfolio",
            "skipped": len(entries) - len(activities)}
    return json.dumps({"meta": meta, "activities": activities}, indent=2)
