"""Keep the sites and cameras tables in line with the site files the cloud runs on; clear a site's data."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cloud.storage.models import Base, Camera, Site
from cloud.storage.rollups import rebuild_days
from shared.config.site import SiteConfig


def sync_sites(session: Session, sites: Iterable[SiteConfig]) -> None:
    for config in sites:
        site = session.get(Site, config.site.id)
        if site is not None and site.timezone != config.site.timezone:
            # Local days moved: the day rollups are re-keyed from the quarter rows.
            rebuild_days(session, config.site.id, config.site.timezone)
        site = site or Site(id=config.site.id)
        site.name = config.site.name
        site.timezone = config.site.timezone
        site.config = config.model_dump(mode="json")
        wanted = {c.id: c.floor for c in config.cameras}
        site.cameras = [cam for cam in site.cameras if cam.id in wanted] + [
            Camera(id=cid, floor_id=floor) for cid, floor in wanted.items() if cid not in {c.id for c in site.cameras}
        ]
        for cam in site.cameras:
            cam.floor_id = wanted[cam.id]
        session.add(site)


def clear_site_data(session: Session, site_id: str) -> None:
    """Delete every event, rollup and visitor row of a site (not its config)."""
    for table in Base.metadata.sorted_tables:
        if table.name not in (Site.__tablename__, Camera.__tablename__) and "site_id" in table.c:
            session.execute(delete(table).where(table.c.site_id == site_id))
