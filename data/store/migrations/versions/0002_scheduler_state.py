"""Scheduler state: one row per running scheduler (role, heartbeat, jobs), read by /api/health.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create scheduler_state; times are integer epoch seconds (UTC), jobs is JSON text."""
    op.create_table(
        "scheduler_state",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("lock", sa.String(16), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("heartbeat_at", sa.BigInteger, nullable=False),
        sa.Column("jobs", sa.Text, nullable=False),
    )
