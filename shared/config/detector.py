"""Detector profiles: which model a camera runs, at what input size, with what pixels and thresholds.

A site names a profile once (`detector:`) and a camera may name its own. A profile is a
preset name (`pedestrian`, `coco`) or a mapping; a mapping may start from a preset
(`preset: pedestrian`) and change some fields. Preprocessing left out is the catalogued
model's (`shared.assets.models`), or the output layout's convention for a model file the
catalogue does not know.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.assets.models import MODELS

# The detection heads' largest stride: input sides must be multiples of it.
INPUT_STRIDE = 32


class Letterbox(StrEnum):
    TOP_LEFT = "top-left"  # YOLOX and ByteTrack: image top-left, padding right and below
    CENTER = "center"  # Ultralytics: padding split on both sides


class Preprocessing(BaseModel):
    """What a model expects of its input pixels (from 0-255 BGR frames)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    channels: Literal["bgr", "rgb"]
    # Multiplies the 0-255 pixel values (1/255 for models trained on 0-1 inputs).
    scale: float = Field(gt=0)
    # Per channel, in `channels` order, applied after `scale`: (x - mean) / std.
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    letterbox: Letterbox = Letterbox.TOP_LEFT
    pad_value: int = Field(default=114, ge=0, le=255)

    @model_validator(mode="after")
    def _std_positive(self) -> Self:
        if self.std is not None and min(self.std) <= 0:
            raise ValueError(f"std must be positive per channel, got {list(self.std)}")
        return self


# ImageNet statistics of 0-1 RGB, as ByteTrack's detector was trained.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Per catalogued detector: how far below the soles its boxes reach, as a fraction of box
# height. ByteTrack's model learnt MOT17/CrowdHuman boxes, which pad the whole body: on
# PETS09-S2L1 its matched boxes end a median 0.033 of their height below the annotated
# soles (0.041 with people half the size); COCO's YOLOX-Nano 0.002 (0.012).
# tests/bench/foot_margin.py measures it; BENCHMARKS.md, "Where the feet are".
MODEL_FOOT_MARGIN: dict[str, float] = {"bytetrack_nano_mix": 0.03, "yolox_nano": 0.0}

# Per catalogued detector: its training-time preprocessing.
MODEL_PREPROCESSING: dict[str, Preprocessing] = {
    # YOLOX >= 0.1.1 trains on raw BGR 0-255.
    "yolox_nano": Preprocessing(channels="bgr", scale=1.0),
    "bytetrack_nano_mix": Preprocessing(channels="rgb", scale=1 / 255, mean=IMAGENET_MEAN, std=IMAGENET_STD),
}


class DetectorProfile(BaseModel):
    """One detector configuration; `model` is a catalogue name (`mallflow models list`) or a file path."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, protected_namespaces=())

    model: str = Field(min_length=1)
    # (height, width) the frame is letterboxed into; multiples of 32. The ONNX loader makes
    # a fixed-size export's spatial axes symbolic, so any size runs.
    input_size: tuple[int, int]
    layout: Literal["auto", "yolox", "ultralytics", "end2end"] = "auto"
    # None: the catalogued model's, or the layout's convention for an uncatalogued file.
    preprocessing: Preprocessing | None = None
    # Boxes below this score are dropped at decode (BoT-SORT's second association uses
    # those between it and tracking.track_high_thresh).
    score_threshold: float = Field(default=0.1, ge=0, le=1)
    nms_iou: float = Field(default=0.45, gt=0, le=1)
    # Class ids kept (person = 0 for COCO and the one-class pedestrian model); None keeps all.
    classes: tuple[int, ...] | None = (0,)
    # Grow `input_size` for a camera whose frame is larger than the one it suits
    # (`fitted_input_size`), so people keep their size in the network. On for the presets;
    # off where a site sets `input_size` itself, which then is what runs.
    fit_to_frame: bool = False
    # The model's boxes reach this fraction of their height below the soles; foot points
    # are raised by it. None: the catalogued model's (MODEL_FOOT_MARGIN), 0 for other files.
    foot_margin: float | None = Field(default=None, ge=0, le=0.2)

    @field_validator("input_size")
    @classmethod
    def _multiple_of_stride(cls, v: tuple[int, int]) -> tuple[int, int]:
        h, w = v
        if h <= 0 or w <= 0 or h % INPUT_STRIDE or w % INPUT_STRIDE:
            raise ValueError(f"input_size (height, width) must be positive multiples of {INPUT_STRIDE}, got {h}x{w}")
        return v

    @field_validator("classes")
    @classmethod
    def _classes(cls, v: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if v is not None and (not v or min(v) < 0):
            raise ValueError("classes must list non-negative class ids, or be null to keep every class")
        return v

    @property
    def catalogued(self) -> bool:
        return self.model in MODELS

    def resolved_preprocessing(self) -> Preprocessing | None:
        """The preprocessing to use; None leaves it to the output layout's convention."""
        return self.preprocessing or MODEL_PREPROCESSING.get(self.model)

    def resolved_foot_margin(self) -> float:
        """How far above its box's bottom edge a person's soles are, as a fraction of box height."""
        return self.foot_margin if self.foot_margin is not None else MODEL_FOOT_MARGIN.get(self.model, 0.0)

    def for_frame(self, frame_hw: tuple[int, int] | None) -> DetectorProfile:
        """This profile for a camera whose frames are `frame_hw` (height, width): its input
        fitted to them if `fit_to_frame`; unchanged where the size is unknown (a live source)."""
        if not self.fit_to_frame or frame_hw is None:
            return self
        size = fitted_input_size(self.input_size, frame_hw)
        return self if size == self.input_size else self.model_copy(update={"input_size": size})

    @property
    def key(self) -> str:
        """Equal for profiles that can share one loaded detector (the foot margin is not the detector's)."""
        return self.model_dump_json(exclude={"foot_margin"})


