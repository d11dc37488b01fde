"""Detector profiles in the site YAML: presets, mappings with overrides, per-camera profiles, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import ConfigError, load_site_config, parse_site_config
from shared.config.detector import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PRESETS,
    DetectorProfile,
    Letterbox,
    fitted_input_size,
    profile_from,
)
from shared.config.site import SiteConfig

# Two cameras on one floor; each case appends top-level keys (or a camera's `detector:`).
SITE = """
site: {id: mall-1}
floors: [{id: f1}]
cameras:
  - {id: cam-a, source: "0", floor: f1}
  - {id: cam-b, source: "1", floor: f1}
"""


def site_with(snippet: str = "", camera_b: Any = None) -> dict[str, Any]:
    """SITE plus a YAML snippet at the top level and, when given, cam-b's own detector."""
    raw: dict[str, Any] = yaml.safe_load(SITE + snippet)
    if camera_b is not None:
        raw["cameras"][1]["detector"] = camera_b
    return raw


def parse(snippet: str = "", camera_b: Any = None) -> SiteConfig:
    return parse_site_config(site_with(snippet, camera_b), "mall.yaml")


PEDESTRIAN = PRESETS["pedestrian"]
COCO = PRESETS["coco"]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("", PEDESTRIAN),  # absent: the pedestrian preset
        ("detector: pedestrian", PEDESTRIAN),
        ("detector: coco", COCO),
        ("detector: {preset: pedestrian}", PEDESTRIAN),
        (
            "detector: {preset: coco, score_threshold: 0.3}",
            DetectorProfile(
                model="yolox_nano", input_size=(416, 416), layout="yolox", score_threshold=0.3, fit_to_frame=True
            ),
        ),
        (
            "detector: {preset: pedestrian, input_size: [608, 1088], classes: null}",
            DetectorProfile(model="bytetrack_nano_mix", input_size=(608, 1088), layout="yolox", classes=None),
        ),
        (
            # Spelt out: the preset's fields, its input size the one that runs.
            "detector: {model: yolox_nano, input_size: [416, 416], layout: yolox}",
            COCO.model_copy(update={"fit_to_frame": False}),
        ),
        (
            """
detector:
  model: /opt/models/yolov8n.onnx
  input_size: [640, 640]
  layout: ultralytics
  preprocessing: {channels: rgb, scale: 0.00392156862745098, mean: [0, 0, 0], std: [1, 1, 1], letterbox: center}
  score_threshold: 0.25
  nms_iou: 0.7
  classes: [0, 1]
""",
            DetectorProfile(
                model="/opt/models/yolov8n.onnx",
                input_size=(640, 640),
                layout="ultralytics",
                preprocessing={
                    "channels": "rgb",
                    "scale": 1 / 255,
                    "mean": (0.0, 0.0, 0.0),
                    "std": (1.0, 1.0, 1.0),
                    "letterbox": "center",
                },
                score_threshold=0.25,
                nms_iou=0.7,
                classes=(0, 1),
            ),
        ),
    ],
)
def test_site_detector(snippet: str, expected: DetectorProfile) -> None:
    site = parse(snippet)
    assert site.detector == expected
    # No camera names its own: both run the site's.
    assert site.detector_of("cam-a") == site.detector_of("cam-b") == expected


def test_default_is_the_pedestrian_preset() -> None:
    profile = parse().detector
    assert profile.model == "bytetrack_nano_mix"
    assert profile.input_size == (416, 544)
    assert profile.layout == "yolox"
    assert (profile.score_threshold, profile.nms_iou, profile.classes) == (0.1, 0.45, (0,))


def test_full_mapping_preprocessing() -> None:
    pre = parse(
        "detector: {model: m.onnx, input_size: [640, 640], "
        "preprocessing: {channels: rgb, scale: 0.5, mean: [0.1, 0.2, 0.3], std: [1, 2, 4], letterbox: center}}"
    ).detector.resolved_preprocessing()
    assert pre is not None
    assert (pre.channels, pre.scale, pre.mean, pre.std) == ("rgb", 0.5, (0.1, 0.2, 0.3), (1.0, 2.0, 4.0))
    assert pre.letterbox is Letterbox.CENTER
    assert pre.pad_value == 114


