"""opt-in galleries: entries, their embeddings, audit log, match decisions, alert outbox; staff flags;
crossings deduplicated across overlapping cameras

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Staff flags default to false, so existing rows stay in every count, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (table, partial index name, its columns besides the flag)
_FLAGGED = (
    ("line_crossings", "ix_line_crossings_staff", ["site_id", "event_ns"]),
    ("zone_visits", "ix_zone_visits_staff", ["site_id", "entered_ns"]),
    ("visitors", "ix_visitors_staff", ["site_id", "last_seen_ns"]),
)


def _dwell_index(include: list[str]) -> None:
    """Staff-excluded dwell reads the flag from the covering index too (PostgreSQL)."""
    op.drop_index("ix_zone_visits_site_zone_entered", table_name="zone_visits")
    op.create_index(
        "ix_zone_visits_site_zone_entered",
        "zone_visits",
        ["site_id", "zone_id", "entered_ns"],
        postgresql_include=include,
    )


def upgrade() -> None:
    for table, index, columns in _FLAGGED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("staff", sa.Boolean(), server_default=sa.false(), nullable=False))
        op.create_index(index, table, columns, postgresql_where=sa.text("staff"), sqlite_where=sa.text("staff"))
    with op.batch_alter_table("line_crossings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_of_camera", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of_seq", sa.BigInteger(), nullable=True))
    op.create_index("ix_line_crossings_site_camera_track", "line_crossings", ["site_id", "camera_id", "track_id"])
    op.create_index("ix_zone_visits_site_camera_track", "zone_visits", ["site_id", "camera_id", "track_id"])
    _dwell_index(["camera_id", "track_id", "dwell_s", "staff"])
    op.create_table(
        "gallery_entries",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("gallery", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("enrolled_by", sa.String(length=200), nullable=False),
        sa.Column("enrolled_ns", sa.BigInteger(), nullable=False),
        sa.Column("renewed_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("embedding_model", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "entry_id", name=op.f("pk_gallery_entries")),
    )
    op.create_index("ix_gallery_entries_site_gallery", "gallery_entries", ["site_id", "gallery"])
    op.create_table(
        "gallery_embeddings",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id", "entry_id"],
            ["gallery_entries.site_id", "gallery_entries.entry_id"],
            name=op.f("fk_gallery_embeddings_site_id_gallery_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "entry_id", "n", name=op.f("pk_gallery_embeddings")),
    )
    op.create_table(
        "gallery_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("gallery", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gallery_audit")),
    )
    op.create_index("ix_gallery_audit_site_at", "gallery_audit", ["site_id", "at_ns"])
    op.create_table(
        "gallery_matches",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("gallery", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(length=16), nullable=False),
        sa.Column("decided_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "visitor_id", "gallery", name=op.f("pk_gallery_matches")),
    )
    op.create_table(
        "gallery_alerts",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("gallery", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("first_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("event_ns", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("webhook_state", sa.String(length=12), nullable=False),
        sa.Column("webhook_attempts", sa.Integer(), nullable=False),
        sa.Column("webhook_error", sa.String(length=500), nullable=False),
        sa.Column("next_attempt_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "gallery", "visitor_id", name=op.f("pk_gallery_alerts")),
    )
    op.create_index("ix_gallery_alerts_site_event", "gallery_alerts", ["site_id", "event_ns"])
    op.create_index("ix_gallery_alerts_pending", "gallery_alerts", ["published", "next_attempt_ns"])


def downgrade() -> None:
    for name in ("gallery_alerts", "gallery_matches", "gallery_audit", "gallery_embeddings", "gallery_entries"):
        op.drop_table(name)
    _dwell_index(["camera_id", "track_id", "dwell_s"])
    op.drop_index("ix_zone_visits_site_camera_track", table_name="zone_visits")
    op.drop_index("ix_line_crossings_site_camera_track", table_name="line_crossings")
    with op.batch_alter_table("line_crossings", schema=None) as batch_op:
        batch_op.drop_column("duplicate_of_seq")
        batch_op.drop_column("duplicate_of_camera")
    for table, index, _ in _FLAGGED:
        op.drop_index(index, table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("staff")
