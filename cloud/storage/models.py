"""SQLAlchemy 2 models. Alembic migrations in migrations/ are the source of the schema;
these classes mirror them for the ORM (tests check that they agree)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The validated site YAML as JSON, so the cloud answers with the config it ran on.
    config: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    cameras: Mapped[list[Camera]] = relationship(back_populates="site", cascade="all, delete-orphan")


class Camera(Base):
    __tablename__ = "cameras"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    floor_id: Mapped[str] = mapped_column(String(64))

    site: Mapped[Site] = relationship(back_populates="cameras")


# Event tables. Times are Unix epoch nanoseconds (BigInteger): exact, the same on SQLite
# and PostgreSQL, and what the wire carries; rollup buckets are epoch seconds of the
# bucket's start in UTC (the API regroups them in the site's timezone).


class CameraProgress(Base):
    """Highest seq applied per camera: the idempotency gate of every write.

    Per-camera order holds on the wire (one partition per site, spool replayed in order),
    so an envelope whose seq is not above this is a redelivery and changes nothing.
    """

    __tablename__ = "camera_progress"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_event_ns: Mapped[int] = mapped_column(BigInteger)


class CameraHealth(Base):
    __tablename__ = "camera_health"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    fps: Mapped[float] = mapped_column(Float)
    frames: Mapped[int] = mapped_column(BigInteger)
    dropped_frames: Mapped[int] = mapped_column(BigInteger)
    lag_ms: Mapped[float] = mapped_column(Float)
    model_versions: Mapped[dict[str, str]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(String(500))
    status_ns: Mapped[int] = mapped_column(BigInteger)
    # Load shedding on the edge (edge/agent/frame_thinning.py): frames skipped evenly, the
    # camera's own rate beside the processed `fps`, and whether the edge keeps up with it.
    thinned_frames: Mapped[int] = mapped_column(BigInteger, server_default="0")
    source_fps: Mapped[float] = mapped_column(Float, server_default="0")
    overloaded: Mapped[bool] = mapped_column(Boolean, server_default=false())


class CameraOutage(Base):
    """A stretch when a camera delivered nothing: from its edge's first reconnecting or offline
    status to the next online one (open, `ended_ns` NULL, while it lasts)."""

    __tablename__ = "camera_outages"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_ns: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ended_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # reconnecting, or offline once the edge gave up on it.
    state: Mapped[str] = mapped_column(String(16))
    # Why it went down, as the edge said (credentials masked there).
    message: Mapped[str] = mapped_column(String(500))


class Tracklet(Base):
    """One camera's track of one person, with the summary and embedding stitching uses."""

    __tablename__ = "tracklets"
    __table_args__ = (Index("ix_tracklets_site_last_seen", "site_id", "last_seen_ns"),)

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    track_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_seen_ns: Mapped[int] = mapped_column(BigInteger)
    last_seen_ns: Mapped[int] = mapped_column(BigInteger)
    observations: Mapped[int] = mapped_column(Integer)
    mean_confidence: Mapped[float] = mapped_column(Float)
    floor_id: Mapped[str | None] = mapped_column(String(64))
    first_x: Mapped[float | None] = mapped_column(Float)
    first_y: Mapped[float | None] = mapped_column(Float)
    last_x: Mapped[float | None] = mapped_column(Float)
    last_y: Mapped[float | None] = mapped_column(Float)
    # float16 little-endian, L2-normalised; deleted by the retention job.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(128))
    embedding_quality: Mapped[float | None] = mapped_column(Float)
    visitor_id: Mapped[str | None] = mapped_column(String(200), index=True)


def _staff_only(name: str, *columns: str) -> Index:
    """Index of the rows a staff match flagged: few, and read to subtract them from the totals."""
    return Index(name, *columns, postgresql_where=text("staff"), sqlite_where=text("staff"))


class LineCrossing(Base):
    __tablename__ = "line_crossings"
    __table_args__ = (
        Index("ix_line_crossings_site_line_time", "site_id", "line_id", "event_ns"),
        # A staff match flags the crossings of the visitor's tracklets.
        Index("ix_line_crossings_site_camera_track", "site_id", "camera_id", "track_id"),
        _staff_only("ix_line_crossings_staff", "site_id", "event_ns"),
    )

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))
    track_id: Mapped[int] = mapped_column(BigInteger)
    event_ns: Mapped[int] = mapped_column(BigInteger)
    floor_x: Mapped[float | None] = mapped_column(Float)
    floor_y: Mapped[float | None] = mapped_column(Float)
    # The crossing's visitor matched the staff gallery (cloud/galleries/exclusion.py).
    staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Another camera of the line's group counted this person first (cloud/ingest/dedup.py):
    # kept for audit, left out of footfall and occupancy.
    duplicate_of_camera: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_seq: Mapped[int | None] = mapped_column(BigInteger)


