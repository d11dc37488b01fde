"""A folder of images as a camera's video: a MOTChallenge sequence, an annotation tool's export."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.sources.base import FrameSource, SourceError, SourceSpec, resolve_fps
from shared.image_sequences import ImageFolder


class ImageFolderSource(FrameSource):
    """Frames in file-name order, at the rate the sequence's seqinfo.ini states unless `fps_hint` says.

    An image that does not decode, or is not the size of the first, ends the sequence with
    an error naming it: skipping it would shift every later frame number against the
    sequence's annotation.
    """

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        try:
            folder = ImageFolder.open(spec.path)
        except (OSError, ValueError) as exc:
            raise SourceError(f"camera {spec.camera_id}: {exc}") from None
        self._files = folder.files
        self.fps = resolve_fps(spec, folder.fps)
        self._next = 0
        self._size: tuple[int, ...] | None = None

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        if self._next >= len(self._files):
            return None
        path = self._files[self._next]
        self._next += 1
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        where = f"camera {self.spec.camera_id}: image {path} (frame {self._next} of {len(self._files)})"
        if image is None:
            raise SourceError(f"{where} cannot be decoded")
        if self._size is None:
            self._size = image.shape
        elif image.shape != self._size:
            h, w = self._size[:2]
            raise SourceError(f"{where} is {image.shape[1]}x{image.shape[0]}, the frames before it {w}x{h}")
        return np.asarray(image, dtype=np.uint8), None

    def close(self) -> None:
        """Nothing held open between frames."""
