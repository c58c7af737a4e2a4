"""Shared sampling for the metrics that score codes of i.i.d. images against their factors.

MIG, DCI, SAP and modularity all draw factor vectors uniformly and independently (as
disentanglement_lib's `generate_batch_factor_code`), look up their codes and compare them with the
factor classes. `factor_code_samples` draws every set a metric needs and fetches all their codes
with ONE call of the shared Representation, so each image is encoded at most once per suite.
"""
from __future__ import annotations

import numpy as np

LOOKUP_BYTES = 1 << 28          # codes fetched per look-up when a metric needs many images per vote


def factor_code_samples(codes, dataset, rng: np.random.Generator, *sizes: int):
    """For each size n: (codes (n, D) float64, factor classes (n, K) int64), one codes() call."""
    factors = dataset.sample_factors(int(sum(sizes)), rng)
    values = np.asarray(codes(dataset.index_of(factors)), dtype=np.float64)
    bounds = np.cumsum([0, *sizes])
    return [(values[start:stop], factors[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]


def votes_per_lookup(width: int, images_per_vote: int) -> int:
    """How many votes to look up at once so that their codes (float64) fit in LOOKUP_BYTES.

    For a usual code (10 latents) every vote of a metric fits in one look-up; a wide code such
    as raw pixels (4,096 values per image) is looked up a few hundred votes at a time.
    """
    return max(1, LOOKUP_BYTES // (8 * max(1, width) * images_per_vote))


def standardize_columns(train: np.ndarray, *others: np.ndarray):
    """Scale each latent by the training mean and std; a constant latent becomes 0, not NaN."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(x - mean) / std for x in (train, *others)]
