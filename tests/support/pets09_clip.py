"""The PETS09 clip and the events the real edge agent publishes for it: shared by the
integration fixtures and the benchmarks that need a realistic event stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shared.config import SiteConfig, parse_site_config

REPO_ROOT = Path(__file__).resolve().parents[2]
PETS09_YAML = REPO_ROOT / "deploy" / "examples" / "pets09.yaml"


def pets09_raw() -> dict[str, Any]:
    """deploy/examples/pets09.yaml as plain data."""
    raw: dict[str, Any] = yaml.safe_load(PETS09_YAML.read_text())
    return raw


def pets09_site(site_id: str | None = None) -> SiteConfig:
    """The example site for the cloud (which never opens the video), optionally under another id."""
    raw = pets09_raw()
    raw["cameras"][0]["source"] = "/dev/null"
    if site_id is not None:
        raw["site"]["id"] = site_id
    return parse_site_config(raw)


def cut_clip(video: Path, out: Path, frames: int = 60) -> Path:
    """The first `frames` frames of `video` as MJPG at 7 fps (vtest.avi's rate)."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), 7.0, (768, 576))
    try:
        for _ in range(frames):
            ok, frame = cap.read()
            if not ok:
                raise ValueError(f"{video} has fewer than {frames} frames")
            writer.write(frame)
    finally:
        writer.release()
        cap.release()
    return out


def cut_sequence(video: Path, seq: Path, frames: int) -> Path:
    """The first `frames` frames of `video` as a MOTChallenge sequence at 7 fps: seq/img1/000001.jpg..., seq/seqinfo.ini."""
    import cv2

    if frames < 1:
        raise ValueError(f"a sequence needs at least one frame, got {frames}")
    (seq / "img1").mkdir(parents=True)
    cap = cv2.VideoCapture(str(video))
    try:
        for i in range(1, frames + 1):
            ok, frame = cap.read()
            if not ok:
                raise ValueError(f"{video} has fewer than {frames} frames")
            cv2.imwrite(str(seq / "img1" / f"{i:06d}.jpg"), frame)
    finally:
        cap.release()
    height, width = frame.shape[:2]
    (seq / "seqinfo.ini").write_text(
        f"[Sequence]\nname={seq.name}\nimDir=img1\nframeRate=7\nseqLength={frames}\n"
        f"imWidth={width}\nimHeight={height}\nimExt=.jpg\n"
    )
    return seq


def clip_events(clip: Path, state_dir: Path) -> list[bytes]:
    """What the real edge agent publishes for `clip` with deploy/examples/pets09.yaml."""
    from edge.agent.agent import AgentSettings, EdgeAgent
    from edge.inference.factory import create_detector, create_embedder
    from edge.publish import InProcessSink
    from edge.sources.factory import open_source

    raw = pets09_raw()
    raw["cameras"][0]["source"] = str(clip)
    site = parse_site_config(raw)
    out: list[bytes] = []
    agent = EdgeAgent(
        site,
        ["cam-main"],
        create_detector(),
        create_embedder(),
        InProcessSink(lambda env: out.append(env.SerializeToString())),
        AgentSettings(edge_id="edge-fixture", state_dir=state_dir),
        opener=lambda spec: open_source(spec, "opencv"),
    )
    agent.run()
    return out
