"""Custom assets: assets a user added beyond config.yaml's universe (issue 16.1).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create custom_assets; provider ids and the fallback order are JSON text."""
    op.create_table(
        "custom_assets",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("symbols", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        # "verified" (a provider answered with prices) or "unchecked" (saved while offline).
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    """Drop custom_assets (the custom assets are lost; their prices stay)."""
    op.drop_table("custom_assets")
