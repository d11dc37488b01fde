"""Site configuration: one YAML file per mall, validated eagerly.

The models are the single source of truth for what a site file may contain; every
cross-reference (camera → floor, line → camera, topology → cameras) is checked here
so that the edge agent and the cloud never meet a dangling id at run time.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from shared.config.capacity import Capacity
from shared.config.coverage import Coverage
from shared.config.detector import DetectorProfile, default_profile, profile_from
from shared.config.load_shedding import LoadShedding
from shared.config.opening_hours import OpeningHours
from shared.config.regions import ExitPolygon, PointXY, Space, ZonePolygon
from shared.config.stream import StreamSettings, has_userinfo

Identifier = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
]


class _Strict(BaseModel):
    # NaN or infinity in a coordinate, threshold or duration is always a typo or a bug.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Floor(_Strict):
    id: Identifier
    name: str = ""
    plan_image: str | None = None
    # Plan pixels per metre, used to draw floor coordinates over plan_image.
    pixels_per_metre: float = Field(default=10.0, gt=0)
    # Floor-plan origin offset (metres) of plan pixel (0, 0).
    origin: PointXY = (0.0, 0.0)
    # Area covered by heatmaps, metres: (xmin, ymin, xmax, ymax).
    extent: tuple[float, float, float, float] | None = None
    heatmap_cell_m: float = Field(default=0.5, gt=0)

    @field_validator("extent")
    @classmethod
    def _extent_ordered(cls, v: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
        if v is not None and not (v[0] < v[2] and v[1] < v[3]):
            raise ValueError("extent must be (xmin, ymin, xmax, ymax) with xmin < xmax and ymin < ymax")
        return v


class Homography(_Strict):
    """Image → floor mapping, given as point correspondences an installer can measure."""

    image_points: list[PointXY]
    floor_points: list[PointXY]

    @model_validator(mode="after")
    def _enough_points(self) -> Self:
        n, m = len(self.image_points), len(self.floor_points)
        if n != m:
            raise ValueError(f"image_points has {n} points but floor_points has {m}; they must pair up")
        if n < 4:
            raise ValueError(f"need at least 4 point pairs, got {n}")
        for name, pts in (("image_points", self.image_points), ("floor_points", self.floor_points)):
            arr = np.asarray(pts, dtype=np.float64)
            centred = arr - arr.mean(axis=0)
            if np.linalg.matrix_rank(centred, tol=1e-6) < 2:
                raise ValueError(f"{name} are collinear; a homography needs points spread over the floor")
        return self


def _profile(v: Any) -> Any:
    return None if v is None else profile_from(v)


DetectorField = Annotated[DetectorProfile, BeforeValidator(profile_from)]


class Camera(_Strict):
    id: Identifier
    # File path, file://, rtsp://, v4l2:///dev/videoN or an integer device index.
    # ${VARS} are expanded by the loader; relative paths are relative to the YAML file.
    source: str = Field(min_length=1)
    floor: Identifier
    fps_hint: float | None = Field(default=None, gt=0)
    # Live sources: transport, credentials (${VARS}, expanded by the loader), jitter buffer,
    # stall timeout.
    stream: StreamSettings = StreamSettings()
    # Sub-rectangle of the source frame this camera sees: (x0, y0, x1, y1), pixels.
    # Lets one video feed several logical cameras (the split-view proxy).
    crop: tuple[int, int, int, int] | None = None
    homography: Homography | None = None
    # Polygons (cropped-frame pixels) where detections are ignored: mannequins, posters,
    # reflections — things a person detector fires on that never walk.
    ignore_regions: list[list[PointXY]] = []
    # The part of the scene this camera reports on (shared/config/coverage.py); None: all of it.
    coverage: Coverage | None = None
    # This camera's detector when it differs from the site's (`detector:` at the top level).
    detector: Annotated[DetectorProfile | None, BeforeValidator(_profile)] = None
    enabled: bool = True

    @field_validator("ignore_regions")
    @classmethod
    def _regions(cls, v: list[list[PointXY]]) -> list[list[PointXY]]:
        for i, poly in enumerate(v):
            if len(poly) < 3:
                raise ValueError(f"ignore region {i} needs at least 3 points, got {len(poly)}")
        return v

    @model_validator(mode="after")
    def _credentials_in_one_place(self) -> Camera:
        if self.stream.username is not None and has_userinfo(self.source):
            # Which would win is backend-dependent; and the message must not echo the source.
            raise ValueError("credentials are given both in the source URL and in stream.username: keep one")
        return self

    @field_validator("crop")
    @classmethod
    def _crop_ordered(cls, v: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
        if v is not None and not (0 <= v[0] < v[2] and 0 <= v[1] < v[3]):
            raise ValueError("crop must be (x0, y0, x1, y1) with 0 <= x0 < x1 and 0 <= y0 < y1")
        return v


def _in_seconds(data: Any, frames_key: str, seconds_key: str, example: str) -> Any:
    """Reject a frame-count setting that is now given in seconds, naming the new key."""
    if isinstance(data, dict) and frames_key in data:
        raise ValueError(
            f"{frames_key} is now {seconds_key}, in seconds, so it means the same at any frame rate ({example})"
        )
    return data


class Line(_Strict):
    """Counting line. Crossing to the side where (P2−P1)×(X−P1) > 0 is `in`."""

    id: Identifier
    camera: Identifier
    space: Space = Space.IMAGE
    points: tuple[PointXY, PointXY]
    # Seconds the foot point must stay beyond the dead band on the new side (from its first
    # frame there to the latest) before a crossing counts; 0: the first frame there counts.
    # In seconds, not frames, so one site file means the same at 7 and at 30 fps and when a
    # loaded agent thins a live camera's frames. 0.25 s is 3 frames at 7 fps: PETS09 count
    # accuracy 0.943 at 2 frames, 0.958 from 3 to 5 (0.15-0.57 s), so it sits 0.1 s above
    # the cliff and well below a latency anyone would see (BENCHMARKS.md).
    settle_s: float = Field(default=0.25, ge=0, le=10)
    # Distance from the line (pixels or metres, per `space`) inside which the side
    # is considered undecided; suppresses jitter on the line itself.
    dead_band: float = Field(default=0.0, ge=0)
    # Image-space lines: a band of this fraction of each person's box height as well (the
    # wider of the two counts). A person standing or turning a few pixels from the line
    # makes the foot point wobble across it; pixels mean nothing across lenses and
    # distances, a person's own height does. Floor-space lines use `dead_band` (metres).
    # PETS09 sweep: count accuracy 0.936 at 0, 0.950-0.962 from 0.02 to 0.1, 0.939 at 0.15
    # (tests/bench/tracker_sweep.py, BENCHMARKS.md); 0.05 sits in the middle.
    dead_band_height: float = Field(default=0.05, ge=0, le=1)
    # Seconds within which a new track id appearing where one vanished near the line takes
    # over its side and crossing history (an ID switch, or a person found again under a new
    # id after an occlusion the tracker did not bridge). At 1 s a person hidden for 1-2 s
    # while crossing was not counted; much longer and a different person appearing where
    # someone vanished inherits that history. PETS09 sweep: count accuracy 0.958 at 1.0 and
    # 1.25 s, 0.962 from 1.5 to 2.5 s, 0.958 at 3 s (a wrong handover); 2 s sits in the middle.
    handover_s: float = Field(default=2.0, ge=0, le=5)
    # Image-space lines: how far from where it vanished (as a share of that person's box
    # height) a new id may appear and take over; a fixed pixel radius would be half a
    # person in one view and a crowd in another. Floor-space lines use 1 m. PETS09 sweep:
    # count accuracy 0.954 at 0, 0.958 from 0.4 to 0.9, 0.962 from 1.0 to 1.5 (BENCHMARKS.md);
    # 0.75 (about 1.3 m of a walking adult) is the former 60 px at PETS09's median height.
    handover_height: float = Field(default=0.75, ge=0, le=5)
    # Whether crossings on this line count as site footfall (entrances), or are
    # only an internal passage counter.
    entrance: bool = True
    # Lines of overlapping cameras that watch the same doorway share a group: a person
    # crossing in both views counts once, under the group's id (see FootfallDedup).
    group: Identifier | None = None

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        return _in_seconds(data, "settle_frames", "settle_s", "3 frames at 7 fps: settle_s 0.25")

    @field_validator("points")
    @classmethod
    def _distinct(cls, v: tuple[PointXY, PointXY]) -> tuple[PointXY, PointXY]:
        if v[0] == v[1]:
            raise ValueError("the two points of a line must differ")
        return v


class Zone(_Strict):
    id: Identifier
    camera: Identifier
    space: Space = Space.IMAGE
    polygon: ZonePolygon
    # Seconds inside (from the first frame of a run inside to the latest) before an enter
    # is emitted; 0: the first frame inside. 0.1 s is 2 frames at 7 fps, 4 at 30 fps: a
    # foot point flickering over the edge for a frame or two opens no visit at any rate.
    enter_s: float = Field(default=0.1, ge=0, le=10)
    # Seconds outside (or unseen) before an exit is emitted; bridges occlusions. As long as
    # the tracker keeps a lost person (tracking.track_buffer_s, 3 s): shorter, a person the
    # tracker finds again after 1-3 s behind someone makes two visits. On PETS09 zones
    # visits are within 2 % of the truth from 2 to 4 s and 8.5 % over at 1 s (BENCHMARKS.md).
    exit_grace_s: float = Field(default=3.0, ge=0)
    # Image-space zones: how far from where a visitor vanished inside (as a share of their
    # box height) a new id may appear and go on with the visit. Floor-space zones use 1 m.
    handover_height: float = Field(default=0.75, ge=0, le=5)

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        return _in_seconds(data, "enter_frames", "enter_s", "2 frames at 7 fps: enter_s 0.1")


class Exit(_Strict):
    """Where people leave the site within a camera's view: a door to the street, the edge
    of the watched area. A track that ends in one has left; stitching links nothing after
    it, so whoever comes in later starts a new visit however alike they look."""

    id: Identifier
    camera: Identifier
    space: Space = Space.IMAGE
    polygon: ExitPolygon


class Link(_Strict):
    """A walkable path between two cameras' views, with plausible transit times."""

    a: Identifier
    b: Identifier
    min_transit_s: float = Field(default=0.0, ge=0)
    max_transit_s: float = Field(gt=0)
    bidirectional: bool = True
    # Views overlap: the same person may be visible in both at once.
    overlapping: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.a == self.b:
            raise ValueError("a topology link must join two different cameras")
        if self.min_transit_s > self.max_transit_s:
            raise ValueError(
                f"min_transit_s ({self.min_transit_s}) is greater than max_transit_s ({self.max_transit_s})"
            )
        return self


