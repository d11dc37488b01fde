"""Raw detector outputs → person boxes in frame pixels, for the output layouts of common model families.

Pure numpy (plus OpenCV's NMS), so every inference backend shares one decoding:

- ``yolox``: (B, A, 5+C), per anchor raw grid-relative x, y, log w, log h, objectness and
  class probabilities; A is the number of grid cells over strides 8/16/32.
- ``ultralytics`` (YOLOv8/YOLO11): (B, 4+C, A), per anchor cx, cy, w, h in input pixels and
  class scores, no objectness.
- ``end2end`` (NMS-free YOLOv10/YOLO26): (B, N, 6), x1, y1, x2, y2, score, class in input
  pixels, already deduplicated by the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.inference.preprocess import InputConvention, LetterboxTransform

STRIDES = (8, 16, 32)


class Layout(StrEnum):
    YOLOX = "yolox"
    ULTRALYTICS = "ultralytics"
    END2END = "end2end"


AUTO = "auto"

INPUT_CONVENTIONS: dict[Layout, InputConvention] = {
    # YOLOX >= 0.1.1 trains on raw BGR 0-255 with the image in the top-left corner.
    Layout.YOLOX: InputConvention(rgb=False, scale=1.0, center=False),
    Layout.ULTRALYTICS: InputConvention(rgb=True, scale=1 / 255, center=True),
    Layout.END2END: InputConvention(rgb=True, scale=1 / 255, center=True),
}


def anchor_count(input_size: tuple[int, int]) -> int:
    """Grid cells over all strides: the A of the yolox and ultralytics layouts."""
    h, w = input_size
    return sum((h // s) * (w // s) for s in STRIDES)


def _expected_shapes(input_size: tuple[int, int]) -> dict[Layout, str]:
    a = anchor_count(input_size)
    return {
        Layout.YOLOX: f"(B, {a}, 5+C)",
        Layout.ULTRALYTICS: f"(B, 4+C, {a})",
        Layout.END2END: "(B, N, 6)",
    }


def resolve_layout(requested: str, shape: Sequence[int], input_size: tuple[int, int]) -> Layout:
    """The layout of an output of `shape`: `requested` checked against it, or detected when "auto"."""
    valid = [AUTO, *(layout.value for layout in Layout)]
    if requested not in valid:
        raise ValueError(f"unknown output layout {requested!r}; valid: {', '.join(valid)}")
    shape = tuple(int(d) for d in shape)
    expected = _expected_shapes(input_size)
    described = ", ".join(f"{name} {s}" for name, s in expected.items())
    if len(shape) != 3:
        raise ValueError(f"detector output has shape {shape}; expected a 3-D layout: {described}")
    a = anchor_count(input_size)
    fits = {
        Layout.YOLOX: shape[1] == a and shape[2] >= 6,
        Layout.ULTRALYTICS: shape[2] == a and shape[1] >= 5,
        Layout.END2END: shape[2] == 6,
    }
    if requested != AUTO:
        layout = Layout(requested)
        if not fits[layout]:
            raise ValueError(
                f"detector output shape {shape} does not fit layout {layout.value!r}, which expects "
                f"{expected[layout]} for input {input_size[0]}x{input_size[1]}"
            )
        return layout
    # A top-k end-to-end output having exactly A rows would be a coincidence, so an output
    # matching a grid layout is taken as that.
    grid = [layout for layout in (Layout.YOLOX, Layout.ULTRALYTICS) if fits[layout]]
    candidates = grid or ([Layout.END2END] if fits[Layout.END2END] else [])
    if len(candidates) != 1:
        reason = "is ambiguous between yolox and ultralytics" if candidates else "fits no known layout"
        raise ValueError(
            f"detector output shape {shape} {reason} for input {input_size[0]}x{input_size[1]} "
            f"(known: {described}); pass layout= explicitly"
        )
    return candidates[0]


def class_count(layout: Layout, shape: Sequence[int]) -> int | None:
    """C of an output of `layout`; None for end2end, whose class ids are not bounded by its shape."""
    if layout is Layout.YOLOX:
        return int(shape[2]) - 5
    if layout is Layout.ULTRALYTICS:
        return int(shape[1]) - 4
    return None


class Decoder:
    """Decodes a batch of one model's raw outputs into (N, 6) x1, y1, x2, y2, score, class arrays."""

    def __init__(
        self,
        layout: Layout,
        input_size: tuple[int, int],
        *,
        conf_threshold: float = 0.1,
        nms_iou: float = 0.45,
        classes: Sequence[int] | None = (0,),
        num_classes: int | None = None,
    ) -> None:
        if not 0.0 <= conf_threshold <= 1.0:
            raise ValueError(f"conf_threshold must be in [0, 1], got {conf_threshold}")
        if not 0.0 < nms_iou <= 1.0:
            raise ValueError(f"nms_iou must be in (0, 1], got {nms_iou}")
        if classes is not None:
            if len(classes) == 0:
                raise ValueError("classes must name at least one class id, or be None for all classes")
            bad = [c for c in classes if c < 0 or (num_classes is not None and c >= num_classes)]
            if bad:
                raise ValueError(f"class ids {bad} out of range for a model with {num_classes} classes")
        h, w = input_size
        if layout is not Layout.END2END and (h % STRIDES[-1] or w % STRIDES[-1]):
            raise ValueError(f"{layout} input size must be a multiple of {STRIDES[-1]}, got {h}x{w}")
        self.layout = layout
        self.input_size = input_size
        self.conf_threshold = conf_threshold
        self.nms_iou = nms_iou
        self._class_ids = None if classes is None else np.unique(np.asarray(classes, dtype=np.int64))
        self._grid, self._strides = _yolox_grid(input_size)

    @classmethod
    def for_output(
        cls,
        output_shape: Sequence[int],
        input_size: tuple[int, int],
        *,
        layout: str = AUTO,
        conf_threshold: float = 0.1,
        nms_iou: float = 0.45,
        classes: Sequence[int] | None = (0,),
    ) -> Decoder:
        """The decoder for a model whose output has `output_shape`; `layout` "auto" detects it."""
        resolved = resolve_layout(layout, output_shape, input_size)
        return cls(
            resolved,
            input_size,
            conf_threshold=conf_threshold,
            nms_iou=nms_iou,
            classes=classes,
            num_classes=class_count(resolved, output_shape),
        )

    def __call__(
        self, output: NDArray[np.floating], transforms: Sequence[LetterboxTransform]
    ) -> list[NDArray[np.float32]]:
        """`output` holds one row per entry of `transforms`, which map each back to its source image."""
        if len(output) != len(transforms):
            raise ValueError(f"output batch of {len(output)} for {len(transforms)} images")
        return [
            self._decode_one(np.asarray(out, dtype=np.float32), t) for out, t in zip(output, transforms, strict=True)
        ]

    def _decode_one(self, out: NDArray[np.float32], transform: LetterboxTransform) -> NDArray[np.float32]:
        if self.layout is Layout.END2END:
            boxes, scores, class_ids = out[:, :4], out[:, 4], np.rint(out[:, 5]).astype(np.int64)
            keep = scores >= self.conf_threshold
            if self._class_ids is not None:
                keep &= np.isin(class_ids, self._class_ids)
            boxes, scores, class_ids = boxes[keep], scores[keep], class_ids[keep]
            order = np.argsort(-scores, kind="stable")
        else:
            boxes, scores, class_ids = self._grid_candidates(out)
            order = self._nms(boxes, scores, class_ids)
        xyxy = transform.to_source(boxes[order])
        # Boxes that lay wholly in the letterbox padding clip to nothing.
        visible = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
        result = np.column_stack([xyxy, scores[order], class_ids[order].astype(np.float32)])
        return np.ascontiguousarray(result[visible], dtype=np.float32)

    def _grid_candidates(
        self, out: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
        """Boxes (xyxy, input pixels), scores and classes of the anchors scoring above the threshold."""
        yolox = self.layout is Layout.YOLOX
        class_scores = out[:, 5:] * out[:, 4:5] if yolox else out[4:].T
        # Picking the best *allowed* class keeps a person whose score for, say, "chair" edges
        # out "person" as a person detection instead of dropping it.
        if self._class_ids is not None:
            class_scores = class_scores[:, self._class_ids]
        best = class_scores.argmax(axis=1)
        scores = class_scores[np.arange(len(best)), best]
        keep = np.flatnonzero(scores >= self.conf_threshold)
        class_ids = best[keep] if self._class_ids is None else self._class_ids[best[keep]]
        if yolox:
            stride = self._strides[keep]
            centre = (out[keep, :2] + self._grid[keep]) * stride
            size = np.exp(out[keep, 2:4]) * stride
        else:
            centre, size = out[:2, keep].T, out[2:4, keep].T
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        return boxes.astype(np.float32), scores[keep].astype(np.float32), class_ids.astype(np.int64)

    def _nms(
        self, boxes: NDArray[np.float32], scores: NDArray[np.float32], class_ids: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        """Indices kept by class-aware NMS, highest score first."""
        if len(boxes) == 0:
            return np.zeros(0, dtype=np.int64)
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        # Scores are already thresholded; -1 keeps OpenCV from dropping any again.
        kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), class_ids.tolist(), -1.0, self.nms_iou)
        return np.asarray(kept, dtype=np.int64).reshape(-1)


def _yolox_grid(input_size: tuple[int, int]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(A, 2) cell x, y and (A, 1) stride of every anchor, in YOLOX's order: by stride, then row-major."""
    h, w = input_size
    grids, strides = [], []
    for s in STRIDES:
        ys, xs = np.meshgrid(np.arange(h // s), np.arange(w // s), indexing="ij")
        grids.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full((xs.size, 1), s))
    return np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32)
