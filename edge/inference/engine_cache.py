"""Where a serialized TensorRT engine lives, and when it must be rebuilt.

An engine is only valid for the exact model bytes, TensorRT version, GPU, build settings
and input height and width it was made with; all of them go into its file name, so a
changed model, a JetPack upgrade, a different Orin or a detector profile at another input
size never loads a stale engine. Pure: no TensorRT here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class EngineSpec:
    """The build settings that make two engines of one model differ."""

    precision: str
    # Dynamic batch profile: min 1, opt and max as given.
    opt_batch: int
    max_batch: int

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not 1 <= self.opt_batch <= self.max_batch:
            raise ValueError(f"batch sizes need 1 <= opt ({self.opt_batch}) <= max ({self.max_batch})")


def model_digest(model: Path) -> str:
    """SHA-256 of the model file, hex."""
    digest = hashlib.sha256()
    with model.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")
    if not slug:
        raise ValueError(f"{text!r} gives an empty name")
    return slug


def engine_cache_key(
    model_sha256: str, tensorrt_version: str, device: str, spec: EngineSpec, input_hw: tuple[int, int]
) -> str:
    """`<model sha 12>-trt<version>-<device>-<precision>-b<opt>x<max>-<height>x<width>`: readable, unique per build."""
    if not re.fullmatch(r"[0-9a-f]{64}", model_sha256):
        raise ValueError(f"model_sha256 must be 64 hex digits, got {model_sha256!r}")
    h, w = input_hw
    if h <= 0 or w <= 0:
        raise ValueError(f"input (height, width) must be positive, got {h}x{w}")
    return (
        f"{model_sha256[:12]}-trt{_slug(tensorrt_version)}-{_slug(device)}-"
        f"{spec.precision}-b{spec.opt_batch}x{spec.max_batch}-{h}x{w}"
    )


def engine_path(
    cache_dir: Path, model: Path, tensorrt_version: str, device: str, spec: EngineSpec, input_hw: tuple[int, int]
) -> Path:
    """The engine file for this model, build and input (height, width) in `cache_dir` (it may not exist yet)."""
    key = engine_cache_key(model_digest(model), tensorrt_version, device, spec, input_hw)
    return cache_dir / f"{model.stem}-{key}.engine"


def calibration_cache_path(engine: Path) -> Path:
    """Where the INT8 calibration of `engine` is kept: beside it, so it is per model, GPU and input size too.

    `mallflow models build-engine` writes it; nvinfer's `int8-calib-file` reads it.
    """
    return engine.with_suffix(".int8-calibration.cache")


def engine_input_hw(
    declared: tuple[int | None, int | None], requested: tuple[int, int] | None
) -> tuple[tuple[int, int], bool]:
    """The (height, width) to build for, and whether the model's fixed size must be made symbolic first.

    `declared` is the ONNX input's H and W (None for a dynamic axis); `requested` the
    detector profile's input size. A requested size wins over a fixed export size (the
    ByteTrack export says 608x1088 but runs at any multiple of 32).
    """
    if requested is None:
        h, w = declared
        if h is None or w is None:
            raise ValueError("the model has a dynamic input size: give input_size=(height, width)")
        return (h, w), False
    rh, rw = requested
    if rh <= 0 or rw <= 0:
        raise ValueError(f"input_size (height, width) must be positive, got {rh}x{rw}")
    fixed_elsewhere = any(d is not None and d != r for d, r in zip(declared, requested, strict=True))
    return (rh, rw), fixed_elsewhere
