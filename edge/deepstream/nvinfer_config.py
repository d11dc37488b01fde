"""nvinfer configuration files for our two models, generated instead of hand-kept.

The primary nvinfer runs the detector and attaches its raw output as tensor meta
(`output-tensor-meta=1`, `network-type=100`: no built-in parser), so the CPU path's
decoder turns it into boxes; the secondary runs OSNet on each person object and attaches
the embedding the same way. Preprocessing mirrors what the ONNX backends do:
YOLOX takes BGR 0-255 letterboxed top-left (`maintain-aspect-ratio=1`,
`symmetric-padding=0`); OSNet takes RGB normalised by ImageNet mean and std, which
nvinfer's single scale factor approximates with the mean of the three deviations.
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from pathlib import Path

from edge.inference.engine_cache import EngineSpec
from edge.inference.preprocess import IMAGENET_MEAN, IMAGENET_STD

# nvinfer's network-mode values.
_NETWORK_MODE = {"fp32": 0, "int8": 1, "fp16": 2}
# nvinfer works on 0-255 pixels: the ImageNet constants of the CPU path, scaled.
IMAGENET_MEAN_RGB = tuple(round(m * 255, 3) for m in IMAGENET_MEAN)
IMAGENET_STD_RGB = tuple(round(s * 255, 3) for s in IMAGENET_STD)
PERSON_CLASS = 0


@dataclass(frozen=True)
class NvinferModel:
    onnx: Path
    engine: Path
    spec: EngineSpec
    # INT8 only: the calibration cache written by the engine builder.
    int8_calib_file: Path | None = None

    def __post_init__(self) -> None:
        if self.spec.precision == "int8" and self.int8_calib_file is None:
            raise ValueError("an INT8 engine needs int8_calib_file (the calibration cache)")


def _render(properties: dict[str, str | int | float]) -> str:
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # nvinfer keys are case- and dash-exact
    parser["property"] = {k: str(v) for k, v in properties.items()}
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def _common(model: NvinferModel, unique_id: int) -> dict[str, str | int | float]:
    props: dict[str, str | int | float] = {
        "gpu-id": 0,
        "onnx-file": str(model.onnx),
        "model-engine-file": str(model.engine),
        "batch-size": model.spec.max_batch,
        "network-mode": _NETWORK_MODE[model.spec.precision],
        "gie-unique-id": unique_id,
        "network-type": 100,
        "output-tensor-meta": 1,
    }
    if model.int8_calib_file is not None:
        props["int8-calib-file"] = str(model.int8_calib_file)
    return props


def detector_config(model: NvinferModel, input_size: tuple[int, int], *, interval: int = 0, unique_id: int = 1) -> str:
    """Primary nvinfer for the YOLOX person detector; `interval` frames are skipped between inferences."""
    if interval < 0:
        raise ValueError(f"interval must be >= 0, got {interval}")
    h, w = input_size
    props = _common(model, unique_id)
    props |= {
        "process-mode": 1,
        "infer-dims": f"3;{h};{w}",
        "model-color-format": 1,  # BGR
        "net-scale-factor": 1.0,
        "offsets": "0;0;0",
        "maintain-aspect-ratio": 1,
        "symmetric-padding": 0,
        "interval": interval,
    }
    return _render(props)


def reid_config(
    model: NvinferModel, *, operate_on_gie_id: int = 1, unique_id: int = 2, min_size_px: tuple[int, int] = (16, 32)
) -> str:
    """Secondary nvinfer running OSNet on every person the primary found."""
    props = _common(model, unique_id)
    props |= {
        "process-mode": 2,
        "operate-on-gie-id": operate_on_gie_id,
        "operate-on-class-ids": PERSON_CLASS,
        "infer-dims": "3;256;128",
        "model-color-format": 0,  # RGB
        "net-scale-factor": round(1.0 / (sum(IMAGENET_STD_RGB) / 3), 8),
        "offsets": ";".join(str(m) for m in IMAGENET_MEAN_RGB),
        "maintain-aspect-ratio": 0,
        "input-object-min-width": min_size_px[0],
        "input-object-min-height": min_size_px[1],
    }
    return _render(props)
