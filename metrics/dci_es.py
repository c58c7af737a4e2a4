"""DCI-ES: explicitness E and size S beside D, C and I (Eastwood et al., ICLR 2023).

Eastwood, Nicolicioiu, von Kugelgen, Kekic, Trauble, Dittadi & Scholkopf, ICLR 2023, "DCI-ES: An
Extended Disentanglement Framework with Connections to Identifiability", section 4.

Probes of growing capacity predict each factor v_j from the whole code: random forests of
`num_trees` trees at each maximum depth of `capacities` (the authors' random-forest grid, 1-32). A
factor whose classes have no order (the dataset's `categorical_factors`, e.g. dSprites' shape) is
classified, with loss 1 - accuracy and baseline loss l_b,j = 1 - 1/n_j (chance on n_j uniform
classes); an ordered factor is regressed on its class index, with loss 1 - R^2 and baseline 1 (the
mean's). The loss-capacity curve of factor j is its test loss at each capacity kappa, made
non-increasing (the lowest loss of any capacity up to kappa). Explicitness (the paper's equation):

    E_j = 1 - AULCC_j / Z_j,   Z_j = 1/2 (kappa_max - kappa_min) (l_b,j - l*),   E = mean_j E_j,

AULCC_j the area between the curve and the lowest loss l* = 0 (trapezoids over the capacities, on
a linear capacity axis as the authors' random-forest probes). E is 1 when the smallest probe already
reaches l*, 0 when the loss falls linearly with capacity, about -1 when no probe beats the baseline.
D, C and I are Eastwood & Williams' (metrics/dci.py) from the probes of the capacity whose mean
test score (accuracy or R^2) is highest: R = the forests' impurity importances, I = that score.
Size S = K / D, factors per latent (1 for a code of one latent per factor, smaller for a larger code).

Choices, stated:
- l* = 0 (`lowest_loss = "zero"`, the default): the lowest loss that noiseless factors allow, which
  the authors' code assumes in Z ("we assume l* = 0"). Their code takes the area above each curve's
  own lowest loss instead (Z unchanged); `lowest_loss = "curve"` reproduces it, and under it a code
  carrying nothing about a factor scores E_j = 1 there (its curve never falls): hence the default.
  The two agree where a curve reaches zero loss (docs/metrics.md, "Agreement").
- Sample sizes: DCI's (10,000 training, 5,000 test images); the authors probed whole dataset splits.
- Every probe is seeded from the metric's generator in (capacity, factor) order before any is
  fitted; the fits run in threads (metrics/workers.py), so the numbers are those of the serial loop.
  A factor with one class in the training sample is not fitted: zero importances, loss 0.
- S: the authors' code does not compute it; it is the paper's ratio of factors to latents.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from bench.errors import UserError
from metrics.base import Metric
from metrics.dci import weighted_specificity
from metrics.samples import factor_code_samples
from metrics.workers import map_fits

LowestLoss = Literal["zero", "curve"]


@dataclass(frozen=True)
class Settings:
    """Defaults: the authors' random-forest probes (depths 1-32, 100 trees) on DCI's sample sizes."""
    num_train: int = 10_000
    num_test: int = 5_000
    capacities: str = "1,2,3,4,8,10,12,14,16,18,20,32"      # the probes' maximum tree depths, increasing
    num_trees: int = 100
    lowest_loss: LowestLoss = "zero"                          # l*: 0, or each curve's own lowest loss


def parse_capacities(text: str) -> list[int]:
    """The capacities setting as depths: at least two increasing positive integers."""
    try:
        depths = [int(part) for part in text.split(",")]
    except ValueError:
        depths = []
    if len(depths) < 2 or depths[0] < 1 or any(b <= a for a, b in zip(depths, depths[1:])):
        raise UserError(f"dci_es capacities must be two or more increasing positive depths such as "
                        f"'1,2,4,8', not {text!r}")
    return depths


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    parse_capacities(settings.capacities)


def fit_probe(depth: int, categorical: bool, num_trees: int, seed: int, train_codes, train_target,
              test_codes, test_target):
    """(importances (D,), test score) of one random forest of maximum depth `depth`: a classifier
    (score: accuracy) or a regressor (score: R^2)."""
    forest = RandomForestClassifier if categorical else RandomForestRegressor
    model = forest(n_estimators=num_trees, max_depth=depth, random_state=seed, n_jobs=1)
    model.fit(train_codes, train_target)
    return np.abs(model.feature_importances_), model.score(test_codes, test_target)


def explicitness(capacities, losses, baseline: float, floor: float = 0.0) -> float:
    """E = 1 - AULCC / Z for one factor: `losses` its test loss per capacity (made non-increasing
    here), AULCC the trapezoid area above `floor` (l* = 0, or the curve's own lowest loss as the
    authors' code), Z = 1/2 (kappa_max - kappa_min) baseline (l* = 0 in both). A baseline of 0
    (a factor of one class: nothing to predict) gives E = 1."""
    if baseline <= 0:
        return 1.0
    x = np.asarray(capacities, dtype=np.float64)
    curve = np.minimum.accumulate(np.asarray(losses, dtype=np.float64)) - floor
    area = np.sum((x[1:] - x[:-1]) * (curve[1:] + curve[:-1]) / 2)
    return float(1.0 - area / (0.5 * (x[-1] - x[0]) * baseline))


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """D, C, I at the most informative capacity, mean explicitness over factors, and size."""
    depths = parse_capacities(settings.capacities)
    (train_codes, train_factors), (test_codes, test_factors) = factor_code_samples(
        codes, dataset, rng, settings.num_train, settings.num_test)
    num_latents, num_factors = train_codes.shape[1], train_factors.shape[1]
    categorical = [name in dataset.categorical_factors for name in dataset.factor_names]
    fitted = [k for k in range(num_factors) if len(np.unique(train_factors[:, k])) >= 2]
    jobs = [(c, k, int(rng.integers(2**31))) for c in range(len(depths)) for k in fitted]
    results = map_fits(lambda job: fit_probe(depths[job[0]], categorical[job[1]], settings.num_trees, job[2],
                                             train_codes, train_factors[:, job[1]], test_codes,
                                             test_factors[:, job[1]]),
                       jobs, costs=[depths[c] for c, _, _ in jobs])
    importance = np.zeros((len(depths), num_latents, num_factors))
    test_score = np.ones((len(depths), num_factors))
    for (c, k, _), (importances, test) in zip(jobs, results):
        importance[c, :, k], test_score[c, k] = importances, test
    best = int(np.argmax(test_score.mean(axis=1)))
    baselines = [1.0 - 1.0 / size if categorical[k] else 1.0 for k, size in enumerate(dataset.factor_sizes)]
    losses = 1.0 - test_score                                   # (capacities, factors)
    per_factor = [explicitness(depths, losses[:, k], baselines[k],
                               0.0 if settings.lowest_loss == "zero" else losses[:, k].min())
                  for k in range(num_factors)]
    return {"disentanglement": weighted_specificity(importance[best]),
            "completeness": weighted_specificity(importance[best].T),
            "informativeness": float(test_score[best].mean()),
            "explicitness": float(np.mean(per_factor)),
            "size": num_factors / num_latents}


METRIC = Metric("dci_es", Settings, score, check, expensive=True, headline="explicitness",
                quick={"num_train": 1_000, "num_test": 500, "capacities": "1,2,3,4,8", "num_trees": 10},
                sample_sizes=("num_train", "num_test"),
                perfect={"explicitness": 1.0, "disentanglement": 1.0, "completeness": 1.0,
                         "informativeness": 1.0})
