"""The TensorRT backend against the ONNX Runtime one, on vtest.avi frames — on NVIDIA hardware only.

Run where TensorRT and pycuda are installed (a Jetson, or a CUDA GPU):
    .venv/bin/python -m pytest -m gpu tests/unit/test_inference_tensorrt.py
Elsewhere those tests skip with the reason; `mallflow models build-engine` still answers
with a clear error, and what it builds (targets, calibration batches) is tested without
the hardware.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from unittest.mock import MagicMock

import cv2
import numpy as np
import onnx
import pytest
import yaml

from edge.cli.engine_cmd import EngineTarget, calibration_batches, check_calibratable, engine_targets, read_frames
from edge.evaluation.metrics import iou_xywh
from edge.inference.decoders import anchor_count
from edge.inference.engine_cache import EngineSpec
from edge.inference.preprocess import InputConvention
from shared.assets.models import model_path
from shared.cli.errors import UsageError
from shared.cli.main import main
from shared.config.detector import IMAGENET_MEAN, IMAGENET_STD, PRESETS

HAS_TENSORRT = all(importlib.util.find_spec(m) is not None for m in ("tensorrt", "pycuda"))
needs_gpu = pytest.mark.skipif(not HAS_TENSORRT, reason="TensorRT and pycuda are not installed (no NVIDIA GPU here)")


def _frames(video: Path, n: int = 4) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    frames = [np.asarray(cap.read()[1], dtype=np.uint8) for _ in range(n)]
    cap.release()
    return frames


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    def xywh(z: np.ndarray) -> np.ndarray:
        return np.column_stack([z[:, :2], z[:, 2:4] - z[:, :2]]).astype(np.float64)

    return iou_xywh(xywh(a), xywh(b))


@pytest.mark.gpu
@needs_gpu
def test_fp16_detector_finds_what_onnxruntime_finds(vtest_video: Path) -> None:
    from edge.inference.factory import create_detector

    frames = _frames(vtest_video)
    cpu = create_detector("onnxruntime").detect(frames)
    gpu = create_detector("tensorrt").detect(frames)
    for ours, theirs in zip(gpu, cpu, strict=True):
        confident = theirs[theirs[:, 4] >= 0.5]
        assert len(confident) > 0
        # Every confident CPU detection has an FP16 twin.
        assert (_iou(confident[:, :4], ours[:, :4]).max(axis=1) >= 0.9).all()


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("preset", ["pedestrian", "coco"])
def test_each_profile_gets_its_own_engine_at_its_size(vtest_video: Path, preset: str) -> None:
    """ByteTrack's 608x1088 export built at 416x544 (symbolic H/W), COCO YOLOX at its own 416x416."""
    from edge.inference.factory import create_detector

    profile = PRESETS[preset]
    frames = _frames(vtest_video, 2)
    gpu = create_detector("tensorrt", profile)
    assert gpu.input_size == profile.input_size  # type: ignore[attr-defined]
    cpu = create_detector("onnxruntime", profile).detect(frames)
    for ours, theirs in zip(gpu.detect(frames), cpu, strict=True):
        confident = theirs[theirs[:, 4] >= 0.5]
        assert len(confident) > 0 and (_iou(confident[:, :4], ours[:, :4]).max(axis=1) >= 0.9).all()


@pytest.mark.gpu
@needs_gpu
def test_one_model_at_two_sizes_caches_two_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edge.inference.factory import create_detector
    from shared.paths import model_dir

    # A fresh engine cache; the models stay where they are.
    monkeypatch.setenv("MALLFLOW_MODEL_DIR", str(model_dir()))
    monkeypatch.setenv("MALLFLOW_CACHE_DIR", str(tmp_path))
    for size in ((416, 544), (384, 512)):
        create_detector("tensorrt", PRESETS["pedestrian"].model_copy(update={"input_size": size}))
    names = sorted(p.name for p in tmp_path.rglob("*.engine"))
    assert len(names) == 2 and names[0].endswith("-384x512.engine") and names[1].endswith("-416x544.engine")


@pytest.mark.gpu
@needs_gpu
def test_fp16_embeddings_match_onnxruntime(vtest_video: Path) -> None:
    from edge.inference.factory import create_embedder

    frame = _frames(vtest_video, 1)[0]
    boxes = np.array([[100, 100, 160, 260], [400, 200, 450, 330]], dtype=np.float32)
    cpu = create_embedder("onnxruntime").embed(frame, boxes)
    gpu = create_embedder("tensorrt").embed(frame, boxes)
    assert (np.sum(cpu * gpu, axis=1) > 0.99).all()


