"""Separated Attribute Predictability, SAP (Kumar et al. 2018), the discrete-factor form.

"Variational Inference of Disentangled Latent Concepts from Unlabeled Observations", section 3.

A score matrix S (latents x factors) holds how well latent i ALONE predicts factor k; SAP is the
mean over factors of the gap between the best and the second-best latent, S_(1)k - S_(2)k. For
discrete factors disentanglement_lib (docs/paper.md section 6, `continuous_factors=False` for dSprites)
fits, per latent and factor, a linear SVM on the one latent (sklearn LinearSVC, C = 0.01,
class_weight "balanced", one-vs-rest) on `num_train` images; S_ik is its accuracy on `num_test`
held-out images.

Choices, stated:
- Scale: with C = 0.01 the SVM's regularisation (intercept included, liblinear's
  intercept_scaling) is measured in the latent's units, so disentanglement_lib's S changes when a
  latent is rescaled: a perfectly informative latent with a small spread predicts at chance. The
  default (`standardize=False`) computes what disentanglement_lib's study computed, raw codes. The
  paper's S is meant to say how predictive a latent is, whatever its units (its continuous form,
  R^2, is scale-free), so `standardize=True` (sap.standardize = true: `standardize = true` under a
  sweep file's [metric_params.sap], or params={"sap": {"standardize": True}} in metrics.evaluate)
  first standardises each latent with the training mean and std: a documented departure from
  disentanglement_lib that makes S independent of each latent's scale.
- A constant latent predicts one fixed class for every input; its accuracy is that class's share
  of the test set (close to chance), as in disentanglement_lib. Ties need no handling: the gap of
  two equal top scores is 0.
- A single-class factor in the training sample cannot train an SVM; its row of S is 1 for every
  latent (no gap).
- sklearn's LinearSVC chooses the primal solver here (dual="auto"); disentanglement_lib ran the
  dual one of its day. Both solve the same problem, so they agree up to the solver's tolerance.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from bench.errors import UserError
from metrics.base import Metric
from metrics.samples import factor_code_samples, standardize_columns
from metrics.workers import map_fits


@dataclass(frozen=True)
class Settings:
    """Defaults: disentanglement_lib's study (`continuous_factors = False`)."""
    num_train: int = 10_000
    num_test: int = 5_000
    C: float = 0.01                          # the SVMs' inverse regularisation, in the code's units
    standardize: bool = False                # True: each latent standardised first (a departure)


def score_matrix(train_codes, train_factors, test_codes, test_factors, C: float) -> np.ndarray:
    """(D, K) test accuracy of a 1-D linear SVM per latent and factor; the factors' columns are
    computed at once in threads where cores are free (metrics/workers.py), with the serial loop's numbers."""
    num_latents, num_factors = train_codes.shape[1], train_factors.shape[1]
    matrix = np.ones((num_latents, num_factors))
    fitted = [k for k in range(num_factors) if len(np.unique(train_factors[:, k])) >= 2]
    with warnings.catch_warnings():          # here, not in the threads: the filters are the process's
        warnings.simplefilter("ignore", ConvergenceWarning)
        columns = map_fits(lambda k: factor_column(train_codes, train_factors[:, k], test_codes,
                                                   test_factors[:, k], C), fitted,
                           costs=[len(np.unique(train_factors[:, k])) for k in fitted])    # an SVM per class
    for k, column in zip(fitted, columns):
        matrix[:, k] = column
    return matrix


def factor_column(train_codes, train_classes, test_codes, test_classes, C: float) -> np.ndarray:
    """(D,) test accuracy of a 1-D linear SVM per latent for one factor's classes."""
    column = np.empty(train_codes.shape[1])
    for i in range(train_codes.shape[1]):
        classifier = LinearSVC(C=C, class_weight="balanced").fit(train_codes[:, i:i + 1], train_classes)
        column[i] = np.mean(classifier.predict(test_codes[:, i:i + 1]) == test_classes)
    return column


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    if not settings.C > 0:
        raise UserError(f"sap C (the classifiers' inverse regularisation) must be above 0, not {settings.C}")


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """Mean over factors of the top-1 minus top-2 single-latent test accuracy."""
    (train_codes, train_factors), (test_codes, test_factors) = factor_code_samples(
        codes, dataset, rng, settings.num_train, settings.num_test)
    if settings.standardize:
        train_codes, test_codes = standardize_columns(train_codes, test_codes)
    matrix = score_matrix(train_codes, train_factors, test_codes, test_factors, settings.C)
    ranked = np.sort(matrix, axis=0)[::-1]
    second = ranked[1] if len(ranked) > 1 else np.zeros(matrix.shape[1])
    return {"score": float(np.mean(ranked[0] - second))}


# A perfect code does not reach SAP's top on discrete factors: one linear boundary per latent
# cannot pick out a middle class (docs/metrics.md, "Known answers": the ground truth scores 0.25).
METRIC = Metric("sap", Settings, score, check, headline="score", quick={"num_train": 1_000, "num_test": 500},
                sample_sizes=("num_train", "num_test"))
