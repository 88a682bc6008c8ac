"""Ingest: upsert N 1-minute bars into SQLite through the store, against raw executemany.

Measured: ``Repository.upsert_prices(frame, interval="1m")`` (the path the ingest uses:
conversion of the price frame, ON CONFLICT upsert in batches, one transaction) into a fresh
migrated SQLite file.
Floor: ``sqlite3.executemany`` of plain INSERTs of the same rows, pre-built as tuples, into a
fresh file with the same migrated schema and the same pragmas (WAL, synchronous=NORMAL).

Bars: the 12 real daily series of the sample, interpolated linearly in log price to minutes
(open = previous minute's close, high/low = max/min of the two, volume = daily / 1440),
so the rows look like real 1-minute bars without being random.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import Result, median, ratio, timed
from benchmarks.dataset import real_series
from data.store.repository import Repository

COLUMNS = ("symbol", "interval", "ts", "open", "high", "low", "close", "volume", "source")


def minute_bars(n_rows: int) -> pd.DataFrame:
    """About ``n_rows`` 1-minute bars (price-frame schema) spread over the real series."""
    series = real_series()
    per = -(-n_rows // len(series))
    parts = []
    for symbol, bars in series.items():
        days = -(-per // 1440) + 1
        close = np.log(bars["close"].to_numpy(float)[-days:])
        minutes = np.arange(per) / 1440.0
        logp = np.interp(minutes, np.arange(days), close)
        price = np.exp(logp)
        prev = np.concatenate([[price[0]], price[:-1]])
        start = pd.Timestamp(bars["date"].iloc[-days], tz="UTC")
        parts.append(pd.DataFrame({
            "ts": start + pd.to_timedelta(np.arange(per), unit="min"), "symbol": symbol,
            "open": prev, "high": np.maximum(prev, price), "low": np.minimum(prev, price),
            "close": price, "volume": float(bars["volume"].iloc[-1]) / 1440, "source": "bench"}))
    return pd.concat(parts, ignore_index=True).iloc[:n_rows]


def _floor_rows(frame: pd.DataFrame) -> list[tuple]:
    epoch = frame["ts"].dt.as_unit("s").astype("int64")
    return list(zip(frame["symbol"], ["1m"] * len(frame), epoch.tolist(), frame["open"].tolist(),
                    frame["high"].tolist(), frame["low"].tolist(), frame["close"].tolist(),
                    frame["volume"].tolist(), frame["source"], strict=True))


def fresh(path: Path) -> Repository:
    """A migrated empty store at ``path``."""
    return Repository.from_url(f"sqlite:///{path}")


def floor_insert(path: Path, rows: list[tuple]) -> None:
    """Raw executemany into the store's table (schema migrated beforehand)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        with conn:
            conn.executemany(f"INSERT INTO prices ({', '.join(COLUMNS)}) VALUES "
                             f"({', '.join('?' * len(COLUMNS))})", rows)
    finally:
        conn.close()


def check(frame: pd.DataFrame, workdir: Path) -> bool:
    """Both paths store the same rows."""
    ours, floor = workdir / "check_ours.db", workdir / "check_floor.db"
    fresh(ours).upsert_prices(frame, interval="1m")
    fresh(floor).engine.dispose()
    floor_insert(floor, _floor_rows(frame))
    query = f"SELECT {', '.join(COLUMNS)} FROM prices ORDER BY symbol, interval, ts"
    with sqlite3.connect(ours) as a, sqlite3.connect(floor) as b:
        return a.execute(query).fetchall() == b.execute(query).fetchall()


def results(*, quick: bool) -> list[Result]:
    """Upsert rate of 100k (quick) or 1M bars against raw executemany; target >= 50 %."""
    n_rows, runs = (100_000, 1) if quick else (1_000_000, 3)
    frame = minute_bars(n_rows)
    ours, floor = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            repo = fresh(Path(tmp) / f"ours{i}.db")
            ours.append(timed(lambda r=repo: r.upsert_prices(frame, interval="1m"))[0])
            repo.engine.dispose()
            path = Path(tmp) / f"floor{i}.db"
            fresh(path).engine.dispose()
            rows = _floor_rows(frame)  # the floor gets its rows ready-made
            floor.append(timed(lambda p=path, rs=rows: floor_insert(p, rs))[0])
    rate, base = n_rows / median(ours) * 1000, n_rows / median(floor) * 1000
    r = ratio(rate, base)
    return [Result(f"ingest {n_rows:,} 1-min bars (SQLite)", round(rate), "rows/s", round(base),
                   r, ">= 50 % of floor rate", r is not None and r >= 0.5)]
