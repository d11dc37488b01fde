"""An Embedder whose vectors are computed elsewhere and arrive with the detections.

DeepStream runs OSNet as a secondary nvinfer on the GPU, next to the detector, so each
frame's boxes come with their embeddings already. The tracker takes them from
`Detections.embeddings`; this object stands in for the model they came from — its id
(published with the vectors, so stitching never compares vectors of two models) and
its dimension — and refuses to embed pixels it never sees.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from edge.inference.base import Embedder


class PrecomputedEmbedder(Embedder):
    def __init__(self, model_id: str, dim: int) -> None:
        if dim < 1:
            raise ValueError(f"embedding dimension must be >= 1, got {dim}")
        super().__init__(model_id, dim)

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.floating]) -> NDArray[np.float32]:
        raise ValueError(
            f"{self.model_id} embeddings are computed where the detections are (DeepStream's secondary nvinfer) "
            "and must come with them: these boxes arrived without embeddings"
        )

    def _embed_crops(self, crops: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
        raise ValueError(f"{self.model_id} embeddings are precomputed; this embedder has no model to run on crops")
