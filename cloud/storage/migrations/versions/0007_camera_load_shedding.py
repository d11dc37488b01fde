"""camera load shedding: thinned frames, the camera's own rate and the overloaded flag of the last status

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Defaults fill rows written before the edge reported these (and statuses of older edges).
    with op.batch_alter_table("camera_health") as batch:
        batch.add_column(sa.Column("thinned_frames", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("source_fps", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("overloaded", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("camera_health") as batch:
        batch.drop_column("overloaded")
        batch.drop_column("source_fps")
        batch.drop_column("thinned_frames")
