"""The chain overview: every site's day so far, week-ago comparison and live occupancy, paged."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter

from cloud.analytics.buckets import NS
from cloud.analytics.chain import chain_site
from cloud.api.chain_schemas import ChainPage
from cloud.api.deps import Catalog, DbSession, Paging, Reader

router = APIRouter(tags=["chain"])


@router.get(
    "/api/v1/chain",
    response_model=ChainPage,
    summary="every site (by id): today's entrance footfall in and visitors against the same weekday a week earlier "
    "up to the same time, and live occupancy against capacity",
)
def get_chain(_: Reader, paging: Paging, sites: Catalog, session: DbSession) -> ChainPage:
    now_ns = time.time_ns()
    everything = sorted(sites.all(), key=lambda s: s.site.id)
    # Only the page's sites are computed: a chain of hundreds pages through them.
    items = [chain_site(session, site, now_ns) for site in paging.take(everything)]
    return ChainPage(as_of=datetime.fromtimestamp(now_ns / NS, UTC), total=len(everything), items=items)
