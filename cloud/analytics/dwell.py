"""Dwell time per zone: completed visits that began in the range, as statistics and a histogram.

With opening hours, a visit counts within them when it began while the site was open,
outside them otherwise; the database picks the visits by joining the open (or closed)
windows of the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, Select, and_, select, type_coerce
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.hours import Hours, Window, closed_intervals_ns, open_intervals_ns, windows_cte
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
class DwellPart:
    """Dwell of the visits that began in one part of the range (outside opening hours)."""

    zones: tuple[ZoneDwell, ...]


@dataclass(frozen=True)
class DwellReport:
    site_id: str
    bin_edges_s: tuple[float, ...]
    zones: tuple[ZoneDwell, ...]
    staff_excluded: bool = False
    # Which part of the range the figures above cover: visits that began then.
    hours: Hours = Hours.ALL
    # With hours=open: the visits that began outside opening hours.
    outside_hours: DwellPart | None = None


def _check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(e) for e in edges)
    if not out or out[0] != 0.0:
        raise ValueError(f"dwell bin edges must start at 0 seconds, got {list(edges)!r}")
    if any(b <= a for a, b in pairwise(out)) or not np.isfinite(out).all():
        raise ValueError(f"dwell bin edges must be finite and strictly increasing, got {list(edges)!r}")
    return out


def _lerp(a: NDArray[np.float64], b: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    # numpy's own form for its default ("linear") percentile: exact at both ends.
    return np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)


def _quantile(
    ordered: NDArray[np.float64], starts: NDArray[np.int64], n: NDArray[np.int64], q: float
) -> NDArray[np.float64]:
    """The q-quantile of each zone's slice of `ordered`, interpolated as numpy.percentile does."""
    virtual = q * (n - 1)
    below = np.floor(virtual).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    return _lerp(ordered[starts + below], ordered[starts + above], virtual - below)


def dwell(
    session: Session,
    site: SiteConfig,
    span: TimeRange,
    bin_edges_s: Sequence[float] = DEFAULT_BIN_EDGES_S,
    *,
    exclude_staff: bool = False,
    hours: Hours = Hours.ALL,
) -> DwellReport:
    """Per configured zone; a visit counts in the range it was entered in, once it has exited.
    With `exclude_staff`, visits of visitors matched to a staff gallery are left out. `hours`
    open or outside takes the visits entered within or outside the site's opening hours (a
    site without them is always open); with open, `outside_hours` has the others.
    """
    edges = _check_edges(bin_edges_s)
    zones = [z.id for z in site.zones]
    # Non-null by the filter below; the coerced type tells the type checker so.
    stmt = select(ZoneVisit.zone_id, type_coerce(ZoneVisit.dwell_s, Float)).where(
        ZoneVisit.site_id == site.site.id,
        ZoneVisit.zone_id.in_(zones),
        ZoneVisit.entered_ns >= span.start_ns,
        ZoneVisit.entered_ns < span.end_ns,
        ZoneVisit.dwell_s.is_not(None),
    )
    if exclude_staff:
        stmt = stmt.where(ZoneVisit.staff.is_(False))
    if hours is Hours.ALL:
        return DwellReport(site.site.id, edges, _statistics(session, stmt, zones, edges), exclude_staff)
    opened = _statistics(session, _entered_in(stmt, open_intervals_ns(site, span), "open"), zones, edges)
    closed = _statistics(session, _entered_in(stmt, closed_intervals_ns(site, span), "closed"), zones, edges)
    if hours is Hours.OPEN:
        return DwellReport(site.site.id, edges, opened, exclude_staff, hours, DwellPart(closed))
    return DwellReport(site.site.id, edges, closed, exclude_staff, hours)


def _entered_in(stmt: Select[str, float], intervals_ns: list[tuple[int, int]], name: str) -> Select[str, float] | None:
    """The visits of `stmt` entered within the intervals; None when there are none."""
    if not intervals_ns:
        return None
    w = windows_cte(name, [Window(lo, hi, 0) for lo, hi in intervals_ns])
    return stmt.join(w, and_(ZoneVisit.entered_ns >= w.c.lo, ZoneVisit.entered_ns < w.c.hi))


def _statistics(
    session: Session, stmt: Select[str, float] | None, zones: list[str], edges: tuple[float, ...]
) -> tuple[ZoneDwell, ...]:
    """Statistics for all zones at once on one array: a busy day is tens of thousands of
    visits over hundreds of zones, and per-zone numpy calls would cost more than the query.
    """
    index = {z: i for i, z in enumerate(zones)}
    # Streamed into plain numbers: holding tens of thousands of Row objects at once costs
    # more in garbage-collector passes than the query itself.
    zone_list: list[int] = []
    value_list: list[float] = []
    if stmt is not None:
        for zone_id, value in session.execute(stmt):
            zone_list.append(index[zone_id])
            value_list.append(value)
    zone_of = np.asarray(zone_list, dtype=np.int64)
    seconds = np.asarray(value_list, dtype=np.float64)
    # Sorted by zone, then value: the database's row order never changes a float sum.
    order = np.lexsort((seconds, zone_of))
    ordered, zone_of = seconds[order], zone_of[order]
    n = np.bincount(zone_of, minlength=len(zones))
    starts = np.concatenate(([0], np.cumsum(n)[:-1])).astype(np.int64)
    busy = n > 0
    bins = np.searchsorted(edges, ordered, side="right") - 1
    histogram = np.bincount(zone_of * len(edges) + bins, minlength=len(zones) * len(edges)).reshape(-1, len(edges))
    sums = np.add.reduceat(ordered, starts[busy]) if len(ordered) else np.zeros(0)
    medians = _quantile(ordered, starts[busy], n[busy], 0.5)
    p90s = _quantile(ordered, starts[busy], n[busy], 0.9)
    stats = iter(zip(sums, medians, p90s, (ordered[starts[busy] + n[busy] - 1]), strict=True))
    out = []
    for i, zone_id in enumerate(zones):
        if not busy[i]:
            out.append(ZoneDwell(zone_id, 0, None, None, None, None, (0,) * len(edges)))
            continue
        total, median, p90, top = next(stats)
        out.append(
            ZoneDwell(
                zone_id=zone_id,
                visits=int(n[i]),
                mean_s=float(total / n[i]),
                median_s=float(median),
                p90_s=float(p90),
                max_s=float(top),
                histogram=tuple(int(c) for c in histogram[i]),
            )
        )
    return tuple(out)
