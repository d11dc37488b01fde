"""The DeepStream pipeline as data, and the per-frame bookkeeping around it. Pure: no `gi`, no `pyds`.

    nvurisrcbin (one per camera) ─▶ nvstreammux ─▶ queue ─▶ nvinfer (detector, raw tensor)
        ─▶ [probe: tensor → our detections → NvDsObjectMeta] ─▶ queue ─▶ nvinfer (OSNet on
        each person, raw tensor) ─▶ fakesink ◀ [probe: per frame, boxes + embeddings → agent]

What to build (elements and their properties; a live camera's from its own `stream:`
settings), which camera a frame belongs to (`frame_meta.pad_index` is the muxer sink pad,
so the camera's position in the plan), where its boxes lie in the camera's own (cropped)
frame, when it was captured, and what state each camera is in are all decided here and
unit-tested; edge/deepstream/runtime.py only turns the plan into GStreamer objects and
copies metadata in and out of pyds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import numpy as np
from numpy.typing import NDArray
from pydantic import SecretStr

from edge.deepstream.nvinfer_config import detector_convention
from edge.inference.engine_cache import PRECISIONS
from edge.sources.base import SourceKind, SourceSpec
from edge.sources.reconnect import Backoff, SourceEvent, SourceState
from edge.tracking.association_rate import AssociationPacer
from shared.config.detector import DetectorProfile
from shared.config.site import SiteConfig
from shared.config.stream import RtspTransport, StreamSettings, has_userinfo, redact_text, redact_uri

# gie-unique-id of the two nvinfer instances (edge/deepstream/nvinfer_config.py defaults).
DETECTOR_UID = 1
REID_UID = 2
# nvurisrcbin's select-rtp-protocol values (it hands them to rtspsrc's `protocols`): 4 is
# RTP over the RTSP TCP connection only; 0 is UDP, UDP multicast and TCP, tried in that
# order. nvurisrcbin offers no UDP-only value, so `transport: udp` is UDP with a TCP fallback
# here, where the CPU path's rtspsrc (protocols=udp) has none.
_RTP_OVER_TCP = 4
_RTP_UDP_FIRST = 0
# Elements nvurisrcbin creates inside itself that take a login as user-id / user-pw:
# rtspsrc for rtsp:// (its own RTSP path and uridecodebin's), souphttpsrc for http(s)://.
_LOGIN_ELEMENTS = ("rtspsrc", "souphttpsrc")
_DEFAULT_STREAM = StreamSettings()

# SecretStr: a credential, unwrapped by the runtime only in the set_property call itself, so
# that a plan, an element spec or a launch line can be logged or repr()'d as it is.
PropertyValue = str | int | float | bool | SecretStr


@dataclass(frozen=True)
class DeepStreamSettings:
    """Pipeline knobs that are not in the site file (they depend on the box, not the mall)."""

    # (height, width) every camera is scaled to before inference. No padding: a camera of
    # another aspect ratio is stretched, and its boxes are stretched back (metadata.py).
    muxer_size: tuple[int, int] = (1080, 1920)
    # How long the muxer waits to fill a batch before pushing a partial one; None: one frame
    # at the slowest camera's fps hint (25 fps without hints), so a late camera costs at most
    # one frame of latency to the others.
    batched_push_timeout_us: int | None = None
    # Frames the detector skips between inferences (nvinfer `interval`); the agent tracks
    # only the inferred ones, at the correspondingly lower rate. None: from the site's
    # `tracking.max_association_fps` and the cameras' fps hints (detector_interval_for).
    detector_interval: int | None = None
    # TensorRT precision of both engines. FP16/FP32 engines are built at the first start;
    # INT8 ones must be built before with `mallflow models build-engine --precision int8`
    # (it calibrates on the site's frames; see edge/deepstream/runtime.py for the batch sizes).
    precision: str = "fp16"
    gpu_id: int = 0
    # No RTSP knobs here: transport, jitter buffer, stall timeout and login are each
    # camera's `stream:` settings (SourceSlot), as on the CPU path. The site-wide
    # rtsp_latency_ms / rtsp_over_tcp / stall_s this class had were set by no config, CLI or
    # deploy file, so they are gone rather than kept as a second place for the same setting.
    # Buffers each queue may hold: enough to overlap stages, little enough that a slow agent
    # pushes back on the muxer (live sources then drop at the source) instead of piling up.
    queue_buffers: int = 4

    def __post_init__(self) -> None:
        if min(self.muxer_size) <= 0:
            raise ValueError(f"muxer_size must be positive (height, width), got {self.muxer_size}")
        if self.batched_push_timeout_us is not None and self.batched_push_timeout_us <= 0:
            raise ValueError(f"batched_push_timeout_us must be > 0, got {self.batched_push_timeout_us}")
        if self.detector_interval is not None and self.detector_interval < 0:
            raise ValueError(f"detector_interval must be >= 0, got {self.detector_interval}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.queue_buffers < 1:
            raise ValueError(f"queue_buffers must be >= 1, got {self.queue_buffers}")


@dataclass(frozen=True)
class Credentials:
    """A camera's login for its rtspsrc's user-id / user-pw; SecretStr, so repr and str show neither."""

    username: SecretStr
    password: SecretStr | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message may hold: the password, as given and as URLs quote it (SourceSpec.secrets' rule)."""
        if self.password is None:
            return ()
        password = self.password.get_secret_value()
        return tuple(dict.fromkeys(p for p in (password, quote(password, safe="")) if p))


