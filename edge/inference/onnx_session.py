"""An ONNX Runtime session over one image model: load-time checks and batch-size handling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from edge.inference.onnx_graph import with_symbolic_hw

DEFAULT_PROVIDERS: tuple[str, ...] = ("CPUExecutionProvider",)

_INPUT_DTYPES: dict[str, type[np.floating]] = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def format_shape(shape: Sequence[object]) -> str:
    """`[batch, 3, 256, 128]`: ONNX shapes mix ints with names (or None) for dynamic axes."""
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


class OnnxSession:
    """One ONNX model taking a single NCHW 3-channel float image tensor; runs its first output.

    `symbolic_hw` loads the model with its spatial input axes made symbolic (`with_symbolic_hw`).
    """

    def __init__(
        self,
        path: Path,
        *,
        providers: Sequence[str] = DEFAULT_PROVIDERS,
        threads: int | None = None,
        symbolic_hw: bool = False,
    ) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"ONNX model file {path} not found")
        options = ort.SessionOptions()
        if threads is not None:
            if threads < 1:
                raise ValueError(f"threads must be >= 1, got {threads}")
            options.intra_op_num_threads = threads
        model: str | bytes = with_symbolic_hw(path) if symbolic_hw else str(path)
        self.session = ort.InferenceSession(model, options, providers=list(providers))
        self.path = path
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise ValueError(f"{path}: expected one image input, the model has {len(inputs)}: {names}")
        self.input_name: str = inputs[0].name
        self.input_shape: list[object] = list(inputs[0].shape)
        self.output_name: str = self.session.get_outputs()[0].name
        if len(self.input_shape) != 4 or self.input_shape[1] != 3:
            raise ValueError(
                f"{path}: input {self.input_name!r} has shape {format_shape(self.input_shape)}, "
                "expected an NCHW image tensor [N, 3, H, W]"
            )
        dtype = _INPUT_DTYPES.get(inputs[0].type)
        if dtype is None:
            raise ValueError(f"{path}: input {self.input_name!r} has type {inputs[0].type}, expected float or float16")
        self.dtype = dtype
        batch, height, width = self.input_shape[0], self.input_shape[2], self.input_shape[3]
        # Names, None or non-positive values mark dynamic axes.
        self.static_batch: int | None = batch if isinstance(batch, int) and batch > 0 else None
        self.input_hw: tuple[int, int] | None = (
            (height, width) if isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0 else None
        )

    def input_size_error(self, expected: str) -> ValueError:
        return ValueError(
            f"{self.path}: input {self.input_name!r} has shape {format_shape(self.input_shape)}, expected {expected}"
        )

    def run(self, blob: NDArray[np.floating]) -> NDArray[np.float32]:
        """First output for a non-empty NCHW batch of any length.

        A model with a fixed batch size gets the batch in chunks of that size, the last one
        zero-padded, and the padding's outputs are dropped.
        """
        step = self.static_batch or len(blob)
        outputs = []
        for start in range(0, len(blob), step):
            chunk = blob[start : start + step].astype(self.dtype, copy=False)
            real = len(chunk)
            if real < step:
                chunk = np.concatenate([chunk, np.zeros((step - real, *chunk.shape[1:]), dtype=self.dtype)])
            out = self.session.run([self.output_name], {self.input_name: chunk})[0]
            outputs.append(np.asarray(out)[:real])
        return np.concatenate(outputs).astype(np.float32, copy=False)
