"""The real edge agent over PETS09 split into two cameras, and which ground-truth person each track is.

Gallery tests need to know whom the system enrolled and whom it matched. A predicted
track takes the ground-truth identity most of its published boxes overlap (IoU >= 0.5 in
the camera's own pixels); a track without such overlap has none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from edge.agent.assemble import AgentOptions, assemble_agent
from edge.evaluation.metrics import iou_xywh
from edge.evaluation.mot import MotSequence
from edge.publish import InProcessSink
from shared.config import SiteConfig
from shared.schema import pb

MATCH_IOU = 0.5
TrackKey = tuple[str, int]


def run_agent(site: SiteConfig, state_dir: Path, start_ns: int) -> list[pb.Envelope]:
    """Every envelope the agent publishes for the site's cameras, the footage's first frame at
    `start_ns`: assembled as `mallflow demo` and `mallflow edge run` assemble it, so these are
    the tracks the demo stitches."""
    out: list[pb.Envelope] = []
    options = AgentOptions(edge_id="edge-pets09", state_dir=state_dir, replay_start_ns=start_ns)
    assemble_agent(site, [c.id for c in site.cameras], InProcessSink(out.append), options).run()
    return out


def track_identities(
    site: SiteConfig, envelopes: list[pb.Envelope], gt: MotSequence, start_ns: int, fps: float
) -> dict[TrackKey, int | None]:
    """Ground-truth identity of each (camera, track id) that published updates."""
    gt = gt.select(gt.confidence > 0)
    views = {c.id: gt.in_crop(c.crop) if c.crop else gt for c in site.cameras}
    votes: dict[TrackKey, Counter[int]] = defaultdict(Counter)
    for env in envelopes:
        if not env.HasField("track_update"):
            continue
        tu = env.track_update
        key = (env.camera_id, tu.track_id)
        votes.setdefault(key, Counter())
        frame = round((env.event_time_ns - start_ns) * fps / 1e9) + 1
        view = views[env.camera_id]
        rows = np.flatnonzero(view.frame == frame)
        if not len(rows):
            continue
        box = np.array([[tu.bbox.x1, tu.bbox.y1, tu.bbox.x2 - tu.bbox.x1, tu.bbox.y2 - tu.bbox.y1]])
        ious = iou_xywh(box, view.xywh[rows])[0]
        best = int(np.argmax(ious))
        if ious[best] >= MATCH_IOU:
            votes[key][int(view.track_id[rows[best]])] += 1
    return {key: (c.most_common(1)[0][0] if c else None) for key, c in votes.items()}


def shifted(envelopes: list[pb.Envelope], shift_ns: int, track_offset: int, seq_offset: int) -> list[pb.Envelope]:
    """The same footage on another day: times moved, track ids and seqs past the original's."""
    out = []
    for original in envelopes:
        env = pb.Envelope()
        env.CopyFrom(original)
        env.event_time_ns += shift_ns
        env.publish_time_ns += shift_ns
        env.seq += seq_offset
        kind = env.WhichOneof("payload")
        if kind in ("track_update", "track_closed", "line_crossing", "zone_transition"):
            payload = getattr(env, kind)
            payload.track_id += track_offset
        if kind == "track_closed":
            env.track_closed.first_seen_ns += shift_ns
            env.track_closed.last_seen_ns += shift_ns
        if kind == "zone_transition" and env.zone_transition.entered_time_ns:
            env.zone_transition.entered_time_ns += shift_ns
        out.append(env)
    return out
