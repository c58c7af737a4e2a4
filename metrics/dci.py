"""Disentanglement, completeness and informativeness, DCI (Eastwood & Williams 2018).

"A Framework for the Quantitative Evaluation of Disentangled Representations", section 2.

For each factor k a predictor of v_k from the whole code gives the relative importance R_ik of
latent i (the importance matrix R, latents x factors). With P_ik = R_ik / sum_k R_ik,
    disentanglement = sum_i rho_i (1 - H_K(P_i.)),  rho_i = sum_k R_ik / sum_ik R_ik,
and with P~_ik = R_ik / sum_i R_ik,
    completeness    = sum_k rho_k (1 - H_D(P~_.k)), rho_k = sum_i R_ik / sum_ik R_ik,
where H_K and H_D are entropies with logarithm base K and D. Informativeness is how well the
predictors predict the factors.

As disentanglement_lib (docs/paper.md section 6): `num_train` / `num_test` i.i.d. images, one sklearn
GradientBoostingClassifier per factor at its defaults (100 stages of depth-3 trees, one tree per
class per stage) on the factor's classes, R = its impurity-based `feature_importances_`
(`booster = "exact"`, the default).

`booster = "hist"` (a departure, for speed): sklearn's HistGradientBoostingClassifier at the same
depth (3), stages (`n_estimators`) and learning rate (0.1), with GradientBoostingClassifier's
smallest leaf (1 sample), no early stopping, and the codes binned into 255 quantiles per latent.
It has no impurity importances; R is each latent's total split gain over every tree (the decrease
of the Newton loss, where the exact booster's is the decrease of the residuals' squared error),
read from the fitted trees sklearn keeps (`_predictors`, sklearn 1.9) and normalised to sum to 1
as sklearn normalises the exact booster's. 17x faster at the default sizes (6x at 1,000 points),
but its numbers are not the exact booster's: over 20 trained models at 1,000 points it read
disentanglement higher by a median 0.008 (up to 0.05), ten times the exact metric's own spread
over boosting seeds (docs/metrics.md, "DCI's boosters"). Each fit of it uses one OpenMP thread,
so that its numbers do not depend on the threads.

The factors' classifiers are independent: they are fitted at once in threads where cores are free
(metrics/workers.py), each seeded before any starts, so the numbers are those of the serial loop.

Choices, stated:
- Importance normalisation: sklearn normalises each factor's importances to sum to 1, so every
  predictable factor carries the same weight rho_k = 1/K (Eastwood & Williams: "relative
  importance"); a factor no tree could split on (constant codes) has a zero column. Entropies add
  1e-11 to each entry before normalising, as disentanglement_lib, so an all-zero row or column has
  entropy 1 (disentanglement 0) and zero weight; an all-zero R gives 0 for both scores.
- Informativeness is reported as ACCURACY (higher is better) on the train and test sets, as
  disentanglement_lib does (under keys that it calls errors). Eastwood & Williams report the
  prediction error; 1 - accuracy is that error for a 0-1 loss.
- The exact classifier is slow: at the defaults on dSprites (113 classes over 5 factors) it fits
  11,300 trees on 10,000 points, minutes on a CPU. `n_estimators` is a parameter (default 100 =
  sklearn's and disentanglement_lib's) so that the quick sizes can use fewer stages; fewer stages
  change the numbers.
- A factor with a single class in the training sample cannot be classified; it gets a zero column
  and accuracy 1 (disentanglement_lib fails).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from metrics.base import Metric
from metrics.samples import factor_code_samples
from metrics.workers import map_fits

Booster = Literal["exact", "hist"]


@dataclass(frozen=True)
class Settings:
    """Sample sizes, boosting stages and booster; defaults: disentanglement_lib's study."""
    num_train: int = 10_000
    num_test: int = 5_000
    n_estimators: int = 100                  # boosting stages (sklearn's and disentanglement_lib's)
    booster: Booster = "exact"               # "hist": HistGradientBoostingClassifier (a departure)


def classifier(booster: str, n_estimators: int, seed: int):
    """The unfitted classifier of one factor: sklearn's GradientBoostingClassifier at its defaults
    ("exact"), or HistGradientBoostingClassifier matched to it ("hist")."""
    if booster == "exact":
        return GradientBoostingClassifier(n_estimators=n_estimators, random_state=seed)
    return HistGradientBoostingClassifier(max_iter=n_estimators, learning_rate=0.1, max_depth=3,
                                          max_leaf_nodes=None, min_samples_leaf=1, early_stopping=False,
                                          random_state=seed)


