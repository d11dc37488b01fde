"""The sites the API answers for: the validated configs the consumers stored in `sites`."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloud.storage.models import Site
from shared.config.site import SiteConfig

log = logging.getLogger(__name__)


class SiteCatalog:
    """Site configs by id, re-read from the database at most every `max_age_s`."""

    def __init__(self, sessions: sessionmaker[Session], max_age_s: float) -> None:
        self._sessions = sessions
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._sites: dict[str, SiteConfig] = {}
        self._raw: dict[str, Any] = {}
        self._loaded = -float("inf")

    def _refresh(self) -> None:
        sites: dict[str, SiteConfig] = {}
        raw: dict[str, Any] = {}
        with self._sessions() as session:
            for site_id, config in session.execute(select(Site.id, Site.config).order_by(Site.id)):
                raw[site_id] = config
                if site_id in self._sites and self._raw.get(site_id) == config:
                    # An unchanged config keeps its object: what is derived from it and cached
                    # by identity (the site map's projected geometry) stays valid.
                    sites[site_id] = self._sites[site_id]
                    continue
                try:
                    sites[site_id] = SiteConfig.model_validate(config)
                except ValidationError as exc:
                    # One bad row must not take the other sites down.
                    log.error("site %r in the database has an invalid config, not served: %s", site_id, exc)
        self._sites = sites
        self._raw = raw
        self._loaded = time.monotonic()

    def _current(self) -> dict[str, SiteConfig]:
        with self._lock:
            if time.monotonic() - self._loaded > self._max_age_s:
                self._refresh()
            return self._sites

    def all(self) -> list[SiteConfig]:
        return list(self._current().values())

    def get(self, site_id: str) -> SiteConfig | None:
        return self._current().get(site_id)
