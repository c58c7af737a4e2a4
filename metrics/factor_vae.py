"""The FactorVAE disentanglement metric (Kim & Mnih 2018, "Disentangling by Factorising", section 4).

1. Estimate each latent's global variance over `num_variance_estimate` i.i.d. images; prune the
   latents whose global standard deviation is below `prune_threshold` (collapsed to a constant).
2. One vote: choose a factor k uniformly, draw `batch_size` (L) images that share factor k's value
   and are otherwise independent, and take the variance of each active latent over them divided by
   its global variance (the variance of the normalised codes). The vote is (argmin latent, k).
3. A majority-vote classifier maps each latent to the factor it was most often the argmin for
   (train votes); the score is its accuracy on the evaluation votes.
Defaults are disentanglement_lib's (docs/paper.md section 6): L = 64, 10,000 images for the variance,
10,000 train and 5,000 evaluation votes, threshold 0.05 (its dSprites study config; the code's
bare default is 0). Variances use ddof = 1 as there.

Choices where disentanglement_lib differs, stated:
- `num_active_dims` is the number of latents kept after pruning. disentanglement_lib returns
  `len(active_dims)` of a boolean mask, which is the total number of latents, pruned or not.
- Zero-variance latents are pruned by the threshold (their ratio would be 0/0); a constant code has
  no active latent and scores 0 (as disentanglement_lib). Ties in the argmin (e.g. two copies of a
  latent) go to the lower latent index, and a latent that won no training vote is mapped to factor
  0, both as numpy's argmin/argmax in disentanglement_lib.
- The ratio is invariant to rescaling a latent, but the pruning threshold is absolute (in the
  code's units, meant for VAE means in prior units): shrink a code enough and it is all pruned.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.errors import UserError
from metrics.base import Metric
from metrics.samples import votes_per_lookup


@dataclass(frozen=True)
class Settings:
    """Vote and variance sample sizes and the prune threshold; defaults: disentanglement_lib's study."""
    batch_size: int = 64                     # L, images per vote
    num_train: int = 10_000                  # votes
    num_eval: int = 5_000
    num_variance_estimate: int = 10_000      # images for each latent's global variance
    prune_threshold: float = 0.05            # global standard deviation below which a latent is pruned


def vote_indices(dataset, rng, num_votes: int, batch_size: int):
    """(labels (n,), indices (n, L)): each row of L images shares the value of factor labels[row]."""
    labels = rng.integers(0, dataset.num_factors, size=num_votes)
    factors = dataset.sample_factors(num_votes * batch_size, rng).reshape(num_votes, batch_size, -1)
    rows = np.arange(num_votes)
    factors[rows, :, labels] = factors[rows, 0, labels][:, None]
    return labels, dataset.index_of(factors.reshape(-1, dataset.num_factors)).reshape(num_votes, batch_size)


def ratio_winners(codes, indices: np.ndarray, global_variance: np.ndarray, active: np.ndarray,
                  pick=np.argmin) -> np.ndarray:
    """Per vote (row of `indices`), the latent whose batch variance / global variance `pick`
    (argmin here; argmax for Z-max-var) chooses among the active latents."""
    local = []
    step = votes_per_lookup(len(active), indices.shape[1])     # one look-up unless the code is wide
    for start in range(0, len(indices), step):
        batch = np.asarray(codes(indices[start:start + step]), dtype=np.float64)[:, :, active]
        local.append(batch.var(axis=1, ddof=1) / global_variance[active])
    return np.flatnonzero(active)[pick(np.concatenate(local), axis=1)]


def majority_vote_accuracies(winners: np.ndarray, labels: np.ndarray, num_train: int, num_latents: int,
                             num_factors: int) -> tuple[float, float]:
    """Train and evaluation accuracy of the classifier mapping each latent to the factor it won
    most training votes for (the first `num_train` votes train it, the rest evaluate it)."""
    train_votes = np.zeros((num_latents, num_factors), dtype=np.int64)
    eval_votes = np.zeros_like(train_votes)
    np.add.at(train_votes, (winners[:num_train], labels[:num_train]), 1)
    np.add.at(eval_votes, (winners[num_train:], labels[num_train:]), 1)
    classifier = np.argmax(train_votes, axis=1)                     # latent -> factor
    latents = np.arange(num_latents)
    return (float(train_votes[latents, classifier].sum() / num_train),
            float(eval_votes[latents, classifier].sum() / (len(winners) - num_train)))


def check_votes(metric: str, settings) -> None:
    """The check of a metric of variance votes (factor_vae, z_min_var, z_max_var): at least two
    images per vote (a variance)."""
    if settings.batch_size < 2:
        raise UserError(f"{metric} batch_size must be at least 2 (a variance), not {settings.batch_size}")


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    check_votes("factor_vae", settings)


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """Train and evaluation accuracy of the majority-vote classifier, and the active latents."""
    num_train, num_eval = settings.num_train, settings.num_eval
    variance_indices = dataset.index_of(dataset.sample_factors(settings.num_variance_estimate, rng))
    train_labels, train_indices = vote_indices(dataset, rng, num_train, settings.batch_size)
    eval_labels, eval_indices = vote_indices(dataset, rng, num_eval, settings.batch_size)
    global_variance = np.asarray(codes(variance_indices), dtype=np.float64).var(axis=0, ddof=1)
    active = np.sqrt(global_variance) >= settings.prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0.0}
    winners = ratio_winners(codes, np.concatenate([train_indices, eval_indices]), global_variance, active)
    train_accuracy, eval_accuracy = majority_vote_accuracies(
        winners, np.concatenate([train_labels, eval_labels]), num_train, len(active), dataset.num_factors)
    return {"train_accuracy": train_accuracy, "eval_accuracy": eval_accuracy,
            "num_active_dims": float(active.sum())}


METRIC = Metric("factor_vae", Settings, score, check, headline="eval_accuracy",
                quick={"num_variance_estimate": 1_000, "num_train": 300, "num_eval": 150},
                sample_sizes=("num_train", "num_eval", "num_variance_estimate"),
                perfect={"eval_accuracy": 1.0})
