"""Every metric's default against disentanglement_lib's own code, on the very same samples.

Skipped unless disentanglement_lib is installed (the `reference` extra; README "Tests"). Its metric
modules import without TensorFlow once `gin.tf` is aliased to `gin`.

How the samples are made the same: the project's metric runs first on a dataset that records
every factor vector it draws (and, for the vote-based metrics, each vote's factor); the reference
then gets a dataset that hands out exactly those vectors in the order it asks for them, and a
random state whose `randint(num_factors)` returns the recorded vote factors. Differences left are
then the metrics' own arithmetic and fits. The fits run as disentanglement_lib's study ran them:
sklearn's `LogisticRegression()` of 2019 was liblinear one-vs-rest (patched in below); DCI's
gradient boosting, unseeded there, gets the seeds the project's drew (the seed alone moves DCI's
disentanglement by up to 0.03 at these sizes).

Representations (functions of the image, uint8 (n, 1, 64, 64)):
- `moments`: pixel mass, centroid x and y, and the three second moments: close to the factors
  scale, posX and posY, mixed for shape and orientation;
- `projection`: 8 fixed random projections of the pixels (entangled).
"""
from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

import metrics
import metrics.dci

gin = pytest.importorskip("gin")
sys.modules.setdefault("gin.tf", gin)
reference = pytest.importorskip("disentanglement_lib.evaluation.metrics.beta_vae").__name__.rsplit(".", 1)[0]
from disentanglement_lib.evaluation.metrics import (beta_vae, dci, factor_vae, mig,  # noqa: E402
                                                    modularity_explicitness, sap_score, utils)

SIZES = {"num_train": 1000, "num_test": 500}
VOTES = {"batch_size": 64, "num_train": 300, "num_eval": 150}


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


class Recording:
    """The project's dataset, keeping every factor array its metric draws (as it is after the
    metric's in-place edits) and the vote factors of beta_vae's pairs."""

    def __init__(self, dataset):
        self.dataset, self.draws, self.pair_factors = dataset, [], []

    def __getattr__(self, name):
        return getattr(self.dataset, name)

    def __len__(self):
        return len(self.dataset)

    def sample_factors(self, n, rng):
        factors = self.dataset.sample_factors(n, rng)
        self.draws.append(factors)
        return factors

    def pairs_sharing_factor(self, k, n, rng):
        first, second = self.dataset.pairs_sharing_factor(k, n, rng)
        self.pair_factors.append(np.broadcast_to(np.asarray(k), (n,)))
        self.draws.append((first, second))
        return first, second


class Replay:
    """disentanglement_lib's GroundTruthData interface, handing out recorded factor rows in order."""

    def __init__(self, dataset, rows):
        self.dataset, self.rows, self.next = dataset, rows, 0
        self.num_factors = dataset.num_factors
        self.factors_num_values = list(dataset.factor_sizes)
        self.observation_shape = (*dataset.image_shape[1:], dataset.image_shape[0])

    def sample_factors(self, num, random_state):
        rows = self.rows[self.next:self.next + num]
        assert len(rows) == num, "the reference asked for more samples than the project drew"
        self.next += num
        return rows.copy()

    def sample_observations_from_factors(self, factors, random_state):
        images = self.dataset.images(self.dataset.index_of(factors))
        return images.transpose(0, 2, 3, 1).astype(np.float32) / 255.0

    def sample(self, num, random_state):
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


class VoteFactors(np.random.RandomState):
    """A RandomState whose randint(num_factors), the reference's draw of a vote's factor, returns
    the project's vote factors in order; every other draw is a RandomState's own."""

    def __init__(self, num_factors, labels):
        super().__init__(0)
        self.num_factors, self.labels = num_factors, list(labels)

    def randint(self, low, high=None, size=None, dtype=int):
        if high is None and size is None and low == self.num_factors:
            return self.labels.pop(0)
        return super().randint(low, high, size, dtype)


def reference_function(representation):
    """The reference's representation function: float NHWC observations in [0, 1]."""
    def function(observations):
        images = np.round(np.asarray(observations) * 255.0).astype(np.uint8).transpose(0, 3, 1, 2)
        return representation(images)
    return function


def ours(name, representation, dataset, settings):
    recording = Recording(dataset)
    values = metrics.evaluate(name, representation, recording, seed=0, params={name: settings}, progress=False)
    return values, recording


@pytest.fixture(autouse=True)
def study_fits(monkeypatch):
    """The study's LogisticRegression(): sklearn < 0.22 fitted liblinear one-vs-rest by default.
    DCI's GradientBoostingClassifier() is unseeded there; the reference's k-th one gets the
    random_state the project's k-th one drew, so both fit the same trees."""
    def logistic_regression(**kwargs):
        return OneVsRestClassifier(LogisticRegression(solver="liblinear", **kwargs))
    monkeypatch.setattr(beta_vae.linear_model, "LogisticRegression", logistic_regression)
    monkeypatch.setattr(modularity_explicitness.linear_model, "LogisticRegression", logistic_regression)
    boosting_seeds = []

    def recorded_boosting(**kwargs):
        boosting_seeds.append(kwargs["random_state"])
        return GradientBoostingClassifier(**kwargs)

    def replayed_boosting():
        return GradientBoostingClassifier(random_state=boosting_seeds.pop(0))
    monkeypatch.setattr(metrics.dci, "GradientBoostingClassifier", recorded_boosting)
    monkeypatch.setattr(dci.ensemble, "GradientBoostingClassifier", replayed_boosting)
    gin.clear_config()
    gin.bind_parameter("discretizer.discretizer_fn", utils._histogram_discretize)
    gin.bind_parameter("discretizer.num_bins", 20)
    gin.bind_parameter("prune_dims.threshold", 0.05)      # the study's factor_vae_metric.gin
    yield
    gin.clear_config()


