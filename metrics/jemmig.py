"""JEMMIG: joint entropy minus mutual information gap (Do & Tran 2020, ICLR, section 4.2).

Do & Tran 2020, "Theory and Evaluation Metrics for Learning Disentangled Representations",
section 4.2, normalised as there and in Zaidi et al. 2020, arXiv 2012.09276.

For factor v_k with best latent z* and second-best latent z° (by mutual information),

    JEMMIG(v_k) = H(v_k, z*) - I(v_k; z*) + I(v_k; z°),

0 for a latent that is a copy of the factor and nothing else carries it; the score is

    1 - 1/K sum_k JEMMIG(v_k) / (H(v_k) + log B),

B the number of bins: 1 for a perfect code (with at least as many bins as classes), about 0 for
noise (H(v_k, z*) is then H(v_k) + H(z*), about H(v_k) + log B). Unlike MIG it also penalises a best
latent that carries more than the factor (its joint entropy grows).

Estimator, as the review's implementation (ubisoft-laforge-disentanglement-metrics, `jemmig`):
`num_train` i.i.d. images, each latent cut into `num_bins` equal-width bins between its minimum
and maximum over the sample (metrics/information.py, shared with MIG; 10 bins as there), plug-in
entropies and mutual information over the sample (nats here, bits there: the ratio is the same).

Choices, stated:
- Ties for a factor's best latent go to the lower latent index (numpy's argmax; the review's
  `argsort` leaves the order of ties to its sort).
- A code with one latent has no second-best latent; I(v_k; z°) is then 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.base import Metric
from metrics.information import entropy, histogram_discretize, joint_entropy, mutual_information
from metrics.samples import factor_code_samples


@dataclass(frozen=True)
class Settings:
    """Defaults: the review's implementation (10 bins) on disentanglement_lib's MIG sample."""
    num_train: int = 10_000
    num_bins: int = 10                       # equal-width bins per latent


def jemmig_value(info: np.ndarray, joint: np.ndarray, factor_entropy: np.ndarray, num_bins: int) -> float:
    """1 - mean_k (H(v_k, z*) - I(v_k; z*) + I(v_k; z°)) / (H(v_k) + log B); info, joint (D, K)."""
    factors = np.arange(info.shape[1])
    best = np.argmax(info, axis=0)
    ranked = np.sort(info, axis=0)[::-1]
    second = ranked[1] if len(ranked) > 1 else np.zeros(info.shape[1])
    gap = joint[best, factors] - ranked[0] + second
    scale = factor_entropy + np.log(num_bins)          # 0 only for one bin and a one-class factor
    return float(1.0 - np.mean(np.divide(gap, scale, out=np.zeros_like(gap), where=scale > 0)))


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """One minus the mean normalised JEMMIG over factors."""
    [(train_codes, train_factors)] = factor_code_samples(codes, dataset, rng, settings.num_train)
    binned = histogram_discretize(train_codes, settings.num_bins)
    value = jemmig_value(mutual_information(binned, train_factors), joint_entropy(binned, train_factors),
                         entropy(train_factors), settings.num_bins)
    return {"score": value}


METRIC = Metric("jemmig", Settings, score, headline="score", quick={"num_train": 1_000},
                sample_sizes=("num_train",), perfect={"score": 1.0})
