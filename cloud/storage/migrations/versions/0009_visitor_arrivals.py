"""visitors per day: how many of them arrived that day (unique visitors of whole days from the rollup)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Existing visitors are counted on their arrival day here, so ranges over stored days add
up. Self-contained, as every migration: the application's models may move on.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NS = 1_000_000_000


def _midnight(tz: ZoneInfo, epoch_s: int) -> int:
    local = datetime.fromtimestamp(epoch_s, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def upgrade() -> None:
    op.add_column("visitors_day", sa.Column("arrivals", sa.Integer(), server_default="0", nullable=False))
    conn = op.get_bind()
    tz = {site_id: ZoneInfo(name) for site_id, name in conn.execute(sa.text("SELECT id, timezone FROM sites"))}
    arrivals = Counter(
        (site_id, _midnight(tz.get(site_id, ZoneInfo("UTC")), first_ns // NS))
        for site_id, first_ns in conn.execute(sa.text("SELECT site_id, first_seen_ns FROM visitors"))
    )
    if arrivals:
        # A visitor's arrival day is a day it touches: its visitors_day row is there already.
        conn.execute(
            sa.text("UPDATE visitors_day SET arrivals = :n WHERE site_id = :s AND day_s = :d"),
            [{"s": s, "d": d, "n": n} for (s, d), n in arrivals.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("visitors_day") as batch:
        batch.drop_column("arrivals")
