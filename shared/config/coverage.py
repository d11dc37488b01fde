"""The part of the scene a camera reports on (`cameras[].coverage` in a site file).

A mall camera sees more floor than it is responsible for: the upper gallery through an
atrium, the street through the glass front, a neighbour camera's area where two views
overlap. People standing outside the coverage are still tracked (so an identity
survives a walk along its edge) but never reported: no track updates, crossings, zone
visits or heat from there. Drawn on the floor plan (metres, needs the camera's
homography) or in the camera's image (pixels); the foot point decides.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.config.regions import CoveragePolygon, Space


class Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    space: Space = Space.IMAGE
    polygon: CoveragePolygon
