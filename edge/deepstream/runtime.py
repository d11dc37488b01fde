"""The NVIDIA side of the deepstream engine: GStreamer objects from the plan, metadata in and out of pyds.

Imports `gi` and `pyds` at module level: only `edge.inference.factory.deepstream_backend`
loads this module, after checking both are installed. Everything that can be decided
without them is in edge/deepstream/pipeline.py and metadata.py; the probes here only copy
tensors and object rectangles out of the batch meta and our boxes into it.

Written against DeepStream 7's Python API (pyds 1.2); not run in this repository's CI,
which has no NVIDIA GPU (tests/unit/test_deepstream_pipeline.py marks those tests `gpu`).
"""

from __future__ import annotations

import ctypes
import importlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import gi
import numpy as np
import pyds
from numpy.typing import NDArray
from pydantic import SecretStr

from edge.deepstream.agent import DeepStreamModels, EventCallback, FramesCallback, RateCallback
from edge.deepstream.metadata import frame_detections, muxer_rects, object_embeddings, source_boxes
from edge.deepstream.nvinfer_config import NvinferModel, detector_config, reid_config
from edge.deepstream.pipeline import (
    DETECTOR,
    MUXER,
    SINK,
    DeepStreamSettings,
    ElementSpec,
    FrameResult,
    PipelinePlan,
    PropertyValue,
    SourceHealth,
    agent_detector,
    describe,
    detector_interval_for,
)
from edge.inference.decoders import Decoder
from edge.sources.reconnect import SourceEvent
from shared.config.site import SiteConfig

# Versioned before the import: unversioned, gi warns and may load another GStreamer.
gi.require_version("Gst", "1.0")
Gst: Any = importlib.import_module("gi.repository.Gst")

log = logging.getLogger(__name__)

REQUIRED_PLUGINS = ("nvurisrcbin", "nvstreammux", "nvinfer")
REID_MODEL = "osnet_x0_25_msmt17"
# The secondary's batch profile (opt, max): persons per muxer batch it embeds in one go. Both
# profiles follow `mallflow models build-engine` (opt = max // 2), so an INT8 engine built there
# with `--config SITE.yaml --max-batch <cameras>` (OSNet's --reid-max-batch 32 is its default)
# is the one found here.
REID_BATCH = (16, 32)
# NvDsObjectMeta.object_id of an object no tracker has claimed (we track after the pipeline).
UNTRACKED_OBJECT_ID = 0xFFFFFFFFFFFFFFFF

_LAYER_CTYPES: dict[Any, Any] = {
    pyds.NvDsInferDataType.FLOAT: ctypes.c_float,
    pyds.NvDsInferDataType.INT32: ctypes.c_int32,
    pyds.NvDsInferDataType.INT8: ctypes.c_int8,
}
_INIT_LOCK = threading.Lock()


def check_plugins() -> None:
    """ImportError unless GStreamer finds DeepStream's plugins (gi alone is not DeepStream)."""
    with _INIT_LOCK:
        if not Gst.is_initialized():
            Gst.init(None)
    missing = [p for p in REQUIRED_PLUGINS if Gst.ElementFactory.find(p) is None]
    if missing:
        raise ImportError(
            f"engine 'deepstream': GStreamer has no {', '.join(missing)} plugin(s): DeepStream 7 is not installed "
            "(or GST_PLUGIN_PATH misses /opt/nvidia/deepstream/deepstream/lib/gst-plugins)"
        )


