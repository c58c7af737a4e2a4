"""Max correlation: for each factor, the largest absolute Pearson correlation between one latent
and the factor's class, averaged over factors (an illustration of a plug-in metric, not a
published one: it rewards a factor read off linearly by a single latent, like a simplified SAP).

    score = 1/K sum_k max_j |corr(z_j, v_k)|

over `num_points` images drawn i.i.d. with the rng it is given (a size: the harness's validator
refuses one below 1, so the metric declares no check of its own); a latent that does not vary
correlates 0. The ground truth (one latent per factor) scores 1, noise about 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.base import Metric
from metrics.samples import factor_code_samples


@dataclass(frozen=True)
class Settings:
    num_points: int = 10_000


def correlations(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """|Pearson correlation| of each latent with each factor, (D, K); 0 where either is constant."""
    z = codes - codes.mean(axis=0)
    v = factors - factors.mean(axis=0)
    norms = np.outer(np.linalg.norm(z, axis=0), np.linalg.norm(v, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norms > 0, np.abs(z.T @ v) / norms, 0.0)


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The mean over factors of the best latent's absolute correlation."""
    [(sample_codes, factors)] = factor_code_samples(codes, dataset, rng, settings.num_points)
    return {"score": float(correlations(sample_codes, factors.astype(np.float64)).max(axis=0).mean())}


METRIC = Metric("max_correlation", Settings, score, headline="score", quick={"num_points": 1_000},
                perfect={"score": 1.0})
