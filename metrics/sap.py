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

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from bench.errors import UserError
from metrics.samples import check_positive, factor_code_samples, standardize_columns

QUICK = {"num_train": 1_000, "num_test": 500}


def score_matrix(train_codes, train_factors, test_codes, test_factors, C: float) -> np.ndarray:
    """(D, K) test accuracy of a 1-D linear SVM per latent and factor."""
    num_latents, num_factors = train_codes.shape[1], train_factors.shape[1]
    matrix = np.ones((num_latents, num_factors))
    for k in range(num_factors):
        if len(np.unique(train_factors[:, k])) < 2:
            continue
        for i in range(num_latents):
            classifier = LinearSVC(C=C, class_weight="balanced")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                classifier.fit(train_codes[:, i:i + 1], train_factors[:, k])
            matrix[i, k] = np.mean(classifier.predict(test_codes[:, i:i + 1]) == test_factors[:, k])
    return matrix


def check(dataset, num_train, num_test, C, standardize) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    check_positive("sap", num_train=num_train, num_test=num_test)
    if not C > 0:
        raise UserError(f"sap C (the classifiers' inverse regularisation) must be above 0, not {C}")


def score(codes, dataset, rng, num_train: int = 10_000, num_test: int = 5_000, C: float = 0.01,
          standardize: bool = False) -> dict[str, float]:
    """Mean over factors of the top-1 minus top-2 single-latent test accuracy."""
    check(dataset, num_train, num_test, C, standardize)
    (train_codes, train_factors), (test_codes, test_factors) = factor_code_samples(
        codes, dataset, rng, num_train, num_test)
    if standardize:
        train_codes, test_codes = standardize_columns(train_codes, test_codes)
    matrix = score_matrix(train_codes, train_factors, test_codes, test_factors, C)
    ranked = np.sort(matrix, axis=0)[::-1]
    second = ranked[1] if len(ranked) > 1 else np.zeros(matrix.shape[1])
    return {"score": float(np.mean(ranked[0] - second))}
