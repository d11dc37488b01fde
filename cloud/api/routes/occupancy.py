"""Live occupancy: the current counts with their capacities, a server-sent-events stream of them,
rebasing, and the alerts of counts over capacity."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cloud.analytics.buckets import TimeRange
from cloud.analytics.occupancy import LiveOccupancy, OccupancyNow, live_occupancy, rebase
from cloud.api.csv_export import CSV_RESPONSES, ExportFormat, Format, csv_response
from cloud.api.csv_rows import ALERTS_HEADER, alert_row
from cloud.api.deps import Admin, DbSession, Paging, Reader, Settings, Site, TimeSpan
from cloud.api.schemas import OccupancyAlertsPage, RebaseRequest
from cloud.api.settings import ApiSettings
from cloud.capacity.alerts import alerts_in, iter_alerts_in, raised_alerts
from shared.config.site import SiteConfig

router = APIRouter(prefix="/api/v1/sites/{site_id}/occupancy", tags=["occupancy"])


@router.get(
    "/live", response_model=LiveOccupancy, summary="people in the site and in each zone now, with their capacities"
)
def get_live(_: Reader, site: Site, session: DbSession) -> LiveOccupancy:
    return live_occupancy(session, site)


def _snapshot(sessions: sessionmaker[Session], site: SiteConfig) -> str:
    with sessions() as session:
        return json.dumps(asdict(live_occupancy(session, site)), separators=(",", ":"))


async def _events(
    request: Request, site: SiteConfig, settings: ApiSettings, max_events: int | None
) -> AsyncIterator[str]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    last: str | None = None
    sent = 0
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        data = await run_in_threadpool(_snapshot, sessions, site)
        if data != last:
            last = data
            sent += 1
            quiet_since = time.monotonic()
            yield f"event: occupancy\nid: {sent}\ndata: {data}\n\n"
            if max_events is not None and sent >= max_events:
                return
        elif time.monotonic() - quiet_since >= settings.stream_heartbeat_s:
            # A comment line keeps proxies from closing a quiet connection.
            quiet_since = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(settings.stream_poll_s)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`occupancy` events, one per change"}},
    summary="live occupancy as server-sent events (the current counts first, then every change)",
)
def stream(
    _: Reader,
    site: Site,
    request: Request,
    settings: Settings,
    max_events: Annotated[int | None, Query(ge=1, le=1_000_000, description="close after this many events")] = None,
) -> StreamingResponse:
    return StreamingResponse(
        _events(request, site, settings, max_events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/rebase", response_model=OccupancyNow, summary="set a verified live count (admin)")
def post_rebase(_: Admin, site: Site, body: RebaseRequest, session: DbSession) -> OccupancyNow:
    scope_ids = {site.site.id} if body.scope == "site" else {z.id for z in site.zones}
    if body.scope_id not in scope_ids:
        raise HTTPException(404, f"site {site.site.id!r} has no {body.scope} {body.scope_id!r}")
    result = rebase(session, site, body.scope, body.scope_id, body.count)
    session.commit()
    return result


def _alert_rows(sessions: sessionmaker[Session], site: SiteConfig, span: TimeRange) -> Iterator[Sequence[object]]:
    # A session of its own, open while the body streams: the request's closes with the handler.
    tz = ZoneInfo(site.site.timezone)
    with sessions() as session:
        for alert in iter_alerts_in(session, site.site.id, span):
            yield alert_row(alert, tz)


@router.get(
    "/alerts",
    response_model=OccupancyAlertsPage,
    responses=CSV_RESPONSES,
    summary="capacity alerts: those raised now, and those raised at some time in the range, newest first",
)
def get_alerts(
    _: Reader, site: Site, span: TimeSpan, session: DbSession, paging: Paging, fmt: Format, request: Request
) -> OccupancyAlertsPage | Response:
    if fmt is ExportFormat.CSV:
        rows = _alert_rows(request.app.state.sessions, site, span.range)
        return csv_response(f"{site.site.id}-occupancy-alerts.csv", ALERTS_HEADER, rows)
    total, items = alerts_in(session, site.site.id, span.range, paging.limit, paging.offset)
    return OccupancyAlertsPage(
        site_id=site.site.id, raised=raised_alerts(session, site.site.id), total=total, items=items
    )
