"""A camera's frame size before its source is opened for frames."""

from __future__ import annotations

from edge.sources.base import SourceSpec
from shared.video_files import frame_size


def frame_hw(spec: SourceSpec) -> tuple[int, int] | None:
    """(height, width) of the frames `spec` yields: its crop's, else a file's header's; None for a
    live source, which is not opened twice to learn it, or a file whose header says nothing."""
    if spec.crop is not None:
        x0, y0, x1, y1 = spec.crop
        return y1 - y0, x1 - x0
    if spec.is_live:
        return None
    size = frame_size(spec.path)
    return None if size is None else (size[1], size[0])