@dataclass(frozen=True)
class SourceSlot:
    """One camera in the pipeline: `index` is its nvstreammux sink pad and every frame's pad_index.

    The RTSP fields are the camera's `stream:` settings (the scheme's transport where it
    names one); files ignore them. `uri` never holds a login, so a slot may be logged.
    """

    index: int
    camera_id: str
    uri: str
    live: bool
    crop: tuple[int, int, int, int] | None = None
    fps_hint: float | None = None
    transport: RtspTransport = _DEFAULT_STREAM.transport
    latency_ms: int = _DEFAULT_STREAM.latency_ms
    # No frame for this long: reported RECONNECTING, and nvurisrcbin reconnects.
    stall_s: float = _DEFAULT_STREAM.stall_timeout_s
    credentials: Credentials | None = None


def _split_login(uri: str) -> tuple[str, Credentials | None]:
    """`uri` without its user[:password]@, and that login (percent-decoded, as rtspsrc would read it)."""
    if not has_userinfo(uri):
        return uri, None
    parts = urlsplit(uri)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        # The '@' is in the path, not the authority: no login.
        return uri, None
    user, colon, password = userinfo.partition(":")
    login = Credentials(SecretStr(unquote(user)), SecretStr(unquote(password)) if colon else None)
    return urlunsplit(parts._replace(netloc=host)), login


def source_uri(spec: SourceSpec) -> str:
    """The URI nvurisrcbin opens for a camera source, without any login: files become absolute file:// URIs."""
    if spec.kind is SourceKind.V4L2:
        raise ValueError(
            f"camera {spec.camera_id}: {spec.display_uri} is a V4L2 device; the deepstream engine takes file and "
            "rtsp:// sources (use --engine tensorrt or onnxruntime for USB cameras)"
        )
    if spec.kind is SourceKind.RTSP:
        return _split_login(spec.uri)[0]
    # The site loader has made relative paths absolute (relative to the YAML file) already.
    return Path(spec.path).resolve().as_uri()


def source_credentials(spec: SourceSpec) -> Credentials | None:
    """The camera's login, from `stream.username`/`password` or else from the URL's user:password@.

    Both go to rtspsrc as properties rather than in nvurisrcbin's `uri`: DeepStream's own
    code and GStreamer's messages quote that URI (reconnect notices, errors on the bus), and
    what is not in it cannot leak through them. The site loader refuses a login in both
    places; should a spec carry both, `stream:` wins, as rtspsrc's user-id/user-pw win over
    the URL's.
    """
    if spec.kind is not SourceKind.RTSP:
        return None
    stream = spec.stream
    if stream.username is not None:
        return Credentials(SecretStr(stream.username), stream.password)
    return _split_login(spec.uri)[1]


def _transport(spec: SourceSpec) -> RtspTransport:
    # rtspt:// and rtspu:// fix the transport in rtspsrc whatever `stream.transport` says
    # (edge/sources/base.py); nvurisrcbin's protocol must agree or rtspsrc has none to try.
    if spec.uri.startswith("rtspt://"):
        return RtspTransport.TCP
    if spec.uri.startswith("rtspu://"):
        return RtspTransport.UDP
    return spec.stream.transport


