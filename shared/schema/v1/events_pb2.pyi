from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_IN: _ClassVar[Direction]
    DIRECTION_OUT: _ClassVar[Direction]

class ZoneEvent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ZONE_EVENT_UNSPECIFIED: _ClassVar[ZoneEvent]
    ZONE_EVENT_ENTER: _ClassVar[ZoneEvent]
    ZONE_EVENT_EXIT: _ClassVar[ZoneEvent]

class CameraState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAMERA_STATE_UNSPECIFIED: _ClassVar[CameraState]
    CAMERA_STATE_ONLINE: _ClassVar[CameraState]
    CAMERA_STATE_RECONNECTING: _ClassVar[CameraState]
    CAMERA_STATE_OFFLINE: _ClassVar[CameraState]
    CAMERA_STATE_ENDED: _ClassVar[CameraState]

class AlertState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATE_UNSPECIFIED: _ClassVar[AlertState]
    ALERT_STATE_RAISED: _ClassVar[AlertState]
    ALERT_STATE_CLEARED: _ClassVar[AlertState]

class OccupancyScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OCCUPANCY_SCOPE_UNSPECIFIED: _ClassVar[OccupancyScope]
    OCCUPANCY_SCOPE_SITE: _ClassVar[OccupancyScope]
    OCCUPANCY_SCOPE_ZONE: _ClassVar[OccupancyScope]
DIRECTION_UNSPECIFIED: Direction
DIRECTION_IN: Direction
DIRECTION_OUT: Direction
ZONE_EVENT_UNSPECIFIED: ZoneEvent
ZONE_EVENT_ENTER: ZoneEvent
ZONE_EVENT_EXIT: ZoneEvent
CAMERA_STATE_UNSPECIFIED: CameraState
CAMERA_STATE_ONLINE: CameraState
CAMERA_STATE_RECONNECTING: CameraState
CAMERA_STATE_OFFLINE: CameraState
CAMERA_STATE_ENDED: CameraState
ALERT_STATE_UNSPECIFIED: AlertState
ALERT_STATE_RAISED: AlertState
ALERT_STATE_CLEARED: AlertState
OCCUPANCY_SCOPE_UNSPECIFIED: OccupancyScope
OCCUPANCY_SCOPE_SITE: OccupancyScope
OCCUPANCY_SCOPE_ZONE: OccupancyScope

class Envelope(_message.Message):
    __slots__ = ("schema_version", "site_id", "camera_id", "edge_id", "seq", "event_time_ns", "publish_time_ns", "track_update", "track_closed", "line_crossing", "zone_transition", "camera_status")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    TRACK_UPDATE_FIELD_NUMBER: _ClassVar[int]
    TRACK_CLOSED_FIELD_NUMBER: _ClassVar[int]
    LINE_CROSSING_FIELD_NUMBER: _ClassVar[int]
    ZONE_TRANSITION_FIELD_NUMBER: _ClassVar[int]
    CAMERA_STATUS_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    site_id: str
    camera_id: str
    edge_id: str
    seq: int
    event_time_ns: int
    publish_time_ns: int
    track_update: TrackUpdate
    track_closed: TrackClosed
    line_crossing: LineCrossing
    zone_transition: ZoneTransition
    camera_status: CameraStatus
    def __init__(self, schema_version: _Optional[int] = ..., site_id: _Optional[str] = ..., camera_id: _Optional[str] = ..., edge_id: _Optional[str] = ..., seq: _Optional[int] = ..., event_time_ns: _Optional[int] = ..., publish_time_ns: _Optional[int] = ..., track_update: _Optional[_Union[TrackUpdate, _Mapping]] = ..., track_closed: _Optional[_Union[TrackClosed, _Mapping]] = ..., line_crossing: _Optional[_Union[LineCrossing, _Mapping]] = ..., zone_transition: _Optional[_Union[ZoneTransition, _Mapping]] = ..., camera_status: _Optional[_Union[CameraStatus, _Mapping]] = ...) -> None: ...

