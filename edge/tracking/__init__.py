"""Multi-object tracking: boxmot's BoT-SORT fed by our detections and scheduled OSNet embeddings."""

from edge.tracking.appearance import TrackAppearance
from edge.tracking.base import Tracker
from edge.tracking.botsort import BotSortTracker
from edge.tracking.reid_schedule import ReidSchedule

__all__ = ["BotSortTracker", "ReidSchedule", "TrackAppearance", "Tracker"]
