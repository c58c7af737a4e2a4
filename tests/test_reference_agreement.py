"""Every metric of disentanglement_lib's study gives disentanglement_lib's own number on the same
samples (bench/speed/reference.py says how the samples and fits are made the same). Skipped unless
disentanglement_lib is installed (the `reference` extra; docs/usage.md, "Set up").

Representations (functions of the image, uint8 (n, 1, 64, 64)), on the 1,536-image dSprites subset:
- `moments`: pixel mass, centroid x and y, and the three second moments: close to the factors
  scale, posX and posY, mixed for shape and orientation;
- `projection`: 8 fixed random projections of the pixels (entangled).
"""
from __future__ import annotations

import numpy as np
import pytest

from bench.speed import reference

if not reference.available():
    pytest.skip("disentanglement_lib is not installed (the reference extra)", allow_module_level=True)

SIZES = {"num_train": 1000, "num_test": 500, "num_eval": 150, "num_variance_estimate": 1000}
VOTE_SIZES = {"num_train": 300, "num_eval": 150, "num_variance_estimate": 1000}


def moments(images: np.ndarray) -> np.ndarray:
    x = images[:, 0].astype(np.float64) / 255.0
    rows, columns = np.mgrid[0:x.shape[1], 0:x.shape[2]] / x.shape[1]
    mass = x.sum(axis=(1, 2)) + 1e-9
    cx, cy = (x * columns).sum(axis=(1, 2)) / mass, (x * rows).sum(axis=(1, 2)) / mass
    dx, dy = columns[None] - cx[:, None, None], rows[None] - cy[:, None, None]
    second = [(x * a * b).sum(axis=(1, 2)) / mass for a, b in ((dx, dx), (dy, dy), (dx, dy))]
    return np.stack([mass / x[0].size, cx, cy, *second], axis=1)


def projection(images: np.ndarray) -> np.ndarray:
    weights = np.random.default_rng(7).normal(size=(images[0].size, 8)) / 64.0
    return images.reshape(len(images), -1).astype(np.float64) / 255.0 @ weights


REPRESENTATIONS = {"moments": moments, "projection": projection}


@pytest.mark.parametrize("metric", reference.METRICS)
@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_the_default_gives_the_reference_number_on_the_same_samples(small_dsprites, metric, representation):
    sizes = VOTE_SIZES if metric in ("beta_vae", "factor_vae") else SIZES
    comparison = reference.compare(metric, REPRESENTATIONS[representation], small_dsprites, seed=0, sizes=sizes)
    assert set(comparison.ours) == set(comparison.reference)
    for key, value in comparison.ours.items():
        assert value == pytest.approx(comparison.reference[key], abs=1e-9), key
    assert comparison.ours_seconds > 0 and comparison.reference_seconds > 0


def test_the_comparison_sees_a_difference_when_there_is_one(small_dsprites, monkeypatch):
    """The agreement is not by construction: today's lbfgs fit on the project's side moves the
    beta_vae score away from the reference's 2019 fit on the very same votes."""
    import metrics.beta_vae
    from sklearn.linear_model import LogisticRegression
    monkeypatch.setattr(metrics.beta_vae, "logistic_regression",
                        lambda classifier, random_state: LogisticRegression(random_state=random_state))
    comparison = reference.compare("beta_vae", projection, small_dsprites, seed=0, sizes=VOTE_SIZES)
    assert comparison.largest_difference > 0


@pytest.mark.parametrize("metric", ["dci", "sap", "modularity"])
def test_fits_in_parallel_give_the_reference_number_too(small_dsprites, metric):
    """With the factors' fits in threads (metrics/workers.py), DCI's classifiers are still made, and
    their seeds drawn, in the factors' order: disentanglement_lib's serial loop gets the same seeds."""
    from metrics import workers
    with workers.allow(3):
        comparison = reference.compare(metric, moments, small_dsprites, seed=0, sizes=SIZES)
    for key, value in comparison.ours.items():
        assert value == pytest.approx(comparison.reference[key], abs=1e-9), key