class BBox(_message.Message):
    __slots__ = ("x1", "y1", "x2", "y2")
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    X2_FIELD_NUMBER: _ClassVar[int]
    Y2_FIELD_NUMBER: _ClassVar[int]
    x1: float
    y1: float
    x2: float
    y2: float
    def __init__(self, x1: _Optional[float] = ..., y1: _Optional[float] = ..., x2: _Optional[float] = ..., y2: _Optional[float] = ...) -> None: ...

class Point2(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("vector_f16", "dim", "model_id", "quality", "samples")
    VECTOR_F16_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    vector_f16: bytes
    dim: int
    model_id: str
    quality: float
    samples: int
    def __init__(self, vector_f16: _Optional[bytes] = ..., dim: _Optional[int] = ..., model_id: _Optional[str] = ..., quality: _Optional[float] = ..., samples: _Optional[int] = ...) -> None: ...

class TrackUpdate(_message.Message):
    __slots__ = ("track_id", "bbox", "confidence", "image_foot", "floor_point", "floor_id", "embedding")
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    BBOX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FOOT_FIELD_NUMBER: _ClassVar[int]
    FLOOR_POINT_FIELD_NUMBER: _ClassVar[int]
    FLOOR_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    track_id: int
    bbox: BBox
    confidence: float
    image_foot: Point2
    floor_point: Point2
    floor_id: str
    embedding: Embedding
    def __init__(self, track_id: _Optional[int] = ..., bbox: _Optional[_Union[BBox, _Mapping]] = ..., confidence: _Optional[float] = ..., image_foot: _Optional[_Union[Point2, _Mapping]] = ..., floor_point: _Optional[_Union[Point2, _Mapping]] = ..., floor_id: _Optional[str] = ..., embedding: _Optional[_Union[Embedding, _Mapping]] = ...) -> None: ...

class TrackClosed(_message.Message):
    __slots__ = ("track_id", "first_seen_ns", "last_seen_ns", "observations", "mean_confidence", "first_floor_point", "last_floor_point", "floor_id", "embedding", "first_image_foot", "last_image_foot")
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_NS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_NS_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    MEAN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    FIRST_FLOOR_POINT_FIELD_NUMBER: _ClassVar[int]
    LAST_FLOOR_POINT_FIELD_NUMBER: _ClassVar[int]
    FLOOR_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    FIRST_IMAGE_FOOT_FIELD_NUMBER: _ClassVar[int]
    LAST_IMAGE_FOOT_FIELD_NUMBER: _ClassVar[int]
    track_id: int
    first_seen_ns: int
    last_seen_ns: int
    observations: int
    mean_confidence: float
    first_floor_point: Point2
    last_floor_point: Point2
    floor_id: str
    embedding: Embedding
    first_image_foot: Point2
    last_image_foot: Point2
    def __init__(self, track_id: _Optional[int] = ..., first_seen_ns: _Optional[int] = ..., last_seen_ns: _Optional[int] = ..., observations: _Optional[int] = ..., mean_confidence: _Optional[float] = ..., first_floor_point: _Optional[_Union[Point2, _Mapping]] = ..., last_floor_point: _Optional[_Union[Point2, _Mapping]] = ..., floor_id: _Optional[str] = ..., embedding: _Optional[_Union[Embedding, _Mapping]] = ..., first_image_foot: _Optional[_Union[Point2, _Mapping]] = ..., last_image_foot: _Optional[_Union[Point2, _Mapping]] = ...) -> None: ...

class LineCrossing(_message.Message):
    __slots__ = ("line_id", "direction", "track_id", "floor_point")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    FLOOR_POINT_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    direction: Direction
    track_id: int
    floor_point: Point2
    def __init__(self, line_id: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ..., track_id: _Optional[int] = ..., floor_point: _Optional[_Union[Point2, _Mapping]] = ...) -> None: ...

class ZoneTransition(_message.Message):
    __slots__ = ("zone_id", "event", "track_id", "entered_time_ns", "floor_point")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    ENTERED_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    FLOOR_POINT_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    event: ZoneEvent
    track_id: int
    entered_time_ns: int
    floor_point: Point2
    def __init__(self, zone_id: _Optional[str] = ..., event: _Optional[_Union[ZoneEvent, str]] = ..., track_id: _Optional[int] = ..., entered_time_ns: _Optional[int] = ..., floor_point: _Optional[_Union[Point2, _Mapping]] = ...) -> None: ...

class CameraStatus(_message.Message):
    __slots__ = ("state", "fps", "frames", "dropped_frames", "lag_ms", "model_versions", "message", "thinned_frames", "source_fps", "overloaded")
    class ModelVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATE_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    LAG_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    THINNED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FPS_FIELD_NUMBER: _ClassVar[int]
    OVERLOADED_FIELD_NUMBER: _ClassVar[int]
    state: CameraState
    fps: float
    frames: int
    dropped_frames: int
    lag_ms: float
    model_versions: _containers.ScalarMap[str, str]
    message: str
    thinned_frames: int
    source_fps: float
    overloaded: bool
    def __init__(self, state: _Optional[_Union[CameraState, str]] = ..., fps: _Optional[float] = ..., frames: _Optional[int] = ..., dropped_frames: _Optional[int] = ..., lag_ms: _Optional[float] = ..., model_versions: _Optional[_Mapping[str, str]] = ..., message: _Optional[str] = ..., thinned_frames: _Optional[int] = ..., source_fps: _Optional[float] = ..., overloaded: _Optional[bool] = ...) -> None: ...

class GalleryAlert(_message.Message):
    __slots__ = ("schema_version", "alert_id", "site_id", "gallery", "entry_id", "label", "visitor_id", "similarity", "event_time_ns", "first_seen_ns", "camera_id", "publish_time_ns")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    GALLERY_FIELD_NUMBER: _ClassVar[int]
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    VISITOR_ID_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_NS_FIELD_NUMBER: _ClassVar[int]
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    alert_id: str
    site_id: str
    gallery: str
    entry_id: str
    label: str
    visitor_id: str
    similarity: float
    event_time_ns: int
    first_seen_ns: int
    camera_id: str
    publish_time_ns: int
    def __init__(self, schema_version: _Optional[int] = ..., alert_id: _Optional[str] = ..., site_id: _Optional[str] = ..., gallery: _Optional[str] = ..., entry_id: _Optional[str] = ..., label: _Optional[str] = ..., visitor_id: _Optional[str] = ..., similarity: _Optional[float] = ..., event_time_ns: _Optional[int] = ..., first_seen_ns: _Optional[int] = ..., camera_id: _Optional[str] = ..., publish_time_ns: _Optional[int] = ...) -> None: ...

class OccupancyAlert(_message.Message):
    __slots__ = ("schema_version", "alert_id", "site_id", "event_time_ns", "publish_time_ns", "state", "scope", "scope_id", "count", "capacity", "clear_at", "peak_count", "raised_time_ns")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CLEAR_AT_FIELD_NUMBER: _ClassVar[int]
    PEAK_COUNT_FIELD_NUMBER: _ClassVar[int]
    RAISED_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    alert_id: str
    site_id: str
    event_time_ns: int
    publish_time_ns: int
    state: AlertState
    scope: OccupancyScope
    scope_id: str
    count: int
    capacity: int
    clear_at: int
    peak_count: int
    raised_time_ns: int
    def __init__(self, schema_version: _Optional[int] = ..., alert_id: _Optional[str] = ..., site_id: _Optional[str] = ..., event_time_ns: _Optional[int] = ..., publish_time_ns: _Optional[int] = ..., state: _Optional[_Union[AlertState, str]] = ..., scope: _Optional[_Union[OccupancyScope, str]] = ..., scope_id: _Optional[str] = ..., count: _Optional[int] = ..., capacity: _Optional[int] = ..., clear_at: _Optional[int] = ..., peak_count: _Optional[int] = ..., raised_time_ns: _Optional[int] = ...) -> None: ...
