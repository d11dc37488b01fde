"""DeepStream batch metadata → the agent's detections and embeddings, as pure numpy.

The pad probe (edge/deepstream/pipeline.py) copies each frame's tensor meta out of pyds
and hands the arrays here, so the conversion is the one place geometry is decided and it
is tested without a GPU. Coordinates: nvinfer letterboxes the muxer frame into the
network input; nvstreammux has scaled each source to the muxer size (no padding); boxes
go back through both to the source camera's pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from edge.inference.decoders import Decoder
from edge.inference.preprocess import LetterboxTransform


def network_transform(
    network_size: tuple[int, int], muxer_size: tuple[int, int], *, center: bool = False
) -> LetterboxTransform:
    """How nvinfer (maintain-aspect-ratio=1) placed the muxer frame in the input.

    `center` is symmetric-padding=1: the pad split on both sides, rounded as our own
    letterbox rounds it (to within a pixel of nvinfer's).
    """
    (nh, nw), (mh, mw) = network_size, muxer_size
    if min(nh, nw, mh, mw) <= 0:
        raise ValueError(f"sizes must be positive, got network {network_size}, muxer {muxer_size}")
    scale = min(nh / mh, nw / mw)
    pad_x, pad_y = 0, 0
    if center:
        pad_x = (nw - min(nw, round(mw * scale))) // 2
        pad_y = (nh - min(nh, round(mh * scale))) // 2
    return LetterboxTransform(scale=scale, pad_x=pad_x, pad_y=pad_y, source_size=(mh, mw))


def frame_detections(
    output: NDArray[np.floating],
    decoder: Decoder,
    muxer_size: tuple[int, int],
    source_size: tuple[int, int],
    *,
    center: bool = False,
) -> NDArray[np.float32]:
    """One frame's raw detector tensor → (N, 6) x1, y1, x2, y2, score, class in source pixels."""
    if output.ndim != 2:
        raise ValueError(f"one frame's detector tensor is 2-D (anchors × values), got shape {output.shape}")
    transform = network_transform(decoder.input_size, muxer_size, center=center)
    boxes = decoder(np.asarray(output, dtype=np.float32)[None], [transform])[0]
    out = boxes.copy()
    out[:, :4] *= _stretch(muxer_size, source_size)
    return out


def _stretch(muxer_size: tuple[int, int], source_size: tuple[int, int]) -> NDArray[np.float32]:
    """Per-coordinate factors x1, y1, x2, y2 from muxer to source pixels."""
    (mh, mw), (sh, sw) = muxer_size, source_size
    if min(mh, mw, sh, sw) <= 0:
        raise ValueError(f"sizes must be positive, got muxer {muxer_size}, source {source_size}")
    return np.array([sw / mw, sh / mh, sw / mw, sh / mh], dtype=np.float32)


def muxer_rects(
    boxes: NDArray[np.floating], muxer_size: tuple[int, int], source_size: tuple[int, int]
) -> NDArray[np.float32]:
    """(N, 4+) boxes in source pixels → (N, 4) left, top, width, height in muxer pixels (as rect_params)."""
    arr = np.asarray(boxes, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] < 4:
        raise ValueError(f"boxes must be (N, 4+) x1, y1, x2, y2, ..., got shape {arr.shape}")
    m = arr[:, :4] / _stretch(muxer_size, source_size)
    return np.column_stack([m[:, 0], m[:, 1], m[:, 2] - m[:, 0], m[:, 3] - m[:, 1]]).astype(np.float32)


def source_boxes(
    rects: NDArray[np.floating],
    confidence: NDArray[np.floating],
    class_id: NDArray[np.integer],
    muxer_size: tuple[int, int],
    source_size: tuple[int, int],
) -> NDArray[np.float32]:
    """Objects read back from the batch meta (muxer-pixel rects) → (N, 6) x1, y1, x2, y2, score, class (source px)."""
    r = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
    if not len(r) == len(confidence) == len(class_id):
        raise ValueError(
            f"{len(r)} rects, {len(confidence)} confidences and {len(class_id)} class ids: one each per object"
        )
    xyxy = np.column_stack([r[:, 0], r[:, 1], r[:, 0] + r[:, 2], r[:, 1] + r[:, 3]]) * _stretch(muxer_size, source_size)
    out = np.column_stack([xyxy, np.asarray(confidence, np.float32), np.asarray(class_id, np.float32)])
    return out.astype(np.float32)


def object_embeddings(vectors: list[NDArray[np.floating] | None], dim: int = 512) -> NDArray[np.float32]:
    """The secondary nvinfer's per-object outputs → (N, dim) unit vectors, as the ONNX embedder returns.

    None marks an object the secondary skipped (smaller than its input-object-min-*): a zero
    row, as the embedder gives a box without pixels — cosine 0 to everything, never a match.
    """
    arr = np.zeros((len(vectors), dim), dtype=np.float32)
    for i, v in enumerate(vectors):
        if v is None:
            continue
        flat = np.asarray(v, dtype=np.float32).reshape(-1)
        if len(flat) != dim:
            raise ValueError(f"embedding tensors have {len(flat)} values, expected {dim}")
        arr[i] = flat
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
