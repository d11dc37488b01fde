"""Sites for feeding annotated boxes straight into the analytics.

Ground-truth boxes (and the synthetic ones tests draw) end at the soles; the default
detector's boxes reach a little below them, which its profile's foot margin takes off.
Analytics fed annotated boxes must take nothing off.
"""

from __future__ import annotations

from shared.config import SiteConfig


def boxes_at_the_soles(site: SiteConfig) -> SiteConfig:
    """`site` with every detector profile's foot margin set to 0."""
    cameras = [
        c
        if c.detector is None
        else c.model_copy(update={"detector": c.detector.model_copy(update={"foot_margin": 0.0})})
        for c in site.cameras
    ]
    detector = site.detector.model_copy(update={"foot_margin": 0.0})
    return site.model_copy(update={"detector": detector, "cameras": cameras})
