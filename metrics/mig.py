"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", eq. 6).

    MIG = 1/K sum_k (I(z_(1,k); v_k) - I(z_(2,k); v_k)) / H(v_k)

where z_(1,k) and z_(2,k) are the latents with the largest and second-largest mutual information
with factor v_k. A factor captured by one latent alone scores 1; a factor spread evenly over two
latents (or captured by two copies of one latent) scores 0.

Estimator, as disentanglement_lib's `discrete_mig` (docs/paper.md section 6): `num_train` images drawn
i.i.d.; each latent (the encoder mean) is cut into `num_bins` equal-width bins between its minimum
and maximum over this same sample; I and H are plug-in estimates in nats over that sample.

Deviations and choices, all stated:
- Chen et al. estimate I(z_j; v_k) for continuous latents from the encoder's distribution q(z|x)
  over the whole dataset. A Representation holds only the deterministic code (docs/design.md), so this is
  the discretised estimator of disentanglement_lib, not the paper's; numbers are comparable with
  disentanglement_lib's, not with the beta-TC-VAE paper's tables.
- The bins are fitted to the very sample the MI is measured on (disentanglement_lib does the same;
  it calls it the training set although there is no test set). An outlier stretches its latent's
  range and squeezes the other values into few bins, which lowers that latent's MI.
- A code with one latent has no second-best latent; the gap is then to 0 (disentanglement_lib fails).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.base import Metric
from metrics.information import entropy, histogram_discretize, mutual_information
from metrics.samples import factor_code_samples


@dataclass(frozen=True)
class Settings:
    """Defaults: disentanglement_lib's study."""
    num_train: int = 10_000
    num_bins: int = 20                       # equal-width bins per latent


def gap_scores(info: np.ndarray, factor_entropy: np.ndarray) -> np.ndarray:
    """Per factor (top-1 minus top-2 MI over latents) / H(factor); info is (D, K)."""
    ranked = np.sort(info, axis=0)[::-1]
    second = ranked[1] if len(ranked) > 1 else np.zeros(info.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = (ranked[0] - second) / factor_entropy
    return np.where(factor_entropy > 0, gaps, 0.0)


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The mean normalised mutual information gap over factors."""
    [(train_codes, train_factors)] = factor_code_samples(codes, dataset, rng, settings.num_train)
    info = mutual_information(histogram_discretize(train_codes, settings.num_bins), train_factors)
    return {"score": float(np.mean(gap_scores(info, entropy(train_factors))))}


METRIC = Metric("mig", Settings, score, headline="score",
                quick={"num_train": 1_000}, sample_sizes=("num_train",), perfect={"score": 1.0})
