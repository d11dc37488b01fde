"""A live per-camera line on the terminal: frames (of total, for files), FPS and lag."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from edge.sources.base import SourceSpec
from shared.config.site import SiteConfig
from shared.video_files import stated_frame_count


def _frame_count(uri: str) -> int | None:
    """Frames in a video file (from its container), None for live sources."""
    spec = SourceSpec("probe", uri)
    return None if spec.is_live else stated_frame_count(spec.path)


class AgentProgress:
    def __init__(self, site: SiteConfig, camera_ids: list[str], enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[fps]:5.1f} fps  lag {task.fields[lag]:6.0f} ms"),
            TimeElapsedColumn(),
            disable=not enabled,
        )
        self._tasks: dict[str, TaskID] = {
            cid: self._progress.add_task(cid, total=_frame_count(site.camera(cid).source), fps=0.0, lag=0.0)
            for cid in camera_ids
        }

    def update(self, camera_id: str, frames: int, fps: float, lag_ms: float) -> None:
        self._progress.update(self._tasks[camera_id], completed=frames, fps=fps, lag=lag_ms)

    def __enter__(self) -> AgentProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
