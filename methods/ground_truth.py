"""The ground-truth factors as a representation: the upper reference row of the paper's table
(Higgins et al. 2017, Figure 6: 100%). Each factor's values are scaled to [0, 1] over the
dataset's classes of that factor (a factor with one class maps to 0)."""
from __future__ import annotations

import numpy as np

from methods.base import Method


class GroundTruth(Method):
    """The true factor values, each normalised to [0, 1]; needs the dataset, not the images."""

    trainable = False
    needs_factors = True

    def fit(self, dataset, rng: np.random.Generator) -> None:
        """Nothing to fit: the scaling comes from the dataset in codes_of."""

    def codes_of(self, indices: np.ndarray, dataset) -> np.ndarray:
        low, span = factor_ranges(dataset)
        return ((dataset.factor_values(indices) - low) / span).astype(np.float32)


def factor_ranges(dataset) -> tuple[np.ndarray, np.ndarray]:
    """Per factor, the smallest value and the span of its values (1 where there is one value)."""
    low, high = [], []
    for k, size in enumerate(dataset.factor_sizes):
        classes = np.zeros((size, dataset.num_factors), dtype=np.int64)
        classes[:, k] = np.arange(size)
        values = dataset.factor_values(dataset.index_of(classes))[:, k]
        low.append(values.min())
        high.append(values.max())
    low, high = np.array(low), np.array(high)
    return low, np.where(high > low, high - low, 1.0)
