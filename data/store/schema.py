"""The store's schema: every table, the engine factory and the migration to the newest revision.

Every table of the store is defined here and read or written only by modules of ``data/store``
(``tests/test_architecture.py`` checks it). Timestamps are integer epoch seconds (UTC) so
SQLite and PostgreSQL agree exactly; ``epoch``/``from_epoch`` convert at the edge. The schema
itself is created and changed by the alembic revisions in ``migrations/`` (never by
``metadata.create_all``); these objects describe it for queries.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from data.store import guard
from errors import StorageError

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

scheduler_state = sa.Table(
    "scheduler_state", metadata,
    sa.Column("owner", sa.String(128), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("lock", sa.String(16), nullable=False),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    sa.Column("heartbeat_at", sa.BigInteger, nullable=False),
    sa.Column("jobs", sa.Text, nullable=False),
)
custom_assets = sa.Table(
    "custom_assets", metadata,
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("symbols", sa.Text, nullable=False),
    sa.Column("sources", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("added_at", sa.BigInteger, nullable=False),
)
ledger_entries = sa.Table(
    "ledger_entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("portfolio", sa.String(64), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("subtype", sa.String(24)),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("trade_date", sa.String(10), nullable=False),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("asset", sa.String(32), nullable=False),
    sa.Column("quantity", sa.String(64), nullable=False),
    sa.Column("counter_asset", sa.String(32)),
    sa.Column("counter_quantity", sa.String(64)),
    sa.Column("fee_asset", sa.String(32)),
    sa.Column("fee_quantity", sa.String(64)),
    sa.Column("to_account", sa.String(64)),
    sa.Column("note", sa.Text),
    sa.Column("external_id", sa.String(128)),
    sa.Column("dedupe_hash", sa.String(64), nullable=False),
    sa.Column("import_batch", sa.String(64)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

MIGRATIONS = Path(__file__).with_name("migrations")
PRICE_VALUE_COLS = ("open", "high", "low", "close", "volume", "source")


def epoch(ts: datetime | pd.Timestamp) -> int:
    """Seconds since 1970 UTC, as the store keeps timestamps; naive times are refused."""
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return int(stamp.timestamp())


def from_epoch(seconds: int | None) -> pd.Timestamp | None:
    """The UTC timestamp of a stored epoch column; None stays None (nullable columns)."""
    return None if seconds is None else pd.Timestamp(int(seconds), unit="s", tz="UTC")


def insert_for(dialect: str, table: sa.Table):
    """The dialect's INSERT construct: both support ``on_conflict_do_update`` for upserts."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def create_engine(url: str) -> sa.Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign-thread access."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # untyped: DBAPI hook
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
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with guard.ddl_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                # Serialise concurrent first starts (several workers) on one advisory lock.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"store migration failed: {guard.describe(exc, engine)}") from exc
