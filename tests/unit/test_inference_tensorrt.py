"""The TensorRT backend against the ONNX Runtime one, on vtest.avi frames — on NVIDIA hardware only.

Run where TensorRT and pycuda are installed (a Jetson, or a CUDA GPU):
    .venv/bin/python -m pytest -m gpu tests/unit/test_inference_tensorrt.py
Elsewhere every test here skips with the reason; `mallflow models build-engine` still
answers with a clear error (tested below without the hardware).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.evaluation.metrics import iou_xywh
from shared.cli.main import main

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


def test_int8_needs_calibration_frames(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "build-engine", "--precision", "int8"]) == 2
    assert "--precision int8 needs --calibration-video" in capsys.readouterr().err