def source_slots(specs: Sequence[SourceSpec]) -> list[SourceSlot]:
    if not specs:
        raise ValueError("the pipeline needs at least one camera")
    ids = [s.camera_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"camera ids must be unique, got {ids}")
    return [
        SourceSlot(
            i,
            s.camera_id,
            source_uri(s),
            s.is_live,
            s.crop,
            s.fps_hint,
            transport=_transport(s),
            latency_ms=s.stream.latency_ms,
            stall_s=s.stream.stall_timeout_s,
            credentials=source_credentials(s),
        )
        for i, s in enumerate(specs)
    ]


def slot_secrets(slots: Iterable[SourceSlot]) -> tuple[str, ...]:
    """Every camera's password (as given and URL-quoted): what `redact_text` must take out of a message."""
    return tuple(dict.fromkeys(secret for s in slots if s.credentials for secret in s.credentials.secrets))


def camera_of(slots: Sequence[SourceSlot], pad_index: int) -> SourceSlot:
    """The camera whose frames carry `pad_index` (the muxer pad it was linked to)."""
    if not 0 <= pad_index < len(slots) or slots[pad_index].index != pad_index:
        raise ValueError(f"frame from muxer pad {pad_index}, but the pipeline has pads 0..{len(slots) - 1}")
    return slots[pad_index]


def source_properties(slot: SourceSlot, backoff: Backoff, settings: DeepStreamSettings) -> dict[str, PropertyValue]:
    """nvurisrcbin properties of one camera; a live camera's from its own `stream:` settings.

    nvurisrcbin reconnects RTSP itself, at a fixed interval rather than our exponential
    backoff: the interval is the camera's stall timeout, the longest silence accepted before
    reconnecting (whole seconds, rounded up; the agent reports RECONNECTING after the same
    silence), the first retry after a failed connect waits `backoff.initial_s`, and
    `backoff.max_attempts` carries over (0, retry forever, is nvurisrcbin's -1). The login is
    not here (nvurisrcbin has no property for it): see `child_properties`.
    """
    props: dict[str, PropertyValue] = {"uri": slot.uri, "gpu-id": settings.gpu_id, "disable-audio": True}
    if slot.live:
        props |= {
            "latency": slot.latency_ms,
            "drop-on-latency": True,
            "select-rtp-protocol": _RTP_OVER_TCP if slot.transport is RtspTransport.TCP else _RTP_UDP_FIRST,
            "rtsp-reconnect-interval": max(1, math.ceil(slot.stall_s)),
            "init-rtsp-reconnect-interval": max(1, math.ceil(backoff.initial_s)),
            "rtsp-reconnect-attempts": backoff.max_attempts or -1,
        }
    else:
        props["file-loop"] = False
    return props


def child_properties(slot: SourceSlot) -> dict[str, dict[str, PropertyValue]]:
    """Properties for elements nvurisrcbin creates inside itself, by factory name: the camera's login.

    nvurisrcbin has no user-id/user-pw, and a login in its `uri` is quoted by whatever
    prints the URI, so the runtime sets these on its rtspsrc (souphttpsrc for http://) as
    that element is added (GstBin's deep-element-added), before it connects. A username
    without a password is set alone, as the CPU path does.
    """
    login = slot.credentials
    if not slot.live or login is None:
        return {}
    props: dict[str, PropertyValue] = {"user-id": login.username}
    if login.password is not None:
        props["user-pw"] = login.password
    return {factory: dict(props) for factory in _LOGIN_ELEMENTS}


def muxer_properties(slots: Sequence[SourceSlot], settings: DeepStreamSettings) -> dict[str, PropertyValue]:
    height, width = settings.muxer_size
    timeout = settings.batched_push_timeout_us
    if timeout is None:
        slowest = min((s.fps_hint for s in slots if s.fps_hint), default=25.0)
        timeout = round(1e6 / slowest)
    return {
        "batch-size": len(slots),
        "width": width,
        "height": height,
        "batched-push-timeout": timeout,
        "live-source": any(s.live for s in slots),
        # ntp_timestamp = the system clock when a frame reached the muxer: capture time of live frames.
        "attach-sys-ts": True,
        "gpu-id": settings.gpu_id,
    }


