"""Bars: a procedural dataset of 64x64 binary images, one horizontal and one vertical bar each
(an illustration of a plug-in dataset): factors row 8 (the horizontal bar's position), column 8
(the vertical bar's), thickness 3 (both bars', 2, 4 or 6 pixels); 192 images."""
from __future__ import annotations

import numpy as np

from bench.data.base import GroundTruthData

POSITIONS = np.arange(4, 60, 7)              # 8 positions, the bar's first pixel
THICKNESS = (2, 4, 6)


class Bars(GroundTruthData):
    """192 binary images: a horizontal bar at one of 8 rows, a vertical one at one of 8 columns, 3 thicknesses."""

    name = "bars"
    factor_names = ("row", "column", "thickness")
    factor_sizes = (len(POSITIONS), len(POSITIONS), len(THICKNESS))
    image_shape = (1, 64, 64)
    likelihood = "bernoulli"

    def images(self, indices: np.ndarray) -> np.ndarray:
        factors = self.factors_of(np.asarray(indices))
        images = np.zeros((len(factors), *self.image_shape), dtype=np.uint8)
        for image, (row, column, thickness) in zip(images, factors):
            width = THICKNESS[thickness]
            image[0, POSITIONS[row]:POSITIONS[row] + width, :] = 255
            image[0, :, POSITIONS[column]:POSITIONS[column] + width] = 255
        return images


def load(data_path=None) -> Bars:
    """Bars, 192 binary images: row 8, column 8, thickness 3 (procedural)."""
    return Bars()
