"""Dwell time per zone: completed visits that began in the range, as statistics and a histogram."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from sqlalchemy import Float, select, type_coerce
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.storage.models import ZoneVisit
from shared.config.site import SiteConfig

# Seconds; the last bin is open-ended (an hour or more).
DEFAULT_BIN_EDGES_S = (0.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class ZoneDwell:
    zone_id: str
    visits: int
    # None when the zone had no completed visit.
    mean_s: float | None
    median_s: float | None
    p90_s: float | None
    max_s: float | None
    # Visits per bin of DwellReport.bin_edges_s: bin i is [edge i, edge i+1), the last is [last edge, ∞).
    histogram: tuple[int, ...]


@dataclass(frozen=True)
class DwellReport:
    site_id: str
    bin_edges_s: tuple[float, ...]
    zones: tuple[ZoneDwell, ...]


def _check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(e) for e in edges)
    if not out or out[0] != 0.0:
        raise ValueError(f"dwell bin edges must start at 0 seconds, got {list(edges)!r}")
    if any(b <= a for a, b in pairwise(out)) or not np.isfinite(out).all():
        raise ValueError(f"dwell bin edges must be finite and strictly increasing, got {list(edges)!r}")
    return out


def _zone(zone_id: str, dwell: list[float], edges: tuple[float, ...]) -> ZoneDwell:
    if not dwell:
        return ZoneDwell(zone_id, 0, None, None, None, None, (0,) * len(edges))
    # Sorted, so the float sums do not depend on the order the database returned rows in.
    values = np.sort(np.asarray(dwell, dtype=np.float64))
    bins = np.searchsorted(edges, values, side="right") - 1
    return ZoneDwell(
        zone_id=zone_id,
        visits=len(values),
        mean_s=float(values.mean()),
        median_s=float(np.median(values)),
        p90_s=float(np.percentile(values, 90)),
        max_s=float(values[-1]),
        histogram=tuple(int(n) for n in np.bincount(bins, minlength=len(edges))),
    )


def dwell(
    session: Session, site: SiteConfig, span: TimeRange, bin_edges_s: Sequence[float] = DEFAULT_BIN_EDGES_S
) -> DwellReport:
    """Per configured zone; a visit counts in the range it was entered in, once it has exited."""
    edges = _check_edges(bin_edges_s)
    site_id = site.site.id
    zones = [z.id for z in site.zones]
    rows = session.execute(
        # Non-null by the filter below; the coerced type tells the type checker so.
        select(ZoneVisit.zone_id, type_coerce(ZoneVisit.dwell_s, Float)).where(
            ZoneVisit.site_id == site_id,
            ZoneVisit.zone_id.in_(zones),
            ZoneVisit.entered_ns >= span.start_ns,
            ZoneVisit.entered_ns < span.end_ns,
            ZoneVisit.dwell_s.is_not(None),
        )
    )
    by_zone: dict[str, list[float]] = defaultdict(list)
    for zone_id, seconds in rows:
        by_zone[zone_id].append(seconds)
    return DwellReport(site_id, edges, tuple(_zone(z, by_zone[z], edges) for z in zones))
