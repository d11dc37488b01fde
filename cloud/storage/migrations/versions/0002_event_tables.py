"""event tables: progress, camera health, tracklets, crossings, zone visits, rollups, heatmap, visitors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_health",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("edge_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("frames", sa.BigInteger(), nullable=False),
        sa.Column("dropped_frames", sa.BigInteger(), nullable=False),
        sa.Column("lag_ms", sa.Float(), nullable=False),
        sa.Column("model_versions", sa.JSON(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("status_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "camera_id", name=op.f("pk_camera_health")),
    )
    op.create_table(
        "camera_progress",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_event_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "camera_id", name=op.f("pk_camera_progress")),
    )
    op.create_table(
        "footfall_minute",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("bucket_s", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "line_id", "direction", "bucket_s", name=op.f("pk_footfall_minute")),
    )
    op.create_table(
        "heatmap_cells",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("floor_id", sa.String(length=64), nullable=False),
        sa.Column("bucket_s", sa.BigInteger(), nullable=False),
        sa.Column("cell_x", sa.Integer(), nullable=False),
        sa.Column("cell_y", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "floor_id", "bucket_s", "cell_x", "cell_y", name=op.f("pk_heatmap_cells")),
    )
    op.create_table(
        "line_crossings",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("event_ns", sa.BigInteger(), nullable=False),
        sa.Column("floor_x", sa.Float(), nullable=True),
        sa.Column("floor_y", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("site_id", "camera_id", "seq", name=op.f("pk_line_crossings")),
    )
    with op.batch_alter_table("line_crossings", schema=None) as batch_op:
        batch_op.create_index("ix_line_crossings_site_line_time", ["site_id", "line_id", "event_ns"], unique=False)

    op.create_table(
        "occupancy",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "scope", "scope_id", name=op.f("pk_occupancy")),
    )
    op.create_table(
        "occupancy_minute",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=False),
        sa.Column("bucket_s", sa.BigInteger(), nullable=False),
        sa.Column("max_count", sa.Integer(), nullable=False),
        sa.Column("last_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "scope", "scope_id", "bucket_s", name=op.f("pk_occupancy_minute")),
    )
    op.create_table(
        "tracklets",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("first_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("mean_confidence", sa.Float(), nullable=False),
        sa.Column("floor_id", sa.String(length=64), nullable=True),
        sa.Column("first_x", sa.Float(), nullable=True),
        sa.Column("first_y", sa.Float(), nullable=True),
        sa.Column("last_x", sa.Float(), nullable=True),
        sa.Column("last_y", sa.Float(), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=128), nullable=True),
        sa.Column("embedding_quality", sa.Float(), nullable=True),
        sa.Column("visitor_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("site_id", "camera_id", "track_id", name=op.f("pk_tracklets")),
    )
    with op.batch_alter_table("tracklets", schema=None) as batch_op:
        batch_op.create_index("ix_tracklets_site_last_seen", ["site_id", "last_seen_ns"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracklets_visitor_id"), ["visitor_id"], unique=False)

    op.create_table(
        "visitors",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("first_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("tracklets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "visitor_id", name=op.f("pk_visitors")),
    )
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.create_index("ix_visitors_site_first_seen", ["site_id", "first_seen_ns"], unique=False)

    op.create_table(
        "zone_visits",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("zone_id", sa.String(length=64), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("entered_ns", sa.BigInteger(), nullable=False),
        sa.Column("exited_ns", sa.BigInteger(), nullable=True),
        sa.Column("dwell_s", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(
            "site_id", "camera_id", "zone_id", "track_id", "entered_ns", name=op.f("pk_zone_visits")
        ),
    )
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.create_index("ix_zone_visits_site_zone_entered", ["site_id", "zone_id", "entered_ns"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_zone_visits_site_zone_entered")

    op.drop_table("zone_visits")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_visitors_site_first_seen")

    op.drop_table("visitors")
    with op.batch_alter_table("tracklets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracklets_visitor_id"))
        batch_op.drop_index("ix_tracklets_site_last_seen")

    op.drop_table("tracklets")
    op.drop_table("occupancy_minute")
    op.drop_table("occupancy")
    with op.batch_alter_table("line_crossings", schema=None) as batch_op:
        batch_op.drop_index("ix_line_crossings_site_line_time")

    op.drop_table("line_crossings")
    op.drop_table("heatmap_cells")
    op.drop_table("footfall_minute")
    op.drop_table("camera_progress")
    op.drop_table("camera_health")
