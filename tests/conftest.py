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
