"""Initial schema: prices, quotes, holdings, assets, source_health, meta.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the v1 tables. ts columns are integer epoch seconds (UTC)."""
    op.create_table(
        "prices",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("interval", sa.String(4), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("open", sa.Float), sa.Column("high", sa.Float), sa.Column("low", sa.Float),
        sa.Column("close", sa.Float, nullable=False),
        sa.Column("volume", sa.Float),
        sa.Column("source", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "interval", "ts", name="pk_prices"),
    )
    op.create_table(
        "quotes",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("price_usd", sa.Float, nullable=False),
        sa.Column("change_24h_pct", sa.Float),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("fetched_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "holdings",
        sa.Column("portfolio", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("portfolio", "symbol", name="pk_holdings"),
    )
    op.create_table(
        "assets",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("healthy", sa.Boolean, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_ok", sa.BigInteger),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.BigInteger),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
