"""edge.inference.factory: engine choice, model resolution and what importing the package pulls in."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.inference import ENGINES, create_detector, create_embedder
from edge.inference.factory import resolve_model
from edge.inference.preprocess import InputConvention
from shared.assets.models import MODELS, ModelNotFoundError
from shared.config.detector import IMAGENET_MEAN, IMAGENET_STD, PRESETS, DetectorProfile


@pytest.mark.parametrize("create", [create_detector, create_embedder])
def test_unknown_engine_lists_the_valid_ones(create: Callable[..., object]) -> None:
    with pytest.raises(ValueError, match="unknown inference engine 'openvino'; valid: onnxruntime, tensorrt"):
        create(engine="openvino")


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="TensorRT is installed here")
@pytest.mark.parametrize("create", [create_detector, create_embedder])
def test_tensorrt_without_nvidia_stack_explains_what_is_needed(create: Callable[..., object]) -> None:
    with pytest.raises(ImportError, match=r"needs NVIDIA hardware .*pip install 'mallflow\[jetson\]'"):
        create(engine="tensorrt")


class _Recorder:
    def __init__(self, path: Path, **kwargs: object) -> None:
        self.path = path
        self.kwargs = kwargs


def test_tensorrt_backend_is_loaded_lazily_with_the_documented_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = types.ModuleType("edge.inference.tensorrt")
    backend.TensorRTDetector = _Recorder  # type: ignore[attr-defined]
    backend.TensorRTEmbedder = _Recorder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "edge.inference.tensorrt", backend)

    profile = DetectorProfile(model="yolox_nano", input_size=(640, 640), score_threshold=0.3)
    detector = create_detector(engine="tensorrt", profile=profile)
    assert isinstance(detector, _Recorder)
    assert detector.path.name == "yolox_nano.onnx"
    assert detector.kwargs == {
        "model_id": MODELS["yolox_nano"].model_id,
        "layout": "auto",
        "conf_threshold": 0.3,
        "nms_iou": 0.45,
        "classes": [0],
        # The profile's size, though the file says 416x416: the engine is built at 640x640.
        "input_size": (640, 640),
        "convention": InputConvention(rgb=False, scale=1.0, center=False),
    }
    # The default (pedestrian) profile hands over ByteTrack's own preprocessing and its size.
    pedestrian = create_detector(engine="tensorrt")
    assert isinstance(pedestrian, _Recorder)
    assert pedestrian.path.name == "bytetrack_nano_mix.onnx"
    assert pedestrian.kwargs["input_size"] == PRESETS["pedestrian"].input_size == (416, 544)
    assert pedestrian.kwargs["convention"] == InputConvention(
        rgb=True, scale=1 / 255, center=False, mean=IMAGENET_MEAN, std=IMAGENET_STD
    )
    embedder = create_embedder(engine="tensorrt", batch_size=8)
    assert isinstance(embedder, _Recorder)
    assert embedder.kwargs == {"model_id": MODELS["osnet_x0_25_msmt17"].model_id, "batch_size": 8}


def test_a_bug_inside_the_tensorrt_backend_is_not_disguised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_import(name: str) -> types.ModuleType:
        raise ModuleNotFoundError("No module named 'nonexistent_helper'", name="nonexistent_helper")

    monkeypatch.setattr("edge.inference.factory.importlib.import_module", broken_import)
    with pytest.raises(ModuleNotFoundError, match="nonexistent_helper"):
        create_detector(engine="tensorrt")


def test_missing_model_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "people_v9.onnx"
    with pytest.raises(FileNotFoundError, match=r"people_v9\.onnx"):
        create_detector(profile=DetectorProfile(model=str(missing), input_size=(416, 416)))
    with pytest.raises(
        FileNotFoundError,
        match=r"'nope' is neither a catalogued model \(bytetrack_nano_mix, osnet_x0_25_msmt17, yolox_nano\)",
    ):
        create_embedder(model="nope")


def test_missing_catalogued_model_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLFLOW_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match=rf"{tmp_path}/bytetrack_nano_mix\.onnx not found"):
        create_detector()


def test_resolve_model_ids_files_by_their_bytes(tmp_path: Path) -> None:
    path, model_id = resolve_model("yolox_nano")
    assert model_id == MODELS["yolox_nano"].model_id
    copy = tmp_path / "my_detector.onnx"
    copy.write_bytes(path.read_bytes())
    assert resolve_model(str(copy)) == (copy, "my_detector@" + MODELS["yolox_nano"].sha256[:8])
    assert ENGINES == ("onnxruntime", "tensorrt")


def test_importing_the_package_pulls_in_no_heavy_or_vendor_modules() -> None:
    code = (
        "import sys, edge.inference, edge.inference.factory;"
        "print(sorted(m for m in ('torch', 'tensorrt', 'pycuda', 'pyds', 'gi', 'onnx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
