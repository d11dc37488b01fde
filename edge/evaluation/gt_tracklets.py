"""Ground truth cut into per-camera tracklets, as a perfect tracker would report them.

For the stitching evaluation: each camera of a site sees the part of a sequence's frame
its crop covers (the split-view proxy cuts one view into several this way); every
ground-truth identity becomes one tracklet per run of sightings in a camera, split where
it goes unseen for longer than `gap_s`, with the mean OSNet embedding of up to
`crops_per_tracklet` of its crops and its first and last ground-truth world position.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from edge.evaluation.mot import MotSequence
from edge.inference.base import Embedder
from edge.sources.base import SourceError, SourceSpec
from edge.sources.factory import open_source
from shared.config.site import SiteConfig
from shared.evaluation.labelled_tracklets import LabelledTracklet, LabelledTracklets
from shared.video_files import frame_size

NS = 1_000_000_000


def _view(site: SiteConfig, camera_id: str, width: int, height: int) -> tuple[int, int, int, int]:
    crop = site.camera(camera_id).crop
    return tuple(crop) if crop is not None else (0, 0, width, height)  # type: ignore[return-value]


def label_tracklets(
    site: SiteConfig,
    gt: MotSequence,
    video: Path | str,
    embedder: Embedder,
    fps: float,
    *,
    gap_s: float = 1.0,
    crops_per_tracklet: int = 5,
) -> LabelledTracklets:
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    gt = gt.people()
    gt = gt.select(gt.confidence > 0)
    size = frame_size(str(video))
    if size is None:
        raise ValueError(f"cannot open video {video}")
    width, height = size
    feet = gt.foot_points()
    # (camera, identity) → row indices in frame order, then cut into runs.
    runs: list[tuple[str, int, list[int]]] = []
    for camera in site.cameras:
        x0, y0, x1, y1 = _view(site, camera.id, width, height)
        inside = (feet[:, 0] >= x0) & (feet[:, 0] < x1) & (feet[:, 1] >= y0) & (feet[:, 1] < y1)
        by_identity: dict[int, list[int]] = defaultdict(list)
        for i in np.flatnonzero(inside)[np.argsort(gt.frame[inside], kind="stable")]:
            by_identity[int(gt.track_id[i])].append(int(i))
        for identity, rows in sorted(by_identity.items()):
            current = [rows[0]]
            for row in rows[1:]:
                if gt.frame[row] - gt.frame[current[-1]] > gap_s * fps:
                    runs.append((camera.id, identity, current))
                    current = []
                current.append(row)
            runs.append((camera.id, identity, current))
    # Which frames to decode for which tracklet's crops.
    wanted: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for n, (_, _, rows) in enumerate(runs):
        for k in np.linspace(0, len(rows) - 1, min(crops_per_tracklet, len(rows))).astype(int):
            wanted[int(gt.frame[rows[k]])].append((n, rows[k]))
    vectors: dict[int, list[NDArray[np.float32]]] = defaultdict(list)
    try:
        with open_source(SourceSpec("ground-truth", str(video), fps_hint=fps), "opencv") as source:
            frames = iter(source)
            for frame_no in range(1, max(wanted, default=0) + 1):
                frame = next(frames, None)
                if frame is None:
                    raise ValueError(f"{video} ends at frame {frame_no - 1}; the ground truth goes on to {max(wanted)}")
                for n, row in wanted.get(frame_no, []):
                    x, y, w, h = gt.xywh[row]
                    box = np.array([[x, y, x + w, y + h]], dtype=np.float32)
                    vectors[n].append(embedder.embed(frame.image, box)[0])
    except SourceError as exc:
        raise ValueError(str(exc)) from None
    tracklets = []
    for n, (camera_id, identity, rows) in enumerate(runs):
        x0, y0, _, _ = _view(site, camera_id, width, height)
        mean = np.mean(vectors[n], axis=0)
        first, last = rows[0], rows[-1]
        tracklets.append(
            LabelledTracklet(
                camera_id=camera_id,
                track_id=n + 1,
                identity=identity,
                first_seen_ns=int((gt.frame[first] - 1) / fps * NS),
                last_seen_ns=int((gt.frame[last] - 1) / fps * NS),
                floor_id=site.camera(camera_id).floor,
                first_floor=_world(gt, first),
                last_floor=_world(gt, last),
                embedding=(mean / np.linalg.norm(mean)).astype(np.float32).tolist(),
                embedding_model=embedder.model_id,
                boxes=[_box(gt, r, x0, y0) for r in rows],
            )
        )
    return LabelledTracklets(site_id=site.site.id, fps=fps, identities=len(np.unique(gt.track_id)), tracklets=tracklets)


def _box(gt: MotSequence, row: int, x0: int, y0: int) -> tuple[int, float, float, float, float]:
    """The ground-truth box in the camera's own pixels."""
    x, y, w, h = (float(v) for v in gt.xywh[row])
    return int(gt.frame[row]), x - x0, y - y0, w, h


def _world(gt: MotSequence, row: int) -> tuple[float, float] | None:
    x, y = gt.world[row]
    return (float(x), float(y)) if np.isfinite([x, y]).all() and not (x == -1 and y == -1) else None
