"""Transactions ledger: entries with exact decimal quantities; holdings become its balances.

Each stored holding becomes an opening-balance ADJUSTMENT dated at the first day on which every
held asset has a stored close (the start of the bundled sample on a seeded store: its first
trading day for the stocks), so the value history reads as before:
the same quantities held over the whole stored history. The holdings table is then dropped
(its rows now live in the ledger). Quantities are copied through ``repr`` of the float, the
shortest text that reads back as the same float, so nothing is lost.

Revision ID: 0003
"""

import hashlib
import time
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _create_entries() -> None:
    # Quantities are text: SQLite has no decimal type (NUMERIC rounds through a float), and the
    # same exact text on both backends keeps export -> import an identity.
    op.create_table(
        "ledger_entries",
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
        sa.UniqueConstraint("portfolio", "dedupe_hash", name="uq_ledger_dedupe"),
    )
    op.create_index("ix_ledger_portfolio_date", "ledger_entries", ["portfolio", "trade_date"])


def _opening_ts(conn, symbols: set[str]) -> int:
    """The first day every held symbol and BTC has a close (else now)."""
    first = dict(conn.execute(sa.text(
        "SELECT symbol, min(ts) FROM prices WHERE interval = '1d' GROUP BY symbol")).all())
    wanted = symbols | {"BTC"}
    if not wanted <= set(first):
        return int(time.time())
    return max(int(first[s]) for s in wanted)


def upgrade() -> None:
    """Create ledger_entries, move every holding into it, drop holdings."""
    _create_entries()
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT portfolio, symbol, quantity FROM holdings")).all()
    entries = sa.table("ledger_entries", *[sa.column(c) for c in (
        "portfolio", "type", "subtype", "ts", "trade_date", "account", "asset", "quantity",
        "external_id", "dedupe_hash", "note", "created_at")])
    held: dict[str, set[str]] = {}
    for portfolio, symbol, _ in rows:
        held.setdefault(portfolio, set()).add(symbol)
    for portfolio, symbol, quantity in rows:
        stamp = _opening_ts(conn, held[portfolio])
        day = datetime.fromtimestamp(stamp, timezone.utc).date().isoformat()
        external = f"opening:{symbol}"
        # The formula of analytics.ledger.dedupe_hash for an entry with an external id (kept
        # inline: a migration must not change when application code does).
        digest = hashlib.sha256(
            f"{portfolio}\x1fext\x1fdefault\x1f{external}".encode()).hexdigest()
        op.execute(entries.insert().values(
            portfolio=portfolio, type="ADJUSTMENT", subtype="opening", ts=stamp,
            trade_date=day, account="default", asset=symbol,
            quantity=format(Decimal(repr(float(quantity))).normalize(), "f"),
            external_id=external, dedupe_hash=digest, note="opening balance (migrated holding)",
            created_at=int(time.time())))
    op.drop_table("holdings")
