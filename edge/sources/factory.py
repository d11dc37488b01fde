"""Open the right source for a camera: a folder of images as such; GStreamer when available, OpenCV otherwise."""

from __future__ import annotations

import os

from edge.sources.base import FrameSource, SourceKind, SourceSpec

BACKENDS = ("auto", "gstreamer", "opencv")


def open_source(spec: SourceSpec, backend: str = "auto") -> FrameSource:
    if backend not in BACKENDS:
        raise ValueError(f"unknown source backend {backend!r}; choose one of {BACKENDS}")
    if spec.kind is SourceKind.FILE and os.path.isdir(spec.path):
        from edge.sources.images import ImageFolderSource

        return ImageFolderSource(spec)
    if backend in ("auto", "gstreamer"):
        from edge.sources.gstreamer import GStreamerSource, gstreamer_available

        if gstreamer_available():
            return GStreamerSource(spec)
        if backend == "gstreamer":
            raise ValueError("GStreamer backend requested but python `gi` with Gst 1.0 is not importable")
    from edge.sources.opencv import OpenCVSource

    return OpenCVSource(spec)
