"""Rewrites of ONNX graphs that every backend loading our models shares (needs only the `onnx` package)."""

from __future__ import annotations

from pathlib import Path


def with_symbolic_hw(path: Path) -> bytes:
    """The model with its input's height and width (and every output's dims) made symbolic.

    Fixed-size exports (ByteTrack's 608x1088) whose graphs only resize by scale factors and
    reshape with -1 then run at any input size; a graph that bakes the size into a
    constant fails at its first run, which the detector's dry run turns into a clear error.
    """
    import onnx

    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) == 4:
        for dim, name in ((dims[2], "height"), (dims[3], "width")):
            dim.Clear()
            dim.dim_param = name
    for output in model.graph.output:
        for i, dim in enumerate(output.type.tensor_type.shape.dim):
            dim.Clear()
            dim.dim_param = f"{output.name}_{i}"
    # Inferred intermediate shapes of the fixed size would contradict the new input.
    del model.graph.value_info[:]
    return bytes(model.SerializeToString())
