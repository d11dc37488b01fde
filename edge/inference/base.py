"""The contracts every inference backend fulfils: a person Detector and a ReID Embedder.

Backends implement only the private `_detect` / `_embed_crops`; the public methods here
validate inputs eagerly and enforce the output guarantees (boxes in source pixels, unit-norm
embeddings), so an ONNX Runtime and a TensorRT backend cannot drift apart on either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from shared.assets.checksum import sha256_of


def file_model_id(path: Path, name: str | None = None) -> str:
    """`name@sha8` — the format of `ModelSpec.model_id`, taken from the bytes actually loaded.

    Hashing the file rather than trusting the catalogue keeps embeddings of a swapped model
    file from being labelled, and so compared, as the catalogued model's.
    """
    return f"{name or path.stem}@{sha256_of(path)[:8]}"


def check_image(image: object, what: str = "image") -> NDArray[np.uint8]:
    """Return `image` if it is an HxWx3 uint8 BGR array with pixels, else raise ValueError."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{what} must be a numpy array (HxWx3 uint8 BGR), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"{what} must have dtype uint8 (0-255 BGR), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{what} must have shape (H, W, 3) BGR, got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{what} is empty: shape {image.shape}")
    return image


def check_image_batch(images: object, what: str = "images") -> list[NDArray[np.uint8]]:
    # A lone HxWx3 array is also a Sequence (of rows); catch it before it fails confusingly.
    if isinstance(images, np.ndarray):
        raise ValueError(f"{what} must be a sequence of HxWx3 arrays; for one image pass [image]")
    if not isinstance(images, Sequence):
        raise ValueError(f"{what} must be a sequence of HxWx3 uint8 arrays, got {type(images).__name__}")
    return [check_image(img, f"{what}[{i}]") for i, img in enumerate(images)]


def check_boxes(boxes: object) -> NDArray[np.float64]:
    """Return `boxes` as an (N, 4) float64 x1, y1, x2, y2 array, or raise ValueError."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4) x1, y1, x2, y2, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("boxes contain NaN or infinite coordinates")
    inverted = (arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1])
    if inverted.any():
        raise ValueError(
            f"boxes must be x1, y1, x2, y2 with x2 >= x1 and y2 >= y1; row {int(np.argmax(inverted))} "
            f"is {arr[inverted][0].tolist()}"
        )
    return arr


class Detector(ABC):
    """Finds objects (by default persons) in a batch of BGR frames of any size."""

    # Whether `detect` may run from several threads at once (one frame each, in parallel).
    concurrent_calls: ClassVar[bool] = False

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def detect(self, images: Sequence[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        """Per image an (N, 6) float32 array x1, y1, x2, y2, confidence, class in that image's pixels.

        Rows are sorted by confidence, highest first; `Detections.from_array` takes them as they are.
        """
        batch = check_image_batch(images)
        if not batch:
            return []
        return self._detect(batch)

    @abstractmethod
    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        """Detect on a non-empty batch of already validated images."""


class Embedder(ABC):
    """Appearance embeddings for re-identification: one L2-normalised row per person crop."""

    def __init__(self, model_id: str, dim: int) -> None:
        self.model_id = model_id
        self.dim = dim

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.floating]) -> NDArray[np.float32]:
        """(N, dim) embeddings of the N x1, y1, x2, y2 boxes of one BGR image.

        Boxes are clipped to the image. A box with no pixel inside it (zero area, or wholly
        outside) gets an all-zero row rather than an error: rows stay aligned with the
        detections, and a zero vector has cosine similarity 0 to everything, so it never
        produces a ReID match. Every other row has unit norm.
        """
        check_image(image)
        xyxy = check_boxes(boxes)
        h, w = image.shape[:2]
        # Round outwards so a box of sub-pixel size inside the image still yields one pixel.
        x1 = np.floor(np.clip(xyxy[:, 0], 0, w)).astype(np.int64)
        y1 = np.floor(np.clip(xyxy[:, 1], 0, h)).astype(np.int64)
        x2 = np.ceil(np.clip(xyxy[:, 2], 0, w)).astype(np.int64)
        y2 = np.ceil(np.clip(xyxy[:, 3], 0, h)).astype(np.int64)
        valid = (x2 > x1) & (y2 > y1)
        out = np.zeros((len(xyxy), self.dim), dtype=np.float32)
        if valid.any():
            crops = [image[b:d, a:c] for a, b, c, d in zip(x1[valid], y1[valid], x2[valid], y2[valid], strict=True)]
            out[valid] = self.embed_crops(crops)
        return out

    def embed_crops(self, crops: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        """(N, dim) L2-normalised embeddings of N BGR crops of any sizes (e.g. from several cameras)."""
        batch = check_image_batch(crops, "crops")
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        raw = np.asarray(self._embed_crops(batch), dtype=np.float32)
        if raw.shape != (len(batch), self.dim):
            raise RuntimeError(f"{self.model_id} returned shape {raw.shape}, expected ({len(batch)}, {self.dim})")
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        # A model that outputs an all-zero vector keeps it zero instead of dividing by zero.
        return raw / np.maximum(norms, 1e-12)

    @abstractmethod
    def _embed_crops(self, crops: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
        """Raw (N, dim) embeddings of a non-empty batch of validated crops; need not be normalised."""
