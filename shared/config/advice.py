"""Settings that validate but are likely to give wrong numbers: what `mallflow config check` warns about."""

from __future__ import annotations

from shared.config.site import SiteConfig


def settings_warnings(cfg: SiteConfig) -> list[str]:
    """One line per zone or line setting that contradicts another setting of the site."""
    buffer_s = cfg.tracking.track_buffer_s
    return [
        f"zone {zone.id}: exit_grace_s {zone.exit_grace_s:g} s is shorter than tracking.track_buffer_s "
        f"{buffer_s:g} s: a person the tracker finds again after an occlusion of that length is counted "
        "as two visits; set exit_grace_s to at least the track buffer"
        for zone in cfg.zones
        if zone.exit_grace_s < buffer_s
    ]
