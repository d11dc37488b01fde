"""The model files Mallflow runs, where they come from, and how to check them.

Weights are never committed. `MALLFLOW_MODEL_DIR` points at a folder holding them
(CI uses ../shared/models); `mallflow models fetch` downloads the ones that have an
official release URL and refuses any file whose sha256 differs from this catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shared.assets.checksum import sha256_of
from shared.assets.download import download_verified
from shared.paths import model_dir


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    sha256: str
    size_bytes: int
    role: str
    input_shape: str
    url: str | None
    how_to_obtain: str
    licence: str

    @property
    def model_id(self) -> str:
        """Stable id carried with embeddings: vectors of different models are never compared."""
        return f"{self.name}@{self.sha256[:8]}"


MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in (
        ModelSpec(
            name="yolox_nano",
            filename="yolox_nano.onnx",
            sha256="e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd",
            size_bytes=3_678_356,
            role="person detector (COCO class 0)",
            input_shape="1x3x416x416 BGR 0-255, letterboxed, pad 114",
            url="https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx",
            how_to_obtain="YOLOX release 0.1.1rc0 asset yolox_nano.onnx",
            licence="Apache-2.0",
        ),
        ModelSpec(
            name="bytetrack_nano_mix",
            filename="bytetrack_nano_mix.onnx",
            sha256="c16d43c3e067703d9327aee1f14305107c3d6bdc54a65789bdf0b7a0aca10ebf",
            size_bytes=3_674_563,
            role="pedestrian detector (one class), the default",
            input_shape="1x3x608x1088 RGB /255, ImageNet mean/std, letterboxed top-left, pad 114 (any multiple of 32)",
            url=None,
            how_to_obtain=(
                "ByteTrack's YOLOX-Nano 'mix' checkpoint (bytetrack_nano_mot17 release) exported with "
                "ByteTrack's tools/export_onnx.py"
            ),
            licence=(
                "code MIT (ByteTrack) / Apache-2.0 (YOLOX); training data (CrowdHuman, MOT17) licensed for "
                "non-commercial research only: clear the weights' use before a commercial deployment"
            ),
        ),
        ModelSpec(
            name="osnet_x0_25_msmt17",
            filename="osnet_x0_25_msmt17.onnx",
            sha256="61b2604171ef9d58d21758626f83b35a253c3d7123976523a6e03068c3c95d7b",
            size_bytes=921_616,
            role="person re-identification embeddings (512-d)",
            input_shape="Nx3x256x128 RGB, ImageNet mean/std",
            url=None,
            how_to_obtain=(
                "export BoxMOT's osnet_x0_25_msmt17.pt to ONNX with a dynamic batch axis "
                "(boxmot export --weights osnet_x0_25_msmt17.pt --include onnx --dynamic)"
            ),
            licence="MIT",
        ),
    )
}


class ModelState(StrEnum):
    OK = "ok"
    MISSING = "missing"
    CHECKSUM_MISMATCH = "checksum mismatch"


class ModelNotFoundError(FileNotFoundError):
    pass


def model_path(name: str) -> Path:
    """Path of a catalogued model in MALLFLOW_MODEL_DIR; raises with instructions if absent."""
    spec = MODELS.get(name)
    if spec is None:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    path = model_dir() / spec.filename
    if not path.is_file():
        raise ModelNotFoundError(
            f"model file {path} not found. Set MALLFLOW_MODEL_DIR to a folder holding {spec.filename} "
            f"or run `mallflow models fetch` ({spec.how_to_obtain})"
        )
    return path


def check_model(spec: ModelSpec, directory: Path | None = None) -> ModelState:
    path = (directory or model_dir()) / spec.filename
    if not path.is_file():
        return ModelState.MISSING
    return ModelState.OK if sha256_of(path) == spec.sha256 else ModelState.CHECKSUM_MISMATCH


def fetch_model(spec: ModelSpec, directory: Path | None = None) -> Path:
    dest = (directory or model_dir()) / spec.filename
    if spec.url is None:
        raise ModelNotFoundError(f"{spec.name} has no download URL: {spec.how_to_obtain}, then place it at {dest}")
    return download_verified(spec.url, dest, spec.sha256)
