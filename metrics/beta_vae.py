"""The beta-VAE disentanglement metric (Higgins et al. 2017, section 3 and Appendix A.4).

For each vote: pick a factor y uniformly (step 1); draw L pairs of factor vectors that share
factor y (step 2); encode both images of each pair and take z_diff = |z1 - z2| (step 3); the
vote's feature is the mean z_diff over the L pairs and its label is y (step 4). A linear
classifier is fit on the training votes; the score is its accuracy on the evaluation votes.
Defaults are disentanglement_lib's (L = 64, 10,000 / 5,000 votes, sklearn LogisticRegression at
its defaults, raw features, all factors).
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from bench.errors import UserError, unknown

QUICK = {"num_train": 400, "num_eval": 200}
PREPROCESSING = ("none", "standardize")


def factor_subset(dataset, factors: str) -> np.ndarray:
    """Indices of the factors named in a comma list ("all" = every factor)."""
    if factors == "all":
        return np.arange(dataset.num_factors)
    names = [name.strip() for name in factors.split(",")]
    for name in names:
        if name not in dataset.factor_names:
            raise unknown(f"factor of {dataset.name}", name, dataset.factor_names)
    return np.array([dataset.factor_names.index(name) for name in names])


def votes(codes, dataset, rng, num_votes: int, batch_size: int, candidates: np.ndarray):
    """(features, labels): steps 1-4 for `num_votes` votes at once, without a loop per vote."""
    labels = candidates[rng.integers(0, len(candidates), size=num_votes)]
    first, second = dataset.pairs_sharing_factor(np.repeat(labels, batch_size), num_votes * batch_size, rng)
    z_diff = np.abs(codes(dataset.index_of(first)) - codes(dataset.index_of(second)))
    return z_diff.reshape(num_votes, batch_size, -1).mean(axis=1), labels


def score(codes, dataset, rng, batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000,
          factors: str = "all", preprocessing: str = "none") -> dict[str, float]:
    """Train and evaluation accuracy of a logistic regression predicting the shared factor."""
    if preprocessing not in PREPROCESSING:
        raise unknown("beta_vae preprocessing", preprocessing, PREPROCESSING)
    if min(batch_size, num_train, num_eval) <= 0:
        raise UserError(f"beta_vae sample sizes must be positive, not batch_size={batch_size}, "
                        f"num_train={num_train}, num_eval={num_eval}")
    candidates = factor_subset(dataset, factors)
    train_x, train_y = votes(codes, dataset, rng, num_train, batch_size, candidates)
    eval_x, eval_y = votes(codes, dataset, rng, num_eval, batch_size, candidates)
    if preprocessing == "standardize":
        scaler = StandardScaler().fit(train_x)
        train_x, eval_x = scaler.transform(train_x), scaler.transform(eval_x)
    classifier = LogisticRegression(random_state=int(rng.integers(2**31)))
    with warnings.catch_warnings():
        # disentanglement_lib fits at sklearn's defaults (100 iterations) without a warning filter;
        # the number is the same with or without the warning, so it is not repeated per run.
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(train_x, train_y)
    return {"train_accuracy": float(classifier.score(train_x, train_y)),
            "eval_accuracy": float(classifier.score(eval_x, eval_y))}