class ZoneVisit(Base):
    """Enter creates the row, exit completes it (exit_ns, dwell_s)."""

    __tablename__ = "zone_visits"
    # Dwell (with or without staff) and transitions read every visit of a range from the index alone (PostgreSQL).
    __table_args__ = (
        Index(
            "ix_zone_visits_site_zone_entered",
            "site_id",
            "zone_id",
            "entered_ns",
            postgresql_include=["camera_id", "track_id", "dwell_s", "staff"],
        ),
        Index("ix_zone_visits_site_camera_track", "site_id", "camera_id", "track_id"),
        _staff_only("ix_zone_visits_staff", "site_id", "entered_ns"),
    )

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    track_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entered_ns: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    exited_ns: Mapped[int | None] = mapped_column(BigInteger)
    dwell_s: Mapped[float | None] = mapped_column(Float)
    staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# Rollup ladders (cloud/storage/rollups.py): one table shape per measure, at minute,
# UTC quarter-hour and site-local day resolution.


class _FootfallColumns:
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    bucket_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class FootfallMinute(_FootfallColumns, Base):
    __tablename__ = "footfall_minute"


class FootfallQuarter(_FootfallColumns, Base):
    __tablename__ = "footfall_quarter"


class FootfallDay(_FootfallColumns, Base):
    __tablename__ = "footfall_day"


class Occupancy(Base):
    """Live count per scope ('zone', 'site'); never negative, re-based by setting `count`."""

    __tablename__ = "occupancy"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class _OccupancyColumns:
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The highest count in the bucket, and the count at its end.
    max_count: Mapped[int] = mapped_column(Integer)
    last_count: Mapped[int] = mapped_column(Integer)


class OccupancyMinute(_OccupancyColumns, Base):
    __tablename__ = "occupancy_minute"


class OccupancyQuarter(_OccupancyColumns, Base):
    __tablename__ = "occupancy_quarter"


class OccupancyDay(_OccupancyColumns, Base):
    __tablename__ = "occupancy_day"


class HeatmapCell(Base):
    """Occupancy-seconds per floor cell (grid of the floor's heatmap_cell_m) per hour."""

    __tablename__ = "heatmap_cells"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    floor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cell_x: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_y: Mapped[int] = mapped_column(Integer, primary_key=True)
    seconds: Mapped[float] = mapped_column(Float)


class Visitor(Base):
    """A stitched identity: tracklets across cameras that are the same person."""

    __tablename__ = "visitors"
    # Both ends of a stay: "present during [a, b)" is first_seen < b and last_seen >= a,
    # and recent ranges and retention are selective only on last_seen.
    __table_args__ = (
        Index("ix_visitors_site_first_seen", "site_id", "first_seen_ns"),
        # first_seen too, so counting the stays in a range never reads the table.
        Index("ix_visitors_site_seen", "site_id", "last_seen_ns", "first_seen_ns"),
        _staff_only("ix_visitors_staff", "site_id", "last_seen_ns"),
    )

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_seen_ns: Mapped[int] = mapped_column(BigInteger)
    last_seen_ns: Mapped[int] = mapped_column(BigInteger)
    # Camera ids in the order visited.
    path: Mapped[list[str]] = mapped_column(JSON)
    tracklets: Mapped[int] = mapped_column(Integer)
    # Matched to the staff gallery: left out of the staff-excluded numbers.
    staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class VisitorsDay(Base):
    """Stitched visitors present on each site-local day, kept by stitching as stays grow."""

    __tablename__ = "visitors_day"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Epoch seconds of the local midnight that starts the day.
    day_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    visitors: Mapped[int] = mapped_column(Integer)
    # Of them, those whose stay starts on the day. Unique visitors over whole days are the
    # first day's visitors plus the later days' arrivals: a range's total without counting
    # its visitor rows.
    arrivals: Mapped[int] = mapped_column(Integer, server_default="0")


# Opt-in galleries (cloud/galleries/). Entries are enrolled by an operator, expire, and
# take their embeddings with them when deleted; no real-world identity is stored.


