"""The repository: prices and quotes on top of the store's bookkeeping (``state.StoreBase``).

SQLite by default (WAL mode, busy timeout, so the scheduler thread writes while callbacks
read), PostgreSQL by URL; the tables and the engine are in ``schema.py``. The Repository
converts epoch seconds to tz-aware pandas timestamps at its edge. Upserts are idempotent:
writing the same rows twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data.models import Quote
from data.store import guard
from data.store.schema import (
    PRICE_VALUE_COLS,
    create_engine,
    epoch,
    from_epoch,
    insert_for,
    migrate,
    prices,
    quotes,
)
from data.store.state import StoreBase

logger = logging.getLogger(__name__)

# Meta key + interval: a token that changes with every write to that interval's bars, for
# readers that cache what they derive from prices (queries/store_cache.data_version).
PRICES_VERSION_KEY = "prices_version:"

# Newest close per symbol (in a time window). A GROUP BY reads every row of the table (~35 ms
# at 200 assets x 5 years on SQLite); this walks the (symbol, interval, ts) key instead: a
# recursive step finds the next symbol, one index seek its newest bar. Standard SQL (SQLite
# and PostgreSQL).
_NEWEST_CLOSES = sa.text("""
WITH RECURSIVE syms(symbol) AS (
    SELECT min(symbol) FROM prices
    UNION ALL
    SELECT (SELECT min(p.symbol) FROM prices p WHERE p.symbol > syms.symbol)
    FROM syms WHERE syms.symbol IS NOT NULL
)
SELECT p.symbol, p.close, p.ts, p.source
FROM syms JOIN prices p ON p.symbol = syms.symbol AND p.interval = :interval
WHERE p.ts = (SELECT max(m.ts) FROM prices m
              WHERE m.symbol = syms.symbol AND m.interval = :interval
                AND m.ts >= :since AND m.ts <= :until)
