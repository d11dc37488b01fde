"""What the API serves and to whom, spelled out."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloud.api.auth import KeyRing


@dataclass(frozen=True)
class ApiSettings:
    keys: KeyRing = field(default_factory=KeyRing)
    # Without keys, reads need no key (admin endpoints stay closed). Only for a trusted
    # network or loopback: `mallflow api` refuses it on other addresses.
    anonymous_read: bool = False
    # Browser origins allowed to call the API from other pages; none by default.
    cors_origins: tuple[str, ...] = ()
    # Bounds that keep every response small whatever the query.
    max_buckets: int = 2000
    max_range_days: float = 400.0
    page_limit_default: int = 100
    page_limit_max: int = 1000
    # Live occupancy stream: how often the database is polled for changes.
    stream_poll_s: float = 1.0
    stream_heartbeat_s: float = 15.0
    # Site configs are re-read from the database at most this often.
    site_cache_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_buckets < 1 or self.page_limit_max < 1:
            raise ValueError("max_buckets and page_limit_max must be >= 1")
        if not 0 < self.page_limit_default <= self.page_limit_max:
            raise ValueError("page_limit_default must be in 1..page_limit_max")
        if self.stream_poll_s <= 0 or self.stream_heartbeat_s <= 0 or self.site_cache_s < 0:
            raise ValueError("stream_poll_s and stream_heartbeat_s must be > 0, site_cache_s >= 0")
