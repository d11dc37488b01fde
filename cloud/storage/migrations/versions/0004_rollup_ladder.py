"""rollup ladder: footfall/occupancy per quarter hour and local day, visitors per day; covering indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Existing minute rows and visitors are rolled up here, so the new tables agree with the
data already stored. The code is self-contained (plain table definitions): a migration
must keep working after the application's models move on.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

QUARTER_S = 900
NS = 1_000_000_000


def _footfall(name: str) -> None:
    op.create_table(
        name,
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("bucket_s", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "line_id", "direction", "bucket_s", name=op.f(f"pk_{name}")),
    )


def _occupancy(name: str) -> None:
    op.create_table(
        name,
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=False),
        sa.Column("bucket_s", sa.BigInteger(), nullable=False),
        sa.Column("max_count", sa.Integer(), nullable=False),
        sa.Column("last_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "scope", "scope_id", "bucket_s", name=op.f(f"pk_{name}")),
    )


def _midnight(tz: ZoneInfo, epoch_s: int) -> int:
    local = datetime.fromtimestamp(epoch_s, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def _backfill() -> None:
    conn = op.get_bind()
    tz = {site_id: ZoneInfo(name) for site_id, name in conn.execute(sa.text("SELECT id, timezone FROM sites"))}
    footfall = conn.execute(sa.text("SELECT site_id, line_id, direction, bucket_s, count FROM footfall_minute")).all()
    quarters: dict[tuple[str, str, str, int], int] = defaultdict(int)
    days: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for site_id, line_id, direction, bucket_s, count in footfall:
        quarters[(site_id, line_id, direction, bucket_s - bucket_s % QUARTER_S)] += count
        zone = tz.get(site_id, ZoneInfo("UTC"))
        days[(site_id, line_id, direction, _midnight(zone, bucket_s))] += count
    for table, rows in (("footfall_quarter", quarters), ("footfall_day", days)):
        if rows:
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} (site_id, line_id, direction, bucket_s, count) VALUES (:s, :l, :d, :b, :n)"
                ),
                [{"s": s, "l": ln, "d": d, "b": b, "n": n} for (s, ln, d, b), n in rows.items()],
            )
    occupancy = conn.execute(
        sa.text(
            "SELECT site_id, scope, scope_id, bucket_s, max_count, last_count FROM occupancy_minute "
            "ORDER BY site_id, scope, scope_id, bucket_s"
        )
    ).all()
    peaks: dict[str, dict[tuple[str, str, str, int], tuple[int, int]]] = {"quarter": {}, "day": {}}
    for site_id, scope, scope_id, bucket_s, max_count, last_count in occupancy:
        zone = tz.get(site_id, ZoneInfo("UTC"))
        for level, start in (("quarter", bucket_s - bucket_s % QUARTER_S), ("day", _midnight(zone, bucket_s))):
            key = (site_id, scope, scope_id, start)
            peaks[level][key] = (max(peaks[level].get(key, (0, 0))[0], max_count), last_count)
    for level, levels in peaks.items():
        if levels:
            conn.execute(
                sa.text(
                    f"INSERT INTO occupancy_{level} (site_id, scope, scope_id, bucket_s, max_count, last_count) "
                    "VALUES (:s, :sc, :i, :b, :m, :la)"
                ),
                [{"s": s, "sc": sc, "i": i, "b": b, "m": m, "la": la} for (s, sc, i, b), (m, la) in levels.items()],
            )
    visitors: dict[tuple[str, int], int] = defaultdict(int)
    for site_id, first_ns, last_ns in conn.execute(
        sa.text("SELECT site_id, first_seen_ns, last_seen_ns FROM visitors")
    ):
        zone = tz.get(site_id, ZoneInfo("UTC"))
        day = _midnight(zone, first_ns // NS)
        while day * NS <= last_ns:
            visitors[(site_id, day)] += 1
            # 26 h from a local midnight always lands in the next local day (DST days are 23-25 h).
            day = _midnight(zone, day + 26 * 3600)
    if visitors:
        conn.execute(
            sa.text("INSERT INTO visitors_day (site_id, day_s, visitors) VALUES (:s, :d, :n)"),
            [{"s": s, "d": d, "n": n} for (s, d), n in visitors.items()],
        )


def upgrade() -> None:
    _footfall("footfall_quarter")
    _footfall("footfall_day")
    _occupancy("occupancy_quarter")
    _occupancy("occupancy_day")
    op.create_table(
        "visitors_day",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("day_s", sa.BigInteger(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "day_s", name=op.f("pk_visitors_day")),
    )
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_visitors_site_last_seen")
        batch_op.create_index("ix_visitors_site_seen", ["site_id", "last_seen_ns", "first_seen_ns"], unique=False)
    # Dwell and transitions scan a range of visits: the index carries what they read.
    op.drop_index("ix_zone_visits_site_zone_entered", table_name="zone_visits")
    op.create_index(
        "ix_zone_visits_site_zone_entered",
        "zone_visits",
        ["site_id", "zone_id", "entered_ns"],
        postgresql_include=["camera_id", "track_id", "dwell_s"],
    )
    _backfill()


def downgrade() -> None:
    op.drop_index("ix_zone_visits_site_zone_entered", table_name="zone_visits")
    op.create_index("ix_zone_visits_site_zone_entered", "zone_visits", ["site_id", "zone_id", "entered_ns"])
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_visitors_site_seen")
        batch_op.create_index("ix_visitors_site_last_seen", ["site_id", "last_seen_ns"], unique=False)
    for name in ("visitors_day", "occupancy_day", "occupancy_quarter", "footfall_day", "footfall_quarter"):
        op.drop_table(name)
