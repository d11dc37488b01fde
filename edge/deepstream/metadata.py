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


def network_transform(network_size: tuple[int, int], muxer_size: tuple[int, int]) -> LetterboxTransform:
    """How nvinfer (maintain-aspect-ratio=1, symmetric-padding=0) placed the muxer frame in the input."""
    (nh, nw), (mh, mw) = network_size, muxer_size
    if min(nh, nw, mh, mw) <= 0:
        raise ValueError(f"sizes must be positive, got network {network_size}, muxer {muxer_size}")
    return LetterboxTransform(scale=min(nh / mh, nw / mw), pad_x=0, pad_y=0, source_size=(mh, mw))


def frame_detections(
    output: NDArray[np.floating],
    decoder: Decoder,
    muxer_size: tuple[int, int],
    source_size: tuple[int, int],
) -> NDArray[np.float32]:
    """One frame's raw detector tensor → (N, 6) x1, y1, x2, y2, score, class in source pixels."""
    if output.ndim != 2:
        raise ValueError(f"one frame's detector tensor is 2-D (anchors × values), got shape {output.shape}")
    boxes = decoder(np.asarray(output, dtype=np.float32)[None], [network_transform(decoder.input_size, muxer_size)])[0]
    (mh, mw), (sh, sw) = muxer_size, source_size
    out = boxes.copy()
    out[:, [0, 2]] *= sw / mw
    out[:, [1, 3]] *= sh / mh
    return out


def object_embeddings(vectors: list[NDArray[np.floating]], dim: int = 512) -> NDArray[np.float32]:
    """The secondary nvinfer's per-object outputs → (N, dim) unit vectors, as the ONNX embedder returns."""
    if not vectors:
        return np.zeros((0, dim), dtype=np.float32)
    arr = np.stack([np.asarray(v, dtype=np.float32).reshape(-1) for v in vectors])
    if arr.shape[1] != dim:
        raise ValueError(f"embedding tensors have {arr.shape[1]} values, expected {dim}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