""")
_EPOCH_MIN, _EPOCH_MAX = -(2**62), 2**62  # no bound


def _plain(column: pd.Series) -> list:
    """A column as Python values for the driver, missing values (NaN/None/NA) as None."""
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        out = values.tolist()
        if np.isnan(values).any():
            out = [None if v != v else v for v in out]
        return out
    return column.astype(object).where(column.notna(), None).tolist()


class Repository(StoreBase):
    """All reads and writes of the store. Every method opens its own short transaction."""

    @classmethod
    def from_url(cls, url: str) -> Repository:
        """Create the engine, migrate the schema (once, under the start-up lock), return a repo.

        Raises:
            StorageError: one line naming the cause and the store (directory not creatable,
                zero-length file, not a database, read-only, unreachable server).
        """
        guard.prepare_sqlite_file(url)
        engine = create_engine(url)
        with guard.boot_lock(engine):
            guard.check_not_empty(url)
            path = guard.sqlite_file(url)
            if path is not None and not path.exists():
                guard.create_store_file(path, migrate)
            migrate(engine)
        return cls(engine)

    # ---- prices -------------------------------------------------------------------------
    def upsert_prices(self, frame: pd.DataFrame, *, interval: str = "1d",
                      overwrite: bool = True) -> int:
        """Write price rows; return how many rows were inserted or changed.

        Args:
            frame: rows with the PRICE_COLUMNS schema (ts tz-aware UTC).
            interval: "1d", "1h" or "1m".
            overwrite: update existing rows whose values differ (provider data). With False,
                existing rows are kept as they are (seeding never overwrites provider rows).
        """
        if frame.empty:
            return 0
        ts = pd.to_datetime(frame["ts"], utc=True)
        epoch = (ts.astype("int64") // 10**9 if ts.dt.unit == "ns" else
                 ts.dt.as_unit("s").astype("int64"))
        # Plain Python columns zipped into tuples: building a dict per row (and letting
        # SQLAlchemy take each apart again) cost ~6x the INSERTs themselves.
        columns = {"symbol": frame["symbol"].astype(str).tolist(),
                   "interval": [interval] * len(frame), "ts": epoch.tolist(),
                   **{c: _plain(frame[c]) for c in PRICE_VALUE_COLS}}
        keys = list(columns)
        rows = list(zip(*columns.values(), strict=True))

        def write(conn: sa.Connection) -> int:
            stmt = insert_for(self.backend, prices)
            if overwrite:
                ex = stmt.excluded
                changed = sa.or_(*[prices.c[c].is_distinct_from(ex[c]) for c in PRICE_VALUE_COLS])
                stmt = stmt.on_conflict_do_update(
                    index_elements=["symbol", "interval", "ts"],
                    set_={c: ex[c] for c in PRICE_VALUE_COLS}, where=changed)
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=["symbol", "interval", "ts"])
            total = 0
            if self.backend == "sqlite":
                # The statement compiled once, the tuples handed to the driver's executemany.
                compiled = stmt.compile(dialect=conn.dialect, column_keys=keys)
                order = [keys.index(name) for name in compiled.positiontup]
                batch = rows if order == list(range(len(keys))) else [
                    tuple(r[i] for i in order) for r in rows]
                for start in range(0, len(batch), 5000):
                    result = conn.exec_driver_sql(str(compiled), batch[start:start + 5000])
                    total += max(result.rowcount, 0)
            else:
                # psycopg reports rowcount -1 for executemany: count RETURNING rows instead.
                stmt = stmt.returning(prices.c.ts)
                for start in range(0, len(rows), 5000):
                    chunk = [dict(zip(keys, r, strict=True)) for r in rows[start:start + 5000]]
                    total += len(conn.execute(stmt, chunk).all())
            if total:
                self.stamp_meta(conn, PRICES_VERSION_KEY + interval)
            return total

        return self._write(write)

    def load_prices(self, symbols: Iterable[str] | None = None, *, interval: str = "1d",
                    start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
        """Return price rows (PRICE_COLUMNS, ts tz-aware UTC) sorted by symbol, ts."""
        q = sa.select(prices.c.ts, prices.c.symbol, *[prices.c[c] for c in PRICE_VALUE_COLS]
                      ).where(prices.c.interval == interval)
        if symbols is not None:
            q = q.where(prices.c.symbol.in_(list(symbols)))
        if start is not None:
            q = q.where(prices.c.ts >= epoch(start))
        if end is not None:
            q = q.where(prices.c.ts <= epoch(end))
        q = q.order_by(prices.c.symbol, prices.c.ts)
        # Plain tuples: pandas probing SQLAlchemy Row objects costs more than the query.
        rows = self._run(lambda conn: [tuple(r) for r in conn.execute(q)])
        frame = pd.DataFrame(rows, columns=["ts", "symbol", *PRICE_VALUE_COLS])
        frame["ts"] = pd.to_datetime(frame["ts"].astype("int64"), unit="s", utc=True)
        for col in ("open", "high", "low", "close", "volume"):
            frame[col] = frame[col].astype("float64")
        return frame

    def load_closes(self, symbols: Iterable[str] | None = None, *, interval: str = "1d",
                    start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
        """Return a wide frame of USD closes: index ts (UTC), one column per symbol, NaN gaps."""
        long = self.load_prices(symbols, interval=interval, start=start, end=end)
        wide = long.pivot(index="ts", columns="symbol", values="close").sort_index()
        wide.columns.name = None
        return wide

    def load_closes_asof(self, at: datetime, symbols: Iterable[str], *, since: datetime,
                         interval: str = "1d") -> pd.DataFrame:
        """Each symbol's newest close in [since, at] (a symbol without one is left out).

        Returns the ``load_latest_prices`` columns (symbol, price_usd, ts, source, kind
        "close"): a handful of rows read through the key, where ``load_closes`` would pivot
        the whole window.
        """
        wanted = set(symbols)
        # The key walk of load_latest_prices, bounded: one cached statement, no IN list to
        # render on every call; symbols not asked for are dropped here.
        rows = self._run(lambda conn: [
            (*r, "close") for r in conn.execute(_NEWEST_CLOSES, {
                "interval": interval, "since": epoch(since), "until": epoch(at)})
            if r[0] in wanted])
        frame = pd.DataFrame(rows, columns=["symbol", "price_usd", "ts", "source", "kind"])
        frame["ts"] = pd.to_datetime(frame["ts"].astype("int64"), unit="s", utc=True)
        frame["price_usd"] = frame["price_usd"].astype("float64")
        return frame

    def count_prices(self) -> dict[str, int]:
        """Row counts of the prices table per interval."""
        q = sa.select(prices.c.interval, sa.func.count()).group_by(prices.c.interval)
        return {k: int(v) for k, v in self._run(lambda c: c.execute(q).all())}

    def delete_prices_before(self, interval: str, before: datetime) -> int:
        """Delete the bars of one interval older than ``before`` (retention); return how many."""
        stmt = sa.delete(prices).where(prices.c.interval == interval, prices.c.ts < epoch(before))

        def delete(conn: sa.Connection) -> int:
            count = max(conn.execute(stmt).rowcount, 0)
            if count:
                self.stamp_meta(conn, PRICES_VERSION_KEY + interval)
            return count

        return self._write(delete)

    # ---- quotes -------------------------------------------------------------------------
    def upsert_quotes(self, items: Iterable[Quote], *, fetched_at: datetime) -> int:
        """Store the latest quote per symbol; an older quote never replaces a newer one."""
        rows = [{"symbol": q.symbol, "price_usd": q.price_usd, "change_24h_pct": q.change_24h_pct,
                 "ts": epoch(q.ts), "source": q.source, "fetched_at": epoch(fetched_at)}
                for q in items]
        if not rows:
            return 0

        def write(conn: sa.Connection) -> int:
            stmt = insert_for(self.backend, quotes)
            ex = stmt.excluded
            stmt = stmt.on_conflict_do_update(
                index_elements=["symbol"],
                set_={c: ex[c] for c in (
                    "price_usd", "change_24h_pct", "ts", "source", "fetched_at")},
                where=ex.ts >= quotes.c.ts)
            return conn.execute(stmt, rows).rowcount or 0

        return self._write(write)

    def load_quotes(self) -> pd.DataFrame:
        """Latest quote per symbol: symbol, price_usd, change_24h_pct, ts, source, fetched_at."""
        rows = self._run(lambda c: [tuple(r) for r in c.execute(sa.select(quotes))])
        frame = pd.DataFrame(rows, columns=[c.name for c in quotes.columns])
        for col in ("ts", "fetched_at"):
            frame[col] = pd.to_datetime(frame[col].astype("int64"), unit="s", utc=True)
        return frame

    def newest_quote_fetch(self) -> pd.Timestamp | None:
        """When the newest stored quote was fetched (None when no quote is stored)."""
        return from_epoch(self._run(lambda c: c.execute(
            sa.select(sa.func.max(quotes.c.fetched_at))).scalar()))

    def load_latest_prices(self, symbols: Iterable[str] | None = None, *,
                           interval: str = "1d", until: datetime | None = None) -> pd.DataFrame:
        """Each symbol's newest stored close (at or before ``until``) and its stored quote.

        Returns columns symbol, price_usd, ts (UTC), source, kind ("close" or "quote").
        """
        last = _EPOCH_MAX if until is None else epoch(until)

        def read(conn: sa.Connection):
            closes = conn.execute(_NEWEST_CLOSES, {"interval": interval, "since": _EPOCH_MIN,
                                                   "until": last}).all()
            quoted = conn.execute(sa.select(quotes.c.symbol, quotes.c.price_usd, quotes.c.ts,
                                            quotes.c.source)).all()
            return closes, quoted

        closes, quoted = self._run(read)
        frame = pd.DataFrame(
            [(*r, "close") for r in closes] + [(*r, "quote") for r in quoted],
            columns=["symbol", "price_usd", "ts", "source", "kind"])
        if symbols is not None:
            frame = frame[frame["symbol"].isin(list(symbols))]
        frame["ts"] = pd.to_datetime(frame["ts"].astype("int64"), unit="s", utc=True)
        frame["price_usd"] = frame["price_usd"].astype("float64")
        return frame.reset_index(drop=True)