@pytest.mark.parametrize(
    ("site_detector", "camera_b", "expected_a", "expected_b"),
    [
        ("", "coco", PEDESTRIAN, COCO),
        ("", {"preset": "coco", "score_threshold": 0.3}, PEDESTRIAN, COCO.model_copy(update={"score_threshold": 0.3})),
        ("detector: coco", "pedestrian", COCO, PEDESTRIAN),
        (
            "detector: {preset: pedestrian, score_threshold: 0.2}",
            {"preset": "pedestrian", "input_size": [480, 640]},  # from the preset, not from the site's profile
            PEDESTRIAN.model_copy(update={"score_threshold": 0.2}),
            # Its own input size: the one that runs, not fitted to the frame.
            PEDESTRIAN.model_copy(update={"input_size": (480, 640), "fit_to_frame": False}),
        ),
        (
            "",
            {"model": "ceiling.onnx", "input_size": [320, 320]},
            PEDESTRIAN,
            # A model file path is taken relative to the site file (here: no file, the working directory).
            DetectorProfile(model=str(Path("ceiling.onnx").resolve()), input_size=(320, 320)),
        ),
    ],
)
def test_camera_override(
    site_detector: str, camera_b: Any, expected_a: DetectorProfile, expected_b: DetectorProfile
) -> None:
    site = parse(site_detector, camera_b)
    assert site.camera("cam-a").detector is None
    assert site.detector_of("cam-a") == expected_a
    assert site.detector_of("cam-b") == expected_b
    assert site.detector == expected_a  # the site default is unchanged by a camera's own


def test_detector_of_unknown_camera() -> None:
    with pytest.raises(KeyError, match="has no camera 'cam-z'"):
        parse().detector_of("cam-z")


@pytest.mark.parametrize(
    ("snippet", "channels", "scale", "mean", "std"),
    [
        ("detector: pedestrian", "rgb", 1 / 255, IMAGENET_MEAN, IMAGENET_STD),
        ("detector: coco", "bgr", 1.0, None, None),
        ("detector: {model: bytetrack_nano_mix, input_size: [608, 1088]}", "rgb", 1 / 255, IMAGENET_MEAN, IMAGENET_STD),
        ("detector: {preset: pedestrian, model: yolox_nano}", "bgr", 1.0, None, None),  # follows the model
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: 2}}",  # given: wins over the catalogue
            "rgb",
            2.0,
            None,
            None,
        ),
    ],
)
def test_resolved_preprocessing_of_catalogued_models(
    snippet: str,
    channels: str,
    scale: float,
    mean: tuple[float, float, float] | None,
    std: tuple[float, float, float] | None,
) -> None:
    pre = parse(snippet).detector.resolved_preprocessing()
    assert pre is not None
    assert (pre.channels, pre.mean, pre.std) == (channels, mean, std)
    assert pre.scale == pytest.approx(scale)
    assert pre.letterbox is Letterbox.TOP_LEFT


@pytest.mark.parametrize(
    ("snippet", "margin"),
    [
        ("detector: pedestrian", 0.03),
        ("detector: coco", 0.0),
        ("detector: {preset: pedestrian, model: yolox_nano}", 0.0),  # follows the model
        ("detector: {preset: pedestrian, foot_margin: 0.05}", 0.05),  # given: wins over the catalogue
        ("detector: {preset: pedestrian, foot_margin: 0}", 0.0),
        ("detector: {model: /opt/models/custom.onnx, input_size: [640, 640]}", 0.0),  # unknown file: none
    ],
)
def test_resolved_foot_margin(snippet: str, margin: float) -> None:
    assert parse(snippet).detector.resolved_foot_margin() == pytest.approx(margin)


