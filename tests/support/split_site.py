"""The split-view PETS09 example site pointed at a given video, and a free loopback port."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def split_site_on(video: Path, directory: Path) -> Path:
    """deploy/examples/pets09-split.yaml with both cameras reading `video`, written into `directory`."""
    raw = yaml.safe_load((REPO / "deploy" / "examples" / "pets09-split.yaml").read_text())
    for camera in raw["cameras"]:
        camera["source"] = str(video)
    # The plan image stays beside the example; a relative path would be read next to the copy.
    for floor in raw["floors"]:
        if floor.get("plan_image"):
            floor["plan_image"] = str(REPO / "deploy" / "examples" / floor["plan_image"])
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