@pytest.mark.skipif(HAS_TENSORRT, reason="TensorRT is installed here")
def test_build_engine_without_the_nvidia_stack_says_what_is_needed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "build-engine"]) == 2
    assert "needs NVIDIA hardware" in capsys.readouterr().err


@pytest.mark.parametrize("layout", ["video", "folder"])
def test_calibration_frames_are_spread_over_the_recording(tmp_path: Path, layout: str) -> None:
    """Ten frames whose grey level is their number; three wanted: the first, the middle, the last."""
    images = [np.full((48, 64, 3), 20 * k, np.uint8) for k in range(10)]
    if layout == "video":
        recording = tmp_path / "site.avi"
        writer = cv2.VideoWriter(str(recording), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
        for image in images:
            writer.write(image)
        writer.release()
    else:
        recording = tmp_path / "frames"
        recording.mkdir()
        for k, image in enumerate(images):
            cv2.imwrite(str(recording / f"{k + 1}.png"), image)
    picked = read_frames(recording, 3)
    assert [round(float(image.mean()) / 20) for image in picked] == [0, 4, 9]


def test_calibration_frames_from_nothing_say_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"video file .*missing\.avi does not exist"):
        read_frames(tmp_path / "missing.avi", 8)


def test_int8_needs_calibration_frames(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "build-engine", "--precision", "int8"]) == 2
    assert "--precision int8 needs --calibration-video" in capsys.readouterr().err


def test_an_unknown_preset_is_named_before_the_hardware_is_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "build-engine", "--detector", "faces"]) == 2
    assert "unknown detector preset 'faces'; presets: coco, pedestrian" in capsys.readouterr().err


PEDESTRIAN = InputConvention(rgb=True, scale=1 / 255, center=False, mean=IMAGENET_MEAN, std=IMAGENET_STD)
COCO = InputConvention(rgb=False, scale=1.0, center=False)


