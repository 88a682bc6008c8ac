"""Baseline of the refresh figure: the spec's formula as a naive per-asset loop.

``value_btc = quantity × price_usd(asset, t) / price_usd(BTC, t)``, where every conversion
looks up its own prices in the store (one indexed query per price: the newest close and the
newest quote at or before t, the newer wins, a quote on a tie), including BTC's price again
for every asset. The 24 h change does the same with the closes at or before t - 24 h.

It computes the numbers the dashboard shows (values, total, 24 h change) but renders nothing,
so it is a favourable baseline for the real callback.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa

from data.store.repository import Repository

_CLOSE = sa.text("SELECT ts, close FROM prices WHERE symbol = :s AND interval = '1d' "
                 "AND ts <= :t ORDER BY ts DESC LIMIT 1")
_QUOTE = sa.text("SELECT ts, price_usd FROM quotes WHERE symbol = :s AND ts <= :t")


def _price_usd(conn: sa.Connection, symbol: str, t: datetime, *, quotes: bool) -> float | None:
    """The newest USD price of ``symbol`` at or before ``t`` (None when there is none)."""
    epoch = int(t.timestamp())
    best = conn.execute(_CLOSE, {"s": symbol, "t": epoch}).first()
    if quotes:
        quote = conn.execute(_QUOTE, {"s": symbol, "t": epoch}).first()
        if quote is not None and (best is None or quote[0] >= best[0]):
            best = quote
    return None if best is None else float(best[1])


def to_btc(conn: sa.Connection, quantity: float, symbol: str, t: datetime, *,
           quotes: bool = True) -> float | None:
    """One conversion of the pseudo-code: its own asset and BTC price lookups."""
    asset, btc = (_price_usd(conn, symbol, t, quotes=quotes),
                  _price_usd(conn, "BTC", t, quotes=quotes))
    return None if asset is None or btc is None else quantity * asset / btc


def naive_refresh(repo: Repository, holdings: Mapping[str, float], now: datetime) -> dict:
    """Values in BTC now and 24 h before, total, and the portfolio's 24 h change.

    Returns:
        {"values_btc": {symbol: value}, "total_btc": float, "change_24h": float | None}
    """
    with repo.engine.connect() as conn:
        values = {s: to_btc(conn, q, s, now) for s, q in holdings.items()}
        # The dashboard's 24 h reference: daily closes at or before (time of BTC price - 24 h).
        as_of = conn.execute(sa.text("SELECT max(ts) FROM quotes WHERE symbol = 'BTC'")).scalar()
        ref = (datetime.fromtimestamp(as_of, now.tzinfo) if as_of is not None else now) \
            - timedelta(hours=24)
        before = {s: to_btc(conn, q, s, ref, quotes=False) for s, q in holdings.items()}
    priced = {s: v for s, v in values.items() if v is not None}
    total = sum(priced.values())
    change = None
    if priced and all(before.get(s) is not None for s in priced):
        old = sum(before[s] for s in priced)
        change = total / old - 1 if old else None
    return {"values_btc": priced, "total_btc": total, "change_24h": change}