class FootfallDedup(_Strict):
    """When two crossings of one line group, from different cameras, are the same person."""

    # Same direction within this many seconds of each other...
    window_s: float = Field(default=2.0, gt=0, le=60)
    # ...and, when both views are calibrated, floor points this close.
    max_distance_m: float = Field(default=1.5, gt=0)


class Tracking(_Strict):
    """Detector and tracker settings of a site; defaults measured on PETS09-S2L1 (see BENCHMARKS.md)."""

    # Detections at or above this take part in the first, appearance-aware association.
    # The pedestrian detector scores partly occluded people at 0.3-0.5: at 0.5 they were
    # matched by IoU alone and swapped identities in groups (PETS09 IDF1 75.4 -> 89.3).
    # 0.2-0.3 is a plateau with a cliff above 0.3 (IDF1 84.1 at 0.35); 0.25 sits in its
    # middle (tests/bench/tracker_sweep.py, BENCHMARKS.md).
    track_high_thresh: float = Field(default=0.25, ge=0, le=1)
    track_low_thresh: float = Field(default=0.1, ge=0, le=1)
    new_track_thresh: float = Field(default=0.7, ge=0, le=1)
    # How long a lost track may be re-found before it closes.
    track_buffer_s: float = Field(default=3.0, gt=0)
    # Looser IoU gates than boxmot's 30-fps defaults (0.8 / 0.5): between frames of a
    # 7-15 fps mall camera people move a good part of their width, and the appearance
    # term keeps the looser gate from swapping identities. Measured on PETS09-S2L1
    # (7 fps): IDF1 73.2 -> 84.8 at equal MOTA.
    match_thresh: float = Field(default=0.95, gt=0, le=1)
    appearance_thresh: float = Field(default=0.25, gt=0, le=1)
    # Each camera learns how far apart different people's vectors lie on its own picture
    # (two confident boxes apart in one frame) and tightens `appearance_thresh` to this
    # quantile of those distances where it is lower, while frames come at least 4 a second
    # (edge/tracking/appearance_gate.py); None keeps the gate fixed.
    appearance_gate_quantile: float | None = Field(default=0.05, gt=0, lt=1)
    # Appearance is weighed only for a track and a box overlapping by IoU >= 1 - this. A
    # loaded agent thinning frames, or a 2-4 fps camera, moves people further between
    # frames than 7 fps does: PETS09 at every third frame (2.3 fps) IDF1 62.9 -> 68.9, ID
    # switches 34 -> 25 at 0.9, count accuracy 0.938 -> 0.957; at 7 fps, and with people at
    # half the size, 0.6-0.9 score alike. 1.0 (no overlap asked) pairs far boxes: MOTA -13.6.
    proximity_thresh: float = Field(default=0.9, gt=0, le=1)
    # The second, low-score association (detections between track_low_thresh and
    # track_high_thresh keep lost-looking tracks alive) asks IoU >= 1 - this. At boxmot's 0.5
    # a track whose person walked away from a fixed object at the back of PETS09, seen at
    # half the size, went on for 20-35 s on the object's low-score box: zones +11.5 %
    # person-seconds. 0.3: +4.7 %, MOTA 71.1 -> 76.8 there; 0.2-0.5 score alike at 7, 3.5
    # and 2.3 fps at full size and with the COCO profile.
    second_match_thresh: float = Field(default=0.3, gt=0, le=1)
    # Camera-motion compensation is for cameras that move (PTZ, handheld). A mall camera is
    # fixed: on PETS09 "sof" scored the same as "none" (MOTA/IDF1/ID switches/counts equal)
    # for a third of the tracking thread's time, and in a crowd the flow it estimates comes
    # from the people walking, not the camera. DeepStream runs without it too.
    cmc_method: Literal["none", "sof", "orb", "ecc", "sift"] = "none"
    # A faster camera is associated at about this rate (every 2nd frame of 25-30 fps), the
    # frames between reported from each track's motion: PETS09 interpolated to 28 fps kept
    # IDF1 93.2 associated at 14 fps and 82.0 at 28 (edge/tracking/association_rate.py).
    # None associates every frame.
    max_association_fps: float | None = Field(default=15.0, gt=0)
    reid: bool = True
    # ReID schedule: a track's embedding is refreshed at least every this many frames.
    reid_refresh_frames: int = Field(default=5, ge=1)
    # Track updates per track per second on the wire (crossings/zones are sent at once).
    update_hz: float = Field(default=2.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "detect_conf" in data:
            raise ValueError(
                "tracking.detect_conf has moved to the detector profile: set detector.score_threshold "
                "(per site, or per camera)"
            )
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.track_low_thresh > self.track_high_thresh:
            raise ValueError(
                f"track_low_thresh ({self.track_low_thresh}) must not exceed "
                f"track_high_thresh ({self.track_high_thresh})"
            )
        return self


class Privacy(_Strict):
    # Snapshots (frames) never leave the edge unless this is on; faces are then blurred.
    snapshots: bool = False
    blur_faces: bool = True
    # Publish ReID embeddings (anonymous vectors) for cross-camera stitching.
    publish_embeddings: bool = True


class Retention(_Strict):
    embeddings_days: float = Field(default=1.0, gt=0)
    tracklet_detail_days: float = Field(default=30.0, gt=0)
    aggregates_days: float = Field(default=730.0, gt=0)


class GalleryPurpose(StrEnum):
    """What a match to a gallery does."""

    STAFF = "staff"  # excluded from the staff-excluded visitor numbers
    VIP = "vip"  # an arrival alert per visit
    CUSTOM = "custom"  # matches are recorded, nothing else


# Entries expire unless renewed: staff galleries are refreshed as clothes change, VIP
# consent is asked for again.
DEFAULT_EXPIRY_DAYS = {GalleryPurpose.STAFF: 30.0, GalleryPurpose.VIP: 90.0, GalleryPurpose.CUSTOM: 30.0}


class Webhook(_Strict):
    """Where VIP alerts are POSTed (JSON), retried with backoff until delivered or out of attempts."""

    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2000)
    # Environment variable holding an HMAC-SHA256 key: the body's signature goes in a header,
    # so the receiver can tell the alert came from us. Never the key itself in the YAML.
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_s: float = Field(default=2.0, gt=0, le=3600)


