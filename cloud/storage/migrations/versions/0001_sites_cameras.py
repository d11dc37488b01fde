"""sites and cameras

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
    )
    op.create_table(
        "cameras",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("floor_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_cameras_site_id_sites", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id", "id", name="pk_cameras"),
    )


def downgrade() -> None:
    op.drop_table("cameras")
    op.drop_table("sites")
