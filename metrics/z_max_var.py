"""Z-max-var: the FactorVAE metric turned around (Zaidi et al. 2020, arXiv 2012.09276, section 3.1).

Zaidi et al. 2020, "Measuring Disentanglement: A Review of Metrics".

Each vote chooses a factor k uniformly and draws `batch_size` images in which every OTHER factor
is fixed (to values drawn once per vote) and factor k varies freely; the vote names the active
latent of LARGEST batch variance relative to its global variance (for a disentangled code, the
latent of factor k). As in the FactorVAE metric, global variances come from
`num_variance_estimate` images, latents with a standard deviation below `prune_threshold` are
pruned, a majority-vote classifier maps latents to factors, and the score is its evaluation
accuracy rescaled so that chance (1/K) is 0 and a perfect classifier 1
(metrics/scaled_accuracy.py). Defaults: the review's implementation
(ubisoft-laforge-disentanglement-metrics, `z_max_var`): L = 200, 800 training and 800 evaluation
votes, 10,000 images for the variances, threshold 0.05.

Choices, stated:
- The review draws each vote's images from a fixed sample of (factor, code) rows that match the
  other factors' values (repeating rows when fewer than L match); here they come from the
  dataset's generator (the same distribution when that sample is the whole dataset).
- A code with no active latent scores chance (0 after rescaling); the review's code fails.
"""
from __future__ import annotations

import numpy as np

from metrics.base import Metric
from metrics.factor_vae import check_votes, majority_vote_accuracies, ratio_winners
from metrics.scaled_accuracy import above_chance
from metrics.z_min_var import Settings           # the review's sizes, the same for both variants


def varying_indices(dataset, rng, num_votes: int, batch_size: int):
    """(labels (n,), indices (n, L)): in row r every factor but labels[r] is fixed, labels[r] varies."""
    labels = rng.integers(0, dataset.num_factors, size=num_votes)
    fixed = dataset.sample_factors(num_votes, rng)
    factors = np.repeat(fixed[:, None, :], batch_size, axis=1)
    varying = dataset.sample_factors(num_votes * batch_size, rng).reshape(num_votes, batch_size, -1)
    rows = np.arange(num_votes)
    factors[rows, :, labels] = varying[rows, :, labels]
    return labels, dataset.index_of(factors.reshape(-1, dataset.num_factors)).reshape(num_votes, batch_size)


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    check_votes("z_max_var", settings)


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The majority-vote classifier's evaluation accuracy, rescaled from [1/K, 1] to [0, 1]."""
    variance_indices = dataset.index_of(dataset.sample_factors(settings.num_variance_estimate, rng))
    train_labels, train_indices = varying_indices(dataset, rng, settings.num_train, settings.batch_size)
    eval_labels, eval_indices = varying_indices(dataset, rng, settings.num_eval, settings.batch_size)
    global_variance = np.asarray(codes(variance_indices), dtype=np.float64).var(axis=0, ddof=1)
    active = np.sqrt(global_variance) >= settings.prune_threshold
    if not active.any():
        return {"score": 0.0, "eval_accuracy": 1.0 / dataset.num_factors}
    winners = ratio_winners(codes, np.concatenate([train_indices, eval_indices]), global_variance, active,
                            pick=np.argmax)
    _, eval_accuracy = majority_vote_accuracies(winners, np.concatenate([train_labels, eval_labels]),
                                                settings.num_train, len(active), dataset.num_factors)
    return {"score": above_chance(eval_accuracy, dataset.num_factors), "eval_accuracy": eval_accuracy}


METRIC = Metric("z_max_var", Settings, score, check, headline="score",
                quick={"num_train": 200, "num_eval": 200, "num_variance_estimate": 1_000},
                sample_sizes=("num_train", "num_eval", "num_variance_estimate"),
                perfect={"score": 1.0})