class Gallery(_Strict):
    """An opt-in gallery of enrolled people (staff, VIP customers). Nothing is enrolled by configuring it:
    entries are added by an operator through the API, and each expires."""

    name: Identifier
    purpose: GalleryPurpose
    # Days an entry lives after enrolment or renewal; default per purpose (DEFAULT_EXPIRY_DAYS).
    expiry_days: float | None = Field(default=None, gt=0, le=3650)
    # Cosine similarity of a visitor's aggregated embedding to an entry's vectors. Stricter
    # than stitching (0.75): a false match hides a shopper or alerts on a stranger. Measured
    # on PETS09 (BENCHMARKS.md, "Gallery false matches").
    min_similarity: float = Field(default=0.9, ge=0, le=1)
    # Tracklets with an embedding a visitor needs before it is matched: one short glimpse
    # is too weak a basis for a decision with consequences.
    min_sightings: int = Field(default=2, ge=1, le=100)
    webhook: Webhook | None = None

    @property
    def expiry(self) -> float:
        return self.expiry_days if self.expiry_days is not None else DEFAULT_EXPIRY_DAYS[self.purpose]

    @model_validator(mode="after")
    def _webhook_for_alerts(self) -> Self:
        if self.webhook is not None and self.purpose is not GalleryPurpose.VIP:
            raise ValueError(f"gallery {self.name!r}: only vip galleries send alerts, so only they take a webhook")
        return self


