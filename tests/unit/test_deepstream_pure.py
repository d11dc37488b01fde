"""The hardware-free parts of the Jetson path: engine cache keys, nvinfer configs, metadata → detections."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import numpy as np
import pytest

from edge.deepstream.metadata import frame_detections, network_transform, object_embeddings
from edge.deepstream.nvinfer_config import (
    NvinferModel,
    detector_config,
    detector_convention,
    nvinfer_preprocessing,
    reid_config,
)
from edge.deepstream.pipeline import DetectorHead, agent_detector
from edge.inference.decoders import Decoder, Layout
from edge.inference.engine_cache import (
    EngineSpec,
    calibration_cache_path,
    engine_cache_key,
    engine_input_hw,
    engine_path,
)
from edge.inference.preprocess import InputConvention
from shared.config.detector import PRESETS, DetectorProfile, Letterbox, Preprocessing
from shared.config.site import SiteConfig

SHA = "ab" * 32
FP16 = EngineSpec("fp16", opt_batch=4, max_batch=8)
HW = (416, 544)


def test_engine_key_names_every_input() -> None:
    base = engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", FP16, HW)
    assert base == "abababababab-trt10.3.0-orin-nvgpu-fp16-b4x8-416x544"
    others = {
        engine_cache_key("cd" * 32, "10.3.0", "Orin (nvgpu)", FP16, HW),
        engine_cache_key(SHA, "10.4.0", "Orin (nvgpu)", FP16, HW),
        engine_cache_key(SHA, "10.3.0", "Orin NX", FP16, HW),
        engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", EngineSpec("int8", 4, 8), HW),
        engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", EngineSpec("fp16", 4, 16), HW),
        # One model at two input sizes (two detector profiles): two engines.
        engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", FP16, (416, 416)),
        # Height and width are not interchangeable.
        engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", FP16, (544, 416)),
    }
    assert base not in others and len(others) == 7


def test_engine_path_hashes_the_model_bytes_and_names_the_size(tmp_path: Path) -> None:
    model = tmp_path / "bytetrack_nano_mix.onnx"
    model.write_bytes(b"onnx bytes")
    first = engine_path(tmp_path / "engines", model, "10.3.0", "Orin", FP16, HW)
    assert first.name.startswith("bytetrack_nano_mix-") and first.name.endswith("-fp16-b4x8-416x544.engine")
    assert engine_path(tmp_path / "engines", model, "10.3.0", "Orin", FP16, (608, 1088)) != first
    # Calibration lives beside its engine, so it is per size too (and never in a read-only model folder).
    assert calibration_cache_path(first) == first.with_name(first.stem + ".int8-calibration.cache")
    model.write_bytes(b"other onnx bytes")
    assert engine_path(tmp_path / "engines", model, "10.3.0", "Orin", FP16, HW) != first


@pytest.mark.parametrize(
    ("declared", "requested", "expected"),
    [
        # ByteTrack's fixed 608x1088 export at the pedestrian profile's size: made symbolic first.
        ((608, 1088), (416, 544), ((416, 544), True)),
        # The export's own size: parsed as it is.
        ((416, 416), (416, 416), ((416, 416), False)),
        ((416, 416), None, ((416, 416), False)),
        # Dynamic axes take any size without a rewrite.
        ((None, None), (416, 544), ((416, 544), False)),
        ((416, None), (416, 544), ((416, 544), False)),
        ((608, None), (416, 544), ((416, 544), True)),
    ],
)
def test_engine_input_size(
    declared: tuple[int | None, int | None],
    requested: tuple[int, int] | None,
    expected: tuple[tuple[int, int], bool],
) -> None:
    assert engine_input_hw(declared, requested) == expected


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: EngineSpec("bf16", 1, 1), "precision must be one of fp32, fp16, int8"),
        (lambda: EngineSpec("fp16", 8, 4), "batch sizes need 1 <= opt (8) <= max (4)"),
        (lambda: engine_cache_key("xyz", "10", "Orin", FP16, HW), "model_sha256 must be 64 hex digits"),
        (lambda: engine_cache_key(SHA, "10", "!!!", FP16, HW), "gives an empty name"),
        (lambda: engine_cache_key(SHA, "10", "Orin", FP16, (0, 416)), "must be positive, got 0x416"),
        (lambda: engine_input_hw((None, None), None), "dynamic input size: give input_size"),
        (lambda: engine_input_hw((416, 416), (-32, 416)), "must be positive, got -32x416"),
        (lambda: NvinferModel(Path("m.onnx"), Path("m.engine"), EngineSpec("int8", 1, 1)), "needs int8_calib_file"),
    ],
)
def test_invalid_settings(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make()  # type: ignore[operator]


def _parse(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return dict(parser["property"])


def test_detector_config() -> None:
    model = NvinferModel(Path("/m/yolox_nano.onnx"), Path("/e/yolox.engine"), FP16)
    props = _parse(detector_config(model, PRESETS["coco"], interval=1))
    assert props["onnx-file"] == "/m/yolox_nano.onnx" and props["model-engine-file"] == "/e/yolox.engine"
    assert (props["network-mode"], props["batch-size"], props["process-mode"]) == ("2", "8", "1")
    # Raw tensors out, decoded by the CPU path's decoder.
    assert (props["network-type"], props["output-tensor-meta"]) == ("100", "1")
    assert props["interval"] == "1"


# nvinfer computes y = net-scale-factor * (x - offsets) on 0-255 pixels in model-color-format order.
@pytest.mark.parametrize(
    ("profile", "color_format", "scale_factor", "offsets", "infer_dims"),
    [
        # ByteTrack: RGB, x / 255 then ImageNet (x - mean) / std = (1 / (255 * 0.226)) * (x - 255 * mean),
        # 0.226 being the mean of the three deviations (nvinfer has one factor).
        (PRESETS["pedestrian"], "0", 1 / 57.63, (123.675, 116.28, 103.53), "3;416;544"),
        # COCO YOLOX: BGR 0-255 as it is.
        (PRESETS["coco"], "1", 1.0, (0.0, 0.0, 0.0), "3;416;416"),
    ],
    ids=["pedestrian", "coco"],
)
def test_detector_config_renders_the_profiles_preprocessing(
    profile: DetectorProfile, color_format: str, scale_factor: float, offsets: tuple[float, ...], infer_dims: str
) -> None:
    model = NvinferModel(Path(f"/m/{profile.model}.onnx"), Path("/e/d.engine"), FP16)
    props = _parse(detector_config(model, profile))
    assert (props["model-color-format"], props["infer-dims"]) == (color_format, infer_dims)
    assert float(props["net-scale-factor"]) == pytest.approx(scale_factor, rel=1e-8)
    assert [float(o) for o in props["offsets"].split(";")] == pytest.approx(offsets, rel=1e-8)
    # Both letterbox top-left like YOLOX.
    assert (props["maintain-aspect-ratio"], props["symmetric-padding"]) == ("1", "0")
    # No float noise in the file (0.485 * 255 is 123.67499999999998 in binary).
    assert "9999" not in props["offsets"] and "0000000" not in props["offsets"]


def test_nvinfer_computes_what_the_cpu_preprocessing_computes() -> None:
    """nvinfer's formula with the rendered numbers against ((x * s) - m) / d, for a pixel of each channel."""
    pedestrian = detector_convention(PRESETS["pedestrian"])
    props = nvinfer_preprocessing(pedestrian)
    factor, offsets = float(props["net-scale-factor"]), np.array(str(props["offsets"]).split(";"), dtype=float)
    x = np.array([30.0, 128.0, 250.0])
    wanted = (x * pedestrian.scale - np.array(pedestrian.mean)) / np.array(pedestrian.std)
    # Exact but for the one std nvinfer applies to all channels: within the deviations' 2% spread.
    np.testing.assert_allclose(factor * (x - offsets), wanted, rtol=0.02)


