"""Discrete mutual information between discretised latents and factors (MIG, modularity).

The quantities are disentanglement_lib's: each latent is cut into `num_bins` equal-width bins
between its smallest and largest value in the sample (its `_histogram_discretize`: numpy's
histogram edges, then `digitize` against the left edges), and the mutual information in nats is
the plug-in estimate of sklearn's `mutual_info_score`. It is computed here for all latents of one
factor at once from a joint histogram (tests check it equals `mutual_info_score`), so a wide code
such as raw pixels costs one bincount per factor instead of one call per latent and factor.
"""
from __future__ import annotations

import numpy as np


def histogram_discretize(codes: np.ndarray, num_bins: int) -> np.ndarray:
    """Bin index 0..num_bins-1 of every value, equal-width bins per latent (column)."""
    codes = np.asarray(codes, dtype=np.float64)
    binned = np.empty(codes.shape, dtype=np.int64)
    for i in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, i], bins=num_bins)
        binned[:, i] = np.digitize(codes[:, i], edges[:-1]) - 1
    return binned


def mutual_information(binned: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """I(latent i; factor k) in nats, shape (D, K): `binned` (n, D) and `factors` (n, K) ints >= 0."""
    n, num_latents = binned.shape
    num_bins = int(binned.max()) + 1 if binned.size else 1
    result = np.zeros((num_latents, factors.shape[1]))
    for k in range(factors.shape[1]):
        _, labels = np.unique(factors[:, k], return_inverse=True)
        num_classes = int(labels.max()) + 1
        cell = binned * num_classes + labels[:, None] + np.arange(num_latents) * num_bins * num_classes
        joint = np.bincount(cell.ravel(), minlength=num_latents * num_bins * num_classes)
        joint = joint.reshape(num_latents, num_bins, num_classes).astype(np.float64)
        latent_counts = joint.sum(axis=2, keepdims=True)                   # integer-valued: exact
        factor_counts = joint.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = joint / n * np.log(n * joint / (latent_counts * factor_counts))
        result[:, k] = np.nansum(terms, axis=(1, 2))
    # Rounding leaves ~1e-16 where the MI is 0 (one occupied bin); modularity would read that
    # noise as information, so it is set to the exact 0.
    return np.where(result > 1e-12, result, 0.0)


def entropy(factors: np.ndarray) -> np.ndarray:
    """H(factor k) in nats of the sample's classes, shape (K,) (= mutual_info_score(y, y))."""
    result = np.zeros(factors.shape[1])
    for k in range(factors.shape[1]):
        _, counts = np.unique(factors[:, k], return_counts=True)
        p = counts / counts.sum()
        result[k] = -np.sum(p * np.log(p))
    return result
