"""What the edge agent does with a live camera's frames when it cannot process them all.

A live camera does not wait for the agent: frames the agent cannot take in time are lost
one way or another. `thin` hands the agent only the newest frame (one waiting at most, a
newer one replaces it) and, when that happens too often, takes every 2nd, 3rd... frame,
so the tracker still sees a steady rate, lines and zones a steady sampling, and no frame
is stale by the time it is processed. `drop_oldest` keeps a short queue that absorbs
bursts and loses its oldest frame when full: irregular gaps, more lag, nothing thinned.
Either way the agent stays at real time and says so in camera status and metrics
(`overloaded`, thinned and dropped frames). Files are never shed: the reader waits.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SheddingPolicy(StrEnum):
    THIN = "thin"
    DROP_OLDEST = "drop_oldest"


class LoadShedding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    policy: SheddingPolicy = SheddingPolicy.THIN
    # Thin to no fewer than one frame in this many; beyond it the oldest frames are dropped.
    # At 25 fps, 5 keeps 5 fps: BoT-SORT still follows a walker (1.4 m/s moves ~0.3 m a step).
    max_stride: int = Field(default=5, ge=1, le=30)
    # A camera whose frames found an earlier one still waiting (with `thin`: replaced it) in
    # more than this share of a window is behind: its stride goes up by one. Below it, a
    # frame now and then lost to a hiccup does not cost a whole probe period at half rate.
    backlog_share: float = Field(default=0.2, gt=0, le=1)
    window_s: float = Field(default=5.0, gt=0, le=60)
    # After a raise, wait this long before trying one step back down; a try that falls
    # behind again doubles the wait (up to probe_max_s), one that holds resets it.
    probe_after_s: float = Field(default=30.0, gt=0, le=3600)
    probe_max_s: float = Field(default=600.0, gt=0, le=86_400)

    @model_validator(mode="after")
    def _probe_range(self) -> LoadShedding:
        if self.probe_max_s < self.probe_after_s:
            raise ValueError(
                f"load_shedding.probe_max_s ({self.probe_max_s}) must be >= probe_after_s ({self.probe_after_s})"
            )
        return self