@dataclass(frozen=True)
class ElementSpec:
    factory: str
    name: str
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    # A bin's: properties of the elements it creates inside itself, by their factory name.
    children: dict[str, dict[str, PropertyValue]] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineGraph:
    """`sources[i]` links to the muxer's sink_i; `chain` links in order, the muxer first."""

    sources: list[ElementSpec]
    chain: list[ElementSpec]

    def element(self, name: str) -> ElementSpec:
        for e in (*self.sources, *self.chain):
            if e.name == name:
                return e
        raise KeyError(f"no element {name!r} in the pipeline")


MUXER = "mux"
DETECTOR = "detector"
REID = "reid"
SINK = "sink"


def element_graph(
    slots: Sequence[SourceSlot],
    detector_config: Path,
    reid_config: Path | None,
    backoff: Backoff,
    settings: DeepStreamSettings,
) -> PipelineGraph:
    queue = {"max-size-buffers": settings.queue_buffers, "max-size-bytes": 0, "max-size-time": 0}
    chain = [
        ElementSpec("nvstreammux", MUXER, muxer_properties(slots, settings)),
        ElementSpec("queue", "queue-infer", dict(queue)),
        ElementSpec(
            "nvinfer",
            DETECTOR,
            {
                "config-file-path": str(detector_config),
                "unique-id": DETECTOR_UID,
                "batch-size": len(slots),
                "gpu-id": settings.gpu_id,
            },
        ),
        ElementSpec("queue", "queue-objects", dict(queue)),
    ]
    if reid_config is not None:
        reid: dict[str, PropertyValue] = {
            "config-file-path": str(reid_config),
            "unique-id": REID_UID,
            "gpu-id": settings.gpu_id,
        }
        chain.append(ElementSpec("nvinfer", REID, reid))
    # sync off: files play as fast as the pipeline runs (as the CPU agent reads them); live
    # sources pace themselves.
    chain.append(ElementSpec("fakesink", SINK, {"sync": False, "async": False, "enable-last-sample": False}))
    sources = [
        ElementSpec("nvurisrcbin", f"src-{s.index}", source_properties(s, backoff, settings), child_properties(s))
        for s in slots
    ]
    return PipelineGraph(sources, chain)


def _launch_value(value: PropertyValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, SecretStr):
        return "***"
    text = redact_uri(value) if isinstance(value, str) else str(value)
    return f'"{text}"' if re.search(r"[\s!\"'=]", text) else text


def _launch_element(e: ElementSpec) -> str:
    return " ".join([e.factory, f"name={e.name}", *(f"{k}={_launch_value(v)}" for k, v in e.properties.items())])


def describe(graph: PipelineGraph) -> str:
    """The pipeline as a gst-launch-1.0 line, for logs and for trying it by hand.

    Credentials redacted; logins (ElementSpec.children) are left out, as gst-launch cannot
    reach inside nvurisrcbin: by hand, put them in the URI.
    """
    sources = " ".join(f"{_launch_element(s)} ! {MUXER}.sink_{i}" for i, s in enumerate(graph.sources))
    return f"{sources} {' ! '.join(_launch_element(e) for e in graph.chain)}"


@dataclass(frozen=True)
class FrameResult:
    """What the pipeline yields per frame: its camera (pad), timing and objects in source pixels."""

    pad_index: int
    frame_num: int
    # (height, width) of the decoded source frame, before the muxer scaled it.
    source_size: tuple[int, int]
    pts_ns: int | None
    ntp_ns: int | None
    # (N, 6) x1, y1, x2, y2, score, class and, with the secondary, (N, D) unit vectors.
    boxes: NDArray[np.float32]
    embeddings: NDArray[np.float32] | None = None


def order_batch(results: Sequence[FrameResult]) -> list[FrameResult]:
    """A muxer batch in processing order: by camera, and within a camera by frame (a batch may hold two)."""
    return sorted(results, key=lambda r: (r.pad_index, r.frame_num))


def crop_to_camera(
    boxes: NDArray[np.float32],
    embeddings: NDArray[np.float32] | None,
    crop: tuple[int, int, int, int] | None,
    source_size: tuple[int, int],
) -> tuple[NDArray[np.float32], NDArray[np.float32] | None, tuple[int, int]]:
    """Boxes of the full source frame → the camera's crop: (boxes, embeddings, (height, width) of the camera's frame).

    The CPU path detects on the cropped image; here the detector saw the whole frame, so a
    person belongs to the camera whose crop holds the centre of their box, clipped to it.
    """
    h, w = source_size
    if crop is None:
        return boxes, embeddings, source_size
    x0, y0, x1, y1 = crop
    if x1 > w or y1 > h:
        raise ValueError(f"crop {crop} exceeds the {w}x{h} frame")
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    keep = (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
    out = boxes[keep].copy()
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], x0, x1) - x0
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], y0, y1) - y0
    return out, None if embeddings is None else embeddings[keep], (y1 - y0, x1 - x0)


