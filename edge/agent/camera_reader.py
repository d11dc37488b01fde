"""One thread per camera: decode frames into a small queue, report the camera's state.

Decoding in its own thread keeps a slow or dead camera from stalling the others, and
lets decode overlap inference. Files are read losslessly (the reader waits for room).
A live stream cannot wait: its frames are shed by the site's `load_shedding` policy
(shared/config/load_shedding.py, edge/agent/frame_thinning.py): a full queue drops its
oldest frame (with `thin` the queue holds one), so a slow agent stays at real time
instead of growing lag or memory; what is shed is counted.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from edge.agent.frame_thinning import FrameThinner
from edge.frames import Frame
from edge.sources.base import FrameSource, SourceError, SourceSpec
from edge.sources.reconnect import Backoff, ReconnectingSource, SourceEvent
from shared.config.load_shedding import LoadShedding, SheddingPolicy

log = logging.getLogger(__name__)


class CameraReader(threading.Thread):
    def __init__(
        self,
        spec: SourceSpec,
        opener: Callable[[SourceSpec], FrameSource],
        on_event: Callable[[SourceEvent], None],
        stop: threading.Event,
        backoff: Backoff | None = None,
        queue_size: int = 4,
        shedding: LoadShedding | None = None,
    ) -> None:
        super().__init__(name=f"camera-{spec.camera_id}", daemon=True)
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.spec = spec
        shedding = shedding or LoadShedding()
        if spec.is_live and shedding.policy is SheddingPolicy.THIN:
            # The newest frame only: one that waited while a newer one came is stale.
            queue_size = 1
        self.frames: queue.Queue[Frame] = queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self.thinner = FrameThinner(shedding)
        self.finished = threading.Event()
        self.error: str | None = None
        self._stop_event = stop
        self._source = ReconnectingSource(spec, opener, on_event, backoff or Backoff(), stop)

    @property
    def fps(self) -> float:
        return self._source.fps

    @property
    def thinned(self) -> int:
        return self.thinner.thinned

    @property
    def overloaded(self) -> bool:
        return self.thinner.overloaded

    def run(self) -> None:
        try:
            for frame in self._source:
                self._put(frame)
                if self._stop_event.is_set():
                    break
        except SourceError as exc:
            # Already reported as OFFLINE through on_event; the other cameras go on.
            self.error = str(exc)
        except Exception as exc:
            log.exception("camera %s: reader crashed", self.spec.camera_id)
            self.error = f"reader crashed: {exc}"
        finally:
            self.finished.set()

    def _put(self, frame: Frame) -> None:
        if not self.spec.is_live:
            while not self._stop_event.is_set():
                try:
                    self.frames.put(frame, timeout=0.1)
                    return
                except queue.Full:
                    continue
            return
        if not self.thinner.admit():
            return
        waited = not self.frames.empty()
        dropped = 0
        while True:
            try:
                self.frames.put_nowait(frame)
                break
            except queue.Full:
                try:
                    self.frames.get_nowait()
                    dropped += 1
                except queue.Empty:
                    pass
        self.dropped += dropped
        self.thinner.record(waited, dropped)

    def exhausted(self) -> bool:
        """True once the reader has stopped and every decoded frame was taken."""
        return self.finished.is_set() and self.frames.empty()
