"""TensorRT backend (Jetson and other NVIDIA GPUs): engines built from our ONNX models, run on device buffers.

Imports `tensorrt` and `pycuda` at module level: only `edge.inference.factory` loads this
module, and only when `engine="tensorrt"` is asked for. Engines are cached by
`edge.inference.engine_cache` (model bytes, TensorRT version, GPU, precision, batch
profile, input height and width), so the first start on a box builds them (minutes) and
every later start loads them (seconds). Pre- and post-processing are the ONNX backends'
own functions, with the detector profile's pixel convention.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pycuda.autoinit  # noqa: F401  (creates the CUDA context this process uses)
import pycuda.driver as cuda
import tensorrt as trt
from numpy.typing import NDArray

from edge.inference.base import Detector, Embedder
from edge.inference.decoders import AUTO, INPUT_CONVENTIONS, STRIDES, Decoder
from edge.inference.engine_cache import EngineSpec, engine_input_hw, engine_path
from edge.inference.onnx_graph import with_symbolic_hw
from edge.inference.preprocess import REID_INPUT_SIZE, InputConvention, batches, detector_blob, reid_blob
from edge.publish.files import write_atomically
from shared.paths import cache_dir

log = logging.getLogger(__name__)
_LOGGER = trt.Logger(trt.Logger.WARNING)


def device_name() -> str:
    return str(cuda.Device(0).name())


def onnx_input_shape(path: Path) -> tuple[int | None, ...]:
    """The model's first input as (N, C, H, W), None for a dynamic axis."""
    model = onnx.load(str(path), load_external_data=False)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims)


class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
    """INT8 calibration from preprocessed batches of the site's own frames; the cache file makes rebuilds instant."""

    def __init__(self, batches: Sequence[NDArray[np.float32]], cache: Path) -> None:
        trt.IInt8EntropyCalibrator2.__init__(self)
        if not batches:
            raise ValueError("INT8 calibration needs at least one batch of sample frames")
        self._batches = [np.ascontiguousarray(b, dtype=np.float32) for b in batches]
        self._cache = cache
        self._next = 0
        self._device = cuda.mem_alloc(max(b.nbytes for b in self._batches))

    def get_batch_size(self) -> int:
        return int(self._batches[0].shape[0])

    def get_batch(self, names: list[str]) -> list[int] | None:
        if self._next >= len(self._batches):
            return None
        cuda.memcpy_htod(self._device, self._batches[self._next])
        self._next += 1
        return [int(self._device)]

    def read_calibration_cache(self) -> bytes | None:
        return self._cache.read_bytes() if self._cache.is_file() else None

    def write_calibration_cache(self, cache: bytes) -> None:
        write_atomically(self._cache, bytes(cache))


