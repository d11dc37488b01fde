"""Per-camera analytics: line crossings, zone presence and floor positions of tracks."""

from edge.analytics.camera import CameraAnalytics, CameraFacts, StreamEndFacts
from edge.analytics.events import Direction, LineCrossingEvent, ZoneEvent, ZoneEventKind
from edge.analytics.lines import LineCounter
from edge.analytics.zones import ZoneMonitor

__all__ = [
    "CameraAnalytics",
    "CameraFacts",
    "Direction",
    "LineCounter",
    "LineCrossingEvent",
    "StreamEndFacts",
    "ZoneEvent",
    "ZoneEventKind",
    "ZoneMonitor",
]