@dataclass
class CaptureClock:
    """Capture time of a camera's frames, by the rules of the CPU sources (edge/sources/base.py).

    Live: the muxer's system timestamp (ntp_timestamp), else the wall clock now. Files: the
    start of the run plus the media position — by the installer's fps hint when given (it
    is trusted over the container's), else by the stream's timestamps, else by `fps`.
    """

    live: bool
    start_ns: int
    fps_hint: float | None = None
    fps: float = 25.0
    _first_pts: int | None = None

    def time_ns(self, index: int, pts_ns: int | None, ntp_ns: int | None, now_ns: int) -> int:
        if self.live:
            return ntp_ns if ntp_ns else now_ns
        if self.fps_hint:
            return self.start_ns + int(index * 1e9 / self.fps_hint)
        if pts_ns is not None:
            if self._first_pts is None:
                self._first_pts = pts_ns
            return self.start_ns + pts_ns - self._first_pts
        return self.start_ns + int(index * 1e9 / self.fps)


@dataclass
class _SlotHealth:
    state: SourceState = SourceState.RECONNECTING
    last_frame_ns: int = 0
    failures: int = 0
    finished: bool = False


class SourceHealth:
    """Camera states from what the pipeline shows: frames, end of stream, errors and silence.

    The events match the CPU sources' (edge/sources/reconnect.py): ONLINE at the first frame
    after a start or a gap; a file's end ENDED and its error OFFLINE (it is not retried); a
    live camera's error, end or silence (longer than its own `stall_s`) RECONNECTING while
    nvurisrcbin reconnects, and OFFLINE after `max_attempts` failures in a row without a
    frame (0: never). Messages become camera-status messages: any login in them is masked.
    """

    def __init__(self, slots: Sequence[SourceSlot], max_attempts: int = 0) -> None:
        self.slots = list(slots)
        self.max_attempts = max_attempts
        self._health = [_SlotHealth() for _ in self.slots]
        self._secrets = slot_secrets(self.slots)

    def _event(self, index: int, state: SourceState, message: str = "", attempt: int = 0) -> SourceEvent:
        health = self._health[index]
        health.state = state
        health.finished = state in (SourceState.ENDED, SourceState.OFFLINE)
        # GStreamer's errors may quote a location with its user:password@ (or a URL-given one).
        return SourceEvent(self.slots[index].camera_id, state, redact_text(message, self._secrets), attempt)

    def frame(self, index: int, now_ns: int) -> list[SourceEvent]:
        health = self._health[index]
        health.last_frame_ns = now_ns
        health.failures = 0
        if health.finished or health.state is SourceState.ONLINE:
            return []
        return [self._event(index, SourceState.ONLINE)]

    def ended(self, index: int) -> list[SourceEvent]:
        if self._health[index].finished:
            return []
        if not self.slots[index].live:
            return [self._event(index, SourceState.ENDED)]
        return self.failed(index, "stream ended")

    def failed(self, index: int, message: str) -> list[SourceEvent]:
        health = self._health[index]
        if health.finished:
            return []
        if not self.slots[index].live:
            return [self._event(index, SourceState.OFFLINE, message)]
        health.failures += 1
        if self.max_attempts and health.failures >= self.max_attempts:
            return [self._event(index, SourceState.OFFLINE, f"giving up after {health.failures} attempts: {message}")]
        return [self._event(index, SourceState.RECONNECTING, message, health.failures)]

    def stalled(self, now_ns: int) -> list[SourceEvent]:
        events = []
        for i, health in enumerate(self._health):
            silent_s = (now_ns - health.last_frame_ns) / 1e9
            slot = self.slots[i]
            if slot.live and health.state is SourceState.ONLINE and silent_s >= slot.stall_s:
                events += self.failed(i, f"no frame for {silent_s:.0f} s")
        return events

    def finished(self, index: int) -> bool:
        return self._health[index].finished

    def all_finished(self) -> bool:
        return all(h.finished for h in self._health)