def test_foot_margin_does_not_split_a_loaded_detector() -> None:
    changed = DetectorProfile.model_validate(profile_from({"preset": "pedestrian", "foot_margin": 0.05}))
    assert changed != PEDESTRIAN
    assert changed.key == PEDESTRIAN.key


def test_uncatalogued_model_without_preprocessing_leaves_it_to_the_layout() -> None:
    profile = parse("detector: {model: /opt/models/custom.onnx, input_size: [640, 640]}").detector
    assert not profile.catalogued
    assert profile.preprocessing is None
    assert profile.resolved_preprocessing() is None


@pytest.mark.parametrize(
    ("snippet", "camera_b", "expected"),
    [
        ("detector: fast", None, "detector: unknown detector preset 'fast'; presets: coco, pedestrian"),
        ("detector: {preset: yolo}", None, "detector: unknown detector preset 'yolo'; presets: coco, pedestrian"),
        ("", "fast", "cameras[1].detector: unknown detector preset 'fast'; presets: coco, pedestrian"),
        (
            "detector: {preset: coco, input_size: [400, 544]}",
            None,
            "detector.input_size: input_size (height, width) must be positive multiples of 32, got 400x544",
        ),
        (
            "detector: {model: m.onnx, input_size: [416, 500]}",
            None,
            "detector.input_size: input_size (height, width) must be positive multiples of 32, got 416x500",
        ),
        ("detector: {model: m.onnx, input_size: [-32, 544]}", None, "must be positive multiples of 32, got -32x544"),
        ("detector: {model: m.onnx, input_size: [416, 0]}", None, "must be positive multiples of 32, got 416x0"),
        ("detector: {model: m.onnx, input_size: [416]}", None, "detector.input_size[1]: Field required"),
        ("detector: {model: m.onnx}", None, "detector.input_size: Field required"),
        (
            "detector: {model: '', input_size: [416, 416]}",
            None,
            "detector.model: String should have at least 1 character",
        ),
        (
            "detector: {preset: coco, score_threshold: 1.5}",
            None,
            "detector.score_threshold: Input should be less than or equal to 1",
        ),
        (
            "detector: {preset: pedestrian, foot_margin: 0.3}",
            None,
            "detector.foot_margin: Input should be less than or equal to 0.2",
        ),
        (
            "detector: {preset: pedestrian, foot_margin: -0.01}",
            None,
            "detector.foot_margin: Input should be greater than or equal to 0",
        ),
        (
            "detector: {preset: coco, score_threshold: -0.1}",
            None,
            "detector.score_threshold: Input should be greater than or equal to 0",
        ),
        ("detector: {preset: coco, nms_iou: 0}", None, "detector.nms_iou: Input should be greater than 0"),
        (
            "",
            {"preset": "coco", "nms_iou": 1.2},
            "cameras[1].detector.nms_iou: Input should be less than or equal to 1",
        ),
        (
            "detector: {preset: coco, classes: []}",
            None,
            "detector.classes: classes must list non-negative class ids, or be null to keep every class",
        ),
        (
            "detector: {preset: coco, classes: [0, -1]}",
            None,
            "detector.classes: classes must list non-negative class ids",
        ),
        (
            "detector: {preset: coco, layout: detr}",
            None,
            "detector.layout: Input should be 'auto', 'yolox', 'ultralytics' or 'end2end'",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: 1, std: [0.2, 0, 0.2]}}",
            None,
            "detector.preprocessing: std must be positive per channel, got [0.2, 0.0, 0.2]",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: bgra, scale: 1}}",
            None,
            "detector.preprocessing.channels: Input should be 'bgr' or 'rgb'",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: 0}}",
            None,
            "detector.preprocessing.scale: Input should be greater than 0",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb}}",
            None,
            "detector.preprocessing.scale: Field required",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: 1, letterbox: bottom}}",
            None,
            "detector.preprocessing.letterbox: Input should be 'top-left' or 'center'",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: 1, pad_value: 300}}",
            None,
            "detector.preprocessing.pad_value: Input should be less than or equal to 255",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: 1, gamma: 2}}",
            None,
            "detector.preprocessing.gamma: Extra inputs are not permitted",
        ),
        ("detector: {preset: coco, confidence: 0.3}", None, "detector.confidence: Extra inputs are not permitted"),
        (
            "detector: {model: m.onnx, input_size: [416, 416], conf: 0.3}",
            None,
            "detector.conf: Extra inputs are not permitted",
        ),
        ("", {"preset": "coco", "conf": 0.3}, "cameras[1].detector.conf: Extra inputs are not permitted"),
        (
            "tracking: {detect_conf: 0.2}",
            None,
            "tracking: tracking.detect_conf has moved to the detector profile: set detector.score_threshold",
        ),
        (
            "detector: {preset: coco, score_threshold: .nan}",
            None,
            "detector.score_threshold: Input should be a finite number",
        ),
        ("detector: {preset: coco, nms_iou: .nan}", None, "detector.nms_iou: Input should be a finite number"),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: .inf}}",
            None,
            "detector.preprocessing.scale: Input should be a finite number",
        ),
        (
            "detector: {preset: coco, preprocessing: {channels: rgb, scale: 1, mean: [.nan, 0, 0]}}",
            None,
            "detector.preprocessing.mean[0]: Input should be a finite number",
        ),
        ("detector: 5", None, "detector: Input should be a valid dictionary or instance of DetectorProfile"),
    ],
)
def test_bad_detector_is_named(snippet: str, camera_b: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(snippet, camera_b)
    assert "mall.yaml" in str(err.value)
    assert expected in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("pedestrian", "pedestrian"),
        ("coco", {"preset": "coco"}),
        ("coco", {"model": "yolox_nano", "input_size": [416, 416], "layout": "yolox", "fit_to_frame": True}),
        ({"preset": "coco", "score_threshold": 0.3}, {"preset": "coco", "score_threshold": 0.30}),
        ({"preset": "coco", "score_threshold": 0}, {"preset": "coco", "score_threshold": 0.0}),
        ({"preset": "pedestrian", "classes": [0]}, "pedestrian"),
        (
            {"preset": "coco", "preprocessing": {"channels": "bgr", "scale": 1}},
            {"preset": "coco", "preprocessing": {"channels": "bgr", "scale": 1.0, "letterbox": "top-left"}},
        ),
    ],
)
def test_key_equal_for_equal_profiles(a: Any, b: Any) -> None:
    pa, pb = DetectorProfile.model_validate(profile_from(a)), DetectorProfile.model_validate(profile_from(b))
    assert pa == pb
    assert pa.key == pb.key


