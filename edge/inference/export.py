"""Exporting a PyTorch detector or embedder to the ONNX file the ONNX Runtime backends load.

torch is imported only inside the function: the edge runtime never needs it.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEFAULT_OPSET = 17


def export_to_onnx(
    module: torch.nn.Module,
    path: str | Path,
    input_size: tuple[int, int],
    *,
    dynamic_batch: bool = True,
    opset: int = DEFAULT_OPSET,
    input_name: str = "images",
    output_name: str = "output",
) -> Path:
    """Trace `module` on a 1x3xHxW zero image and write it to `path` (parents created).

    With `dynamic_batch` the batch axis of the input and first output is named "batch", so
    the backends run several frames or crops in one call. Returns `path`.
    """
    # The TorchScript exporter serialises through the onnx package and only says so late.
    if importlib.util.find_spec("onnx") is None:
        raise ImportError("exporting to ONNX needs the onnx package: pip install onnx")
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = input_size
    dummy = torch.zeros(1, 3, height, width)
    dynamic_axes = {input_name: {0: "batch"}, output_name: {0: "batch"}} if dynamic_batch else None
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # torch >= 2.9 defaults to the dynamo exporter, which needs onnxscript; the
            # TorchScript one it deprecates handles these plain CNNs and is what we choose.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                module,
                (dummy,),
                str(path),
                input_names=[input_name],
                output_names=[output_name],
                dynamic_axes=dynamic_axes,
                opset_version=opset,
                dynamo=False,
            )
    finally:
        module.train(was_training)
    return path