PRESETS: dict[str, DetectorProfile] = {
    # ByteTrack's YOLOX-Nano trained on pedestrians (MOT17, CrowdHuman, CityPersons, ETHZ);
    # 416x544 keeps a 4:3 camera's aspect with little padding. BENCHMARKS.md compares it with coco.
    "pedestrian": DetectorProfile(model="bytetrack_nano_mix", input_size=(416, 544), layout="yolox", fit_to_frame=True),
    # YOLOX-Nano trained on COCO, person class only: permissive licence, lower recall on crowds.
    "coco": DetectorProfile(model="yolox_nano", input_size=(416, 416), layout="yolox", fit_to_frame=True),
}

DEFAULT_PRESET = "pedestrian"


def preset(name: str) -> DetectorProfile:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown detector preset {name!r}; presets: {', '.join(sorted(PRESETS))}") from None


def profile_from(raw: Any) -> Any:
    """A preset name, or a mapping optionally based on `preset:`, as DetectorProfile input."""
    if isinstance(raw, str):
        return preset(raw)
    if isinstance(raw, dict) and "preset" in raw:
        fields = dict(raw)
        base = preset(str(fields.pop("preset")))
        if "input_size" in fields:
            # An input size the site chose is the one that runs, unless it asks for fitting too.
            fields.setdefault("fit_to_frame", False)
        return base.model_dump() | fields
    return raw


def default_profile() -> DetectorProfile:
    return PRESETS[DEFAULT_PRESET]


# The presets' sizes suit a 768x576 camera: its frame enters the network at about 0.7 of
# its pixels, people ~57 px tall. A larger frame letterboxed into the same input shrinks its
# people with it: PETS09 padded onto a canvas twice its size (people half as large in the
# input) scored MOTA 70.8 / 33 ID switches at 416x544 and 89.2 / 4 at 832x1088
# (tests/bench/tracker_sweep.py --canvas 2, BENCHMARKS.md). The long side stops at the
# pedestrian model's own training width.
FIT_SCALE = 0.7
MAX_FITTED_SIDE = 1088


def fitted_input_size(base: tuple[int, int], frame_hw: tuple[int, int]) -> tuple[int, int]:
    """An input size (multiples of 32) that keeps a frame of `frame_hw` at FIT_SCALE of its pixels,
    its long side at most MAX_FITTED_SIDE; `base` where that is no larger (small frames)."""
    h, w = frame_hw
    if h <= 0 or w <= 0:
        raise ValueError(f"frame size must be positive, got {h}x{w}")
    scale = min(FIT_SCALE, MAX_FITTED_SIDE / max(h, w))
    fitted = (_stride_ceil(h * scale), _stride_ceil(w * scale))
    return fitted if fitted[0] * fitted[1] > base[0] * base[1] else base


def _stride_ceil(x: float) -> int:
    return INPUT_STRIDE * math.ceil(x / INPUT_STRIDE - 1e-9)