@pytest.mark.parametrize(
    "change",
    [
        {"model": "yolox_nano"},
        {"model": "/opt/models/bytetrack_nano_mix.onnx"},
        {"input_size": [416, 416]},
        {"input_size": [544, 416]},  # (height, width): transposed is different
        {"layout": "auto"},
        {"preprocessing": {"channels": "bgr", "scale": 1}},
        {"score_threshold": 0.2},
        {"nms_iou": 0.5},
        {"classes": None},
        {"classes": [0, 1]},
        {"fit_to_frame": False},
    ],
)
def test_key_differs_when_any_field_differs(change: dict[str, Any]) -> None:
    changed = DetectorProfile.model_validate(profile_from({"preset": "pedestrian", **change}))
    assert changed != PEDESTRIAN
    assert changed.key != PEDESTRIAN.key


def test_key_shares_a_model_between_cameras() -> None:
    raw = site_with("detector: coco")
    raw["cameras"] += [
        {"id": "cam-c", "source": "2", "floor": "f1", "detector": "pedestrian"},
        {"id": "cam-d", "source": "3", "floor": "f1", "detector": {"preset": "coco", "score_threshold": 0.3}},
    ]
    raw["cameras"][1]["detector"] = {"preset": "coco"}  # the site's, spelt out
    site = parse_site_config(raw)
    keys = {c.id: site.detector_of(c.id).key for c in site.cameras}
    assert keys["cam-a"] == keys["cam-b"]
    assert len({keys["cam-a"], keys["cam-c"], keys["cam-d"]}) == 3


