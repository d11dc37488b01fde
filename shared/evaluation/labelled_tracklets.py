"""Tracklets with their ground-truth identity: what the edge hands the cloud to score stitching.

The edge cuts a sequence's ground truth into per-camera tracklets (as a perfect tracker
would report them, with OSNet embeddings of the person's crops); the cloud stitches them
with its real stitcher and scores the visitors against the identities. JSON, one file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class LabelledTracklet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: str
    track_id: int = Field(ge=1)
    # The ground-truth person this tracklet is.
    identity: int
    first_seen_ns: int
    last_seen_ns: int
    floor_id: str | None = None
    first_floor: tuple[float, float] | None = None
    last_floor: tuple[float, float] | None = None
    # Unit vector (float32 values), or None.
    embedding: list[float] | None = None
    embedding_model: str | None = None
    # Mean detection confidence of a real tracker's tracklet; a ground-truth cut is sure.
    mean_confidence: float = Field(default=1.0, ge=0, le=1)
    # The boxes it covers: (frame, x, y, w, h) in the camera's own pixels.
    boxes: list[tuple[int, float, float, float, float]]


class LabelledTracklets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    site_id: str
    fps: float = Field(gt=0)
    identities: int = Field(ge=0)
    tracklets: list[LabelledTracklet]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LabelledTracklets:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"labelled tracklets file {path} does not exist") from None
        try:
            return cls.model_validate_json(text)
        except ValueError as exc:
            raise ValueError(f"{path} is not a labelled tracklets file: {exc}") from None
