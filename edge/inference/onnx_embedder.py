"""ReID embedder backend on ONNX Runtime (OSNet and other torchreid/BoxMOT exports)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from edge.inference.base import Embedder, file_model_id
from edge.inference.onnx_session import DEFAULT_PROVIDERS, OnnxSession
from edge.inference.preprocess import REID_INPUT_SIZE, batches, reid_blob


class OnnxEmbedder(Embedder):
    """Resizes crops to the ReID input (no letterbox: the models were trained on stretched
    crops), converts BGR→RGB with ImageNet normalisation and runs them `batch_size` at a time.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 32,
        input_size: tuple[int, int] = REID_INPUT_SIZE,
        providers: Sequence[str] = DEFAULT_PROVIDERS,
        threads: int | None = None,
        model_id: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        path = Path(path)
        self._session = OnnxSession(path, providers=providers, threads=threads)
        if self._session.input_hw not in (None, tuple(input_size)):
            raise self._session.input_size_error(f"[N, 3, {input_size[0]}, {input_size[1]}]")
        self.input_size = input_size
        self.batch_size = batch_size
        # The dry run gives the embedding size whatever the metadata names its axes.
        dry = np.zeros((self._session.static_batch or 1, 3, *input_size), dtype=self._session.dtype)
        output_shape = self._session.run(dry).shape
        if len(output_shape) != 2:
            raise ValueError(f"{path}: output has shape {list(output_shape)}, expected [N, D] embeddings")
        super().__init__(model_id or file_model_id(path), dim=output_shape[1])

    def _embed_crops(self, crops: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
        # Preprocessing per batch bounds memory when many cameras' crops arrive at once.
        outputs = [
            self._session.run(reid_blob(chunk, self.input_size, dtype=self._session.dtype))
            for chunk in batches(crops, self.batch_size)
        ]
        return np.concatenate(outputs)
