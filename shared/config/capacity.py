"""Occupancy limits: how many people a zone or the whole site may hold, and when an alert clears.

```yaml
capacity:
  site: 1200             # the whole site, counted at its entrance lines
  zones:
    food-court: 150
  clear_margin: 0.1      # a raised alert clears at 135 of 150 (capacity less 10 %, rounded down)
```

An alert is raised the moment a count goes over its capacity (151 of 150): a capacity is a
safety figure (fire code, crowd management) and an operator wants to hear of it at once.
It clears only once the count is back down to the clear level, not with the first person
out: counts move one person at a time, and a crowd hovering at the limit would otherwise
raise and clear it with every step through a door. The margin is counted in people, so it
holds back nothing but that hovering. A hold time was not chosen: the cloud only sees time
pass when events arrive, so a banner would stay up on a quiet site (closing time) until the
next one, and a count that is down by a tenth has come down for real.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

# Far beyond any building, and what every column and wire field holds.
MAX_CAPACITY = 1_000_000


@dataclass(frozen=True)
class Limit:
    """One scope's limit: raised above `capacity`, cleared at or below `clear_at`."""

    capacity: int
    clear_at: int


# Cached: the cloud judges a count against its limit at every crossing and zone event, and
# a clear level costs a Fraction. A pure function of its arguments, so never stale.
@lru_cache(maxsize=4096)
def _limit(capacity: int, clear_margin: float) -> Limit:
    # The margin as written (0.1 is a tenth, not 0.1000000000000000055...), so 150 clears at 135.
    return Limit(capacity, math.floor(capacity * (1 - Fraction(str(clear_margin)))))


def _people(what: str, value: int) -> int:
    if value <= 0:
        raise ValueError(f"{what} must be at least 1 person, got {value}")
    if value > MAX_CAPACITY:
        raise ValueError(f"{what} must be at most {MAX_CAPACITY:,} people, got {value}")
    return value


class Capacity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # People in the whole site (its entrance-line count); None: no limit.
    site: StrictInt | None = None
    # Zone id -> people in that zone (ids are checked against the site's zones).
    zones: dict[str, StrictInt] = {}
    # Share of a capacity the count must fall by before a raised alert clears.
    clear_margin: float = Field(default=0.1, ge=0, lt=1)

    @field_validator("site")
    @classmethod
    def _site_people(cls, v: int | None) -> int | None:
        return None if v is None else _people("the site's capacity", v)

    @field_validator("zones")
    @classmethod
    def _zone_people(cls, v: dict[str, int]) -> dict[str, int]:
        for zone, people in v.items():
            _people(f"zone {zone!r}: capacity", people)
        return v

    def check(self, zones: Collection[str], has_entrance: bool) -> None:
        """The limits against the site they belong to; raises ValueError naming what is wrong."""
        unknown = sorted(set(self.zones) - set(zones))
        if unknown:
            raise ValueError(
                f"capacity.zones: no zone {', '.join(map(repr, unknown))} in this site (zones: {sorted(zones)})"
            )
        if self.site is not None and not has_entrance:
            raise ValueError(
                "capacity.site is set but no line is an entrance: the site's occupancy is counted at its "
                "entrance lines, so it would never reach the limit"
            )

    def clear_level(self, capacity: int) -> int:
        return _limit(capacity, self.clear_margin).clear_at

    def limit(self, scope: str, scope_id: str) -> Limit | None:
        """The limit of a live-occupancy scope ('site' with the site's id, or 'zone'), if it has one."""
        capacity = self.site if scope == "site" else self.zones.get(scope_id) if scope == "zone" else None
        return None if capacity is None else _limit(capacity, self.clear_margin)

    @property
    def has_limits(self) -> bool:
        return self.site is not None or bool(self.zones)
