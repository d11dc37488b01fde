"""Response bodies of the comparison endpoint: each figure with its two baselines and % change."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cloud.analytics.buckets import Bucket
from cloud.analytics.comparison import Comparison, PeriodFigures, change_pct
from cloud.analytics.hours import Hours

Metric = Literal["footfall_in", "footfall_out", "visitors"]


class Change(BaseModel):
    baseline: int = Field(description="the figure in the baseline period")
    difference: int = Field(description="the range's figure less the baseline's")
    change_pct: float | None = Field(
        description="percent change from the baseline, one decimal; null when the baseline is 0 "
        "(no percentage of nothing: anything above it is new)"
    )


class MetricComparison(BaseModel):
    metric: Metric
    value: int = Field(description="the figure in the chosen range")
    previous: Change = Field(description="against the previous period of the same length")
    week_ago: Change = Field(description="against the same weekdays and times a week earlier")


class PeriodOut(BaseModel):
    start: datetime = Field(description="site-local, inclusive")
    end: datetime = Field(description="site-local, exclusive")
    buckets: list[datetime] = Field(description="bucket starts, site-local")
    footfall_in: list[int] = Field(description="entrance crossings in, all entrances together, per bucket")
    footfall_out: list[int] = Field(description="entrance crossings out, per bucket")
    total_in: int
    total_out: int
    visitors: int = Field(description="unique visitors over the period (each once)")


class ComparisonPage(BaseModel):
    site_id: str
    bucket: Bucket
    hours: Hours = Field(description="the part of each period the figures cover: open, outside or all hours")
    staff_excluded: bool
    current: PeriodOut
    previous: PeriodOut = Field(description="the same wall-clock length just before the range")
    week_ago: PeriodOut = Field(description="the range shifted back seven days (site-local times)")
    metrics: list[MetricComparison] = Field(description="the tiles' figures: footfall in, footfall out, visitors")


def _period(p: PeriodFigures) -> PeriodOut:
    return PeriodOut(
        start=p.start,
        end=p.end,
        buckets=list(p.buckets),
        footfall_in=list(p.footfall_in),
        footfall_out=list(p.footfall_out),
        total_in=p.total_in,
        total_out=p.total_out,
        visitors=p.visitors,
    )


def _change(value: int, baseline: int) -> Change:
    return Change(baseline=baseline, difference=value - baseline, change_pct=change_pct(value, baseline))


def comparison_page(c: Comparison) -> ComparisonPage:
    def metric(name: Metric, pick: str) -> MetricComparison:
        value = int(getattr(c.current, pick))
        return MetricComparison(
            metric=name,
            value=value,
            previous=_change(value, int(getattr(c.previous, pick))),
            week_ago=_change(value, int(getattr(c.week_ago, pick))),
        )

    return ComparisonPage(
        site_id=c.site_id,
        bucket=c.bucket,
        hours=c.hours,
        staff_excluded=c.staff_excluded,
        current=_period(c.current),
        previous=_period(c.previous),
        week_ago=_period(c.week_ago),
        metrics=[
            metric("footfall_in", "total_in"),
            metric("footfall_out", "total_out"),
            metric("visitors", "visitors"),
        ],
    )
