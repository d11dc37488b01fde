"""The hooks every ingest path runs in a batch's transaction: stitching, then gallery matching."""

from __future__ import annotations

from cloud.consumer.service import BatchHook
from cloud.galleries.matcher import GalleryMatcher
from cloud.ingest.registry import SiteRegistry
from cloud.stitching.hook import StitchingHook


def batch_hooks(registry: SiteRegistry) -> list[BatchHook]:
    return [StitchingHook(registry, listeners=[GalleryMatcher(registry)])]