def gain_importances(model: HistGradientBoostingClassifier) -> np.ndarray:
    """Each feature's total split gain over every tree of a fitted HistGradientBoostingClassifier,
    normalised to sum to 1 (all zero where no tree split)."""
    totals = np.zeros(model.n_features_in_)
    for stage in model._predictors:
        for tree in stage:
            splits = tree.nodes[tree.nodes["is_leaf"] == 0]
            np.add.at(totals, splits["feature_idx"], splits["gain"])
    total = totals.sum()
    return totals / total if total > 0 else totals


def fit_factor(model, train_codes, train_classes, test_codes, test_classes):
    """(importances (D,), train accuracy, test accuracy) of `model` fitted on one factor's classes."""
    if isinstance(model, HistGradientBoostingClassifier):
        with threadpool_limits(limits=1, user_api="openmp"):       # this thread's fits only
            model.fit(train_codes, train_classes)
        importances = gain_importances(model)
    else:
        model.fit(train_codes, train_classes)
        importances = np.abs(model.feature_importances_)
    return (importances, np.mean(model.predict(train_codes) == train_classes),
            np.mean(model.predict(test_codes) == test_classes))


def importance_matrix(train_codes, train_factors, test_codes, test_factors, rng, n_estimators: int,
                      booster: str = "exact", threads: int | None = None):
    """(R (D, K), train accuracies (K,), test accuracies (K,)) from one classifier per factor,
    fitted up to `threads` at once (default: metrics/workers.py's allowance). The classifiers
    are made, and seeded from `rng`, in the factors' order before any is fitted."""
    num_latents, num_factors = train_codes.shape[1], train_factors.shape[1]
    importance = np.zeros((num_latents, num_factors))
    train_accuracy, test_accuracy = np.ones(num_factors), np.ones(num_factors)
    fitted = [k for k in range(num_factors) if len(np.unique(train_factors[:, k])) >= 2]
    models = [classifier(booster, n_estimators, int(rng.integers(2**31))) for _ in fitted]
    results = map_fits(lambda job: fit_factor(job[1], train_codes, train_factors[:, job[0]], test_codes,
                                              test_factors[:, job[0]]),
                       zip(fitted, models), threads,
                       costs=[len(np.unique(train_factors[:, k])) for k in fitted])   # a tree per class
    for k, (importances, train, test) in zip(fitted, results):
        importance[:, k], train_accuracy[k], test_accuracy[k] = importances, train, test
    return importance, train_accuracy, test_accuracy


def weighted_specificity(importance: np.ndarray) -> float:
    """sum_i rho_i (1 - H_K(P_i.)) over the rows of `importance` (disentanglement on R,
    completeness on R transposed)."""
    rows, columns = importance.shape
    if columns < 2:
        return 1.0 if importance.sum() > 0 else 0.0
    per_row = np.clip(1.0 - entropy(importance.T + 1e-11, base=columns), 0.0, 1.0)   # no -1e-16
    total = importance.sum()
    weights = importance.sum(axis=1) / total if total > 0 else np.full(rows, 1.0 / rows)
    return float(np.sum(per_row * weights))


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """Disentanglement, completeness and mean train/test accuracy of the per-factor classifiers."""
    (train_codes, train_factors), (test_codes, test_factors) = factor_code_samples(
        codes, dataset, rng, settings.num_train, settings.num_test)
    importance, train_accuracy, test_accuracy = importance_matrix(
        train_codes, train_factors, test_codes, test_factors, rng, settings.n_estimators, settings.booster)
    return {"disentanglement": weighted_specificity(importance),
            "completeness": weighted_specificity(importance.T),
            "informativeness_train": float(np.mean(train_accuracy)),
            "informativeness_test": float(np.mean(test_accuracy))}


METRIC = Metric("dci", Settings, score, expensive=True, headline="disentanglement",
                # --quick keeps the exact booster: at these sizes hist is only 1.5x faster than 25 exact
                # stages and ranks models less like the default does (docs/metrics.md, "DCI's boosters")
                quick={"num_train": 1_000, "num_test": 500, "n_estimators": 25}, sample_sizes=("num_train", "num_test"),
                legacy_settings={"booster": "exact"},        # scores stored before `booster` existed
                perfect={"disentanglement": 1.0, "completeness": 1.0, "informativeness_test": 1.0})
