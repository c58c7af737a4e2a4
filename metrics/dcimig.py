"""DCIMIG: latent gaps credited to their best factor (Sepliarskaia et al. 2019, arXiv 1910.05587).

Sepliarskaia et al. 2019, "Evaluating Disentangled Representations", section 5, as collected in
Zaidi et al. 2020, arXiv 2012.09276.

For each latent z_j, the gap between its largest and second-largest mutual information with a
factor, G_j = I(z_j; v_(1,j)) - I(z_j; v_(2,j)), is credited to its best factor v_(1,j) only. Each
factor keeps the largest gap credited to it, D_k = max_{j: v_(1,j) = v_k} G_j (0 if none), and

    DCIMIG = sum_k D_k / sum_k H(v_k).

It asks at once for latents that each capture one factor (the gap) and factors that are each
captured by some latent (the sum), and a factor's information counts once however many latents
repeat it.

Estimator, as the review's implementation (ubisoft-laforge-disentanglement-metrics, `dcimig`):
`num_train` i.i.d. images, each latent cut into `num_bins` equal-width bins between its minimum
and maximum over the sample (metrics/information.py, shared with MIG; 10 bins as there), plug-in
mutual information and entropies over the sample, factors as their classes.

Choices, stated:
- Ties for a latent's best factor go to the lower factor index (numpy's argmax, as there).
- With fewer bins than a factor has classes, even a perfect code cannot hold H(v_k) in one latent:
  the ground truth of dSprites' 40 orientations scores below 1 at 10 bins.
- A dataset with one factor has no second-best factor; the gap is then to 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.base import Metric
from metrics.information import entropy, histogram_discretize, mutual_information
from metrics.samples import factor_code_samples


@dataclass(frozen=True)
class Settings:
    """Defaults: the review's implementation (10 bins) on disentanglement_lib's MIG sample."""
    num_train: int = 10_000
    num_bins: int = 10                       # equal-width bins per latent


def dcimig_value(info: np.ndarray, factor_entropy: np.ndarray) -> float:
    """sum_k (largest gap credited to factor k) / sum_k H(v_k); info is (D, K) in nats."""
    ranked = np.sort(info, axis=1)[:, ::-1]
    second = ranked[:, 1] if ranked.shape[1] > 1 else np.zeros(len(ranked))
    credited = np.zeros_like(info)
    credited[np.arange(len(info)), np.argmax(info, axis=1)] = ranked[:, 0] - second
    total = factor_entropy.sum()
    return float(credited.max(axis=0).sum() / total) if total > 0 else 0.0


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The factors' best credited gaps over their summed entropy."""
    [(train_codes, train_factors)] = factor_code_samples(codes, dataset, rng, settings.num_train)
    info = mutual_information(histogram_discretize(train_codes, settings.num_bins), train_factors)
    return {"score": dcimig_value(info, entropy(train_factors))}


METRIC = Metric("dcimig", Settings, score, headline="score", quick={"num_train": 1_000},
                sample_sizes=("num_train",), perfect={"score": 1.0})
