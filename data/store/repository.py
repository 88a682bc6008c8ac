"""SQLAlchemy store: tables, engine factory, schema migration and the Repository.

SQLite by default (WAL mode, busy timeout, so the scheduler thread writes while callbacks
read), PostgreSQL by URL. Timestamps are stored as integer epoch seconds (UTC) so both
backends agree exactly and reads stay fast; the Repository converts to tz-aware pandas
timestamps at its edge. Upserts are idempotent: writing the same rows twice changes nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from data.models import Quote
from data.store import guard as store_guard
from errors import StorageError
from redaction import clip

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

prices = sa.Table(
    "prices", metadata,
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("interval", sa.String(4), primary_key=True),
    sa.Column("ts", sa.BigInteger, primary_key=True),
    sa.Column("open", sa.Float), sa.Column("high", sa.Float), sa.Column("low", sa.Float),
    sa.Column("close", sa.Float, nullable=False),
    sa.Column("volume", sa.Float),
    sa.Column("source", sa.String(32), nullable=False),
)
quotes = sa.Table(
    "quotes", metadata,
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("price_usd", sa.Float, nullable=False),
    sa.Column("change_24h_pct", sa.Float),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("fetched_at", sa.BigInteger, nullable=False),
)
assets = sa.Table(
    "assets", metadata,
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
)
source_health = sa.Table(
    "source_health", metadata,
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("healthy", sa.Boolean, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_ok", sa.BigInteger),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", sa.BigInteger),
)
meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

_MIGRATIONS = Path(__file__).with_name("migrations")
_PRICE_VALUE_COLS = ("open", "high", "low", "close", "volume", "source")


def _epoch(ts: datetime | pd.Timestamp) -> int:
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return int(stamp.timestamp())


def _to_utc(seconds: int | None) -> pd.Timestamp | None:
    return None if seconds is None else pd.Timestamp(int(seconds), unit="s", tz="UTC")


def create_engine(url: str) -> sa.Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign-thread access."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001 - DBAPI hook
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return sa.create_engine(url, pool_pre_ping=True)


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest version (alembic); never drops stored data."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    try:
        with store_guard.ddl_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                # Serialise concurrent first starts (several workers) on one advisory lock.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"store migration failed: {store_guard.describe(exc, engine)}") from exc


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


def _insert(dialect: str, table: sa.Table):
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class Repository:
    """All reads and writes of the store. Every method opens its own short transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
        self.last_write_error: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Repository:
        """Create the engine, migrate the schema (once, under the start-up lock), return a repo.

        Raises:
            StorageError: one line naming the cause and the store (directory not creatable,
                zero-length file, not a database, read-only, unreachable server).
        """
        store_guard.prepare_sqlite_file(url)
        engine = create_engine(url)
        with store_guard.boot_lock(engine):
            store_guard.check_not_empty(url)
            path = store_guard.sqlite_file(url)
            if path is not None and not path.exists():
                store_guard.create_store_file(path, migrate)
            migrate(engine)
        return cls(engine)

    def _run(self, fn, *, write: bool = False):
        try:
            with self.engine.begin() as conn:
                result = fn(conn)
        except SQLAlchemyError as exc:
            error = StorageError(f"store error ({self.backend}): "
                                 f"{store_guard.describe(exc, self.engine)}")
            if write:  # /api/health reports the store read-only / full from real writes
                self.last_write_error = str(error)
            raise error from exc
        if write:
            self.last_write_error = None
        return result

    def _write(self, fn):
        return self._run(fn, write=True)

    def probe_write(self) -> str | None:
        """Commit one tiny write (a meta stamp); the error text when the store refuses it.

        Catches a read-only or unreachable store and a full disk (the WAL append fails); a
        failed real write stays in ``last_write_error`` until a real write succeeds.
        """
        stamp = str(pd.Timestamp.now(tz="UTC").value)
        stmt = _insert(self.backend, meta).values(key="health_probe", value=stamp)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stamp})
        try:
            self._run(lambda conn: conn.execute(stmt))
        except StorageError as exc:
            return str(exc)
        return None

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
                   **{c: _plain(frame[c]) for c in _PRICE_VALUE_COLS}}
        keys = list(columns)
        rows = list(zip(*columns.values(), strict=True))

        def write(conn: sa.Connection) -> int:
            stmt = _insert(self.backend, prices)
            if overwrite:
                ex = stmt.excluded
                changed = sa.or_(*[prices.c[c].is_distinct_from(ex[c]) for c in _PRICE_VALUE_COLS])
                stmt = stmt.on_conflict_do_update(
                    index_elements=["symbol", "interval", "ts"],
                    set_={c: ex[c] for c in _PRICE_VALUE_COLS}, where=changed)
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
                return total
            # psycopg reports rowcount -1 for executemany: count RETURNING rows there instead.
            stmt = stmt.returning(prices.c.ts)
            for start in range(0, len(rows), 5000):
                chunk = [dict(zip(keys, r, strict=True)) for r in rows[start:start + 5000]]
                total += len(conn.execute(stmt, chunk).all())
            return total

        return self._write(write)

    def load_prices(self, symbols: Iterable[str] | None = None, *, interval: str = "1d",
                    start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
        """Return price rows (PRICE_COLUMNS, ts tz-aware UTC) sorted by symbol, ts."""
        q = sa.select(prices.c.ts, prices.c.symbol, *[prices.c[c] for c in _PRICE_VALUE_COLS]
                      ).where(prices.c.interval == interval)
        if symbols is not None:
            q = q.where(prices.c.symbol.in_(list(symbols)))
        if start is not None:
            q = q.where(prices.c.ts >= _epoch(start))
        if end is not None:
            q = q.where(prices.c.ts <= _epoch(end))
        q = q.order_by(prices.c.symbol, prices.c.ts)
        # Plain tuples: pandas probing SQLAlchemy Row objects costs more than the query.
        rows = self._run(lambda conn: [tuple(r) for r in conn.execute(q)])
        frame = pd.DataFrame(rows, columns=["ts", "symbol", *_PRICE_VALUE_COLS])
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
                "interval": interval, "since": _epoch(since), "until": _epoch(at)})
            if r[0] in wanted])
        frame = pd.DataFrame(rows, columns=["symbol", "price_usd", "ts", "source", "kind"])
        frame["ts"] = pd.to_datetime(frame["ts"].astype("int64"), unit="s", utc=True)
        frame["price_usd"] = frame["price_usd"].astype("float64")
        return frame

    def count_prices(self) -> dict[str, int]:
        """Row counts of the prices table per interval."""
        q = sa.select(prices.c.interval, sa.func.count()).group_by(prices.c.interval)
        return {k: int(v) for k, v in self._run(lambda c: c.execute(q).all())}

    # ---- quotes -------------------------------------------------------------------------
    def upsert_quotes(self, items: Iterable[Quote], *, fetched_at: datetime) -> int:
        """Store the latest quote per symbol; an older quote never replaces a newer one."""
        rows = [{"symbol": q.symbol, "price_usd": q.price_usd, "change_24h_pct": q.change_24h_pct,
                 "ts": _epoch(q.ts), "source": q.source, "fetched_at": _epoch(fetched_at)}
                for q in items]
        if not rows:
            return 0

        def write(conn: sa.Connection) -> int:
            stmt = _insert(self.backend, quotes)
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
        return _to_utc(self._run(lambda c: c.execute(
            sa.select(sa.func.max(quotes.c.fetched_at))).scalar()))

    def load_latest_prices(self, symbols: Iterable[str] | None = None, *,
                           interval: str = "1d", until: datetime | None = None) -> pd.DataFrame:
        """Each symbol's newest stored close (at or before ``until``) and its stored quote.

        Returns columns symbol, price_usd, ts (UTC), source, kind ("close" or "quote").
        """
        last = _EPOCH_MAX if until is None else _epoch(until)

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

    # ---- holdings (the ledger's balances: data.store.ledger_store) & assets ---------------------
    def load_holdings(self, portfolio: str = "default") -> dict[str, float]:
        """Quantities of a portfolio, by symbol (sorted): the ledger's non-zero balances."""
        from data.store import ledger_store  # imports this module

        return {s: float(q) for s, q in ledger_store.balances(self, portfolio).items()}

    def set_holding(self, symbol: str, quantity: float, portfolio: str = "default") -> None:
        """Set one position to a quantity (a correction entry in the ledger)."""
        from data.store import ledger_store

        if not math.isfinite(quantity) or quantity <= 0:
            raise ValueError(f"quantity of {symbol} must be positive and finite")
        ledger_store.set_quantity(self, portfolio, symbol, quantity,
                                  now=datetime.now(timezone.utc).replace(microsecond=0))

    def remove_holding(self, symbol: str, portfolio: str = "default") -> bool:
        """Withdraw a whole position; return whether it was held."""
        from data.store import ledger_store

        return ledger_store.withdraw_all(
            self, portfolio, symbol,
            now=datetime.now(timezone.utc).replace(microsecond=0)) is not None

    def sync_assets(self, universe: Mapping[str, Mapping[str, str]]) -> None:
        """Write the configured universe (symbol -> name, category, kind) to the assets table."""
        rows = [{"symbol": s, "name": a["name"], "category": a["category"], "kind": a["kind"]}
                for s, a in universe.items()]

        def write(conn: sa.Connection) -> None:
            stmt = _insert(self.backend, assets)
            stmt = stmt.on_conflict_do_update(
                index_elements=["symbol"],
                set_={c: stmt.excluded[c] for c in ("name", "category", "kind")})
            if rows:
                conn.execute(stmt, rows)

        self._write(write)

    # ---- source health & meta -----------------------------------------------------------
    def record_source_status(self, source: str, *, ok: bool, now: datetime,
                             error: str | None = None) -> None:
        """Record the outcome of a provider call (consecutive failures counted).

        One atomic upsert, so concurrent jobs recording the same source never collide.
        """
        stamp = _epoch(now)
        values = ({"healthy": True, "failures": 0, "last_ok": stamp} if ok else
                  {"healthy": False, "failures": 1, "last_error": clip(error or "", 500),
                   "last_error_at": stamp})
        stmt = _insert(self.backend, source_health).values(source=source, **values)
        update = dict(values)
        if not ok:
            update["failures"] = source_health.c.failures + 1
        stmt = stmt.on_conflict_do_update(index_elements=["source"], set_=update)
        self._write(lambda conn: conn.execute(stmt))

    def load_source_health(self) -> list[dict]:
        """One dict per provider that has been called: healthy, failures, last_ok, last_error."""
        rows = self._run(lambda c: c.execute(sa.select(source_health)).mappings().all())
        out = []
        for r in rows:
            item = dict(r)
            for key in ("last_ok", "last_error_at"):
                stamp = _to_utc(item[key])
                item[key] = stamp.isoformat() if stamp is not None else None
            out.append(item)
        return out

    def get_meta(self, key: str) -> str | None:
        """Read one bookkeeping value (None when the key was never set)."""
        return self._run(lambda c: c.execute(
            sa.select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none())

    def claim_meta(self, key: str, value: str) -> bool:
        """Set a key only if absent; return True if this call set it (a run-once guard)."""
        stmt = _insert(self.backend, meta).values(key=key, value=value).on_conflict_do_nothing()
        return bool(self._write(lambda c: c.execute(stmt).rowcount))
