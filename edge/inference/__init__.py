"""Person detection and ReID embedding behind engine-neutral contracts.

Importing this package loads ONNX Runtime only; TensorRT is imported by the factory when
asked for, and torch only by `edge.inference.export`.
"""

from __future__ import annotations

from edge.inference.base import Detector, Embedder
from edge.inference.decoders import Layout
from edge.inference.factory import ENGINES, create_detector, create_embedder

__all__ = ["ENGINES", "Detector", "Embedder", "Layout", "create_detector", "create_embedder"]
