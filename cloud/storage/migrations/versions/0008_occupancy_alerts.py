"""occupancy alerts: episodes of a zone or the site over its capacity, and their outbox state

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_UNPUBLISHED = "NOT raise_published OR (cleared_ns IS NOT NULL AND NOT clear_published)"


def upgrade() -> None:
    op.create_table(
        "occupancy_alerts",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=False),
        sa.Column("raised_ns", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("clear_at", sa.Integer(), nullable=False),
        sa.Column("raised_count", sa.Integer(), nullable=False),
        sa.Column("peak_count", sa.Integer(), nullable=False),
        sa.Column("cleared_ns", sa.BigInteger(), nullable=True),
        sa.Column("cleared_count", sa.Integer(), nullable=True),
        sa.Column("raise_published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("clear_published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "scope", "scope_id", "raised_ns", name=op.f("pk_occupancy_alerts")),
    )
    op.create_index("ix_occupancy_alerts_site_raised", "occupancy_alerts", ["site_id", "raised_ns"])
    op.create_index(
        "ix_occupancy_alerts_active",
        "occupancy_alerts",
        ["site_id"],
        postgresql_where=sa.text("cleared_ns IS NULL"),
        sqlite_where=sa.text("cleared_ns IS NULL"),
    )
    op.create_index(
        "ix_occupancy_alerts_unpublished",
        "occupancy_alerts",
        ["raised_ns"],
        postgresql_where=sa.text(_UNPUBLISHED),
        sqlite_where=sa.text(_UNPUBLISHED),
    )


def downgrade() -> None:
    op.drop_table("occupancy_alerts")
