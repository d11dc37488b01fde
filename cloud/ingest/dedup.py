"""Footfall across overlapping cameras: one person crossing a doorway two cameras watch counts once.

Lines of one `group` (shared/config/site.py) are views of one doorway. A crossing is a
duplicate when another camera of its group already reported a crossing in the same
direction within `footfall_dedup.window_s`, at a floor point within `max_distance_m`
when both views are calibrated, and that crossing has not already absorbed one from
this camera. Whichever arrives second is the duplicate, so cameras that lag each other
still pair up, and the count is the same in whatever batches the events come. Duplicates
are stored (with the crossing they repeat) and left out of footfall and occupancy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.storage.models import LineCrossing
from shared.config.site import FootfallDedup

NS = 1_000_000_000
Crossing = dict[str, Any]
CrossingKey = tuple[str, int]  # (camera_id, seq)


def _close(a: Crossing, b: Crossing, settings: FootfallDedup) -> bool:
    if a["floor_x"] is None or b["floor_x"] is None:
        return True
    return math.hypot(a["floor_x"] - b["floor_x"], a["floor_y"] - b["floor_y"]) <= settings.max_distance_m


def original_of(
    session: Session,
    crossing: Crossing,
    group_lines: Sequence[str],
    batch: Sequence[Crossing],
    settings: FootfallDedup,
) -> CrossingKey | None:
    """The earlier-reported crossing `crossing` repeats, or None when it is the first sighting."""
    window = round(settings.window_s * NS)
    t = crossing["event_ns"]
    stored = session.execute(
        select(
            LineCrossing.camera_id,
            LineCrossing.seq,
            LineCrossing.line_id,
            LineCrossing.direction,
            LineCrossing.event_ns,
            LineCrossing.floor_x,
            LineCrossing.floor_y,
            LineCrossing.duplicate_of_camera,
            LineCrossing.duplicate_of_seq,
        ).where(
            LineCrossing.site_id == crossing["site_id"],
            LineCrossing.line_id.in_(group_lines),
            LineCrossing.event_ns >= t - window,
            LineCrossing.event_ns <= t + window,
        )
    ).mappings()
    rows = [dict(r) for r in stored] + [
        c for c in batch if c["site_id"] == crossing["site_id"] and c["line_id"] in group_lines
    ]
    absorbed = {
        (r["duplicate_of_camera"], r["duplicate_of_seq"])
        for r in rows
        if r["duplicate_of_camera"] is not None and r["camera_id"] == crossing["camera_id"]
    }
    candidates = [
        r
        for r in rows
        if r["camera_id"] != crossing["camera_id"]
        and r["duplicate_of_camera"] is None
        and r["direction"] == crossing["direction"]
        and abs(r["event_ns"] - t) <= window
        and (r["camera_id"], r["seq"]) not in absorbed
        and _close(r, crossing, settings)
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda r: (abs(r["event_ns"] - t), r["camera_id"], r["seq"]))
    return best["camera_id"], best["seq"]
