"""MIG-sup: each latent informs about one factor (Li et al. 2020, ICLR; Zaidi et al.'s review).

Li et al. 2020, "Progressive Learning and Disentanglement of Hierarchical Representations",
section 5, as collected in Zaidi et al. 2020, "Measuring Disentanglement", arXiv 2012.09276:

    MIG-sup = 1/D sum_j (I_n(z_j; v_(1,j)) - I_n(z_j; v_(2,j)))

where v_(1,j) and v_(2,j) are the factors with the largest and second-largest normalised mutual
information with latent z_j. MIG asks that each factor be captured by one latent; MIG-sup asks the
converse, that each latent capture one factor: a latent that mixes two factors scores a small gap.

Estimator, as the review's implementation (ubisoft-laforge-disentanglement-metrics, `mig_sup`):
`num_train` images drawn i.i.d.; each latent cut into `num_bins` equal-width bins between its
minimum and maximum over the sample (metrics/information.py, shared with MIG; 10 bins as there);
I_n(z_j; v_k) = I(z_j; v_k) / H(z_j), plug-in estimates over the sample, factors as their classes.

Choices, stated:
- Normalisation by the latent's entropy H(z_j), as the review's code (its `norm_factor='Y'`, the
  code). Li et al.'s own code divides by the factor's entropy and averages over active latents only.
- A constant latent (H(z_j) = 0) has gap 0 (the review's code divides 0 by 0).
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


def latent_gaps(info: np.ndarray, latent_entropy: np.ndarray) -> np.ndarray:
    """Per latent, top-1 minus top-2 of I(z_j; v_k) / H(z_j) over factors; info is (D, K)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.where(latent_entropy[:, None] > 0, info / latent_entropy[:, None], 0.0)
    ranked = np.sort(normalised, axis=1)[:, ::-1]
    second = ranked[:, 1] if ranked.shape[1] > 1 else np.zeros(len(ranked))
    return ranked[:, 0] - second


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The mean normalised mutual information gap over latents."""
    [(train_codes, train_factors)] = factor_code_samples(codes, dataset, rng, settings.num_train)
    binned = histogram_discretize(train_codes, settings.num_bins)
    gaps = latent_gaps(mutual_information(binned, train_factors), entropy(binned))
    return {"score": float(np.mean(gaps))}


METRIC = Metric("mig_sup", Settings, score, headline="score", quick={"num_train": 1_000},
                sample_sizes=("num_train",), perfect={"score": 1.0})
