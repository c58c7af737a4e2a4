"""Modularity and explicitness (Ridgeway & Mozer 2018), as disentanglement_lib computes them.

"Learning Deep Disentangled Embeddings With the F-Statistic Loss", section 3; docs/paper.md section 6.

Modularity: with m_ik the mutual information between latent i and factor k and theta_i = max_k
m_ik, latent i's deviation from an ideally modular latent is
    delta_i = sum_{k != argmax} m_ik^2 / (theta_i^2 (K - 1)),
and modularity = mean_i (1 - delta_i). A latent that informs about one factor only scores 1. The
MI is disentanglement_lib's discretised estimate on the `num_train` training images (equal-width
bins per latent, `num_bins` = 20; see metrics/information.py).

Explicitness: per factor, one binary logistic regression per class ("this class or not"; L2,
C = 1, liblinear, i.e. the one-vs-rest LogisticRegression that disentanglement_lib ran with the
sklearn of its day) predicts the class from the whole code, standardised with the training mean
and std. Each image's per-class scores are the one-vs-rest probabilities sigmoid(s_c) normalised
to sum to 1 over the classes (sklearn's one-vs-rest predict_proba); the factor's explicitness is
the mean over its classes of the ROC AUC of class c's probability on the `num_test` images, and
the score is the mean over factors (`explicitness_train`: the same on the training images).

Choices, stated:
- One-vs-rest, as Ridgeway & Mozer and as disentanglement_lib's results. Current sklearn's
  LogisticRegression() fits ONE multinomial model instead (lbfgs), so running disentanglement_lib's
  code today silently changes its explicitness; the one-vs-rest fit is pinned here.
- The normalisation across classes matters: class c's own score is monotone in a single latent,
  so a middle class of an ordinal factor (a middle x position) cannot be ranked by it (AUC ~0.5,
  ground-truth codes then reach only ~0.85 on dSprites); its normalised probability peaks in the
  middle and can. Without it a perfect code would not score near 1.
- Classes absent from the training sample have no classifier and are skipped; a class with no
  positive or no negative test image has no AUC and is skipped; a factor with one class in the
  training sample scores 0.5 (disentanglement_lib fails on these, through MultiLabelBinarizer's
  column mismatch or roc_auc_score).
- A latent with zero mutual information with every factor (e.g. a collapsed one) scores 0, as in
  disentanglement_lib, so unused latents lower modularity; a constant code scores 0. With a single
  factor, modularity is 1 for every informative latent (no other factor to leak into).
- A constant latent is left at 0 by the standardisation instead of dividing by a zero std.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from metrics.base import Metric
from metrics.information import histogram_discretize, mutual_information
from metrics.samples import factor_code_samples, standardize_columns
from metrics.workers import map_fits


@dataclass(frozen=True)
class Settings:
    """Defaults: disentanglement_lib's study."""
    num_train: int = 10_000
    num_test: int = 5_000
    num_bins: int = 20                       # equal-width bins per latent, for the mutual information


def modularity(info: np.ndarray) -> float:
    """Mean over latents of 1 - delta_i from the (D, K) mutual information matrix."""
    squared = np.square(info)
    largest = squared.max(axis=1)
    if info.shape[1] < 2:
        return float(np.mean(largest > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (squared.sum(axis=1) - largest) / (largest * (info.shape[1] - 1))
    return float(np.mean(np.where(largest > 0, 1.0 - delta, 0.0)))


def explicitness(train_x, train_y, eval_sets) -> list[float]:
    """Mean one-vs-rest ROC AUC over the classes of one factor, for each (x, y) of eval_sets."""
    classes = np.unique(train_y)
    if len(classes) < 2:
        return [0.5 for _ in eval_sets]
    classifiers = [LogisticRegression(solver="liblinear").fit(train_x, train_y == c) for c in classes]
    result = []
    for x, y in eval_sets:
        probability = expit(np.stack([classifier.decision_function(x) for classifier in classifiers], axis=1))
        probability /= probability.sum(axis=1, keepdims=True)
        aucs = [roc_auc_score(y == c, probability[:, j]) for j, c in enumerate(classes)
                if 0 < np.sum(y == c) < len(y)]
        result.append(float(np.mean(aucs)) if aucs else 0.5)
    return result


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """Modularity of the MI matrix, and explicitness (test and train ROC AUC)."""
    (train_codes, train_factors), (test_codes, test_factors) = factor_code_samples(
        codes, dataset, rng, settings.num_train, settings.num_test)
    info = mutual_information(histogram_discretize(train_codes, settings.num_bins), train_factors)
    train_x, test_x = standardize_columns(train_codes, test_codes)
    with warnings.catch_warnings():          # here, not in the threads: the filters are the process's
        warnings.simplefilter("ignore", ConvergenceWarning)
        per_factor = np.array(map_fits(      # the factors at once in threads where cores are free
            lambda k: explicitness(train_x, train_factors[:, k],
                                   [(test_x, test_factors[:, k]), (train_x, train_factors[:, k])]),
            range(train_factors.shape[1]),
            costs=[len(np.unique(train_factors[:, k])) for k in range(train_factors.shape[1])]))   # one per class
    return {"modularity": modularity(info),
            "explicitness": float(per_factor[:, 0].mean()),
            "explicitness_train": float(per_factor[:, 1].mean())}


METRIC = Metric("modularity", Settings, score, headline="modularity",
                quick={"num_train": 1_000, "num_test": 500}, sample_sizes=("num_train", "num_test"),
                perfect={"modularity": 1.0, "explicitness": 1.0})
