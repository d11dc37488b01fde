"""The hardware-free parts of the Jetson path: engine cache keys, nvinfer configs, metadata → detections."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import numpy as np
import pytest

from edge.deepstream.metadata import frame_detections, network_transform, object_embeddings
from edge.deepstream.nvinfer_config import NvinferModel, detector_config, reid_config
from edge.inference.decoders import Decoder, Layout
from edge.inference.engine_cache import EngineSpec, engine_cache_key, engine_path

SHA = "ab" * 32
FP16 = EngineSpec("fp16", opt_batch=4, max_batch=8)


def test_engine_key_names_every_input() -> None:
    base = engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", FP16)
    assert base == "abababababab-trt10.3.0-orin-nvgpu-fp16-b4x8"
    others = {
        engine_cache_key("cd" * 32, "10.3.0", "Orin (nvgpu)", FP16),
        engine_cache_key(SHA, "10.4.0", "Orin (nvgpu)", FP16),
        engine_cache_key(SHA, "10.3.0", "Orin NX", FP16),
        engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", EngineSpec("int8", 4, 8)),
        engine_cache_key(SHA, "10.3.0", "Orin (nvgpu)", EngineSpec("fp16", 4, 16)),
    }
    assert base not in others and len(others) == 5


def test_engine_path_hashes_the_model_bytes(tmp_path: Path) -> None:
    model = tmp_path / "yolox_nano.onnx"
    model.write_bytes(b"onnx bytes")
    first = engine_path(tmp_path / "engines", model, "10.3.0", "Orin", FP16)
    assert first.name.startswith("yolox_nano-") and first.suffix == ".engine"
    model.write_bytes(b"other onnx bytes")
    assert engine_path(tmp_path / "engines", model, "10.3.0", "Orin", FP16) != first


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: EngineSpec("bf16", 1, 1), "precision must be one of fp32, fp16, int8"),
        (lambda: EngineSpec("fp16", 8, 4), "batch sizes need 1 <= opt (8) <= max (4)"),
        (lambda: engine_cache_key("xyz", "10", "Orin", FP16), "model_sha256 must be 64 hex digits"),
        (lambda: engine_cache_key(SHA, "10", "!!!", FP16), "gives an empty name"),
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
    props = _parse(detector_config(model, (416, 416), interval=1))
    assert props["onnx-file"] == "/m/yolox_nano.onnx" and props["model-engine-file"] == "/e/yolox.engine"
    assert (props["network-mode"], props["batch-size"], props["process-mode"]) == ("2", "8", "1")
    # Raw tensors out, decoded by the CPU path's decoder; BGR 0-255 letterboxed top-left like YOLOX.
    assert (props["network-type"], props["output-tensor-meta"]) == ("100", "1")
    assert (props["model-color-format"], props["net-scale-factor"], props["offsets"]) == ("1", "1.0", "0;0;0")
    assert (props["maintain-aspect-ratio"], props["symmetric-padding"], props["infer-dims"]) == ("1", "0", "3;416;416")
    assert props["interval"] == "1"


def test_reid_config_runs_on_the_detectors_persons() -> None:
    calib = Path("/e/osnet.calib")
    model = NvinferModel(Path("/m/osnet.onnx"), Path("/e/osnet.engine"), EngineSpec("int8", 16, 32), calib)
    props = _parse(reid_config(model))
    assert (props["process-mode"], props["operate-on-gie-id"], props["operate-on-class-ids"]) == ("2", "1", "0")
    assert (props["network-mode"], props["int8-calib-file"]) == ("1", "/e/osnet.calib")
    assert props["model-color-format"] == "0" and props["infer-dims"] == "3;256;128"
    assert float(props["net-scale-factor"]) == pytest.approx(1 / 57.63, rel=1e-3)
    assert props["offsets"] == "123.675;116.28;103.53"


def test_network_transform_is_nvinfers_letterbox() -> None:
    t = network_transform((416, 416), (1080, 1920))
    assert (t.scale, t.pad_x, t.pad_y, t.source_size) == (416 / 1920, 0, 0, (1080, 1920))
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
