"""Reading MOTChallenge files into MotSequence and iterating them as Detections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.evaluation.mot import MotSequence
from shared.image_sequences import SequenceInfo


def test_pets09_gt(pets09_gt: Path) -> None:
    gt = MotSequence.load(pets09_gt)
    info = SequenceInfo.load(pets09_gt.parent.parent / "seqinfo.ini")
    assert (len(gt), len(gt.track_ids())) == (4650, 19)
    assert (info.fps, info.length, info.width, info.height) == (7.0, 795, 768, 576)
    assert np.isfinite(gt.world).all()
    frames = list(gt.detections(1, info.length))
    assert [f for f, _ in frames] == list(range(1, 796))
    assert sum(len(d) for _, d in frames) == len(gt)
    _, first = frames[0]
    assert sorted(first.tracker_id.tolist()) == [9, 15, 19]
    # Row "1,9,499,158,31.03,75.17,...": bottom-centre of the box.
    np.testing.assert_allclose(first.foot_points()[first.tracker_id == 9], [[499 + 31.03 / 2, 158 + 75.17]], rtol=1e-6)
    assert info.time_ns(8) == 1_000_000_000


def test_rows_are_sorted_and_short_rows_get_defaults(tmp_path: Path) -> None:
    path = tmp_path / "trk.txt"
    path.write_text("3,2,10,20,5,6\n1,7,0,0,1,1\n\n3,1,1,2,3,4\n")
    seq = MotSequence.load(path)
    assert seq.frame.tolist() == [1, 3, 3] and seq.track_id.tolist() == [7, 1, 2]
    assert seq.confidence.tolist() == [1.0, 1.0, 1.0] and np.isnan(seq.world).all()
    frames = dict(seq.detections())
    assert sorted(frames) == [1, 2, 3] and len(frames[2]) == 0
    assert frames[3].tracker_id.tolist() == [1, 2]


def test_in_crop_keeps_feet_inside_and_shifts_them() -> None:
    seq = MotSequence.from_array(np.array([[1, 1, 95, 0, 10, 50, 1], [1, 2, 200, 0, 10, 50, 1]]))
    cropped = seq.in_crop((100, 0, 300, 100))  # foot of id 1 at x=100, of id 2 at x=205
    assert cropped.track_id.tolist() == [1, 2]
    np.testing.assert_allclose(cropped.foot_points(), [[0.0, 50.0], [105.0, 50.0]])
    assert len(seq.in_crop((0, 0, 100, 100))) == 0


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    seq = MotSequence.load(path)
    assert len(seq) == 0 and list(seq.detections()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3\n", "at least 6 columns"),
        ("1,a,3,4,5,6\n", "not a MOT file of comma-separated numbers"),
        ("1.5,2,3,4,5,6\n", "frame and id columns must hold integers"),
        ("0,2,3,4,5,6\n", "MOT frame numbers start at 1"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        MotSequence.load(path)


def test_bad_seqinfo(tmp_path: Path) -> None:
    path = tmp_path / "seqinfo.ini"
    path.write_text("[Sequence]\nname=x\nframeRate=7\n")
    with pytest.raises(ValueError, match="needs name, frameRate, seqLength"):
        SequenceInfo.load(path)
    with pytest.raises(ValueError, match="cannot read sequence info"):
        SequenceInfo.load(tmp_path / "missing.ini")
