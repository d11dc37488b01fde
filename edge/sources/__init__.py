"""Camera sources: GStreamer (files, RTSP, V4L2) with an OpenCV fallback, and reconnection."""

from edge.sources.base import FrameSource, SourceError, SourceSpec
from edge.sources.factory import open_source
from edge.sources.reconnect import ReconnectingSource, SourceEvent

__all__ = ["FrameSource", "ReconnectingSource", "SourceError", "SourceEvent", "SourceSpec", "open_source"]
