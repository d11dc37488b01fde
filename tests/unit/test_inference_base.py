"""The Detector / Embedder contracts: eager input validation, cropping, normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from edge.inference.base import Detector, Embedder


class StubDetector(Detector):
    def __init__(self) -> None:
        super().__init__("stub@00000000")
        self.batches: list[int] = []

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        self.batches.append(len(images))
        return [np.zeros((0, 6), np.float32) for _ in images]


class StubEmbedder(Embedder):
    """Embeds a crop as (height, width, 1) unnormalised, so tests can see which pixels were cut."""

    def __init__(self, raw: NDArray[np.float32] | None = None) -> None:
        super().__init__("stub@00000000", dim=3)
        self.crop_shapes: list[tuple[int, ...]] = []
        self.raw = raw

    def _embed_crops(self, crops: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
        self.crop_shapes += [c.shape for c in crops]
        if self.raw is not None:
            return self.raw
        return np.array([[c.shape[0], c.shape[1], 1.0] for c in crops], np.float32)


IMAGE = np.zeros((100, 200, 3), np.uint8)  # h=100, w=200


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (IMAGE, r"sequence of HxWx3 arrays; for one image pass \[image\]"),
        (iter([IMAGE]), "must be a sequence of HxWx3 uint8 arrays, got list_iterator"),
        ([IMAGE, "frame.jpg"], r"images\[1\] must be a numpy array"),
        ([IMAGE.astype(np.float32)], r"images\[0\] must have dtype uint8 \(0-255 BGR\), got float32"),
        ([IMAGE[..., 0]], r"images\[0\] must have shape \(H, W, 3\) BGR, got \(100, 200\)"),
        ([np.zeros((10, 10, 4), np.uint8)], r"got \(10, 10, 4\)"),
        ([IMAGE[:0]], r"images\[0\] is empty: shape \(0, 200, 3\)"),
    ],
)
def test_detect_rejects_bad_images(images: object, message: str) -> None:
    detector = StubDetector()
    with pytest.raises(ValueError, match=message):
        detector.detect(images)  # type: ignore[arg-type]
    assert detector.batches == []


def test_detect_passes_the_whole_batch_and_skips_empty_ones() -> None:
    detector = StubDetector()
    assert detector.detect([]) == []
    assert len(detector.detect((IMAGE, IMAGE[:50]))) == 2
    assert detector.batches == [2]


@pytest.mark.parametrize(
    ("box", "crop_hw"),
    [
        ((10, 10, 30, 50), (40, 20)),
        # Fractional edges round outwards.
        ((10.2, 10.7, 29.5, 50.1), (41, 20)),
        # Clipped to the image.
        ((-10, -5, 20, 30), (30, 20)),
        ((190, 90, 250, 130), (10, 10)),
        # A sub-pixel box inside the image still yields a pixel.
        ((5.1, 5.1, 5.2, 5.2), (1, 1)),
        # No pixel inside: a zero row, no crop.
        ((300, 10, 310, 20), None),
        ((10, 10, 10, 20), None),
        ((-20, -20, -5, -5), None),
    ],
)
def test_embed_crops_clipped_boxes(box: tuple[float, ...], crop_hw: tuple[int, int] | None) -> None:
    embedder = StubEmbedder()
    got = embedder.embed(IMAGE, np.array([box, (0, 0, 200, 100)], np.float32))
    assert got.shape == (2, 3)
    assert got.dtype == np.float32
    if crop_hw is None:
        assert embedder.crop_shapes == [(100, 200, 3)]
        np.testing.assert_array_equal(got[0], 0)
    else:
        assert embedder.crop_shapes == [(*crop_hw, 3), (100, 200, 3)]
        expected = np.array([*crop_hw, 1.0]) / np.linalg.norm([*crop_hw, 1.0])
        np.testing.assert_allclose(got[0], expected, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got[1]), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        (np.array([1, 2, 3, 4]), r"boxes must have shape \(N, 4\) x1, y1, x2, y2, got \(4,\)"),
        (np.zeros((2, 5)), r"got \(2, 5\)"),
        (np.array([[0, 0, np.nan, 4]]), "NaN or infinite"),
        (np.array([[0, 0, np.inf, 4]]), "NaN or infinite"),
        (np.array([[0, 0, 4, 4], [10, 0, 5, 4]]), r"x2 >= x1 and y2 >= y1; row 1 is \[10.0, 0.0, 5.0, 4.0\]"),
    ],
)
def test_embed_rejects_bad_boxes(boxes: NDArray[np.floating], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StubEmbedder().embed(IMAGE, boxes)


def test_embed_rejects_a_bad_image() -> None:
    with pytest.raises(ValueError, match="image must have dtype uint8"):
        StubEmbedder().embed(IMAGE.astype(np.int16), np.zeros((0, 4)))


def test_no_boxes_or_crops_give_no_rows() -> None:
    embedder = StubEmbedder()
    assert embedder.embed(IMAGE, np.zeros((0, 4))).shape == (0, 3)
    assert embedder.embed_crops([]).shape == (0, 3)
    assert embedder.crop_shapes == []


def test_embed_crops_validates_each_crop() -> None:
    with pytest.raises(ValueError, match=r"crops\[1\] must have shape \(H, W, 3\)"):
        StubEmbedder().embed_crops([IMAGE, IMAGE[..., :2]])


def test_a_zero_embedding_stays_zero() -> None:
    got = StubEmbedder(raw=np.array([[0, 0, 0], [3, 0, 4]], np.float32)).embed_crops([IMAGE, IMAGE])
    np.testing.assert_allclose(got, np.array([[0.0, 0.0, 0.0], [0.6, 0.0, 0.8]]))


def test_a_backend_returning_the_wrong_shape_is_caught() -> None:
    with pytest.raises(RuntimeError, match=r"stub@00000000 returned shape \(1, 3\), expected \(2, 3\)"):
        StubEmbedder(raw=np.ones((1, 3), np.float32)).embed_crops([IMAGE, IMAGE])