@pytest.mark.parametrize(
    ("convention", "expected"),
    [
        # A mean without a std is exact: s * (x - m / s).
        (
            InputConvention(rgb=True, scale=0.5, center=False, mean=(10.0, 20.0, 30.0)),
            {"net-scale-factor": "0.5", "offsets": "20;40;60", "model-color-format": 0},
        ),
        # A std without a mean: no offsets.
        (
            InputConvention(rgb=False, scale=1.0, center=False, std=(2.0, 4.0, 6.0)),
            {"net-scale-factor": "0.25", "offsets": "0;0;0", "model-color-format": 1},
        ),
        # Ultralytics: RGB 0-1, letterbox centred.
        (
            InputConvention(rgb=True, scale=1 / 255, center=True),
            {"net-scale-factor": "0.00392156863", "offsets": "0;0;0", "symmetric-padding": 1},
        ),
    ],
)
def test_nvinfer_preprocessing(convention: InputConvention, expected: dict[str, object]) -> None:
    props = nvinfer_preprocessing(convention)
    assert {k: props[k] for k in expected} == expected and props["maintain-aspect-ratio"] == 1


def test_detector_convention_of_an_uncatalogued_model() -> None:
    stated = DetectorProfile(
        model="/m/people.onnx",
        input_size=(640, 640),
        preprocessing=Preprocessing(channels="rgb", scale=1 / 255, letterbox=Letterbox.CENTER),
    )
    assert detector_convention(stated) == InputConvention(rgb=True, scale=1 / 255, center=True)
    assert detector_convention(stated.model_copy(update={"preprocessing": None, "layout": "ultralytics"})).center
    with pytest.raises(ValueError, match="give the detector profile a preprocessing or a layout"):
        detector_convention(stated.model_copy(update={"preprocessing": None}))


def _mixed_site(**cameras: object) -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"id": "mixed"},
            "floors": [{"id": "ground"}],
            "detector": "pedestrian",
            "cameras": [
                {"id": cid, "source": f"/v/{cid}.mp4", "floor": "ground"}
                | ({} if detector is None else {"detector": detector})
                for cid, detector in cameras.items()
            ],
        }
    )


