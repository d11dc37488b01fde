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
    from support.pets09_clip import cut_clip

    try:
        return cut_clip(vtest_video, tmp_path_factory.mktemp("clip") / "vtest-60.avi", 60)
    except ValueError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def clip_events(vtest_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """What the real edge agent publishes for the 60-frame clip with deploy/examples/pets09.yaml."""
    from support.pets09_clip import clip_events as edge_events

    return edge_events(vtest_clip, tmp_path_factory.mktemp("edge-state"))


@pytest.fixture(scope="session")
def pets09_site() -> object:
    """deploy/examples/pets09.yaml as a SiteConfig (its video path is not needed by the cloud)."""
    from support.pets09_clip import pets09_site as site

    return site()