def _site_file(tmp_path: Path, reid: bool = True) -> Path:
    cameras: list[dict[str, object]] = [
        {"id": "a", "source": "/v/a.mp4", "floor": "g"},
        {"id": "b", "source": "/v/b.mp4", "floor": "g", "detector": "coco"},
        # Another threshold, the same engine as a's.
        {"id": "c", "source": "/v/c.mp4", "floor": "g", "detector": {"preset": "pedestrian", "score_threshold": 0.3}},
        {"id": "d", "source": "/v/d.mp4", "floor": "g", "detector": {"preset": "coco", "input_size": [640, 640]}},
        {"id": "e", "source": "/v/e.mp4", "floor": "g", "detector": {"preset": "coco", "input_size": [320, 320]}},
    ]
    cameras[-1]["enabled"] = False
    site = {
        "site": {"id": "s"},
        "floors": [{"id": "g"}],
        "detector": "pedestrian",
        "cameras": cameras,
        "tracking": {"reid": reid},
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def test_a_sites_engines_are_its_enabled_cameras_distinct_profiles(tmp_path: Path) -> None:
    targets = engine_targets(_site_file(tmp_path), [], [])
    assert [(t.label, t.model, t.input_size, t.reid, t.convention) for t in targets] == [
        ("bytetrack_nano_mix 416x544 (cameras a, c)", "bytetrack_nano_mix", (416, 544), False, PEDESTRIAN),
        ("yolox_nano 416x416 (cameras b)", "yolox_nano", (416, 416), False, COCO),
        # One model at another size: another engine.
        ("yolox_nano 640x640 (cameras d)", "yolox_nano", (640, 640), False, COCO),
        ("osnet_x0_25_msmt17", "osnet_x0_25_msmt17", (256, 128), True, None),
    ]
    assert not any(t.reid for t in engine_targets(_site_file(tmp_path, reid=False), [], []))


def test_presets_models_and_the_default(tmp_path: Path) -> None:
    # A preset the site already runs is built once; a --model at its file's own size.
    both = engine_targets(_site_file(tmp_path, reid=False), ["pedestrian", "coco"], ["bytetrack_nano_mix"])
    assert [(t.model, t.input_size) for t in both] == [
        ("bytetrack_nano_mix", (416, 544)),
        ("yolox_nano", (416, 416)),
        ("yolox_nano", (640, 640)),
        ("bytetrack_nano_mix", None),
    ]
    assert [(t.model, t.input_size, t.reid) for t in engine_targets(None, [], [])] == [
        ("bytetrack_nano_mix", (416, 544), False),
        ("osnet_x0_25_msmt17", (256, 128), True),
    ]
    assert [t.reid for t in engine_targets(None, [], ["osnet_x0_25_msmt17", "yolox_nano"])] == [True, False]


def test_int8_calibration_needs_one_known_preprocessing_per_engine() -> None:
    check_calibratable(engine_targets(None, ["pedestrian", "coco"], []))
    bgr = EngineTarget("bytetrack bgr", "bytetrack_nano_mix", (416, 544), convention=COCO)
    rgb = EngineTarget("bytetrack rgb", "bytetrack_nano_mix", (416, 544), convention=PEDESTRIAN)
    with pytest.raises(UsageError, match="bytetrack bgr and bytetrack rgb run one model at one size"):
        check_calibratable([bgr, rgb])
    with pytest.raises(UsageError, match=r"people\.onnx states no preprocessing to calibrate with"):
        check_calibratable(engine_targets(None, [], ["people.onnx"]))


def test_calibration_batches_are_preprocessed_as_the_profile_says() -> None:
    """The blobs INT8 calibrates on are what the engine sees at run time (not YOLOX's BGR 0-255 for every model)."""
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2] = 10, 120, 250  # B, G, R
    images = [frame] * 3
    pedestrian, coco, reid = engine_targets(None, ["pedestrian", "coco"], ["osnet_x0_25_msmt17"])

    blobs = calibration_batches(images, pedestrian, (416, 544), batch=2)
    assert [b.shape for b in blobs] == [(2, 3, 416, 544), (1, 3, 416, 544)]
    rgb = np.array([250, 120, 10]) / 255
    np.testing.assert_allclose(blobs[0][0, :, 0, 0], (rgb - IMAGENET_MEAN) / IMAGENET_STD, rtol=1e-5)
    # Letterboxed top-left: 320x240 fills 544 wide at 408 high, the grey pad below it.
    grey = (114 / 255 - np.array(IMAGENET_MEAN)) / IMAGENET_STD
    np.testing.assert_allclose(blobs[0][0, :, 407, 0], (rgb - IMAGENET_MEAN) / IMAGENET_STD, rtol=1e-5)
    np.testing.assert_allclose(blobs[0][0, :, 408, 0], grey, rtol=1e-5)

    (raw,) = calibration_batches(images, coco, (416, 416), batch=8)
    assert raw.shape == (3, 3, 416, 416) and raw[0, :, 0, 0].tolist() == [10, 120, 250]

    (crops,) = calibration_batches(images, reid, (256, 128), batch=8)
    np.testing.assert_allclose(crops[0, :, 0, 0], (rgb - IMAGENET_MEAN) / IMAGENET_STD, rtol=1e-5)


def test_build_engine_for_a_site_reads_it_before_asking_for_the_hardware(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"site": {"id": "s"}, "floors": [{"id": "g"}], "detector": "faces", "cameras": []}))
    assert main(["models", "build-engine", "--config", str(bad)]) == 2
    assert "unknown detector preset 'faces'" in capsys.readouterr().err
    if not HAS_TENSORRT:
        assert main(["models", "build-engine", "--config", str(_site_file(tmp_path))]) == 2
        assert "needs NVIDIA hardware" in capsys.readouterr().err


# The backend's calls against a stand-in TensorRT: what it parses, profiles and feeds


