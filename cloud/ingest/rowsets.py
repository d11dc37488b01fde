"""One batch's rows, sorted per table, then each table's set written once (cloud/storage/bulk).

The applier fills these while it walks the batch in event order; nothing here reads
events. The order of the writes matters only for zone visits: a visit entered and left
in one batch is inserted by its enter and completed by its exit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cloud.storage.bulk import BulkWriter, RowSet
from cloud.storage.models import CameraHealth, HeatmapCell, LineCrossing, Tracklet, ZoneVisit

CROSSING_COLUMNS = (
    "site_id", "camera_id", "seq", "line_id", "direction", "track_id", "event_ns", "floor_x", "floor_y",
    "duplicate_of_camera", "duplicate_of_seq",
)  # fmt: skip
TRACKLET_COLUMNS = (
    "site_id", "camera_id", "track_id", "first_seen_ns", "last_seen_ns", "observations", "mean_confidence",
    "floor_id", "first_x", "first_y", "last_x", "last_y", "embedding", "embedding_model", "embedding_quality",
)  # fmt: skip
VISIT_COLUMNS = ("site_id", "camera_id", "zone_id", "track_id", "entered_ns", "exited_ns", "dwell_s")
HEAT_COLUMNS = ("site_id", "floor_id", "bucket_s", "cell_x", "cell_y", "seconds")
HEALTH_COLUMNS = (
    "site_id", "camera_id", "edge_id", "state", "fps", "frames", "dropped_frames", "thinned_frames", "source_fps",
    "overloaded", "lag_ms", "model_versions", "message", "status_ns",
)  # fmt: skip
HeatKey = tuple[str, str, int, int, int]  # site, floor, hour bucket, cell x, cell y


@dataclass
class BatchRows:
    # Dicts: footfall dedup (cloud/ingest/dedup.py) looks crossings of the batch up by name.
    crossings: list[dict[str, Any]] = field(default_factory=list)
    tracklets: list[tuple[Any, ...]] = field(default_factory=list)
    enters: list[tuple[Any, ...]] = field(default_factory=list)
    exits: list[tuple[Any, ...]] = field(default_factory=list)
    # Seconds of presence per cell and hour, summed here: a batch of track updates is a
    # few hundred cells, so the database adds those, not one row per update.
    heat: defaultdict[HeatKey, float] = field(default_factory=lambda: defaultdict(float))
    # Per camera only its newest status counts.
    health: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)

    def write(self, writer: BulkWriter) -> None:
        writer.insert_ignore(
            RowSet.of(LineCrossing, CROSSING_COLUMNS, [tuple(c[k] for k in CROSSING_COLUMNS) for c in self.crossings])
        )
        writer.insert_ignore(RowSet.of(Tracklet, TRACKLET_COLUMNS, self.tracklets))
        writer.insert_ignore(RowSet.of(ZoneVisit, VISIT_COLUMNS, self.enters))
        writer.upsert(RowSet.of(ZoneVisit, VISIT_COLUMNS, self.exits), ["exited_ns", "dwell_s"])
        writer.increment(RowSet.of(HeatmapCell, HEAT_COLUMNS, [(*k, s) for k, s in self.heat.items()]), ["seconds"])
        writer.upsert(RowSet.of(CameraHealth, HEALTH_COLUMNS, list(self.health.values())), HEALTH_COLUMNS[2:])
