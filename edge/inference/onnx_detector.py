"""Detector backend on ONNX Runtime, for models of any layout `decoders` knows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from edge.inference.base import Detector, file_model_id
from edge.inference.decoders import AUTO, INPUT_CONVENTIONS, STRIDES, Decoder
from edge.inference.onnx_session import DEFAULT_PROVIDERS, OnnxSession
from edge.inference.preprocess import InputConvention, detector_blob


class OnnxDetector(Detector):
    """Letterboxes frames to the model's input size, runs them as one batch, decodes per frame.

    The input size is read from the model unless `input_size` (height, width) is given: a
    model exported at a fixed size then has its spatial axes made symbolic at load.
    `convention` is how the model wants its pixels; None takes the output layout's.
    """

    # ONNX Runtime runs one session from several threads; on a few CPU cores two frames on a
    # thread each beat one frame on two threads (PETS09, 2 cores: 27 ms per frame on one
    # thread, 18 ms on two).
    concurrent_calls = True

    def __init__(
        self,
        path: str | Path,
        *,
        layout: str = AUTO,
        conf_threshold: float = 0.1,
        nms_iou: float = 0.45,
        classes: Sequence[int] | None = (0,),
        input_size: tuple[int, int] | None = None,
        convention: InputConvention | None = None,
        providers: Sequence[str] = DEFAULT_PROVIDERS,
        threads: int | None = None,
        model_id: str | None = None,
    ) -> None:
        path = Path(path)
        self._session = OnnxSession(path, providers=providers, threads=threads)
        if input_size is not None and self._session.input_hw not in (None, tuple(input_size)):
            self._session = OnnxSession(path, providers=providers, threads=threads, symbolic_hw=True)
        self.input_size = self._input_size(input_size)
        # A dry run reads the real output shape (the metadata may name its axes) so a model of
        # unknown layout fails at load rather than on the first frame; it also pays ONNX
        # Runtime's lazy initialisation before frames arrive.
        dry = np.zeros((self._session.static_batch or 1, 3, *self.input_size), dtype=self._session.dtype)
        try:
            output_shape = self._session.run(dry).shape
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ValueError(
                f"{path}: the model does not run at input size {self.input_size[0]}x{self.input_size[1]} "
                f"(its graph may fix the size inside): {exc}"
            ) from exc
        try:
            self._decoder = Decoder.for_output(
                output_shape,
                self.input_size,
                layout=layout,
                conf_threshold=conf_threshold,
                nms_iou=nms_iou,
                classes=classes,
            )
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        self.layout = self._decoder.layout
        self.convention = convention or INPUT_CONVENTIONS[self.layout]
        super().__init__(model_id or file_model_id(path))

    def _input_size(self, requested: tuple[int, int] | None) -> tuple[int, int]:
        session = self._session
        if session.input_hw is None:
            if requested is None:
                raise session.input_size_error("a fixed height and width, or input_size=(height, width)")
            size = requested
        else:
            size = session.input_hw
        stride = STRIDES[-1]
        if size[0] % stride or size[1] % stride:
            raise session.input_size_error(
                f"[N, 3, H, W] with H and W multiples of {stride}, the largest detection stride "
                f"(got {size[0]}x{size[1]})"
            )
        return size

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        blob, transforms = detector_blob(images, self.input_size, self.convention, dtype=self._session.dtype)
        return self._decoder(self._session.run(blob), transforms)