def prepare_models(site: SiteConfig, camera_ids: list[str], options: DeepStreamSettings) -> DeepStreamModels:
    """Engines from the shared cache (built on first use, as for `--engine tensorrt`) and their nvinfer configs.

    The detector is the cameras' one detector profile (ValueError naming them when they
    differ), at the profile's input size and with its preprocessing.
    """
    from edge.inference.engine_cache import EngineSpec, calibration_cache_path, engine_input_hw
    from edge.inference.factory import resolve_model, tensorrt_backend
    from edge.inference.onnx_graph import with_symbolic_hw
    from edge.inference.preprocess import REID_INPUT_SIZE
    from edge.publish.files import write_atomically
    from shared.paths import cache_dir

    profile = agent_detector(site, camera_ids)
    trt = tensorrt_backend()
    config_dir = cache_dir() / "deepstream" / site.site.id
    config_dir.mkdir(parents=True, exist_ok=True)

    def model(name: str, spec: EngineSpec, hw: tuple[int, int]) -> tuple[NvinferModel, str]:
        path, model_id = resolve_model(name)
        _, channels, h, w = trt.onnx_input_shape(path)
        chw = (channels or 3, *hw)
        engine = trt.cached_engine(path, spec, chw)
        calib = calibration_cache_path(engine) if spec.precision == "int8" else None
        onnx = path
        if engine_input_hw((h, w), hw)[1]:
            # nvinfer rebuilds from onnx-file when it rejects the engine; the export's fixed size
            # would contradict infer-dims, so it is handed the graph with symbolic height and width.
            onnx = config_dir / f"{path.stem}-{hw[0]}x{hw[1]}.onnx"
            write_atomically(onnx, with_symbolic_hw(path))
        return NvinferModel(onnx, engine, spec, calib), model_id

    cameras = len(camera_ids)
    detector_spec = EngineSpec(options.precision, max(1, cameras // 2), cameras)
    detector, detector_id = model(profile.model, detector_spec, profile.input_size)
    detector_file = config_dir / "detector.txt"
    interval = detector_interval_for(site, camera_ids, options)
    write_atomically(detector_file, detector_config(detector, profile, interval=interval).encode())
    if not site.tracking.reid:
        return DeepStreamModels(detector_id, detector_file, profile.input_size)
    reid, reid_id = model(REID_MODEL, EngineSpec(options.precision, *REID_BATCH), REID_INPUT_SIZE)
    reid_file = config_dir / "reid.txt"
    write_atomically(reid_file, reid_config(reid).encode())
    return DeepStreamModels(detector_id, detector_file, profile.input_size, reid_id, reid_file)


def set_properties(element: Any, factory: str, properties: dict[str, PropertyValue]) -> None:
    """Set what `element` has of `properties`; a SecretStr is unwrapped here and nowhere else."""
    for key, value in properties.items():
        if element.find_property(key) is None:
            # Properties come and go between DeepStream releases; a missing one is not fatal.
            # The name only: the value may be a login.
            log.warning("%s has no property %s (DeepStream version?); left at its default", factory, key)
            continue
        element.set_property(key, value.get_secret_value() if isinstance(value, SecretStr) else value)


def configure_children(bin_: Any, children: dict[str, dict[str, PropertyValue]]) -> None:
    """Give each element `bin_` holds or will create inside itself (at any depth) its factory's `children` entry.

    The camera's login reaches its rtspsrc this way. nvurisrcbin has no user-id/user-pw,
    and the alternative, user:password@ in its `uri`, puts the password in the one string
    DeepStream and GStreamer print (reconnect notices, bus errors, debug logs). rtspsrc and
    souphttpsrc only connect once they are in the bin and started, and GstBin's
    deep-element-added is emitted synchronously by the add (at any depth, also for the
    contents of an added bin), so the login is set before the first request whenever
    nvurisrcbin makes them: when it starts, when its uridecodebin opens the URI, or again
    at a reconnect. Elements already inside when this is called are set at once. Checked
    against GStreamer's own bins and uridecodebin (tests/unit/test_deepstream_pipeline.py),
    not against nvurisrcbin itself, which this repository's CI does not have.
    """
    if not children:
        return

    def configure(element: Any) -> None:
        factory = element.get_factory()
        properties = children.get(factory.get_name()) if factory is not None else None
        if properties:
            set_properties(element, factory.get_name(), properties)

    bin_.connect("deep-element-added", lambda _bin, _sub_bin, element: configure(element))
    # Gst.Iterator is not iterable without gst-python's overrides; foreach is plain GI.
    bin_.iterate_recurse().foreach(configure)


def _iterate(glist: Any, cast: Any) -> Any:
    """The items of a pyds GList (frame, object and user meta lists), cast to their type."""
    while glist is not None:
        try:
            item = cast(glist.data)
        except StopIteration:
            return
        yield item
        try:
            glist = glist.next
        except StopIteration:
            return


def _layer_array(layer: Any) -> NDArray[np.float32]:
    ctype = _LAYER_CTYPES.get(layer.dataType)
    if ctype is None:
        raise RuntimeError(f"output layer {layer.layerName} has data type {layer.dataType}; float outputs expected")
    dims = tuple(layer.inferDims.d[: layer.inferDims.numDims])
    ptr = ctypes.cast(pyds.get_ptr(layer.buffer), ctypes.POINTER(ctype))
    # A copy: nvinfer reuses its host output buffers for the next batch.
    return np.ctypeslib.as_array(ptr, shape=dims).astype(np.float32)


def _tensor_output(user_meta_list: Any, unique_id: int) -> NDArray[np.float32] | None:
    """The first output layer nvinfer `unique_id` attached to a frame or object, or None."""
    for user_meta in _iterate(user_meta_list, pyds.NvDsUserMeta.cast):
        if user_meta.base_meta.meta_type != pyds.NvDsMetaType.NVDSINFER_TENSOR_OUTPUT_META:
            continue
        tensor_meta = pyds.NvDsInferTensorMeta.cast(user_meta.user_meta_data)
        if tensor_meta.unique_id != unique_id:
            continue
        for i in range(tensor_meta.num_output_layers):
            layer = pyds.get_nvds_LayerInfo(tensor_meta, i)
            if not layer.isInput:
                return _layer_array(layer)
    return None


class DeepStreamRunner:
    def __init__(
        self, plan: PipelinePlan, on_frames: FramesCallback, on_event: EventCallback, on_rate: RateCallback
    ) -> None:
        self.plan = plan
        self._on_frames = on_frames
        self._on_event = on_event
        self._on_rate = on_rate
        # Each camera's own stall timeout (its `stream:` settings) decides when it is stalled.
        self._health = SourceHealth(plan.slots, plan.max_attempts)
        # Frames, ends and errors arrive on streaming threads and the bus thread.
        self._lock = threading.Lock()
        self._decoder: Decoder | None = None
        # (pad, frame) the detector ran on: with an interval, the others carry no detections.
        self._inferred: set[tuple[int, int]] = set()
        self._mux_pads: list[Any] = []
        self._eos_sent: set[int] = set()
        self._source_names = {spec.name: i for i, spec in enumerate(plan.graph.sources)}

    # Building

    @staticmethod
    def _make(spec: ElementSpec) -> Any:
        element = Gst.ElementFactory.make(spec.factory, spec.name)
        if element is None:
            raise RuntimeError(f"GStreamer cannot create {spec.factory} ({spec.name})")
        set_properties(element, spec.factory, spec.properties)
        configure_children(element, spec.children)
        return element

    def _build(self) -> Any:
        pipeline = Gst.Pipeline.new("mallflow")
        chain = [self._make(spec) for spec in self.plan.graph.chain]
        for element in chain:
            pipeline.add(element)
        for upstream, downstream in itertools.pairwise(chain):
            if not upstream.link(downstream):
                raise RuntimeError(f"cannot link {upstream.get_name()} to {downstream.get_name()}")
        mux = pipeline.get_by_name(MUXER)
        for slot, spec in zip(self.plan.slots, self.plan.graph.sources, strict=True):
            source = self._make(spec)
            pipeline.add(source)
            # Every muxer pad exists from the start, so a source that never opens can still be ended.
            self._mux_pads.append(mux.request_pad_simple(f"sink_{slot.index}"))
            source.connect("pad-added", self._on_pad_added, slot.index)
        pipeline.get_by_name(DETECTOR).get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self._attach_detections)
        pipeline.get_by_name(SINK).get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._collect)
        log.info("deepstream pipeline: %s", describe(self.plan.graph))
        return pipeline

    def _on_pad_added(self, _source: Any, pad: Any, index: int) -> None:
        caps = pad.get_current_caps() or pad.query_caps(None)
        structure = caps.get_structure(0)
        if not structure.get_name().startswith("video") or self._mux_pads[index].is_linked():
            return
        if pad.link(self._mux_pads[index]) != Gst.PadLinkReturn.OK:
            self._emit(self._health.failed, index, "cannot link the decoded stream to the muxer")
            return
        pad.add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, self._on_source_event, index)
        ok, num, den = structure.get_fraction("framerate")
        if ok and num > 0 and den > 0:
            self._on_rate(index, num / den)

    # Probes (streaming threads)

    def _on_source_event(self, _pad: Any, info: Any, index: int) -> Any:
        if info.get_event().type == Gst.EventType.EOS:
            self._emit(self._health.ended, index)
        return Gst.PadProbeReturn.OK

    def _detector_decoder(self, shape: tuple[int, ...]) -> Decoder:
        if self._decoder is None:
            head = self.plan.detector
            self._decoder = Decoder.for_output(
                (1, *shape),
                head.input_size,
                layout=head.layout,
                conf_threshold=head.conf_threshold,
                nms_iou=head.nms_iou,
                classes=head.classes,
            )
        return self._decoder

    def _attach_detections(self, _pad: Any, info: Any) -> Any:
        """Detector tensor → our decoded boxes → NvDsObjectMeta (muxer pixels), for the secondary and the collector."""
        buffer = info.get_buffer()
        if buffer is None:
            return Gst.PadProbeReturn.OK
        batch_meta = pyds.gst_buffer_get_nvds_batch_meta(hash(buffer))
        head = self.plan.detector
        for frame_meta in _iterate(batch_meta.frame_meta_list, pyds.NvDsFrameMeta.cast):
            output = _tensor_output(frame_meta.frame_user_meta_list, head.unique_id)
            if output is None:
                continue
            self._inferred.add((frame_meta.pad_index, frame_meta.frame_num))
            source_size = (frame_meta.source_frame_height, frame_meta.source_frame_width)
            boxes = frame_detections(
                output, self._detector_decoder(output.shape), self.plan.muxer_size, source_size, center=head.center
            )
            for rect, row in zip(muxer_rects(boxes, self.plan.muxer_size, source_size), boxes, strict=True):
                obj = pyds.nvds_acquire_obj_meta_from_pool(batch_meta)
                # The secondary runs on objects of operate-on-gie-id == this id and class 0.
                obj.unique_component_id = head.unique_id
                obj.class_id = int(row[5])
                obj.confidence = float(row[4])
                obj.object_id = UNTRACKED_OBJECT_ID
                obj.rect_params.left, obj.rect_params.top = float(rect[0]), float(rect[1])
                obj.rect_params.width, obj.rect_params.height = float(rect[2]), float(rect[3])
                pyds.nvds_add_obj_meta_to_frame(frame_meta, obj, None)
        return Gst.PadProbeReturn.OK

    def _collect(self, _pad: Any, info: Any) -> Any:
        """Per inferred frame: our objects and their embeddings back out, as one batch for the agent."""
        buffer = info.get_buffer()
        if buffer is None:
            return Gst.PadProbeReturn.OK
        batch_meta = pyds.gst_buffer_get_nvds_batch_meta(hash(buffer))
        detector, reid = self.plan.detector, self.plan.reid
        results = []
        now = time.time_ns()
        for frame_meta in _iterate(batch_meta.frame_meta_list, pyds.NvDsFrameMeta.cast):
            key = (frame_meta.pad_index, frame_meta.frame_num)
            if key not in self._inferred:
                continue
            self._inferred.discard(key)
            rects, confidence, class_id, vectors = [], [], [], []
            for obj in _iterate(frame_meta.obj_meta_list, pyds.NvDsObjectMeta.cast):
                if obj.unique_component_id != detector.unique_id:
                    continue
                r = obj.rect_params
                rects.append((r.left, r.top, r.width, r.height))
                confidence.append(obj.confidence)
                class_id.append(obj.class_id)
                if reid is not None:
                    vectors.append(_tensor_output(obj.obj_user_meta_list, reid.unique_id))
            source_size = (frame_meta.source_frame_height, frame_meta.source_frame_width)
            results.append(
                FrameResult(
                    pad_index=frame_meta.pad_index,
                    frame_num=frame_meta.frame_num,
                    source_size=source_size,
                    pts_ns=frame_meta.buf_pts if frame_meta.buf_pts != Gst.CLOCK_TIME_NONE else None,
                    ntp_ns=frame_meta.ntp_timestamp or None,
                    boxes=source_boxes(
                        np.asarray(rects, dtype=np.float32).reshape(-1, 4),
                        np.asarray(confidence, dtype=np.float32),
                        np.asarray(class_id, dtype=np.int64),
                        self.plan.muxer_size,
                        source_size,
                    ),
                    embeddings=None if reid is None else object_embeddings(vectors, reid.dim),
                )
            )
            self._emit(self._health.frame, frame_meta.pad_index, now)
        # Blocks while the agent is busy: backpressure up to the muxer; live sources drop upstream.
        if results and not self._on_frames(results):
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    # Control (the agent's detection thread)

    def _emit(self, change: Callable[..., list[SourceEvent]], *args: Any) -> None:
        """Apply one observation to the camera states and pass on the events it gives."""
        with self._lock:
            events = change(*args)
        for event in events:
            self._on_event(event)

    def _source_index(self, element: Any) -> int | None:
        """The camera an element belongs to (a child of its nvurisrcbin), or None for the shared stages."""
        while element is not None:
            index = self._source_names.get(element.get_name())
            if index is not None:
                return index
            element = element.get_parent()
        return None

    def _finish_finished_sources(self) -> None:
        """EOS into the muxer for cameras that will send no more, so it stops waiting for them."""
        for index, pad in enumerate(self._mux_pads):
            with self._lock:
                done = self._health.finished(index)
            if done and index not in self._eos_sent:
                pad.send_event(Gst.Event.new_eos())
                self._eos_sent.add(index)

    def run(self, stop: threading.Event) -> None:
        check_plugins()
        pipeline = self._build()
        bus = pipeline.get_bus()
        try:
            if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
                message = bus.pop_filtered(Gst.MessageType.ERROR)
                detail = message.parse_error()[0].message if message is not None else "no error on the bus"
                raise RuntimeError(f"the deepstream pipeline did not start: {self.plan.redact(detail)}")
            wanted = Gst.MessageType.ERROR | Gst.MessageType.WARNING | Gst.MessageType.EOS
            while not stop.is_set():
                message = bus.timed_pop_filtered(100 * Gst.MSECOND, wanted)
                self._emit(self._health.stalled, time.time_ns())
                if message is None:
                    with self._lock:
                        if self._health.all_finished():
                            return
                    continue
                if message.type == Gst.MessageType.EOS:
                    return
                if message.type == Gst.MessageType.WARNING:
                    warning, _ = message.parse_warning()
                    # GStreamer's messages may quote a location, login included.
                    log.warning("%s: %s", message.src.get_name(), self.plan.redact(warning.message))
                    continue
                error, debug = message.parse_error()
                index = self._source_index(message.src)
                if index is None:
                    detail = self.plan.redact(f"{error.message} ({debug})")
                    raise RuntimeError(f"deepstream {message.src.get_name()}: {detail}")
                # SourceHealth masks the login in the camera-status message it makes of this.
                self._emit(self._health.failed, index, error.message)
                self._finish_finished_sources()
        finally:
            pipeline.set_state(Gst.State.NULL)