def iid_rows(recording):
    return np.concatenate(recording.draws)


@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_mig_sap_modularity_dci_match_the_reference_on_the_same_samples(small_dsprites, representation):
    function = REPRESENTATIONS[representation]
    mine, recording = ours("mig", function, small_dsprites, {"num_train": SIZES["num_train"]})
    theirs = mig.compute_mig(Replay(small_dsprites, iid_rows(recording)), reference_function(function),
                             np.random.RandomState(0), num_train=SIZES["num_train"], batch_size=16)
    assert mine["mig.score"] == pytest.approx(theirs["discrete_mig"], abs=1e-9)

    mine, recording = ours("sap", function, small_dsprites, SIZES)
    theirs = sap_score.compute_sap(Replay(small_dsprites, iid_rows(recording)), reference_function(function),
                                   np.random.RandomState(0), num_train=SIZES["num_train"],
                                   num_test=SIZES["num_test"], continuous_factors=False, batch_size=16)
    assert mine["sap.score"] == pytest.approx(theirs["SAP_score"], abs=1e-9)

    mine, recording = ours("modularity", function, small_dsprites, SIZES)
    theirs = modularity_explicitness.compute_modularity_explicitness(
        Replay(small_dsprites, iid_rows(recording)), reference_function(function), np.random.RandomState(0),
        num_train=SIZES["num_train"], num_test=SIZES["num_test"], batch_size=16)
    assert mine["modularity.modularity"] == pytest.approx(theirs["modularity_score"], abs=1e-9)
    assert mine["modularity.explicitness"] == pytest.approx(theirs["explicitness_score_test"], abs=1e-6)
    assert mine["modularity.explicitness_train"] == pytest.approx(theirs["explicitness_score_train"], abs=1e-6)

    mine, recording = ours("dci", function, small_dsprites, SIZES)
    theirs = dci.compute_dci(Replay(small_dsprites, iid_rows(recording)), reference_function(function),
                             np.random.RandomState(0), num_train=SIZES["num_train"],
                             num_test=SIZES["num_test"], batch_size=16)
    for key in ("disentanglement", "completeness", "informativeness_train", "informativeness_test"):
        assert mine[f"dci.{key}"] == pytest.approx(theirs[key], abs=1e-9), key


@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_beta_vae_metric_matches_the_reference_on_the_same_votes(small_dsprites, representation):
    function = REPRESENTATIONS[representation]
    mine, recording = ours("beta_vae", function, small_dsprites, VOTES)
    rows = np.concatenate([np.stack([first, second], axis=1).reshape(-1, VOTES["batch_size"], 2,
                                                                   small_dsprites.num_factors)
                           .transpose(0, 2, 1, 3).reshape(-1, small_dsprites.num_factors)
                           for first, second in recording.draws])
    labels = np.concatenate(recording.pair_factors)[::VOTES["batch_size"]]
    theirs = beta_vae.compute_beta_vae_sklearn(
        Replay(small_dsprites, rows), reference_function(function),
        VoteFactors(small_dsprites.num_factors, labels), **VOTES)
    assert mine["beta_vae.train_accuracy"] == pytest.approx(theirs["train_accuracy"], abs=1e-9)
    assert mine["beta_vae.eval_accuracy"] == pytest.approx(theirs["eval_accuracy"], abs=1e-9)


@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_factor_vae_metric_matches_the_reference_on_the_same_votes(small_dsprites, representation):
    function = REPRESENTATIONS[representation]
    settings = {**VOTES, "num_variance_estimate": 1000}
    mine, recording = ours("factor_vae", function, small_dsprites, settings)
    variance_rows, *vote_draws = recording.draws
    votes = np.concatenate([draw.reshape(-1, VOTES["batch_size"], small_dsprites.num_factors) for draw in vote_draws])
    shared = (votes == votes[:, :1]).all(axis=1)                    # each vote's factor: constant in its batch
    assert (shared.sum(axis=1) == 1).all()
    theirs = factor_vae.compute_factor_vae(
        Replay(small_dsprites, np.concatenate([variance_rows, votes.reshape(-1, small_dsprites.num_factors)])),
        reference_function(function), VoteFactors(small_dsprites.num_factors, shared.argmax(axis=1)), **settings)
    assert mine["factor_vae.train_accuracy"] == pytest.approx(theirs["train_accuracy"], abs=1e-9)
    assert mine["factor_vae.eval_accuracy"] == pytest.approx(theirs["eval_accuracy"], abs=1e-9)
