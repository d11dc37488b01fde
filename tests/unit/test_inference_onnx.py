"""The ONNX Runtime backends on the real YOLOX-Nano / OSNet models and on tiny exported torch models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from numpy.typing import NDArray

from edge.detections import Detections
from edge.inference import Detector, Embedder, Layout, create_detector, create_embedder
from edge.inference.onnx_detector import OnnxDetector
from edge.inference.onnx_embedder import OnnxEmbedder
from shared.assets.models import MODELS
from shared.config.detector import PRESETS, Preprocessing

ExportFn = Callable[..., Path]


def read_frame(video: Path, index: int) -> NDArray[np.uint8]:
    cap = cv2.VideoCapture(str(video))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
    finally:
        cap.release()
    assert ok, f"could not read frame {index} of {video}"
    return np.asarray(frame, dtype=np.uint8)


@pytest.fixture(scope="module")
def frames(vtest_video: Path) -> dict[int, NDArray[np.uint8]]:
    return {i: read_frame(vtest_video, i) for i in (299, 301)}


@pytest.fixture(scope="module")
def detector() -> Detector:
    return create_detector()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return create_embedder()


def iou(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float64]:
    """(len(a), len(b)) IoU matrix of xyxy boxes."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return np.asarray(inter / (area(a)[:, None] + area(b)[None, :] - inter), np.float64)


def test_catalogued_models_load_with_their_catalogue_ids(detector: Detector, embedder: Embedder) -> None:
    assert detector.model_id == MODELS["bytetrack_nano_mix"].model_id
    assert embedder.model_id == MODELS["osnet_x0_25_msmt17"].model_id
    assert isinstance(detector, OnnxDetector)
    assert (detector.layout, detector.input_size) == (Layout.YOLOX, (416, 544))
    assert embedder.dim == 512


@pytest.mark.parametrize("preset", ["pedestrian", "coco"])
def test_each_preset_finds_the_walkers_of_frame_301(preset: str, frames: dict[int, NDArray[np.uint8]]) -> None:
    (boxes,) = create_detector(profile=PRESETS[preset]).detect([frames[301]])
    assert len(boxes[boxes[:, 4] >= 0.5]) >= 4


def test_pedestrian_model_needs_its_own_preprocessing(frames: dict[int, NDArray[np.uint8]]) -> None:
    """ByteTrack's model fed the COCO model's BGR 0-255 pixels is far less sure of the same people (and finds
    more clutter): the profile's preprocessing is part of the model."""
    right = PRESETS["pedestrian"]
    wrong = right.model_copy(update={"preprocessing": Preprocessing(channels="bgr", scale=1.0)})
    (found,) = create_detector(profile=right).detect([frames[301]])
    (junk,) = create_detector(profile=wrong).detect([frames[301]])
    assert found[:6, 4].min() > junk[:6, 4].max()
    assert len(junk) > 2 * len(found)


def test_yolox_finds_the_walkers_of_frame_301(detector: Detector, frames: dict[int, NDArray[np.uint8]]) -> None:
    (boxes,) = detector.detect([frames[301]])
    assert boxes.dtype == np.float32
    assert boxes.shape[1] == 6
    confident = boxes[boxes[:, 4] >= 0.5]
    assert len(confident) >= 4
    assert (boxes[:, 5] == 0).all()
    assert (np.diff(boxes[:, 4]) <= 0).all(), "sorted by confidence"
    assert ((boxes[:, 4] >= 0.1) & (boxes[:, 4] <= 1)).all()
    # Upright pedestrians of PETS09's elevated view, inside the 768x576 frame.
    x1, y1, x2, y2 = confident[:, :4].T
    assert (x1 >= 0).all() and (y1 >= 0).all() and (x2 <= 768).all() and (y2 <= 576).all()
    height, width = y2 - y1, x2 - x1
    assert ((height > 25) & (height < 200)).all()
    assert ((height / width > 1.2) & (height / width < 5)).all()
    assert len(Detections.from_array(boxes)) == len(boxes)


def test_a_batch_gives_the_same_boxes_as_one_frame_at_a_time(
    detector: Detector, frames: dict[int, NDArray[np.uint8]]
) -> None:
    batched = detector.detect([frames[299], frames[301]])
    singles = [detector.detect([frames[i]])[0] for i in (299, 301)]
    for got, expected in zip(batched, singles, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-3)


def test_detector_threads_setting(frames: dict[int, NDArray[np.uint8]], detector: Detector) -> None:
    single_thread = create_detector(threads=1)
    np.testing.assert_allclose(single_thread.detect([frames[301]])[0], detector.detect([frames[301]])[0], atol=1e-3)
    with pytest.raises(ValueError, match="threads must be >= 1"):
        create_detector(threads=0)