class GalleryEntry(Base):
    __tablename__ = "gallery_entries"
    __table_args__ = (Index("ix_gallery_entries_site_gallery", "site_id", "gallery"),)

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gallery: Mapped[str] = mapped_column(String(64))
    # Opaque: a badge number or "VIP 17", never a name the system could resolve.
    label: Mapped[str] = mapped_column(String(200))
    enrolled_by: Mapped[str] = mapped_column(String(200))
    enrolled_ns: Mapped[int] = mapped_column(BigInteger)
    renewed_ns: Mapped[int] = mapped_column(BigInteger)
    expires_ns: Mapped[int] = mapped_column(BigInteger)
    # The visitor or tracklet the current vectors were taken from, e.g. "visitor:…".
    source: Mapped[str] = mapped_column(String(300))
    embedding_model: Mapped[str] = mapped_column(String(128))


class GalleryEmbedding(Base):
    """One sighting's vector of an entry (float16, L2-normalised); gone with its entry."""

    __tablename__ = "gallery_embeddings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "entry_id"], ["gallery_entries.site_id", "gallery_entries.entry_id"], ondelete="CASCADE"
        ),
    )

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)


class GalleryAudit(Base):
    """Every enrol, renew, delete and expiry, kept after the entry itself is gone."""

    __tablename__ = "gallery_audit"
    __table_args__ = (Index("ix_gallery_audit_site_at", "site_id", "at_ns"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64))
    gallery: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(300))
    at_ns: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class GalleryMatch(Base):
    """The latest decision on a visitor against a gallery, with its similarity: thresholds are tuned from these."""

    __tablename__ = "gallery_matches"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    gallery: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The most similar entry, matched or not (None: the gallery was empty).
    entry_id: Mapped[str | None] = mapped_column(String(64))
    similarity: Mapped[float | None] = mapped_column(Float)
    sightings: Mapped[int] = mapped_column(Integer)
    matched: Mapped[bool] = mapped_column(Boolean)
    # "matcher" or "enrolled" (the visitor an entry was enrolled from).
    decided_by: Mapped[str] = mapped_column(String(16))
    # Event time of the sighting that led to the decision.
    decided_ns: Mapped[int] = mapped_column(BigInteger)


class GalleryAlertRow(Base):
    """One alert per visit (site, gallery, visitor); an outbox the dispatcher delivers from."""

    __tablename__ = "gallery_alerts"
    __table_args__ = (
        Index("ix_gallery_alerts_site_event", "site_id", "event_ns"),
        Index("ix_gallery_alerts_pending", "published", "next_attempt_ns"),
    )

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gallery: Mapped[str] = mapped_column(String(64), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    similarity: Mapped[float] = mapped_column(Float)
    camera_id: Mapped[str] = mapped_column(String(64))
    first_seen_ns: Mapped[int] = mapped_column(BigInteger)
    event_ns: Mapped[int] = mapped_column(BigInteger)
    # Outbox state: published to Kafka; webhook "none", "pending", "delivered" or "failed".
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    webhook_state: Mapped[str] = mapped_column(String(12))
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    webhook_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_ns: Mapped[int] = mapped_column(BigInteger, default=0)


# An occupancy alert whose raise, or whose clear, has not reached the alerts topic yet.
_UNPUBLISHED = "NOT raise_published OR (cleared_ns IS NOT NULL AND NOT clear_published)"


class OccupancyAlertRow(Base):
    """One episode of a zone or the site over its capacity: raised, then cleared (cloud/capacity/).

    Also an outbox: the dispatcher publishes the raise and the clear to the alerts topic and
    marks each. The episode's alert_id is derived from its key (cloud/capacity/alerts.py).
    """

    __tablename__ = "occupancy_alerts"
    __table_args__ = (
        Index("ix_occupancy_alerts_site_raised", "site_id", "raised_ns"),
        # The live view and each batch read the raised ones: few, however long the history.
        Index(
            "ix_occupancy_alerts_active",
            "site_id",
            postgresql_where=text("cleared_ns IS NULL"),
            sqlite_where=text("cleared_ns IS NULL"),
        ),
        # What the dispatcher still has to publish.
        Index(
            "ix_occupancy_alerts_unpublished",
            "raised_ns",
            postgresql_where=text(_UNPUBLISHED),
            sqlite_where=text(_UNPUBLISHED),
        ),
    )

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # 'site' or 'zone', as in `occupancy`.
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Event time of the count that went over the capacity.
    raised_ns: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The limit the episode is judged by (the current config's, updated if it changes).
    capacity: Mapped[int] = mapped_column(Integer)
    clear_at: Mapped[int] = mapped_column(Integer)
    raised_count: Mapped[int] = mapped_column(Integer)
    peak_count: Mapped[int] = mapped_column(Integer)
    cleared_ns: Mapped[int | None] = mapped_column(BigInteger)
    cleared_count: Mapped[int | None] = mapped_column(Integer)
    raise_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    clear_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