class SiteInfo(_Strict):
    id: Identifier
    name: str = ""
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {v!r} (use an IANA name such as 'Europe/Paris')") from None
        return v


def _duplicates(ids: list[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


class SiteConfig(_Strict):
    site: SiteInfo
    floors: list[Floor] = Field(min_length=1)
    cameras: list[Camera] = Field(min_length=1)
    lines: list[Line] = []
    zones: list[Zone] = []
    exits: list[Exit] = []
    topology: list[Link] = []
    # The detector every camera runs unless it names its own: a preset or a profile.
    detector: DetectorField = Field(default_factory=default_profile)
    tracking: Tracking = Tracking()
    load_shedding: LoadShedding = LoadShedding()
    privacy: Privacy = Privacy()
    retention: Retention = Retention()
    galleries: list[Gallery] = []
    footfall_dedup: FootfallDedup = FootfallDedup()
    # When the site is open, in its local time: footfall, visitors and dwell are reported
    # within these hours, with what happened outside them beside. None: always open.
    opening_hours: OpeningHours | None = None
    # Occupancy limits per zone and for the site, and when their alerts clear (shared/config/capacity.py).
    capacity: Capacity = Capacity()

    @model_validator(mode="after")
    def _references(self) -> Self:
        for kind, items in (
            ("floors", self.floors),
            ("cameras", self.cameras),
            ("lines", self.lines),
            ("zones", self.zones),
            ("exits", self.exits),
        ):
            dup = _duplicates([i.id for i in items])
            if dup:
                raise ValueError(f"duplicate {kind} id(s): {', '.join(dup)}")
        dup = _duplicates([g.name for g in self.galleries])
        if dup:
            raise ValueError(f"duplicate gallery name(s): {', '.join(dup)}")
        floors = {f.id for f in self.floors}
        cameras = {c.id: c for c in self.cameras}
        for c in self.cameras:
            if c.floor not in floors:
                raise ValueError(f"camera {c.id!r} is on unknown floor {c.floor!r} (floors: {sorted(floors)})")
        drawn: tuple[tuple[str, list[Line] | list[Zone] | list[Exit]], ...] = (
            ("line", self.lines),
            ("zone", self.zones),
            ("exit", self.exits),
        )
        for kind, items in drawn:
            for item in items:
                cam = cameras.get(item.camera)
                if cam is None:
                    raise ValueError(f"{kind} {item.id!r} refers to unknown camera {item.camera!r}")
                if isinstance(item, Exit) and cam.homography is None:
                    raise ValueError(
                        f"exit {item.id!r} is on camera {cam.id!r}, which has no homography: stitching tells "
                        "departures by floor position"
                    )
                if item.space is Space.FLOOR and cam.homography is None:
                    raise ValueError(
                        f"{kind} {item.id!r} is drawn in floor space but camera {cam.id!r} has no homography"
                    )
        for c in self.cameras:
            if c.coverage is not None and c.coverage.space is Space.FLOOR and c.homography is None:
                raise ValueError(f"the coverage of camera {c.id!r} is drawn in floor space but it has no homography")
        for link in self.topology:
            for end in (link.a, link.b):
                if end not in cameras:
                    raise ValueError(f"topology link {link.a}–{link.b} refers to unknown camera {end!r}")
        self._line_groups()
        self.capacity.check({z.id for z in self.zones}, any(ln.entrance for ln in self.lines))
        return self

    def _line_groups(self) -> None:
        line_ids = {ln.id for ln in self.lines}
        overlapping = {frozenset((link.a, link.b)) for link in self.topology if link.overlapping}
        for group, members in self.line_groups().items():
            if group in line_ids:
                raise ValueError(
                    f"line group {group!r} has the id of a line; footfall is reported under the group's id"
                )
            cams = [ln.camera for ln in members]
            if len(set(cams)) != len(cams):
                raise ValueError(
                    f"line group {group!r} has two lines on one camera; a group joins views of one doorway"
                )
            if len({ln.entrance for ln in members}) > 1:
                raise ValueError(f"line group {group!r} mixes entrance and non-entrance lines")
            for a, b in ((a, b) for i, a in enumerate(cams) for b in cams[i + 1 :]):
                if frozenset((a, b)) not in overlapping:
                    raise ValueError(
                        f"line group {group!r} joins cameras {a!r} and {b!r}, which no overlapping topology link "
                        "joins: only views that see the same spot at once can double-count a crossing"
                    )

    def line_groups(self) -> dict[str, list[Line]]:
        groups: dict[str, list[Line]] = {}
        for ln in self.lines:
            if ln.group is not None:
                groups.setdefault(ln.group, []).append(ln)
        return groups

    def counting_point(self, line_id: str) -> str:
        """The id footfall is counted under: the line's group, or the line itself."""
        for ln in self.lines:
            if ln.id == line_id:
                return ln.group or ln.id
        return line_id

    def camera(self, camera_id: str) -> Camera:
        for c in self.cameras:
            if c.id == camera_id:
                return c
        raise KeyError(f"site {self.site.id!r} has no camera {camera_id!r}")

    def detector_of(self, camera_id: str) -> DetectorProfile:
        """The detector profile a camera runs: its own, or the site's."""
        return self.camera(camera_id).detector or self.detector

    def floor(self, floor_id: str) -> Floor:
        for f in self.floors:
            if f.id == floor_id:
                return f
        raise KeyError(f"site {self.site.id!r} has no floor {floor_id!r}")

    def gallery(self, name: str) -> Gallery:
        for g in self.galleries:
            if g.name == name:
                return g
        raise KeyError(f"site {self.site.id!r} has no gallery {name!r} (galleries: {[g.name for g in self.galleries]})")

    def lines_of(self, camera_id: str) -> list[Line]:
        return [ln for ln in self.lines if ln.camera == camera_id]

    def zones_of(self, camera_id: str) -> list[Zone]:
        return [z for z in self.zones if z.camera == camera_id]
