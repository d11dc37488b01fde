"""A folder of images as a camera's video: MOTChallenge sequences, frame order, rate, damaged images."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.sources.base import SourceError, SourceSpec
from edge.sources.factory import open_source
from edge.sources.images import ImageFolderSource
from shared.image_sequences import ImageFolder
from shared.video_files import frame_size, stated_frame_count

SEQINFO = "[Sequence]\nname=SEQ\nimDir=img1\nframeRate={fps}\nseqLength={n}\nimWidth=64\nimHeight=48\nimExt=.jpg\n"


def _image(value: int, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.full((*size, 3), value, np.uint8)


def _write(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        cv2.imwrite(str(folder / name), _image(20 * i))


def _mot_sequence(root: Path, frames: int = 4, fps: float = 30.0) -> Path:
    _write(root / "img1", [f"{i:06d}.jpg" for i in range(1, frames + 1)])
    (root / "seqinfo.ini").write_text(SEQINFO.format(fps=fps, n=frames))
    return root


@pytest.mark.parametrize(
    ("layout", "opened", "fps", "names"),
    [
        # MOTChallenge: the sequence folder or its img1/, the rate from seqinfo.ini either way.
        ("mot", "SEQ", 30.0, ["000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg"]),
        ("mot", "SEQ/img1", 30.0, ["000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg"]),
        # Unpadded numbers in numeric order; other files left out; no seqinfo.ini: no rate.
        ("plain", "frames", None, ["f1.png", "f2.png", "f9.png", "f10.png"]),
    ],
)
def test_image_folder_lists_frames_in_order(
    tmp_path: Path, layout: str, opened: str, fps: float | None, names: list[str]
) -> None:
    if layout == "mot":
        _mot_sequence(tmp_path / "SEQ")
    else:
        _write(tmp_path / "frames", ["f10.png", "f9.png", "f1.png", "f2.png"])
        (tmp_path / "frames" / "notes.txt").write_text("not a frame")
    folder = ImageFolder.open(tmp_path / opened)
    assert [p.name for p in folder.files] == names and folder.fps == fps


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d.mkdir(), "holds no images"),
        (lambda d: (d.mkdir(), (d / "readme.txt").write_text("x")), "holds no images"),
        (
            lambda d: (_write(d / "img1", ["1.jpg"]), (d / "seqinfo.ini").write_text("[Sequence]\nname=x\n")),
            "[Sequence] needs name, frameRate",
        ),
    ],
)
def test_image_folder_rejects(tmp_path: Path, make: object, message: str) -> None:
    folder = tmp_path / "seq"
    make(folder)  # type: ignore[operator]
    with pytest.raises(ValueError, match=re.escape(message)):
        ImageFolder.open(folder)


@pytest.mark.parametrize("backend", ["auto", "gstreamer", "opencv"])
def test_frames_come_in_order_at_the_sequences_rate(tmp_path: Path, backend: str) -> None:
    seq = _mot_sequence(tmp_path / "SEQ", frames=4, fps=25.0)
    with open_source(SourceSpec("cam", str(seq), replay_start_ns=0), backend) as source:
        assert isinstance(source, ImageFolderSource) and source.fps == 25.0
        frames = list(source)
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert [f.capture_time_ns for f in frames] == [0, 40_000_000, 80_000_000, 120_000_000]
    # JPEG keeps a flat grey within a step or two.
    assert [int(f.image.mean()) // 10 for f in frames] == [0, 2, 4, 6]


def test_the_hint_overrides_the_sequences_rate_and_a_folder_without_one_asks_for_fps(tmp_path: Path) -> None:
    seq = _mot_sequence(tmp_path / "SEQ", fps=30.0)
    assert ImageFolderSource(SourceSpec("cam", str(seq), fps_hint=7.0)).fps == 7.0
    _write(tmp_path / "plain", ["1.jpg", "2.jpg"])
    with pytest.raises(SourceError, match="states no frame rate; pass --fps"):
        ImageFolderSource(SourceSpec("cam", str(tmp_path / "plain")))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(b"not a jpeg"), "image {path} (frame 3 of 4) cannot be decoded"),
        (lambda p: cv2.imwrite(str(p), _image(0, (96, 128))), "image {path} (frame 3 of 4) is 128x96, the frames"),
    ],
)
def test_a_damaged_image_ends_the_sequence_naming_it(tmp_path: Path, damage: object, message: str) -> None:
    seq = _mot_sequence(tmp_path / "SEQ", frames=4)
    bad = seq / "img1" / "000003.jpg"
    damage(bad)  # type: ignore[operator]
    seen = []
    with pytest.raises(SourceError, match=re.escape("camera cam: " + message.format(path=bad))):
        for frame in ImageFolderSource(SourceSpec("cam", str(seq))):
            seen.append(frame.index)
    # The frames before it were delivered; none after it, so no frame number shifts.
    assert seen == [0, 1]


def test_an_empty_folder_is_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"camera cam: folder .*empty holds no images"):
        open_source(SourceSpec("cam", str(tmp_path / "empty"), fps_hint=7.0))


def test_frame_size_and_count_of_a_folder(tmp_path: Path) -> None:
    seq = _mot_sequence(tmp_path / "SEQ", frames=3)
    assert frame_size(str(seq)) == (64, 48) and stated_frame_count(str(seq)) == 3
    (tmp_path / "empty").mkdir()
    assert frame_size(str(tmp_path / "empty")) is None and stated_frame_count(str(tmp_path / "empty")) is None
