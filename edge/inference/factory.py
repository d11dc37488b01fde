"""The one place an inference engine and model are chosen.

`engine="tensorrt"` loads `edge.inference.tensorrt` only when asked, so nothing else ever
imports TensorRT. That module provides ``TensorRTDetector(path, *, model_id, layout,
conf_threshold, nms_iou, classes, input_size, convention)`` and ``TensorRTEmbedder(path, *, model_id,
batch_size)`` implementing the contracts in `edge.inference.base`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from edge.inference.base import Detector, Embedder, file_model_id
from edge.inference.onnx_detector import OnnxDetector
from edge.inference.onnx_embedder import OnnxEmbedder
from edge.inference.onnx_session import DEFAULT_PROVIDERS
from edge.inference.preprocess import InputConvention
from shared.assets.models import MODELS, model_path
from shared.config.detector import DetectorProfile, default_profile

ENGINES = ("onnxruntime", "tensorrt")

_TENSORRT_BACKEND = "edge.inference.tensorrt"
# Packages of the `jetson` extra the TensorRT backend imports.
_TENSORRT_STACK = ("tensorrt", "pycuda")
_DEEPSTREAM_BACKEND = "edge.deepstream.runtime"
# What DeepStream's Python side needs: PyGObject (python3-gi) and NVIDIA's bindings.
_DEEPSTREAM_STACK = ("gi", "pyds")


def overlapped_threads(requested: int | None) -> int:
    """ONNX Runtime threads per model where detection runs beside tracking: as requested,
    else half the cores each, so the two do not oversubscribe them (PETS09, 2 cores: 1+1
    threads 45 fps, 2+2 threads 23 fps; tests/bench/edge_fps.py)."""
    return requested or max(1, (os.cpu_count() or 2) // 2)


def detect_workers_for(detectors: list[Detector]) -> int:
    """Two frames in detection at once where every detector allows it, else one.

    On CPU the detector is the agent's bottleneck and a second frame in flight uses the
    core time tracking leaves idle (PETS09, 2 cores, pedestrian profile: 36 -> 39 fps;
    tests/bench/edge_fps.py). TensorRT engines keep one execution context: one at a time.
    """
    return 2 if detectors and all(d.concurrent_calls for d in detectors) else 1


def resolve_model(model: str | Path) -> tuple[Path, str]:
    """File and model id of a catalogued model name (from MALLFLOW_MODEL_DIR) or a model file path."""
    if isinstance(model, str) and model in MODELS:
        path = model_path(model)
        return path, file_model_id(path, model)
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(
            f"model {str(model)!r} is neither a catalogued model ({', '.join(sorted(MODELS))}) "
            f"nor an existing file: {path} not found"
        )
    return path, file_model_id(path)


def create_detector(
    engine: str = "onnxruntime",
    profile: DetectorProfile | None = None,
    threads: int | None = None,
    providers: Sequence[str] = DEFAULT_PROVIDERS,
) -> Detector:
    """The detector of a profile (default: the `pedestrian` preset). `threads` and `providers` are ONNX Runtime's."""
    _check_engine(engine)
    profile = profile or default_profile()
    path, model_id = resolve_model(profile.model)
    preprocessing = profile.resolved_preprocessing()
    convention = None if preprocessing is None else InputConvention.from_config(preprocessing)
    classes = None if profile.classes is None else list(profile.classes)
    if engine == "tensorrt":
        tensorrt = tensorrt_backend()
        detector: Detector = tensorrt.TensorRTDetector(
            path,
            model_id=model_id,
            layout=profile.layout,
            conf_threshold=profile.score_threshold,
            nms_iou=profile.nms_iou,
            classes=classes,
            input_size=profile.input_size,
            convention=convention,
        )
        return detector
    return OnnxDetector(
        path,
        layout=profile.layout,
        conf_threshold=profile.score_threshold,
        nms_iou=profile.nms_iou,
        classes=classes,
        input_size=profile.input_size,
        convention=convention,
        providers=providers,
        threads=threads,
        model_id=model_id,
    )


def create_embedder(
    engine: str = "onnxruntime",
    model: str | Path = "osnet_x0_25_msmt17",
    batch_size: int = 32,
    threads: int | None = None,
    providers: Sequence[str] = DEFAULT_PROVIDERS,
) -> Embedder:
    """A ReID embedder. `threads` and `providers` are ONNX Runtime's."""
    _check_engine(engine)
    if engine == "tensorrt":
        tensorrt = tensorrt_backend()
        path, model_id = resolve_model(model)
        embedder: Embedder = tensorrt.TensorRTEmbedder(path, model_id=model_id, batch_size=batch_size)
        return embedder
    path, model_id = resolve_model(model)
    return OnnxEmbedder(path, batch_size=batch_size, providers=providers, threads=threads, model_id=model_id)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown inference engine {engine!r}; valid: {', '.join(ENGINES)}")


def tensorrt_backend() -> ModuleType:
    try:
        return importlib.import_module(_TENSORRT_BACKEND)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        # Only a missing TensorRT stack means "wrong machine"; any other missing module is a bug to surface.
        if missing != _TENSORRT_BACKEND and missing.split(".")[0] not in _TENSORRT_STACK:
            raise
        raise ImportError(
            "engine 'tensorrt' needs NVIDIA hardware (a Jetson or a CUDA GPU) with TensorRT installed: "
            "`pip install 'mallflow[jetson]'` on that machine, or use engine='onnxruntime' "
            f"(missing module: {exc.name})"
        ) from exc


def deepstream_backend() -> ModuleType:
    """The DeepStream runtime, its plugins checked; ImportError naming what is missing on other machines."""
    missing = [m for m in _DEEPSTREAM_STACK if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(
            "engine 'deepstream' needs a Jetson (or an NVIDIA GPU) with DeepStream 7 and its Python bindings; "
            f"missing: {', '.join(missing)} (gi is python3-gi, pyds the wheel of NVIDIA's deepstream_python_apps "
            "release). The deploy/jetson image has both; elsewhere use --engine tensorrt or onnxruntime"
        )
    runtime = importlib.import_module(_DEEPSTREAM_BACKEND)
    runtime.check_plugins()
    return runtime