def test_osnet_embeddings_are_unit_norm_and_tell_people_apart(
    detector: Detector, embedder: Embedder, frames: dict[int, NDArray[np.uint8]]
) -> None:
    before, after = (b[b[:, 4] >= 0.3] for b in detector.detect([frames[299], frames[301]]))
    emb_before = embedder.embed(frames[299], before[:, :4])
    emb_after = embedder.embed(frames[301], after[:, :4])
    assert emb_after.shape == (len(after), 512)
    assert emb_after.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb_after, axis=1), 1.0, rtol=1e-5)

    # The same walker two frames apart is the box overlapping it most.
    overlap = iou(after, before)
    matches = [(i, int(j)) for i, j in enumerate(overlap.argmax(axis=1)) if overlap[i, j] > 0.5]
    assert len(matches) >= 4
    similarity = emb_after @ emb_before.T
    for i, j in matches:
        others = np.delete(similarity[i], j)
        assert similarity[i, j] > others.max(), f"walker {i} is closer to someone else than to itself"
    same = np.mean([similarity[i, j] for i, j in matches])
    different = np.mean([similarity[i, k] for i, j in matches for k in range(len(before)) if k != j])
    assert same > different + 0.25


def test_embedder_batch_size_does_not_change_embeddings(
    embedder: Embedder, frames: dict[int, NDArray[np.uint8]]
) -> None:
    boxes = np.array([[580, 159, 612, 234], [190, 157, 221, 234], [310, 206, 342, 293], [31, 110, 48, 143]])
    crops = [frames[301][y1:y2, x1:x2] for x1, y1, x2, y2 in boxes]
    small_batches = create_embedder(batch_size=3)
    np.testing.assert_allclose(small_batches.embed_crops(crops), embedder.embed_crops(crops), atol=1e-5)
    np.testing.assert_allclose(embedder.embed(frames[301], boxes), embedder.embed_crops(crops), atol=1e-5)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        create_embedder(batch_size=0)


# --- tiny torch models exported through edge.inference.export -------------------------------------


@pytest.fixture(scope="module")
def torch_export() -> ExportFn:
    pytest.importorskip("onnx", reason="edge.inference.export needs the onnx package")
    from edge.inference.export import export_to_onnx

    return export_to_onnx


def conv_model(path: Path, size: tuple[int, int], torch_export: ExportFn) -> Path:
    import torch

    return torch_export(torch.nn.Conv2d(3, 4, 3), path, size)


def test_wrong_input_shape_names_file_and_shapes(tmp_path: Path, torch_export: ExportFn) -> None:
    path = conv_model(tmp_path / "tiny_100.onnx", (100, 100), torch_export)
    with pytest.raises(
        ValueError,
        match=r"tiny_100\.onnx: input 'images' has shape \[batch, 3, 100, 100\], "
        r"expected \[N, 3, 256, 128\]",
    ):
        create_embedder(model=path)
    with pytest.raises(
        ValueError,
        match=r"tiny_100\.onnx: input 'images' has shape \[batch, 3, 100, 100\], "
        r"expected \[N, 3, H, W\] with H and W multiples of 32",
    ):
        OnnxDetector(path)


def test_fixed_size_export_runs_at_the_requested_size(tmp_path: Path, torch_export: ExportFn) -> None:
    """A model exported at 64x64 asked for 96x96 has its spatial axes made symbolic: it runs at 96."""
    path = conv_model(tmp_path / "tiny_64.onnx", (64, 64), torch_export)
    with pytest.raises(ValueError, match=r"tiny_64\.onnx: detector output has shape \(1, 4, 94, 94\)"):
        OnnxDetector(path, input_size=(96, 96))


def test_unknown_output_layout_names_file(tmp_path: Path, torch_export: ExportFn) -> None:
    path = conv_model(tmp_path / "tiny_64.onnx", (64, 64), torch_export)
    with pytest.raises(ValueError, match=r"tiny_64\.onnx: detector output has shape \(1, 4, 62, 62\)"):
        OnnxDetector(path)
    with pytest.raises(ValueError, match=r"tiny_64\.onnx: output has shape \[1, 4, 62, 62\], expected \[N, D\]"):
        OnnxEmbedder(path, input_size=(64, 64))


@pytest.mark.parametrize("dynamic_batch", [True, False])
def test_exported_end2end_model_runs_through_the_detector(
    tmp_path: Path, torch_export: ExportFn, dynamic_batch: bool
) -> None:
    import torch

    class OneBox(torch.nn.Module):
        """End-to-end layout: one person at x 8-24, y 20-40 of the 64x64 input, score 0.9."""

        box: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("box", torch.tensor([[8.0, 20.0, 24.0, 40.0, 0.9, 0.0]]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(dim=(1, 2, 3)).reshape(-1, 1, 1) * 0 + self.box

    path = torch_export(OneBox(), tmp_path / "one_box.onnx", (64, 64), dynamic_batch=dynamic_batch)
    batch_axis = ort.InferenceSession(str(path)).get_inputs()[0].shape[0]
    assert batch_axis == ("batch" if dynamic_batch else 1)
    detector = OnnxDetector(path)
    assert detector.layout is Layout.END2END
    assert detector.model_id.startswith("one_box@")
    # A 64x128 frame is halved and centred with 16 px of pad above.
    frame = np.zeros((64, 128, 3), np.uint8)
    results = detector.detect([frame, frame, frame])
    for boxes in results:
        np.testing.assert_allclose(boxes, [[16, 8, 48, 48, 0.9, 0]], atol=1e-4)


def test_export_explains_a_missing_onnx_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from edge.inference.export import export_to_onnx

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real_find_spec(name))
    with pytest.raises(ImportError, match="needs the onnx package: pip install onnx"):
        export_to_onnx(object(), tmp_path / "x.onnx", (64, 64))  # type: ignore[arg-type]
