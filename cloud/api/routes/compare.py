"""The comparison endpoint: a range against the previous period and the same weekdays a week earlier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cloud.analytics.comparison import compare
from cloud.api.comparison_schemas import ComparisonPage, comparison_page
from cloud.api.deps import DbSession, HoursChoice, Reader, Site, TimeSpan

router = APIRouter(prefix="/api/v1/sites/{site_id}", tags=["analytics"])


@router.get(
    "/compare",
    response_model=ComparisonPage,
    summary="entrance footfall and visitors against the previous period and a week earlier, with % change",
)
def get_compare(
    _: Reader,
    site: Site,
    span: TimeSpan,
    session: DbSession,
    hours: HoursChoice,
    exclude_staff: Annotated[
        bool, Query(description="leave out visitors matched to a staff gallery, in every period")
    ] = False,
) -> ComparisonPage:
    return comparison_page(compare(session, site, span.range, span.bucket, hours=hours, exclude_staff=exclude_staff))
