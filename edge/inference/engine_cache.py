"""Where a serialized TensorRT engine lives, and when it must be rebuilt.

An engine is only valid for the exact model bytes, TensorRT version, GPU and build
settings it was made with; all of them go into its file name, so a changed model, a
JetPack upgrade or a different Orin never loads a stale engine. Pure: no TensorRT here.
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


def engine_cache_key(model_sha256: str, tensorrt_version: str, device: str, spec: EngineSpec) -> str:
    """`<model sha 12>-trt<version>-<device>-<precision>-b<opt>x<max>`: readable, and unique per build."""
    if not re.fullmatch(r"[0-9a-f]{64}", model_sha256):
        raise ValueError(f"model_sha256 must be 64 hex digits, got {model_sha256!r}")
    return (
        f"{model_sha256[:12]}-trt{_slug(tensorrt_version)}-{_slug(device)}-"
        f"{spec.precision}-b{spec.opt_batch}x{spec.max_batch}"
    )


def engine_path(cache_dir: Path, model: Path, tensorrt_version: str, device: str, spec: EngineSpec) -> Path:
    """The engine file for this model and build in `cache_dir` (it may not exist yet)."""
    key = engine_cache_key(model_digest(model), tensorrt_version, device, spec)
    return cache_dir / f"{model.stem}-{key}.engine"
