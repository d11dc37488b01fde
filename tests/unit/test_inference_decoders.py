"""Decoding of synthetic YOLOX, Ultralytics and end-to-end outputs into frame-pixel boxes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from edge.inference.decoders import Decoder, Layout, anchor_count, resolve_layout
from edge.inference.preprocess import LetterboxTransform

INPUT = (64, 64)  # 8x8 + 4x4 + 2x2 = 84 anchors
ANCHORS = 84
NUM_CLASSES = 3
# A 64x128 (h, w) frame letterboxed into 64x64: halved, 16 px of pad above and below.
TRANSFORM = LetterboxTransform(scale=0.5, pad_x=0, pad_y=16, source_size=(64, 128))

Det = tuple[float, float, float, float, float, int]  # x1, y1, x2, y2 (input pixels), score, class

# Input-pixel boxes and where they land in the 64x128 frame.
A = (8.0, 20.0, 24.0, 40.0)  # → 16, 8, 48, 48
B = (10.0, 21.0, 26.0, 41.0)  # IoU 0.71 with A → 20, 10, 52, 50
C = (40.0, 20.0, 56.0, 44.0)  # disjoint from A → 80, 8, 112, 56
EDGE = (50.0, 10.0, 60.0, 30.0)  # reaches into the top pad → clipped to 100, 0, 120, 28
IN_PAD = (8.0, 2.0, 24.0, 12.0)  # wholly in the top pad → dropped


def yolox_output(dets: Sequence[Det], objectness: float = 1.0) -> NDArray[np.float32]:
    """(1, A, 5+C) whose k-th detection sits on anchor k: stride 8, grid cell (k, 0)."""
    out = np.zeros((1, ANCHORS, 5 + NUM_CLASSES), np.float32)
    for k, (x1, y1, x2, y2, score, cls) in enumerate(dets):
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        out[0, k, :5] = [cx / 8 - k, cy / 8, math.log(w / 8), math.log(h / 8), objectness]
        out[0, k, 5 + cls] = score / objectness
    return out


def ultralytics_output(dets: Sequence[Det]) -> NDArray[np.float32]:
    """(1, 4+C, A) whose k-th detection is anchor column k."""
    out = np.zeros((1, 4 + NUM_CLASSES, ANCHORS), np.float32)
    for k, (x1, y1, x2, y2, score, cls) in enumerate(dets):
        out[0, :4, k] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
        out[0, 4 + cls, k] = score
    return out


def end2end_output(dets: Sequence[Det], rows: int = 10) -> NDArray[np.float32]:
    """(1, rows, 6), unused rows zero as a top-k model pads them."""
    out = np.zeros((1, rows, 6), np.float32)
    out[0, : len(dets)] = np.array(dets, np.float32).reshape(-1, 6)
    return out


MAKERS = {Layout.YOLOX: yolox_output, Layout.ULTRALYTICS: ultralytics_output, Layout.END2END: end2end_output}


def decode(layout: Layout, dets: Sequence[Det], **kwargs: object) -> NDArray[np.float32]:
    decoder = Decoder(layout, INPUT, num_classes=NUM_CLASSES, **kwargs)  # type: ignore[arg-type]
    (result,) = decoder(MAKERS[layout](dets), [TRANSFORM])
    return result


# (id, detections, decoder kwargs, expected rows, expected rows for end2end where they differ)
CASES: list[tuple[str, list[Det], dict[str, object], list[list[float]], list[list[float]] | None]] = [
    ("one box maps through the letterbox", [(*A, 0.9, 0)], {}, [[16, 8, 48, 48, 0.9, 0]], None),
    ("nothing in, nothing out", [], {}, [], None),
    ("below the threshold is dropped", [(*A, 0.05, 0)], {}, [], None),
    ("at the threshold is kept", [(*A, 0.3, 0)], {"conf_threshold": 0.3}, [[16, 8, 48, 48, 0.3, 0]], None),
    ("other classes are dropped by default", [(*A, 0.9, 2)], {}, [], None),
    ("classes=None keeps every class", [(*A, 0.9, 2)], {"classes": None}, [[16, 8, 48, 48, 0.9, 2]], None),
    ("classes selects", [(*A, 0.9, 2), (*C, 0.8, 1)], {"classes": (1,)}, [[80, 8, 112, 56, 0.8, 1]], None),
    (
        "sorted by score",
        [(*A, 0.4, 0), (*C, 0.8, 0)],
        {},
        [[80, 8, 112, 56, 0.8, 0], [16, 8, 48, 48, 0.4, 0]],
        None,
    ),
    (
        "NMS keeps the best of overlapping boxes; end2end is already deduplicated",
        [(*A, 0.7, 0), (*B, 0.9, 0)],
        {},
        [[20, 10, 52, 50, 0.9, 0]],
        [[20, 10, 52, 50, 0.9, 0], [16, 8, 48, 48, 0.7, 0]],
    ),
    (
        "NMS leaves disjoint boxes alone",
        [(*A, 0.7, 0), (*C, 0.9, 0)],
        {},
        [[80, 8, 112, 56, 0.9, 0], [16, 8, 48, 48, 0.7, 0]],
        None,
    ),
    (
        "NMS keeps overlaps below its IoU",
        [(*A, 0.7, 0), (*B, 0.9, 0)],
        {"nms_iou": 0.75},
        [[20, 10, 52, 50, 0.9, 0], [16, 8, 48, 48, 0.7, 0]],
        None,
    ),
    (
        "NMS is per class",
        [(*A, 0.7, 1), (*B, 0.9, 0)],
        {"classes": None},
        [[20, 10, 52, 50, 0.9, 0], [16, 8, 48, 48, 0.7, 1]],
        None,
    ),
    ("boxes are clipped to the frame", [(*EDGE, 0.9, 0)], {}, [[100, 0, 120, 28, 0.9, 0]], None),
    ("boxes wholly in the padding are dropped", [(*IN_PAD, 0.9, 0)], {}, [], None),
]


@pytest.mark.parametrize("layout", list(Layout))
@pytest.mark.parametrize(
    ("dets", "kwargs", "expected", "expected_end2end"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_decode(
    layout: Layout,
    dets: list[Det],
    kwargs: dict[str, object],
    expected: list[list[float]],
    expected_end2end: list[list[float]] | None,
) -> None:
    if layout is Layout.END2END and expected_end2end is not None:
        expected = expected_end2end
    got = decode(layout, dets, **kwargs)
    assert got.dtype == np.float32
    assert got.shape == (len(expected), 6)
    np.testing.assert_allclose(got, np.array(expected, np.float32).reshape(-1, 6), atol=1e-3)


@pytest.mark.parametrize(
    ("objectness", "threshold", "expected_score"),
    [(0.5, 0.25, 0.3), (0.5, 0.35, None), (1.0, 0.1, 0.6)],
)
def test_yolox_score_is_objectness_times_class_probability(
    objectness: float, threshold: float, expected_score: float | None
) -> None:
    # Class probability 0.6 at objectness 0.5 scores 0.3.
    out = yolox_output([(*A, 0.6 * objectness, 0)], objectness=objectness)
    (got,) = Decoder(Layout.YOLOX, INPUT, conf_threshold=threshold)(out, [TRANSFORM])
    if expected_score is None:
        assert len(got) == 0
    else:
        np.testing.assert_allclose(got[:, 4], [expected_score], rtol=1e-5)


@pytest.mark.parametrize("layout", [Layout.YOLOX, Layout.ULTRALYTICS])
@pytest.mark.parametrize(("classes", "expected_class", "expected_score"), [((0,), 0, 0.6), (None, 1, 0.9)])
def test_best_allowed_class_wins(
    layout: Layout, classes: tuple[int, ...] | None, expected_class: int, expected_score: float
) -> None:
    # One anchor scoring 0.6 person and 0.9 class 1: a person filter still reports the person.
    out = MAKERS[layout]([(*A, 0.6, 0)])
    if layout is Layout.YOLOX:
        out[0, 0, 5 + 1] = 0.9
    else:
        out[0, 4 + 1, 0] = 0.9
    (got,) = Decoder(layout, INPUT, classes=classes)(out, [TRANSFORM])
    np.testing.assert_allclose(got, [[16, 8, 48, 48, expected_score, expected_class]], atol=1e-4)


def test_decoder_maps_each_image_of_a_batch_through_its_own_transform() -> None:
    top_left = LetterboxTransform(scale=2.0, pad_x=0, pad_y=0, source_size=(32, 32))
    out = np.concatenate([ultralytics_output([(*A, 0.9, 0)]), ultralytics_output([(*C, 0.8, 0)])])
    first, second = Decoder(Layout.ULTRALYTICS, INPUT)(out, [TRANSFORM, top_left])
    np.testing.assert_allclose(first, [[16, 8, 48, 48, 0.9, 0]], atol=1e-4)
    np.testing.assert_allclose(second, [[20, 10, 28, 22, 0.8, 0]], atol=1e-4)


def test_decoder_rejects_a_batch_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="output batch of 1 for 2 images"):
        Decoder(Layout.END2END, INPUT)(end2end_output([]), [TRANSFORM, TRANSFORM])


@pytest.mark.parametrize(
    ("size", "expected"), [((64, 64), 84), ((416, 416), 3549), ((640, 640), 8400), ((384, 640), 5040)]
)
def test_anchor_count(size: tuple[int, int], expected: int) -> None:
    assert anchor_count(size) == expected


@pytest.mark.parametrize(
    ("shape", "size", "expected"),
    [
        ((1, 3549, 85), (416, 416), Layout.YOLOX),  # YOLOX-Nano COCO
        ((1, 84, 8), (64, 64), Layout.YOLOX),
        ((1, 84, 6), (64, 64), Layout.YOLOX),  # one class: a grid layout wins over end2end
        ((1, 84, 8400), (640, 640), Layout.ULTRALYTICS),  # YOLOv8n COCO
        ((1, 5, 5040), (384, 640), Layout.ULTRALYTICS),  # single-class, rectangular input
        ((4, 7, 84), (64, 64), Layout.ULTRALYTICS),
        ((1, 300, 6), (640, 640), Layout.END2END),  # YOLOv10 / YOLO26
        ((2, 100, 6), (64, 64), Layout.END2END),
    ],
)
def test_auto_detects_layout(shape: tuple[int, ...], size: tuple[int, int], expected: Layout) -> None:
    assert resolve_layout("auto", shape, size) is expected


@pytest.mark.parametrize(
    ("requested", "shape", "size", "message"),
    [
        ("auto", (1, 10, 7), (64, 64), r"\(1, 10, 7\) fits no known layout for input 64x64"),
        ("auto", (1, 84, 84), (64, 64), "ambiguous between yolox and ultralytics"),
        ("auto", (1, 4, 98, 98), (64, 64), r"\(1, 4, 98, 98\); expected a 3-D layout"),
        ("auto", (1, 3549), (416, 416), "expected a 3-D layout"),
        ("yolox", (1, 84, 8400), (640, 640), r"does not fit layout 'yolox', which expects \(B, 8400, 5\+C\)"),
        ("ultralytics", (1, 3549, 85), (416, 416), r"expects \(B, 4\+C, 3549\)"),
        ("end2end", (1, 300, 7), (640, 640), r"expects \(B, N, 6\)"),
        ("yolov5", (1, 300, 6), (640, 640), "unknown output layout 'yolov5'; valid: auto, yolox, ultralytics, end2end"),
    ],
)
def test_layout_errors(requested: str, shape: tuple[int, ...], size: tuple[int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_layout(requested, shape, size)


def test_explicit_layout_is_checked_and_returned() -> None:
    assert resolve_layout("end2end", (1, 300, 6), (640, 640)) is Layout.END2END


def test_for_output_reads_the_class_count() -> None:
    with pytest.raises(ValueError, match=r"class ids \[80\] out of range for a model with 80 classes"):
        Decoder.for_output((1, 3549, 85), (416, 416), classes=(0, 80))
    assert Decoder.for_output((1, 300, 6), (640, 640), classes=(80,)).layout is Layout.END2END


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conf_threshold": 1.5}, r"conf_threshold must be in \[0, 1\]"),
        ({"nms_iou": 0.0}, r"nms_iou must be in \(0, 1\]"),
        ({"classes": ()}, "at least one class id"),
        ({"classes": (-1,)}, r"class ids \[-1\] out of range"),
        ({"input_size": (100, 100)}, "yolox input size must be a multiple of 32, got 100x100"),
    ],
)
def test_decoder_argument_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"input_size": INPUT, **kwargs}
    with pytest.raises(ValueError, match=message):
        Decoder(Layout.YOLOX, **args)  # type: ignore[arg-type]
