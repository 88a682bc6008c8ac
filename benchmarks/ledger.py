"""Ledger figures: ``/api/performance`` over 10,000 entries and a 10,000-row CSV import.

Store: 20 assets x 5 years of daily history (benchmarks.dataset) plus 10,000 ledger entries
(deposits, buys and sells at the day's close, crypto swaps, transfers with fees, fees,
withdrawals) spread over the 5 years.

* ``/api/performance`` p50, cold: the whole request through the Flask test client with the
  read side's cache emptied first (ledger and closes read from SQLite, replay,
  TWR/XIRR/HODL/lots, JSON); warm: the repeated request (ledger version and closes
  fingerprint read, the cached report sent). Baseline, same run: a naive
  per-day Python loop over the same entries and closes (holdings dict, as-of price lookups by
  walking back day by day, the daily TTWROR) — the arithmetic only, no store read, no lots.
* CSV import: ``data.store.ledger_io.import_text`` of the 10,000-row generic CSV into a store
  holding only the price history. Baseline, same run: a naive importer that parses each row and
  stores it with its own duplicate check and its own transaction.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from analytics.ledger_import import parse_row, zone
from app import create_app
from benchmarks.common import Result, median, pct, ratio, timed
from benchmarks.dataset import build_store
from data.store import ledger_store
from data.store.ledger_io import import_text
from data.store.repository import Repository
from queries.performance import _CACHE as performance_cache

N_ASSETS, YEARS, N_ENTRIES = 20, 5, 10_000
HEADER = ("date,type,account,asset,quantity,price,price_currency,fee,fee_asset,counter_asset,"
          "counter_quantity,to_account,external_id,note")


def ledger_csv(frame: pd.DataFrame, symbols: list[str], first: date, n: int = N_ENTRIES,
               seed: int = 14) -> str:
    """``n`` plausible rows from ``first`` on, prices at the day's close."""
    rng = random.Random(seed)
    closes = {s: dict(zip(g["ts"].dt.date, g["close"], strict=True))
              for s, g in frame.groupby("symbol")}
    days = (max(closes["BTC"]) - first).days
    out = [HEADER]
    for i in range(n):
        day = first + timedelta(days=1 + days * i // n)
        asset = rng.choice([s for s in symbols if day in closes[s]] or ["BTC"])
        price = closes[asset].get(day)
        kind = rng.choices(["DEPOSIT", "BUY", "SELL", "TRADE", "TRANSFER", "FEE", "WITHDRAWAL"],
                           [20, 35, 15, 10, 8, 7, 5])[0]
        qty = f"{rng.uniform(0.001, 2):.6f}"
        if kind == "DEPOSIT":
            out.append(f"{day},DEPOSIT,main,USD,{rng.randint(100, 5000)},,,,,,,,,")
        elif kind in ("BUY", "SELL") and price:
            out.append(f"{day},{kind},main,{asset},{qty},{price:.6f},USD,1.5,USD,,,,,")
        elif kind == "TRADE":
            out.append(f"{day},TRADE,main,{asset},{qty},,,,,BTC,0.0001,,,swap")
        elif kind == "TRANSFER":
            out.append(f"{day},TRANSFER,main,BTC,0.001,,,0.00001,BTC,,,cold,,")
        elif kind == "FEE":
            out.append(f"{day},FEE,main,USD,2.5,,,,,,,,,")
        else:
            out.append(f"{day},WITHDRAWAL,main,USD,{rng.randint(10, 200)},,,,,,,,,")
    return "\n".join(out) + "\n"


def _legs(e) -> list[tuple[str, float]]:  # untyped: an analytics.ledger.Entry
    """What an entry adds to and takes from each asset, written plainly."""
    sign = {"DEPOSIT": 1, "WITHDRAWAL": -1, "FEE": -1, "TRANSFER": 0}.get(e.type, 1)
    legs = [(e.asset, float(e.quantity) * sign)]
    if e.counter_asset:
        legs.append((e.counter_asset, -float(e.counter_quantity)))
    if e.fee_asset:
        legs.append((e.fee_asset, -float(e.fee_quantity)))
    return legs


def naive_twr(entries, closes: dict[str, dict[date, float]], start: date, end: date) -> float:
    """The daily TTWROR in BTC by a plain per-day loop (the baseline)."""
    by_day: dict[date, list] = {}
    for e in entries:
        by_day.setdefault(e.trade_date, []).append(e)

    def btc_price(symbol: str, day: date) -> float:
        series, btc, when = closes.get(symbol), closes["BTC"], day
        while when not in btc:
            when -= timedelta(days=1)
        if series is None:  # USD cash
            return 1.0 / btc[when]
        d = day
        while d not in series:
            d -= timedelta(days=1)
        return series[d] / btc[when]

    held: dict[str, float] = {}
    index, previous, day = 1.0, 0.0, start
    while day <= end:
        inflow = outflow = 0.0
        for e in by_day.get(day, []):
            for asset, qty in _legs(e):
                held[asset] = held.get(asset, 0.0) + qty
            if e.type in ("DEPOSIT", "WITHDRAWAL", "ADJUSTMENT"):
                value = _legs(e)[0][1] * btc_price(e.asset, day)
                inflow, outflow = inflow + max(value, 0), outflow + max(-value, 0)
        value = sum(q * btc_price(a, day) for a, q in held.items() if q)
        base = previous + inflow
        index *= (value + outflow) / base if base > 0 else 1.0
        previous, day = value, day + timedelta(days=1)
    return index - 1.0


def _performance_figures(workdir: Path, runs: int) -> list[Result]:
    store = build_store(workdir / "perf", N_ASSETS, years=YEARS)
    symbols = [a.symbol for a in store.assets]
    first = ledger_store.load_entries(store.repo, "default")[0].trade_date
    import_text(store.repo, store.settings, ledger_csv(store.frame, symbols, first))
    client = create_app(store.settings, store.repo, environ={}).server.test_client()
    entries = ledger_store.load_entries(store.repo, "default")
    closes = {s: dict(zip(g["ts"].dt.date, g["close"], strict=True))
              for s, g in store.frame.groupby("symbol")}
    end = max(closes["BTC"])
    cold, warm, naive = [], [], []
    body = client.get("/api/performance").get_json()

    def uncached():
        performance_cache.clear()
        return client.get("/api/performance")

    for _ in range(runs):
        cold.append(timed(uncached)[0])
        warm.append(timed(lambda: client.get("/api/performance"))[0])
        naive.append(timed(lambda: naive_twr(entries, closes, first, end))[0])
    check = abs(naive_twr(entries, closes, first, end) - body["twr_btc"])
    base = median(naive)
    name = f"/api/performance {len(entries):,} entries x {YEARS} y x {N_ASSETS} assets"
    out = []
    for label, samples in (("cold", cold), ("warm", warm)):
        value = pct(samples, 50)
        out.append(Result(f"{name} p50 {label} (|TWR - naive| {check:.0e})", round(value, 3),
                          "ms", round(base, 3), ratio(value, base), "<= 300 ms",
                          value <= 300.0))
    return out


def naive_import(repo: Repository, settings, text: str) -> int:
    """Parse each row and store it alone: a duplicate check and a transaction per row."""
    stored, tz = 0, zone(None)
    for row in csv.DictReader(io.StringIO(text)):
        entry = parse_row(row, universe=settings.assets.keys(), tz=tz)
        entry = ledger_store.with_identity(entry, "naive")
        if not ledger_store.stored_hashes(repo, "naive", [entry.dedupe_hash]):
            stored += len(ledger_store.insert_entries(repo, "naive", [entry]))
    return stored


def _import_figures(workdir: Path, runs: int) -> list[Result]:
    store = build_store(workdir / "imp", N_ASSETS, years=YEARS)
    symbols = [a.symbol for a in store.assets]
    first = ledger_store.load_entries(store.repo, "default")[0].trade_date
    text = ledger_csv(store.frame, symbols, first)
    ours, naive = [], []
    for i in range(runs):
        other = store.settings.model_copy(update={"portfolio": store.settings.portfolio
                                                  .model_copy(update={"name": f"bench{i}"})})
        ours.append(timed(lambda other=other: import_text(store.repo, other, text))[0])
    naive.append(timed(lambda: naive_import(store.repo, store.settings, text))[0])
    value = median(ours)
    return [Result(f"CSV import {N_ENTRIES:,} rows", round(value, 3), "ms",
                   round(median(naive), 3), ratio(value, median(naive)), "<= 3000 ms",
                   value <= 3000.0)]


def results(*, quick: bool) -> list[Result]:
    """The /api/performance (cold, warm) and CSV-import figures on one temporary store."""
    with tempfile.TemporaryDirectory(prefix="btcfolio-ledger-bench-") as tmp:
        workdir = Path(tmp)
        return (_performance_figures(workdir, 5 if quick else 21)
                + _import_figures(workdir, 1 if quick else 3))


