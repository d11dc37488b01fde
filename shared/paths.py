"""Where Mallflow keeps things outside the repository (models, data, service state)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Root for downloaded models, data and local service state (never inside the repo)."""
    return Path(os.environ.get("MALLFLOW_CACHE_DIR", Path.home() / ".cache" / "mallflow")).expanduser()


def model_dir() -> Path:
    return Path(os.environ.get("MALLFLOW_MODEL_DIR", cache_dir() / "models")).expanduser()


def data_dir() -> Path:
    return Path(os.environ.get("MALLFLOW_DATA_DIR", cache_dir() / "data")).expanduser()
