"""Discrete information between discretised latents and factors (MIG, MIG-sup, DCIMIG, JEMMIG,
modularity, InfoMEC's histogram option).

The quantities are disentanglement_lib's: each latent is cut into `num_bins` equal-width bins
between its smallest and largest value in the sample (its `_histogram_discretize`: numpy's
histogram edges, then `digitize` against the left edges), and the mutual information in nats is
the plug-in estimate of sklearn's `mutual_info_score`. It is computed here for all latents of one
factor at once from a joint histogram (tests check it equals `mutual_info_score`), so a wide code
such as raw pixels costs one bincount per factor instead of one call per latent and factor. The
joint entropies H(latent, factor) (JEMMIG) come from the same histograms.
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


def joint_histograms(binned: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Counts of (bin, class) for every latent against one factor, shape (D, bins, classes), float."""
    num_latents = binned.shape[1]
    num_bins = int(binned.max()) + 1 if binned.size else 1
    _, labels = np.unique(factor, return_inverse=True)
    num_classes = int(labels.max()) + 1
    cell = binned * num_classes + labels[:, None] + np.arange(num_latents) * num_bins * num_classes
    joint = np.bincount(cell.ravel(), minlength=num_latents * num_bins * num_classes)
    return joint.reshape(num_latents, num_bins, num_classes).astype(np.float64)


def mutual_information(binned: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """I(latent i; factor k) in nats, shape (D, K): `binned` (n, D) and `factors` (n, K) ints >= 0."""
    n, num_latents = binned.shape
    result = np.zeros((num_latents, factors.shape[1]))
    for k in range(factors.shape[1]):
        joint = joint_histograms(binned, factors[:, k])
        latent_counts = joint.sum(axis=2, keepdims=True)                   # integer-valued: exact
        factor_counts = joint.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = joint / n * np.log(n * joint / (latent_counts * factor_counts))
        result[:, k] = np.nansum(terms, axis=(1, 2))
    # Rounding leaves ~1e-16 where the MI is 0 (one occupied bin); modularity would read that
    # noise as information, so it is set to the exact 0.
    return np.where(result > 1e-12, result, 0.0)


def joint_entropy(binned: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """H(latent i, factor k) in nats of the sample's (bin, class) pairs, shape (D, K)."""
    n, num_latents = binned.shape
    result = np.zeros((num_latents, factors.shape[1]))
    for k in range(factors.shape[1]):
        p = joint_histograms(binned, factors[:, k]) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            result[:, k] = -np.nansum(p * np.log(p), axis=(1, 2))
    return result


def entropy(factors: np.ndarray) -> np.ndarray:
    """H(column k) in nats of the sample's classes (factors, or binned latents), shape (K,)
    (= mutual_info_score(y, y))."""
    result = np.zeros(factors.shape[1])
    for k in range(factors.shape[1]):
        _, counts = np.unique(factors[:, k], return_counts=True)
        p = counts / counts.sum()
        result[k] = -np.sum(p * np.log(p))
    return result
