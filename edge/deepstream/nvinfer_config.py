"""nvinfer configuration files for our two models, generated instead of hand-kept.

The primary nvinfer runs the detector and attaches its raw output as tensor meta
(`output-tensor-meta=1`, `network-type=100`: no built-in parser), so the CPU path's
decoder turns it into boxes; the secondary runs OSNet on each person object and attaches
the embedding the same way. Preprocessing mirrors what the ONNX backends do, from the
detector profile (`shared.config.detector`): the pedestrian preset's ByteTrack model takes
RGB /255 normalised by ImageNet mean and std, COCO YOLOX BGR 0-255, both letterboxed
top-left (`maintain-aspect-ratio=1`, `symmetric-padding=0`); OSNet takes RGB normalised
by ImageNet mean and std. nvinfer has one scale factor for all channels, so a per-channel
std is approximated by the mean of the three deviations.
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from pathlib import Path

from edge.inference.decoders import AUTO, INPUT_CONVENTIONS, Layout
from edge.inference.engine_cache import EngineSpec
from edge.inference.preprocess import InputConvention
from shared.config.detector import IMAGENET_MEAN, IMAGENET_STD, DetectorProfile

# nvinfer's network-mode values.
_NETWORK_MODE = {"fp32": 0, "int8": 1, "fp16": 2}
# nvinfer's model-color-format values.
_RGB, _BGR = 0, 1
PERSON_CLASS = 0
REID_CONVENTION = InputConvention(rgb=True, scale=1 / 255, center=False, mean=IMAGENET_MEAN, std=IMAGENET_STD)


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


def detector_convention(profile: DetectorProfile) -> InputConvention:
    """The profile's pixel convention, known before the engine runs (nvinfer's config is written first).

    The CPU backends fall back to the convention of the output layout they detect at load;
    here the layout must be named when the profile states no preprocessing.
    """
    preprocessing = profile.resolved_preprocessing()
    if preprocessing is not None:
        return InputConvention.from_config(preprocessing)
    if profile.layout == AUTO:
        raise ValueError(
            f"the deepstream engine needs to know how detector {profile.model!r} wants its pixels: "
            "give the detector profile a preprocessing or a layout (yolox, ultralytics, end2end)"
        )
    return INPUT_CONVENTIONS[Layout(profile.layout)]


def _decimal(value: float) -> str:
    # Nine significant digits: float noise (0.485 * 255 = 123.67499999999998) stays out of the file.
    return f"{value:.9g}"


def nvinfer_preprocessing(convention: InputConvention) -> dict[str, str | int | float]:
    """model-color-format, net-scale-factor, offsets and letterbox keys computing `convention` in nvinfer.

    nvinfer computes y = net-scale-factor * (x - offsets) on 0-255 pixels x of the
    configured colour order. The model wants ((x * s) - m) / d = (s / d) * (x - m / s) for
    scale s and per-channel mean m and std d (in 0-1 space after the scale), so offsets =
    m / s per channel and net-scale-factor = s / d, with d the mean of the three
    deviations: nvinfer has a single factor, which approximates per-channel std (as the
    OSNet secondary always has; the ImageNet deviations differ by under 2%). Without mean
    and std it is plain x * s.

    nvinfer pads the letterbox with black (0), not the model's pad value (114 for YOLOX and
    ByteTrack, `Preprocessing.pad_value`), before the normalisation above; the padding lies
    outside the picture, so the difference mostly shifts scores near the picture's padded edge.
    """
    s = convention.scale
    offsets = (0.0, 0.0, 0.0) if convention.mean is None else tuple(m / s for m in convention.mean)
    factor = s if convention.std is None else s / (sum(convention.std) / len(convention.std))
    return {
        "model-color-format": _RGB if convention.rgb else _BGR,
        "net-scale-factor": _decimal(factor),
        "offsets": ";".join(_decimal(o) for o in offsets),
        "maintain-aspect-ratio": 1,
        # 1 centres the image (Ultralytics); 0 keeps it top-left (YOLOX, ByteTrack).
        "symmetric-padding": 1 if convention.center else 0,
    }


def detector_config(model: NvinferModel, profile: DetectorProfile, *, interval: int = 0, unique_id: int = 1) -> str:
    """Primary nvinfer for the profile's person detector; `interval` frames are skipped between inferences."""
    if interval < 0:
        raise ValueError(f"interval must be >= 0, got {interval}")
    h, w = profile.input_size
    props = _common(model, unique_id)
    props |= {"process-mode": 1, "infer-dims": f"3;{h};{w}"}
    props |= nvinfer_preprocessing(detector_convention(profile))
    props["interval"] = interval
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
    }
    props |= nvinfer_preprocessing(REID_CONVENTION)
    props |= {
        # Crops are stretched to the input, as the model was trained.
        "maintain-aspect-ratio": 0,
        "input-object-min-width": min_size_px[0],
        "input-object-min-height": min_size_px[1],
    }
    return _render(props)