@pytest.fixture
def stand_in_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """edge.inference.tensorrt imported over mocks of tensorrt and pycuda (the real ones need a GPU)."""
    trt = ModuleType("tensorrt")
    trt.IInt8EntropyCalibrator2 = type("IInt8EntropyCalibrator2", (), {"__init__": lambda self: None})  # type: ignore[attr-defined]
    for name in ("Logger", "Builder", "OnnxParser", "Runtime", "MemoryPoolType", "BuilderFlag", "TensorIOMode"):
        setattr(trt, name, MagicMock())
    trt.__version__ = "10.3.0"  # type: ignore[attr-defined]
    pycuda, driver = ModuleType("pycuda"), MagicMock()
    pycuda.driver = driver  # type: ignore[attr-defined]
    modules = {
        "tensorrt": trt,
        "pycuda": pycuda,
        "pycuda.autoinit": ModuleType("pycuda.autoinit"),
        "pycuda.driver": driver,
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    # Put back by hand: monkeypatch records nothing for a key (or attribute) that was absent.
    name = "edge.inference.tensorrt"
    package = importlib.import_module("edge.inference")
    original, original_attr = sys.modules.pop(name, None), package.__dict__.get("tensorrt")
    try:
        yield importlib.import_module(name)
    finally:
        sys.modules.pop(name, None)
        package.__dict__.pop("tensorrt", None)
        if original is not None:
            sys.modules[name] = original
        if original_attr is not None:
            package.tensorrt = original_attr  # type: ignore[attr-defined]


def _input_dims(model: bytes) -> list[str | int]:
    dims = onnx.load_from_string(model).graph.input[0].type.tensor_type.shape.dim
    return [d.dim_param or d.dim_value for d in dims]


def test_build_engine_profiles_the_requested_size_even_for_a_fixed_export(
    stand_in_backend: ModuleType, tmp_path: Path
) -> None:
    trt = sys.modules["tensorrt"]
    builder = trt.Builder.return_value
    builder.build_serialized_network.return_value = b"serialized"
    builder.create_network.return_value.get_input.return_value.name = "images"
    parse = trt.OnnxParser.return_value.parse
    parse.return_value = True
    profile = builder.create_optimization_profile.return_value

    # ByteTrack's 608x1088 export at the pedestrian profile's 416x544: parsed with symbolic H and W.
    bytetrack = model_path("bytetrack_nano_mix")
    engine = stand_in_backend.build_engine(bytetrack, tmp_path / "b.engine", EngineSpec("fp16", 4, 8), (3, 416, 544))
    assert engine.read_bytes() == b"serialized"
    assert _input_dims(parse.call_args.args[0]) == [1, 3, "height", "width"]
    profile.set_shape.assert_called_once_with("images", (1, 3, 416, 544), (4, 3, 416, 544), (8, 3, 416, 544))

    # At the export's own size the file is parsed as it is.
    yolox = model_path("yolox_nano")
    stand_in_backend.build_engine(yolox, tmp_path / "y.engine", EngineSpec("fp16", 4, 8), (3, 416, 416))
    assert parse.call_args.args[0] == yolox.read_bytes()


def test_detector_runs_at_the_profiles_size_with_its_preprocessing(
    stand_in_backend: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    size = PRESETS["pedestrian"].input_size
    fed: list[np.ndarray] = []

    class Runner:
        max_batch = 8

        def __init__(self, engine: Path, chw: tuple[int, int, int], max_batch: int) -> None:
            assert chw == (3, *size)

        def run(self, blob: np.ndarray) -> np.ndarray:
            fed.append(blob)
            return np.zeros((len(blob), anchor_count(size), 6), dtype=np.float32)

    built: list[tuple[int, int, int]] = []

    def cached_engine(path: Path, spec: EngineSpec, chw: tuple[int, int, int], calibrator: object = None) -> Path:
        built.append(chw)
        return tmp_path / "d.engine"

    monkeypatch.setattr(stand_in_backend, "EngineRunner", Runner)
    monkeypatch.setattr(stand_in_backend, "cached_engine", cached_engine)
    detector = stand_in_backend.TensorRTDetector(
        model_path("bytetrack_nano_mix"), model_id="bytetrack", input_size=size, convention=PEDESTRIAN
    )
    # The file says 608x1088; the engine is built, and frames are letterboxed, at the profile's size.
    assert detector.input_size == size and built == [(3, *size)]
    assert detector.convention == PEDESTRIAN and detector.layout == "yolox"
    frame = np.full((240, 320, 3), 128, dtype=np.uint8)
    assert [len(boxes) for boxes in detector.detect([frame])] == [0]
    np.testing.assert_allclose(fed[-1][0, :, 0, 0], (128 / 255 - np.array(IMAGENET_MEAN)) / IMAGENET_STD, rtol=1e-5)

    # Without a convention, the output layout's (YOLOX: BGR 0-255).
    fallback = stand_in_backend.TensorRTDetector(model_path("bytetrack_nano_mix"), model_id="b", input_size=size)
    assert fallback.convention == COCO
    with pytest.raises(ValueError, match="must be a multiple of 32"):
        stand_in_backend.TensorRTDetector(model_path("bytetrack_nano_mix"), model_id="b", input_size=(400, 544))
