"""The FactorVAE disentanglement metric (Kim & Mnih 2018, "Disentangling by Factorising", section 4).

1. Estimate each latent's global variance over `num_variance_estimate` i.i.d. images; prune the
   latents whose global standard deviation is below `prune_threshold` (collapsed to a constant).
2. One vote: choose a factor k uniformly, draw `batch_size` (L) images that share factor k's value
   and are otherwise independent, and take the variance of each active latent over them divided by
   its global variance (the variance of the normalised codes). The vote is (argmin latent, k).
3. A majority-vote classifier maps each latent to the factor it was most often the argmin for
   (train votes); the score is its accuracy on the evaluation votes.
Defaults are disentanglement_lib's (PAPER.md section 6): L = 64, 10,000 images for the variance,
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

import numpy as np

from bench.errors import UserError
from metrics.samples import check_positive

QUICK = {"num_variance_estimate": 2_000, "num_train": 500, "num_eval": 250}


def vote_indices(dataset, rng, num_votes: int, batch_size: int):
    """(labels (n,), indices (n, L)): each row of L images shares the value of factor labels[row]."""
    labels = rng.integers(0, dataset.num_factors, size=num_votes)
    factors = dataset.sample_factors(num_votes * batch_size, rng).reshape(num_votes, batch_size, -1)
    rows = np.arange(num_votes)
    factors[rows, :, labels] = factors[rows, 0, labels][:, None]
    return labels, dataset.index_of(factors.reshape(-1, dataset.num_factors)).reshape(num_votes, batch_size)


def vote_counts(batch_codes: np.ndarray, labels: np.ndarray, global_variance: np.ndarray,
                active: np.ndarray, num_factors: int) -> np.ndarray:
    """(D, K) counts of (argmin latent, fixed factor) over the votes; batch_codes is (n, L, D)."""
    local = batch_codes[:, :, active].var(axis=1, ddof=1) / global_variance[active]
    winners = np.flatnonzero(active)[np.argmin(local, axis=1)]
    counts = np.zeros((len(active), num_factors), dtype=np.int64)
    np.add.at(counts, (winners, labels), 1)
    return counts


def score(codes, dataset, rng, batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000,
          num_variance_estimate: int = 10_000, prune_threshold: float = 0.05) -> dict[str, float]:
    """Train and evaluation accuracy of the majority-vote classifier, and the active latents."""
    check_positive("factor_vae", num_train=num_train, num_eval=num_eval,
                   num_variance_estimate=num_variance_estimate)
    if batch_size < 2:
        raise UserError(f"factor_vae batch_size must be at least 2 (a variance), not {batch_size}")
    variance_indices = dataset.index_of(dataset.sample_factors(num_variance_estimate, rng))
    train_labels, train_indices = vote_indices(dataset, rng, num_train, batch_size)
    eval_labels, eval_indices = vote_indices(dataset, rng, num_eval, batch_size)
    everything = np.concatenate([variance_indices, train_indices.ravel(), eval_indices.ravel()])
    values = np.asarray(codes(everything), dtype=np.float64)        # one look-up for every image
    variance_codes = values[:num_variance_estimate]
    train_codes = values[num_variance_estimate:num_variance_estimate + train_indices.size]
    eval_codes = values[num_variance_estimate + train_indices.size:]

    global_variance = variance_codes.var(axis=0, ddof=1)
    active = np.sqrt(global_variance) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0.0}
    train_votes = vote_counts(train_codes.reshape(num_train, batch_size, -1), train_labels,
                              global_variance, active, dataset.num_factors)
    eval_votes = vote_counts(eval_codes.reshape(num_eval, batch_size, -1), eval_labels,
                             global_variance, active, dataset.num_factors)
    classifier = np.argmax(train_votes, axis=1)                     # latent -> factor
    latents = np.arange(len(classifier))
    return {"train_accuracy": float(train_votes[latents, classifier].sum() / num_train),
            "eval_accuracy": float(eval_votes[latents, classifier].sum() / num_eval),
            "num_active_dims": float(active.sum())}
