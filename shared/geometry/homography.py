"""Image → floor projection from installer-measured point pairs."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from shared.config.site import Camera, Homography

FloatArray = NDArray[np.float64]


def fit_homography(image_points: Sequence[Sequence[float]], floor_points: Sequence[Sequence[float]]) -> FloatArray:
    """Least-squares 3x3 homography mapping image pixels to floor metres.

    Uses all pairs (no RANSAC): installers give few, deliberate points, and an
    outlier should show up as reprojection error rather than be silently dropped.
    """
    src = np.asarray(image_points, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(floor_points, dtype=np.float64).reshape(-1, 2)
    if len(src) != len(dst) or len(src) < 4:
        raise ValueError(f"need at least 4 matching point pairs, got {len(src)} image and {len(dst)} floor points")
    matrix, _ = cv2.findHomography(src, dst, method=0)
    if matrix is None or not np.all(np.isfinite(matrix)):
        raise ValueError("the point pairs do not determine a homography (degenerate layout)")
    return np.asarray(matrix, dtype=np.float64)


class FloorMapper:
    """Projects image points of one camera onto its floor plan (metres).

    `offset` is the crop origin of a logical camera cut from a larger frame: points
    are given in the crop's pixels, the homography was fitted on the full frame.
    `front_sign` is the sign of the projective scale on the floor (that of the
    calibration points): image points with the other sign lie beyond the horizon.
    """

    def __init__(self, matrix: FloatArray, offset: tuple[float, float] = (0.0, 0.0), front_sign: float = 1.0) -> None:
        if matrix.shape != (3, 3):
            raise ValueError(f"homography must be 3x3, got shape {matrix.shape}")
        shift = np.array([[1.0, 0.0, offset[0]], [0.0, 1.0, offset[1]], [0.0, 0.0, 1.0]])
        self.matrix: FloatArray = matrix @ shift
        self.front_sign = 1.0 if front_sign >= 0 else -1.0

    @classmethod
    def from_config(cls, homography: Homography, offset: tuple[float, float] = (0.0, 0.0)) -> FloorMapper:
        matrix = fit_homography(homography.image_points, homography.floor_points)
        image = np.asarray(homography.image_points, dtype=np.float64)
        scale = np.hstack([image, np.ones((len(image), 1))]) @ matrix[2]
        return cls(matrix, offset, float(np.sign(np.median(scale))))

    @classmethod
    def for_camera(cls, camera: Camera) -> FloorMapper | None:
        """The camera's mapping for points in its own (cropped) pixels; None without a homography."""
        if camera.homography is None:
            return None
        # The homography is measured on the full source frame; a crop's pixels are shifted.
        offset = (float(camera.crop[0]), float(camera.crop[1])) if camera.crop else (0.0, 0.0)
        return cls.from_config(camera.homography, offset)

    def to_floor(self, points: FloatArray) -> FloatArray:
        """(N, 2) image points → (N, 2) floor points; points on or beyond the horizon become NaN."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        homog = np.hstack([pts, np.ones((len(pts), 1))]) @ self.matrix.T
        w = homog[:, 2:3]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = homog[:, :2] / w
        out[w[:, 0] * self.front_sign < 1e-12] = np.nan
        return out