def build_engine(
    onnx_path: Path,
    engine_file: Path,
    spec: EngineSpec,
    input_chw: tuple[int, int, int],
    calibrator: EntropyCalibrator | None = None,
    workspace_bytes: int = 1 << 30,
) -> Path:
    """Parse the ONNX model, build a serialized engine for `spec` with a dynamic batch profile, write it.

    The profile's H and W are `input_chw`'s; a model exported at another fixed size is
    parsed with its spatial axes made symbolic, since the parser rejects a profile that
    contradicts a fixed dimension.
    """
    if spec.precision == "int8" and calibrator is None:
        raise ValueError("an INT8 engine needs a calibrator fed with sample frames")
    _, _, declared_h, declared_w = onnx_input_shape(onnx_path)
    _, symbolic = engine_input_hw((declared_h, declared_w), input_chw[1:])
    model_bytes = with_symbolic_hw(onnx_path) if symbolic else onnx_path.read_bytes()
    builder = trt.Builder(_LOGGER)
    network = builder.create_network(0)  # explicit batch: the only mode in TensorRT 10
    parser = trt.OnnxParser(network, _LOGGER)
    # The path lets the parser find external weight files beside the model.
    if not parser.parse(model_bytes, str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ValueError(f"TensorRT cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if spec.precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    name = network.get_input(0).name
    profile.set_shape(name, (1, *input_chw), (spec.opt_batch, *input_chw), (spec.max_batch, *input_chw))
    config.add_optimization_profile(profile)
    if spec.precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = calibrator
        config.set_calibration_profile(profile)
    log.info(
        "building %s engine for %s at %dx%d (this takes minutes)",
        spec.precision,
        onnx_path.name,
        input_chw[1],
        input_chw[2],
    )
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(
            f"TensorRT could not build an engine for {onnx_path} at {input_chw[1]}x{input_chw[2]} ({spec}); "
            "a graph that fixes its size inside runs only at its export size"
        )
    engine_file.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(engine_file, bytes(serialized))
    return engine_file


def engine_cache_file(onnx_path: Path, spec: EngineSpec, input_chw: tuple[int, int, int]) -> Path:
    """Where the cache keeps the engine of this model, GPU, build and input size (it may not exist yet)."""
    return engine_path(cache_dir() / "engines", onnx_path, trt.__version__, device_name(), spec, input_chw[1:])


def cached_engine(
    onnx_path: Path, spec: EngineSpec, input_chw: tuple[int, int, int], calibrator: EntropyCalibrator | None = None
) -> Path:
    """The engine for this model, GPU, build and input size from the cache, built first if missing."""
    path = engine_cache_file(onnx_path, spec, input_chw)
    if not path.is_file():
        build_engine(onnx_path, path, spec, input_chw, calibrator)
    return path


class EngineRunner:
    """One engine with one input and one output, run on preallocated device buffers for its largest batch."""

    def __init__(self, engine_file: Path, input_chw: tuple[int, int, int], max_batch: int) -> None:
        runtime = trt.Runtime(_LOGGER)
        self.engine = runtime.deserialize_cuda_engine(engine_file.read_bytes())
        if self.engine is None:
            raise RuntimeError(f"{engine_file} is not an engine for this TensorRT and GPU; delete it to rebuild")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"{engine_file}: expected one input and one output, got {inputs} and {outputs}")
        self.input, self.output = inputs[0], outputs[0]
        self.input_dtype = trt.nptype(self.engine.get_tensor_dtype(self.input))
        self.output_dtype = trt.nptype(self.engine.get_tensor_dtype(self.output))
        self.max_batch = max_batch
        self.context.set_input_shape(self.input, (max_batch, *input_chw))
        largest_out = tuple(self.context.get_tensor_shape(self.output))
        self._d_input = cuda.mem_alloc(int(np.prod((max_batch, *input_chw))) * np.dtype(self.input_dtype).itemsize)
        self._d_output = cuda.mem_alloc(int(np.prod(largest_out)) * np.dtype(self.output_dtype).itemsize)
        self.context.set_tensor_address(self.input, int(self._d_input))
        self.context.set_tensor_address(self.output, int(self._d_output))
        self.stream = cuda.Stream()

    def run(self, blob: NDArray[np.floating]) -> NDArray[np.floating]:
        """Outputs for a batch of at most `max_batch` (larger batches are the caller's to split)."""
        if not 1 <= len(blob) <= self.max_batch:
            raise ValueError(f"batch of {len(blob)} outside the engine's profile 1..{self.max_batch}")
        host_in = np.ascontiguousarray(blob, dtype=self.input_dtype)
        self.context.set_input_shape(self.input, host_in.shape)
        host_out = np.empty(tuple(self.context.get_tensor_shape(self.output)), dtype=self.output_dtype)
        cuda.memcpy_htod_async(self._d_input, host_in, self.stream)
        if not self.context.execute_async_v3(self.stream.handle):
            raise RuntimeError("TensorRT execution failed")
        cuda.memcpy_dtoh_async(host_out, self._d_output, self.stream)
        self.stream.synchronize()
        return host_out


class TensorRTDetector(Detector):
    """The ONNX detector's contract and decoding, inferred by a cached TensorRT engine.

    `input_size` (height, width), when given, is what the engine is built for, even if the
    ONNX file was exported at another fixed size; `convention` is how the model wants its
    pixels (the detector profile's preprocessing), None taking the output layout's.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        model_id: str,
        layout: str = AUTO,
        conf_threshold: float = 0.1,
        nms_iou: float = 0.45,
        classes: Sequence[int] | None = (0,),
        input_size: tuple[int, int] | None = None,
        convention: InputConvention | None = None,
        precision: str = "fp16",
        max_batch: int = 8,
        calibrator: EntropyCalibrator | None = None,
    ) -> None:
        path = Path(path)
        _, channels, h, w = onnx_input_shape(path)
        try:
            self.input_size, _ = engine_input_hw((h, w), input_size)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        stride = STRIDES[-1]
        if self.input_size[0] % stride or self.input_size[1] % stride:
            raise ValueError(f"{path}: input size {self.input_size} must be a multiple of {stride} on both sides")
        chw = (channels or 3, *self.input_size)
        spec = EngineSpec(precision, opt_batch=max(1, max_batch // 2), max_batch=max_batch)
        self._runner = EngineRunner(cached_engine(path, spec, chw, calibrator), chw, max_batch)
        try:
            dry = self._runner.run(np.zeros((1, *chw), dtype=np.float32))
        except RuntimeError as exc:
            raise ValueError(
                f"{path}: the engine does not run at input size {chw[1]}x{chw[2]} "
                f"(its graph may fix the size inside): {exc}"
            ) from exc
        self._decoder = Decoder.for_output(
            dry.shape, self.input_size, layout=layout, conf_threshold=conf_threshold, nms_iou=nms_iou, classes=classes
        )
        self.layout = self._decoder.layout
        self.convention = convention or INPUT_CONVENTIONS[self.layout]
        super().__init__(model_id)

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        out: list[NDArray[np.float32]] = []
        for chunk in batches(images, self._runner.max_batch):
            blob, transforms = detector_blob(chunk, self.input_size, self.convention)
            out += self._decoder(self._runner.run(blob), transforms)
        return out


class TensorRTEmbedder(Embedder):
    """The ONNX embedder's contract and preprocessing, inferred by a cached TensorRT engine."""

    def __init__(self, path: str | Path, *, model_id: str, batch_size: int = 32, precision: str = "fp16") -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        path = Path(path)
        chw = (3, *REID_INPUT_SIZE)
        spec = EngineSpec(precision, opt_batch=max(1, batch_size // 2), max_batch=batch_size)
        self._runner = EngineRunner(cached_engine(path, spec, chw), chw, batch_size)
        dim = int(self._runner.run(np.zeros((1, *chw), dtype=np.float32)).shape[1])
        super().__init__(model_id, dim=dim)

    def _embed_crops(self, crops: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
        return np.concatenate(
            [self._runner.run(reid_blob(chunk)) for chunk in batches(crops, self._runner.max_batch)]
        ).astype(np.float32)