def test_profiles_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        PEDESTRIAN.score_threshold = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        pytest.param("bytetrack_nano_mix", "bytetrack_nano_mix", id="catalogue-name-stays"),
        pytest.param("models/mine.onnx", "{dir}/models/mine.onnx", id="relative-to-the-yaml"),
        pytest.param("/opt/m.onnx", "/opt/m.onnx", id="absolute"),
        pytest.param("${MF_TEST_MODELS}/m.onnx", "/srv/models/m.onnx", id="env-var"),
    ],
)
def test_detector_model_paths_resolve_like_camera_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str, expected: str
) -> None:
    monkeypatch.setenv("MF_TEST_MODELS", "/srv/models")
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        "site: {id: s}\nfloors: [{id: f}]\n"
        f"detector: {{model: '{model}', input_size: [416, 416]}}\n"
        f"cameras: [{{id: c, source: v.avi, floor: f, detector: {{model: '{model}', input_size: [416, 416]}}}}]\n"
    )
    site = load_site_config(site_file)
    want = expected.format(dir=tmp_path.resolve())
    assert site.detector.model == want
    assert site.detector_of("c").model == want


@pytest.mark.parametrize(
    ("frame_hw", "expected"),
    [
        ((576, 768), (416, 544)),  # the presets' own camera: unchanged
        ((288, 384), (416, 544)),  # smaller frames keep the preset (upscaled)
        ((480, 640), (416, 544)),
        ((720, 1280), (512, 896)),
        ((1080, 1920), (640, 1088)),  # long side capped at the model's training width
        ((1920, 1080), (1088, 640)),  # portrait
        ((2160, 3840), (640, 1088)),
        ((1152, 1536), (832, 1088)),
    ],
)
def test_fitted_input_size(frame_hw: tuple[int, int], expected: tuple[int, int]) -> None:
    size = fitted_input_size((416, 544), frame_hw)
    assert size == expected
    assert size[0] % 32 == 0 and size[1] % 32 == 0


@pytest.mark.parametrize("frame_hw", [(0, 640), (480, -1)])
def test_fitted_input_size_needs_a_frame(frame_hw: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="frame size must be positive"):
        fitted_input_size((416, 544), frame_hw)


@pytest.mark.parametrize(
    ("snippet", "frame_hw", "expected"),
    [
        pytest.param("detector: pedestrian", (1080, 1920), (640, 1088), id="preset-fitted"),
        pytest.param("detector: pedestrian", (576, 768), (416, 544), id="preset-own-camera-unchanged"),
        pytest.param("detector: pedestrian", None, (416, 544), id="unknown-frame-keeps-the-preset"),
        pytest.param("detector: {preset: coco, score_threshold: 0.3}", (1080, 1920), (640, 1088), id="override-fits"),
        pytest.param(
            "detector: {preset: pedestrian, input_size: [416, 544]}", (1080, 1920), (416, 544), id="site-size-runs"
        ),
        pytest.param(
            "detector: {preset: pedestrian, input_size: [480, 640], fit_to_frame: true}",
            (1080, 1920),
            (640, 1088),
            id="site-size-fitted-when-asked",
        ),
        pytest.param(
            "detector: {model: yolox_nano, input_size: [416, 416], layout: yolox}",
            (1080, 1920),
            (416, 416),
            id="full-mapping-runs-as-given",
        ),
    ],
)
def test_profile_for_frame(snippet: str, frame_hw: tuple[int, int] | None, expected: tuple[int, int]) -> None:
    declared = parse(snippet).detector
    profile = declared.for_frame(frame_hw)
    assert profile.input_size == expected
    # Only the input size moves; fitting twice changes nothing.
    assert profile.model_copy(update={"input_size": declared.input_size}) == declared
    assert profile.for_frame(frame_hw) == profile
