"""`mallflow models build-engine`: TensorRT engines for this box, built ahead of the first start.

    mallflow models build-engine [--config SITE.yaml] [--detector pedestrian|coco ...] [--model NAME|FILE ...]
                                 [--precision fp16|int8|fp32] [--max-batch 8] [--reid-max-batch 32]
                                 [--calibration-video site-sample.mp4 --calibration-frames 256]

`--config` builds the engine of every distinct detector profile the site's enabled cameras
run, at the profile's input size, and OSNet's when the site tracks with ReID; `--detector`
the engine of a preset profile; `--model` a model file at its own input size. With none of
them: the default preset's detector and OSNet. Engines land in the cache under a name keyed
by the model's bytes, the TensorRT version, the GPU, the build settings and the input size
(edge/inference/engine_cache.py): `mallflow edge run --engine tensorrt` (detector batch 8)
or `--engine deepstream` (detector batch = the agent's cameras: pass `--max-batch`) then
loads them instead of building them. INT8 calibrates on frames of the site's own cameras,
preprocessed as the detector profile says, so the quantisation fits the light and the
scenes it will see.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shared.cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from edge.inference.preprocess import InputConvention
    from shared.config.detector import DetectorProfile

PRECISIONS = ("fp16", "int8", "fp32")
REID_MODEL = "osnet_x0_25_msmt17"


def register(msub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = msub.add_parser("build-engine", help="build and cache TensorRT engines on this NVIDIA machine")
    b.add_argument(
        "--config", type=Path, default=None, help="site YAML: the engines of its cameras' detector profiles (and ReID)"
    )
    b.add_argument("--detector", action="append", default=[], help="a detector preset (pedestrian, coco); repeatable")
    b.add_argument(
        "--model", action="append", default=[], help="catalogued model name or ONNX file, built at its own input size"
    )
    b.add_argument("--precision", choices=PRECISIONS, default="fp16")
    b.add_argument(
        "--max-batch", type=int, default=8, help="detectors' largest batch (8; deepstream: the agent's cameras)"
    )
    b.add_argument("--reid-max-batch", type=int, default=32, help="ReID's largest batch of person crops")
    b.add_argument(
        "--calibration-video",
        type=Path,
        default=None,
        help="INT8: a recording of the site's cameras (video file or folder of images)",
    )
    b.add_argument("--calibration-frames", type=int, default=256, help="INT8: frames sampled from it")
    b.set_defaults(handler=_build)


@dataclass(frozen=True)
class EngineTarget:
    """One engine to build."""

    # What the engine is for, as printed: the model, its input size and the cameras running it.
    label: str
    model: str
    # None: the ONNX file's own (fixed) input size.
    input_size: tuple[int, int] | None
    reid: bool = False
    # A detector's pixel convention, for INT8 calibration; None when the profile leaves it to
    # the output layout the engine reveals only once built.
    convention: InputConvention | None = None


def _profile_convention(profile: DetectorProfile) -> InputConvention | None:
    from edge.inference.decoders import AUTO, INPUT_CONVENTIONS, Layout
    from edge.inference.preprocess import InputConvention

    preprocessing = profile.resolved_preprocessing()
    if preprocessing is not None:
        return InputConvention.from_config(preprocessing)
    return None if profile.layout == AUTO else INPUT_CONVENTIONS[Layout(profile.layout)]


def _profile_target(profile: DetectorProfile, cameras: Sequence[str] = ()) -> EngineTarget:
    h, w = profile.input_size
    label = f"{profile.model} {h}x{w}" + (f" (cameras {', '.join(cameras)})" if cameras else "")
    return EngineTarget(label, profile.model, profile.input_size, convention=_profile_convention(profile))


def _reid_target() -> EngineTarget:
    from edge.inference.preprocess import REID_INPUT_SIZE

    return EngineTarget(REID_MODEL, REID_MODEL, REID_INPUT_SIZE, reid=True)


def _model_target(name: str) -> EngineTarget:
    from edge.inference.preprocess import InputConvention
    from shared.config.detector import MODEL_PREPROCESSING

    if name == REID_MODEL:
        return _reid_target()
    preprocessing = MODEL_PREPROCESSING.get(name)
    convention = None if preprocessing is None else InputConvention.from_config(preprocessing)
    return EngineTarget(name, name, None, convention=convention)


def engine_targets(config: Path | None, detectors: Sequence[str], models: Sequence[str]) -> list[EngineTarget]:
    """The engines asked for, each once: the site's profiles (cameras grouped), presets, then model files."""
    from edge.agent.detector_profile import detector_plan
    from shared.config import load_site_config
    from shared.config.detector import default_profile, preset

    targets: list[EngineTarget] = []
    if config is not None:
        site = load_site_config(config)
        # Profiles that differ only in thresholds or classes share one engine: their cameras with it.
        by_engine: dict[tuple[str, tuple[int, int], InputConvention | None], tuple[DetectorProfile, list[str]]] = {}
        for camera in site.cameras:
            if camera.enabled:
                profile = detector_plan(site, camera.id, "tensorrt").profile
                key = (profile.model, profile.input_size, _profile_convention(profile))
                by_engine.setdefault(key, (profile, []))[1].append(camera.id)
        targets += [_profile_target(profile, cameras) for profile, cameras in by_engine.values()]
        if site.tracking.reid:
            targets.append(_reid_target())
    for name in detectors:
        try:
            targets.append(_profile_target(preset(name)))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    targets += [_model_target(name) for name in models]
    if config is None and not detectors and not models:
        targets = [_profile_target(default_profile()), _reid_target()]
    unique: dict[tuple[str, tuple[int, int] | None, bool, InputConvention | None], EngineTarget] = {}
    for target in targets:
        unique.setdefault((target.model, target.input_size, target.reid, target.convention), target)
    return list(unique.values())


