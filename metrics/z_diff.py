"""Z-diff: the beta-VAE metric at the sizes and scale of Zaidi et al.'s review (arXiv 2012.09276).

Higgins et al. 2017, "beta-VAE", section 3; Zaidi et al. 2020, section 3.1.

The votes are metrics/beta_vae.py's: each chooses a factor k uniformly and `batch_size` pairs of
images that share factor k's value and are otherwise independent; its feature is the mean over
the pairs of |z_1 - z_2|, its label k. A linear classifier (sklearn's LogisticRegression at its
defaults, multinomial lbfgs, with `max_iter` iterations) is fitted on `num_train` votes; the
score is its accuracy on `num_eval` votes, rescaled so that chance (1/K) is 0 and a perfect
classifier 1 (metrics/scaled_accuracy.py). Defaults: the review's implementation
(ubisoft-laforge-disentanglement-metrics, `z_diff`): L = 200, 10,000 / 5,000 votes, 10,000 iterations.

Choices, stated:
- The review draws each pair from a fixed sample of (factor, code) rows that share factor k's
  value; here from the dataset's generator, as beta_vae does.
- The classifier's seed comes from `rng` (lbfgs uses none; the review leaves it unset).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from metrics.base import Metric
from metrics.beta_vae import votes
from metrics.scaled_accuracy import above_chance


@dataclass(frozen=True)
class Settings:
    """Defaults: the review's implementation."""
    batch_size: int = 200                    # L, pairs per vote
    num_train: int = 10_000                  # votes
    num_eval: int = 5_000
    max_iter: int = 10_000                   # the classifier's lbfgs iterations


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The linear classifier's evaluation accuracy, rescaled from [1/K, 1] to [0, 1]."""
    factors = np.arange(dataset.num_factors)
    train_x, train_y = votes(codes, dataset, rng, settings.num_train, settings.batch_size, factors)
    eval_x, eval_y = votes(codes, dataset, rng, settings.num_eval, settings.batch_size, factors)
    model = LogisticRegression(max_iter=settings.max_iter, random_state=int(rng.integers(2**31)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_y)
    eval_accuracy = float(model.score(eval_x, eval_y))
    return {"score": above_chance(eval_accuracy, dataset.num_factors), "eval_accuracy": eval_accuracy}


METRIC = Metric("z_diff", Settings, score, expensive=True, headline="score",
                quick={"num_train": 400, "num_eval": 200, "batch_size": 64, "max_iter": 1_000},
                sample_sizes=("num_train", "num_eval"),
                perfect={"score": 1.0})
