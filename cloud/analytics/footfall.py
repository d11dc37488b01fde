"""Footfall: line crossings per line and direction per site-local bucket, from footfall_minute."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import Bucket, LocalBuckets, TimeRange
from cloud.storage.models import FootfallMinute
from shared.config.site import SiteConfig

DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class FootfallSeries:
    line_id: str
    direction: str
    # One count per bucket of Footfall.buckets.
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class Footfall:
    site_id: str
    bucket: Bucket
    # Bucket starts in the site's timezone.
    buckets: tuple[datetime, ...]
    series: tuple[FootfallSeries, ...]
    total_in: int
    total_out: int


def footfall(session: Session, site: SiteConfig, span: TimeRange, bucket: str, *, all_lines: bool = False) -> Footfall:
    """Crossings of the site's entrance lines (every line with `all_lines`), both directions.

    Each configured line gets a series even without crossings; with `all_lines`, lines
    found in the data but no longer configured are reported too.
    """
    site_id = site.site.id
    buckets = LocalBuckets(span, bucket, site.site.timezone)
    lo, hi = span.bucket_bounds_s()
    granule = (FootfallMinute.bucket_s // buckets.granule_s) * buckets.granule_s
    # direction IN (...) lets the primary key (site, line, direction, bucket) bound bucket_s too.
    stmt = (
        select(FootfallMinute.line_id, FootfallMinute.direction, granule, func.sum(FootfallMinute.count))
        .where(
            FootfallMinute.site_id == site_id,
            FootfallMinute.direction.in_(DIRECTIONS),
            FootfallMinute.bucket_s >= lo,
            FootfallMinute.bucket_s < hi,
        )
        .group_by(FootfallMinute.line_id, FootfallMinute.direction, granule)
    )
    lines = [ln.id for ln in site.lines if all_lines or ln.entrance]
    if not all_lines:
        stmt = stmt.where(FootfallMinute.line_id.in_(lines))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(buckets))
    for line_id, direction, start_s, n in session.execute(stmt):
        counts[(line_id, direction)][buckets.index(start_s)] += int(n)
    keys = [(ln, d) for ln in lines for d in DIRECTIONS]
    configured = set(keys)
    keys += sorted(k for k in counts if k not in configured)
    series = tuple(FootfallSeries(ln, d, tuple(counts[(ln, d)]), sum(counts[(ln, d)])) for ln, d in keys)
    return Footfall(
        site_id=site_id,
        bucket=buckets.bucket,
        buckets=buckets.labels(),
        series=series,
        total_in=sum(s.total for s in series if s.direction == "in"),
        total_out=sum(s.total for s in series if s.direction == "out"),
    )