def check_calibratable(targets: Sequence[EngineTarget]) -> None:
    """UsageError unless every INT8 detector engine has one known pixel convention to calibrate with."""
    seen: dict[tuple[str, tuple[int, int] | None], EngineTarget] = {}
    for target in targets:
        if target.reid:
            continue
        if target.convention is None:
            raise UsageError(
                f"--precision int8: {target.label} states no preprocessing to calibrate with; build it through "
                "a site's detector profile (--config) that gives its preprocessing or layout"
            )
        # The cache key holds no preprocessing: one INT8 engine per model and size.
        other = seen.setdefault((target.model, target.input_size), target)
        if other.convention != target.convention:
            raise UsageError(
                f"--precision int8: {other.label} and {target.label} run one model at one size with different "
                "preprocessing, and a single INT8 engine cannot be calibrated for both"
            )


def read_frames(video: Path, frames: int) -> list[NDArray[np.uint8]]:
    """`frames` frames spread evenly over the video (or folder of images)."""
    import numpy as np

    from edge.sources.base import SourceError, SourceSpec
    from edge.sources.factory import open_source
    from shared.video_files import stated_frame_count

    total = stated_frame_count(str(video)) or frames
    wanted = set(np.linspace(0, total - 1, min(frames, total)).astype(int).tolist())
    images: list[NDArray[np.uint8]] = []
    try:
        # Which frames, not when: a rate stands in where the file states none.
        with open_source(SourceSpec("calibration", str(video), fps_hint=25.0), "opencv") as source:
            for frame in source:
                if frame.index >= total:
                    break
                if frame.index in wanted:
                    images.append(frame.image)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    if not images:
        raise UsageError(f"no frames could be read from {video}")
    return images


def calibration_batches(
    images: Sequence[NDArray[np.uint8]], target: EngineTarget, input_size: tuple[int, int], batch: int
) -> list[NDArray[np.floating]]:
    """The frames preprocessed as `target`'s model sees them at run time, in batches of at most `batch`."""
    from edge.inference.preprocess import detector_blob, reid_blob

    chunks = [images[i : i + batch] for i in range(0, len(images), batch)]
    if target.reid:
        # Whole frames stretched to the crop size: the scenes' pixel statistics, if not single persons'.
        return [reid_blob(chunk, input_size) for chunk in chunks]
    if target.convention is None:
        raise UsageError(f"{target.label}: no preprocessing known to calibrate with")
    return [detector_blob(chunk, input_size, target.convention)[0] for chunk in chunks]


def _build(args: argparse.Namespace) -> int:
    from edge.inference.engine_cache import EngineSpec, calibration_cache_path
    from edge.inference.factory import resolve_model, tensorrt_backend

    int8 = args.precision == "int8"
    if int8 and args.calibration_video is None:
        raise UsageError("--precision int8 needs --calibration-video (frames of the site's cameras)")
    if args.max_batch < 1 or args.reid_max_batch < 1:
        raise UsageError("--max-batch and --reid-max-batch must be >= 1")
    targets = engine_targets(args.config, args.detector, args.model)
    if int8:
        check_calibratable(targets)
    try:
        trt = tensorrt_backend()
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    images = read_frames(args.calibration_video, args.calibration_frames) if int8 else []
    for target in targets:
        max_batch = args.reid_max_batch if target.reid else args.max_batch
        spec = EngineSpec(args.precision, opt_batch=max(1, max_batch // 2), max_batch=max_batch)
        path, _ = resolve_model(target.model)
        _, channels, h, w = trt.onnx_input_shape(path)
        if target.input_size is not None:
            hw = target.input_size
        elif h is not None and w is not None:
            hw = (h, w)
        else:
            raise UsageError(
                f"{target.label} has a dynamic input size: build it through a detector profile (--config or --detector)"
            )
        chw = (channels or 3, *hw)
        calibrator = None
        if int8:
            cache = calibration_cache_path(trt.engine_cache_file(path, spec, chw))
            calibrator = trt.EntropyCalibrator(calibration_batches(images, target, hw, max_batch), cache)
        print(f"{target.label}: {trt.cached_engine(path, spec, chw, calibrator)}")
    return 0