def test_agent_detector_is_the_cameras_one_profile() -> None:
    # A camera naming the site's own preset shares its profile.
    site = _mixed_site(a=None, b="pedestrian", c="coco")
    assert agent_detector(site, ["a", "b"]) == PRESETS["pedestrian"]
    assert agent_detector(site, ["c"]) == PRESETS["coco"]
    head = DetectorHead.for_profile(agent_detector(site, ["a"]))
    assert (head.input_size, head.layout, head.conf_threshold, head.classes, head.center) == (
        (416, 544),
        "yolox",
        0.1,
        (0,),
        False,
    )


@pytest.mark.parametrize(
    ("cameras", "message"),
    [
        (
            {"a": None, "b": "coco", "c": None},
            "(a, c: model=bytetrack_nano_mix, input_size=[416, 544]; b: model=yolox_nano, input_size=[416, 416])",
        ),
        # Profiles differing in a threshold only: the message names just that field.
        (
            {"a": None, "b": {"preset": "pedestrian", "score_threshold": 0.3}},
            "(a: score_threshold=0.1; b: score_threshold=0.3)",
        ),
    ],
)
def test_agent_detector_rejects_mixed_profiles(cameras: dict[str, object], message: str) -> None:
    site = _mixed_site(**cameras)
    with pytest.raises(ValueError, match="one detector profile for all cameras of an agent") as info:
        agent_detector(site, list(cameras))
    assert message in str(info.value) and "--camera" in str(info.value)


def test_reid_config_runs_on_the_detectors_persons() -> None:
    calib = Path("/e/osnet.calib")
    model = NvinferModel(Path("/m/osnet.onnx"), Path("/e/osnet.engine"), EngineSpec("int8", 16, 32), calib)
    props = _parse(reid_config(model))
    assert (props["process-mode"], props["operate-on-gie-id"], props["operate-on-class-ids"]) == ("2", "1", "0")
    assert (props["network-mode"], props["int8-calib-file"]) == ("1", "/e/osnet.calib")
    assert props["model-color-format"] == "0" and props["infer-dims"] == "3;256;128"
    assert float(props["net-scale-factor"]) == pytest.approx(1 / 57.63, rel=1e-3)
    assert props["offsets"] == "123.675;116.28;103.53"
    assert props["maintain-aspect-ratio"] == "0"


def test_network_transform_is_nvinfers_letterbox() -> None:
    t = network_transform((416, 416), (1080, 1920))
    assert (t.scale, t.pad_x, t.pad_y, t.source_size) == (416 / 1920, 0, 0, (1080, 1920))
    # symmetric-padding=1: 1920x1080 scaled to 416x234 sits 91 rows down.
    c = network_transform((416, 416), (1080, 1920), center=True)
    assert (c.scale, c.pad_x, c.pad_y) == (416 / 1920, 0, 91)
    with pytest.raises(ValueError, match="sizes must be positive"):
        network_transform((0, 416), (1080, 1920))


def test_frame_detections_go_back_to_source_pixels() -> None:
    """A box in network pixels → muxer pixels (undo the letterbox) → source pixels (undo the muxer's stretch)."""
    decoder = Decoder(Layout.END2END, (416, 416), conf_threshold=0.3)
    scale = 416 / 1920
    muxer_box = np.array([960.0, 270.0, 1152.0, 810.0])
    raw = np.array([[*(muxer_box * scale), 0.9, 0.0], [0, 0, 10, 10, 0.1, 0.0]], dtype=np.float32)
    boxes = frame_detections(raw, decoder, muxer_size=(1080, 1920), source_size=(576, 768))
    assert boxes.shape == (1, 6)
    expected = muxer_box * np.array([768 / 1920, 576 / 1080, 768 / 1920, 576 / 1080])
    np.testing.assert_allclose(boxes[0, :4], expected, rtol=1e-4)
    assert boxes[0, 4] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="2-D"):
        frame_detections(raw[None], decoder, (1080, 1920), (576, 768))


def test_object_embeddings_are_unit_vectors() -> None:
    out = object_embeddings([np.full(512, 2.0), np.zeros(512)])
    assert out.shape == (2, 512) and out.dtype == np.float32
    assert np.linalg.norm(out[0]) == pytest.approx(1.0) and not out[1].any()
    assert object_embeddings([]).shape == (0, 512)
    with pytest.raises(ValueError, match="expected 512"):
        object_embeddings([np.ones(128)])


def test_importing_edge_never_imports_the_nvidia_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, edge, edge.agent.agent, edge.agent.assemble, edge.deepstream.metadata, "
        "edge.deepstream.nvinfer_config, edge.deepstream.pipeline, edge.deepstream.agent, "
        "edge.inference.engine_cache, edge.inference.factory, edge.inference.precomputed, edge.cli.edge_cmd; "
        "print(sorted(m for m in ('tensorrt', 'pyds', 'gi', 'pycuda') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
