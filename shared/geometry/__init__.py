"""Plane geometry shared by the edge (counting) and the cloud (floor analytics)."""

from shared.geometry.homography import FloorMapper, fit_homography
from shared.geometry.shapes import point_in_polygon, side_of_line

__all__ = ["FloorMapper", "fit_homography", "point_in_polygon", "side_of_line"]