def agent_detector(site: SiteConfig, camera_ids: Sequence[str]) -> DetectorProfile:
    """The one detector profile of the agent's cameras; ValueError naming the cameras when they differ.

    One primary nvinfer batches every camera through one engine, so cameras that need
    another model, input size or preprocessing go to another agent (`--camera`), or to the
    tensorrt engine, which runs a detector per profile. Profiles run at their declared input
    size here (not fitted to each camera's frame): cameras of different sizes must still share
    the one engine.
    """
    groups: dict[str, list[str]] = {}
    profiles: dict[str, DetectorProfile] = {}
    for camera_id in camera_ids:
        profile = site.detector_of(camera_id)
        groups.setdefault(profile.key, []).append(camera_id)
        profiles.setdefault(profile.key, profile)
    if not profiles:
        return site.detector
    if len(profiles) == 1:
        return next(iter(profiles.values()))
    dumps = {key: p.model_dump(mode="json") for key, p in profiles.items()}
    first = next(iter(dumps.values()))
    differing = [field for field in first if any(d[field] != first[field] for d in dumps.values())]
    described = "; ".join(
        f"{', '.join(cameras)}: " + ", ".join(f"{field}={dumps[key][field]}" for field in differing)
        for key, cameras in groups.items()
    )
    raise ValueError(
        "the deepstream engine runs one detector profile for all cameras of an agent, but they differ "
        f"({described}): give them one profile, run them as separate agents (--camera), or use --engine tensorrt"
    )


def detector_interval_for(site: SiteConfig, camera_ids: Sequence[str], settings: DeepStreamSettings) -> int:
    """nvinfer's `interval`: the settings' own, else one that detects at the pace the trackers associate.

    The CPU agent does not detect the frames its tracker only carries (edge/agent); here
    nvinfer skips them. Its interval counts muxer batches, so one value serves every camera:
    the slowest camera's stride under `tracking.max_association_fps`, so that no camera is
    detected below that pace. A camera without an `fps_hint` has an unknown pace until its
    stream is open, and the nvinfer config is written before: every frame is then detected
    and the tracker skips the extra ones itself.
    """
    if settings.detector_interval is not None:
        return settings.detector_interval
    pacer = AssociationPacer(site.tracking.max_association_fps)
    rates = [site.camera(camera_id).fps_hint for camera_id in camera_ids]
    if not rates or any(rate is None for rate in rates):
        return 0
    return min(pacer.stride(rate) for rate in rates if rate is not None) - 1


@dataclass(frozen=True)
class DetectorHead:
    """How the detector's raw tensor is decoded (the CPU detector's defaults; the site's gate comes after)."""

    input_size: tuple[int, int]
    layout: str = "auto"
    conf_threshold: float = 0.1
    nms_iou: float = 0.45
    classes: tuple[int, ...] | None = (0,)
    unique_id: int = DETECTOR_UID
    # nvinfer's symmetric-padding: the letterbox centres the image (boxes shift back by the pad).
    center: bool = False

    @classmethod
    def for_profile(cls, profile: DetectorProfile) -> DetectorHead:
        return cls(
            profile.input_size,
            layout=profile.layout,
            conf_threshold=profile.score_threshold,
            nms_iou=profile.nms_iou,
            classes=profile.classes,
            center=detector_convention(profile).center,
        )


@dataclass(frozen=True)
class ReidHead:
    dim: int = 512
    unique_id: int = REID_UID


@dataclass(frozen=True)
class PipelinePlan:
    """Everything the runtime needs to build and read the pipeline."""

    slots: list[SourceSlot]
    graph: PipelineGraph
    muxer_size: tuple[int, int]
    detector: DetectorHead
    reid: ReidHead | None
    max_attempts: int

    def redact(self, text: str) -> str:
        """`text` (a GStreamer error or warning) with every camera's login masked, for logs and exceptions."""
        return redact_text(text, slot_secrets(self.slots))


def build_plan(
    specs: Sequence[SourceSpec],
    detector: DetectorHead,
    detector_config: Path,
    reid: tuple[ReidHead, Path] | None,
    backoff: Backoff,
    settings: DeepStreamSettings,
) -> PipelinePlan:
    slots = source_slots(specs)
    graph = element_graph(slots, detector_config, None if reid is None else reid[1], backoff, settings)
    return PipelinePlan(
        slots,
        graph,
        settings.muxer_size,
        detector,
        None if reid is None else reid[0],
        backoff.max_attempts,
    )
