"""`mallflow models build-engine`: TensorRT engines for this box, built ahead of the first start.

    mallflow models build-engine [--model yolox_nano] [--precision fp16|int8|fp32] [--max-batch 8]
                                 [--calibration-video site-sample.mp4 --calibration-frames 256]

The engine lands in the cache under a name keyed by the model's bytes, the TensorRT version,
the GPU and the build settings (edge/inference/engine_cache.py): `mallflow edge run --engine
tensorrt` then loads it instead of building it. INT8 calibrates on frames of the site's own
cameras, so the quantisation fits the light and the scenes it will see.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from shared.cli.errors import UsageError

PRECISIONS = ("fp16", "int8", "fp32")


def register(msub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = msub.add_parser("build-engine", help="build and cache TensorRT engines on this NVIDIA machine")
    b.add_argument("--model", action="append", default=[], help="catalogued model name or ONNX file (default: both)")
    b.add_argument("--precision", choices=PRECISIONS, default="fp16")
    b.add_argument("--max-batch", type=int, default=8, help="largest batch of the dynamic profile")
    b.add_argument("--calibration-video", type=Path, default=None, help="INT8: a recording of the site's cameras")
    b.add_argument("--calibration-frames", type=int, default=256, help="INT8: frames sampled from it")
    b.set_defaults(handler=_build)


def _calibration_batches(video: Path, frames: int, input_size: tuple[int, int], batch: int) -> list[object]:
    import cv2
    import numpy as np

    from edge.inference.decoders import INPUT_CONVENTIONS, Layout
    from edge.inference.preprocess import detector_blob

    cap = cv2.VideoCapture(str(video))
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or frames
    wanted = set(np.linspace(0, total - 1, min(frames, total)).astype(int).tolist())
    images = []
    for index in range(total):
        ok, image = cap.read()
        if not ok:
            break
        if index in wanted:
            images.append(np.asarray(image, dtype=np.uint8))
    cap.release()
    if not images:
        raise UsageError(f"no frames could be read from {video}")
    convention = INPUT_CONVENTIONS[Layout.YOLOX]
    return [detector_blob(images[i : i + batch], input_size, convention)[0] for i in range(0, len(images), batch)]


def _build(args: argparse.Namespace) -> int:
    from edge.inference.engine_cache import EngineSpec
    from edge.inference.factory import resolve_model, tensorrt_backend

    if args.precision == "int8" and args.calibration_video is None:
        raise UsageError("--precision int8 needs --calibration-video (frames of the site's cameras)")
    try:
        trt = tensorrt_backend()
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    spec = EngineSpec(args.precision, opt_batch=max(1, args.max_batch // 2), max_batch=args.max_batch)
    for name in args.model or ["yolox_nano", "osnet_x0_25_msmt17"]:
        path, _ = resolve_model(name)
        _, channels, h, w = trt.onnx_input_shape(path)
        chw = (channels or 3, h or 416, w or 416)
        calibrator = None
        if args.precision == "int8":
            batches = _calibration_batches(args.calibration_video, args.calibration_frames, chw[1:], args.max_batch)
            calibrator = trt.EntropyCalibrator(batches, path.with_suffix(".int8-calibration.cache"))
        print(f"{name}: {trt.cached_engine(path, spec, chw, calibrator)}")
    return 0
