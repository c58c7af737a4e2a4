"""Raw pixels as a representation: a baseline row of the paper's table (Higgins et al. 2017,
Figure 6: 45.75%). The code of an image is the image itself, flattened, as floats in [0, 1]."""
from __future__ import annotations

import numpy as np
import torch

from methods.base import Method


class RawPixels(Method):
    """The flattened image (C * H * W values in [0, 1])."""

    trainable = False

    def fit(self, dataset, rng: np.random.Generator) -> None:
        """Nothing to fit."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.float().flatten(1)
