"""Per-camera sequence numbers that never repeat, across restarts and crashes.

(camera_id, seq) is every consumer's idempotency key: a seq handed out twice would make
the cloud discard a real event as a duplicate. The counter therefore persists a
high-water mark *ahead* of what it hands out, a block at a time (one fsync per block,
not per event), and a new process resumes above it. A crash only skips the unused rest
of the block; gaps are harmless, repeats are not.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from types import TracebackType

from edge.publish.files import ExclusiveLock, write_atomically

# The camera id becomes a file name; same rule as shared.config's Identifier.
_CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class SequenceCounter:
    """Hands out 1, 2, 3, … for one camera, strictly increasing over the camera's lifetime."""

    def __init__(self, state_dir: Path | str, camera_id: str, block: int = 1000) -> None:
        if not _CAMERA_ID.match(camera_id):
            raise ValueError(f"camera_id {camera_id!r} must match {_CAMERA_ID.pattern} (it names the state file)")
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        directory = Path(state_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.camera_id = camera_id
        self.block = block
        self.path = directory / f"{camera_id}.seq.json"
        self._lock_file = ExclusiveLock(directory / f"{camera_id}.seq.lock", f"sequence state of camera {camera_id!r}")
        try:
            self._high_water = self._load()
        except BaseException:
            self._lock_file.release()
            raise
        self._next = self._high_water + 1
        self._mutex = threading.Lock()

    def next(self) -> int:
        with self._mutex:
            if self._next > self._high_water:
                # Persist before handing out: after a crash the next process starts above it.
                self._store(self._next - 1 + self.block)
            value = self._next
            self._next += 1
            return value

    def close(self) -> None:
        self._lock_file.release()

    def __enter__(self) -> SequenceCounter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _load(self) -> int:
        if not self.path.exists():
            return 0
        try:
            state = json.loads(self.path.read_bytes())
            if not isinstance(state, dict):
                raise ValueError("expected a JSON object")
            if state.get("camera_id") != self.camera_id:
                raise ValueError(f"it belongs to camera {state.get('camera_id')!r}, not {self.camera_id!r}")
            high_water = state.get("high_water")
            if type(high_water) is not int or high_water < 0:
                raise ValueError(f"high_water must be a non-negative integer, got {high_water!r}")
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValueError(
                f"{self.path}: corrupt sequence state ({exc}). Refusing to guess: restarting below a seq "
                "already published would make consumers drop new events as duplicates. Restore the file, or "
                "write high_water above the largest seq this camera ever published."
            ) from None
        return high_water

    def _store(self, high_water: int) -> None:
        data = json.dumps({"camera_id": self.camera_id, "high_water": high_water}).encode()
        write_atomically(self.path, data)
        self._high_water = high_water
