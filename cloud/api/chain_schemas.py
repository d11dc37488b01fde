"""Response body of the chain overview."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cloud.analytics.chain import ChainSite


class ChainPage(BaseModel):
    as_of: datetime = Field(description="the instant the figures were computed (UTC)")
    total: int = Field(description="sites in the chain")
    items: list[ChainSite]
