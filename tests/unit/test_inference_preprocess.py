"""Letterbox geometry, tensor packing and batching of edge.inference.preprocess."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.inference.preprocess import PAD_VALUE, LetterboxTransform, batches, letterbox, to_blob


@pytest.mark.parametrize(
    ("source_hw", "size", "center", "expected"),
    [
        # PETS09 frames into YOLOX: width-limited, image top-left, pad below.
        ((576, 768), (416, 416), False, LetterboxTransform(416 / 768, 0, 0, (576, 768))),
        ((576, 768), (416, 416), True, LetterboxTransform(416 / 768, 0, 52, (576, 768))),
        # Tall source: height-limited, pad left and right when centred.
        ((100, 50), (416, 416), True, LetterboxTransform(4.16, 104, 0, (100, 50))),
        ((416, 416), (416, 416), True, LetterboxTransform(1.0, 0, 0, (416, 416))),
        ((1080, 1920), (384, 640), True, LetterboxTransform(1 / 3, 0, 12, (1080, 1920))),
    ],
)
def test_letterbox_transform(
    source_hw: tuple[int, int], size: tuple[int, int], center: bool, expected: LetterboxTransform
) -> None:
    canvas, transform = letterbox(np.zeros((*source_hw, 3), np.uint8), size, center=center)
    assert canvas.shape == (*size, 3)
    assert canvas.dtype == np.uint8
    assert transform.scale == pytest.approx(expected.scale)
    assert (transform.pad_x, transform.pad_y, transform.source_size) == (
        expected.pad_x,
        expected.pad_y,
        expected.source_size,
    )


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("source_hw", [(576, 768), (100, 50), (416, 416), (1080, 1920), (3, 5), (700, 300)])
def test_letterbox_round_trip_and_padding(source_hw: tuple[int, int], center: bool) -> None:
    h, w = source_hw
    canvas, t = letterbox(np.zeros((h, w, 3), np.uint8), (416, 416), center=center)
    boxes = np.array([[0, 0, w, h], [w * 0.25, h * 0.1, w * 0.5, h * 0.9]], np.float32)
    np.testing.assert_allclose(t.to_source(t.to_input(boxes)), boxes, atol=1e-3 * max(h, w))
    # Everything outside the placed image is pad grey; the image itself (black) is not.
    x1, y1, x2, y2 = np.rint(t.to_input(boxes)[0]).astype(int)
    inside = np.zeros((416, 416), bool)
    inside[y1:y2, x1:x2] = True
    assert (canvas[~inside] == PAD_VALUE).all()
    assert (canvas[inside] == 0).all()


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("source_hw", [(576, 768), (720, 1280), (600, 300)])
def test_letterbox_places_content_where_to_input_says(source_hw: tuple[int, int], center: bool) -> None:
    h, w = source_hw
    image = np.zeros((h, w, 3), np.uint8)
    box = np.array([w * 0.3, h * 0.2, w * 0.45, h * 0.7])
    image[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])] = 255
    canvas, t = letterbox(image, (416, 416), center=center)
    ys, xs = np.nonzero(canvas[..., 0] > 127)
    found = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    np.testing.assert_allclose(found, t.to_input(box[None])[0], atol=1.5)


def test_to_source_clips_to_the_source_image() -> None:
    t = LetterboxTransform(scale=0.5, pad_x=0, pad_y=16, source_size=(64, 128))
    got = t.to_source(np.array([[-4, 10, 70, 60]], np.float32))
    np.testing.assert_allclose(got, [[0, 0, 128, 64]])


@pytest.mark.parametrize(
    ("kwargs", "expected_pixel"),
    [
        ({"rgb": False}, [10, 20, 30]),
        ({"rgb": True}, [30, 20, 10]),
        ({"rgb": True, "scale": 0.1}, [3, 2, 1]),
        ({"rgb": True, "scale": 0.1, "mean": (1, 1, 1), "std": (2, 0.5, 1)}, [1, 2, 0]),
    ],
)
def test_to_blob(kwargs: dict[str, object], expected_pixel: list[float]) -> None:
    images = [np.full((4, 6, 3), (10, 20, 30), np.uint8), np.zeros((4, 6, 3), np.uint8)]
    blob = to_blob(images, **kwargs)  # type: ignore[arg-type]
    assert blob.shape == (2, 3, 4, 6)
    assert blob.dtype == np.float32
    assert blob.flags.c_contiguous
    np.testing.assert_allclose(blob[0, :, 2, 3], expected_pixel, rtol=1e-6)


@pytest.mark.parametrize("rgb", [False, True])
@pytest.mark.parametrize(("count", "height", "width"), [(1, 416, 544), (3, 256, 128), (8, 256, 128)])
def test_to_blob_equals_opencvs_blob(rgb: bool, count: int, height: int, width: int) -> None:
    images = list(np.random.default_rng(count).integers(0, 256, (count, height, width, 3), dtype=np.uint8))
    reference = cv2.dnn.blobFromImages(images, 1 / 255, swapRB=rgb, crop=False)
    np.testing.assert_allclose(to_blob(images, rgb=rgb, scale=1 / 255), reference, rtol=1e-6)


def test_to_blob_dtype() -> None:
    assert to_blob([np.zeros((2, 2, 3), np.uint8)], rgb=True, dtype=np.float16).dtype == np.float16


@pytest.mark.parametrize(
    ("size", "expected"),
    [(2, [[0, 1], [2, 3], [4]]), (5, [[0, 1, 2, 3, 4]]), (9, [[0, 1, 2, 3, 4]]), (1, [[0], [1], [2], [3], [4]])],
)
def test_batches(size: int, expected: list[list[int]]) -> None:
    assert [list(b) for b in batches(list(range(5)), size)] == expected


def test_batches_rejects_non_positive_size() -> None:
    with pytest.raises(ValueError, match="batch size must be >= 1"):
        list(batches([1, 2], 0))
