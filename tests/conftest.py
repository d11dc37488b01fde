"""Suite-wide fixtures: locations of ../shared, the sample video and the models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("MALLFLOW_SHARED_DIR", REPO_ROOT.parent / "shared"))
PETS09_GT = SHARED_DIR / "data" / "PETS09-S2L1" / "gt" / "gt.txt"
METRIC_FIXTURE = SHARED_DIR / "data" / "mot15-metric-fixture"

# Tests use the provided models unless the caller points elsewhere.
os.environ.setdefault("MALLFLOW_MODEL_DIR", str(SHARED_DIR / "models"))


@pytest.fixture(scope="session")
def vtest_video() -> Path:
    """PETS09-S2L1 as vtest.avi, fetched from Debian's opencv-doc on first use."""
    from shared.assets.datasets import fetch_vtest

    return fetch_vtest()


@pytest.fixture(scope="session")
def pets09_gt() -> Path:
    if not PETS09_GT.is_file():
        pytest.fail(f"PETS09-S2L1 ground truth missing at {PETS09_GT} (set MALLFLOW_SHARED_DIR)")
    return PETS09_GT


@pytest.fixture(scope="session")
def metric_fixture() -> Path:
    """MOT15 ground truth, one tracker's results and the official devkit's scores of them."""
    if not (METRIC_FIXTURE / "gt").is_dir():
        pytest.fail(f"metric fixture missing at {METRIC_FIXTURE} (set MALLFLOW_SHARED_DIR)")
    return METRIC_FIXTURE


@pytest.fixture(scope="session")
def vtest_clip(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 60 frames of vtest.avi (about 8.5 s at 7 fps): fast end-to-end runs."""
    import cv2

    out = tmp_path_factory.mktemp("clip") / "vtest-60.avi"
    cap = cv2.VideoCapture(str(vtest_video))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), 7.0, (768, 576))
    try:
        for _ in range(60):
            ok, frame = cap.read()
            if not ok:
                pytest.fail(f"{vtest_video} has fewer than 60 frames")
            writer.write(frame)
    finally:
        writer.release()
        cap.release()
    return out


@pytest.fixture(scope="session")
def clip_events(vtest_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """What the real edge agent publishes for the 60-frame clip with deploy/examples/pets09.yaml."""
    import yaml

    from edge.agent.agent import AgentSettings, EdgeAgent
    from edge.inference.factory import create_detector, create_embedder
    from edge.publish import InProcessSink
    from edge.sources.factory import open_source
    from shared.config import parse_site_config

    raw = yaml.safe_load((REPO_ROOT / "deploy" / "examples" / "pets09.yaml").read_text())
    raw["cameras"][0]["source"] = str(vtest_clip)
    site = parse_site_config(raw)
    out: list[bytes] = []
    agent = EdgeAgent(
        site,
        ["cam-main"],
        create_detector(),
        create_embedder(),
        InProcessSink(lambda env: out.append(env.SerializeToString())),
        AgentSettings(edge_id="edge-fixture", state_dir=tmp_path_factory.mktemp("edge-state")),
        opener=lambda spec: open_source(spec, "opencv"),
    )
    agent.run()
    return out


@pytest.fixture(scope="session")
def pets09_site() -> object:
    """deploy/examples/pets09.yaml as a SiteConfig (its video path is not needed by the cloud)."""
    import yaml

    from shared.config import parse_site_config

    raw = yaml.safe_load((REPO_ROOT / "deploy" / "examples" / "pets09.yaml").read_text())
    raw["cameras"][0]["source"] = "/dev/null"
    return parse_site_config(raw)
