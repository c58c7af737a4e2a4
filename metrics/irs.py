"""Interventional Robustness Score, IRS (Suter et al. 2019), as disentanglement_lib computes it.

"Robustly Disentangled Causal Mechanisms: Validating Deep Representations for Interventional
Robustness" (ICML 2019; arXiv:1811.00007), the definitions of PIDA, EMPIDA and IRS and their
estimate from labelled data. The post-interventional disagreement PIDA(L|I, J) is how far a
latent moves when the nuisance factors J change while the factors I it should encode are held
fixed; EMPIDA is its expectation over the values of I (the worst case over the values of J); and
    IRS(L|I, J) = 1 - EMPIDA(L|I, J) / sup_x d(E[z_L], z_L(x)),
i.e. the disagreement relative to the latent's largest deviation from its mean. Each latent gets
the IRS of the factor it is most robust for, and the score is the average over latents weighted
by their largest deviation (the paper's estimate for crossed, discrete factors).

Estimate, as disentanglement_lib's `irs` (config `sample/irs/irs.gin`): `num_train` images with
i.i.d. factors; latents that are constant over the sample are dropped; for factor k and each of
its values v, the disagreement of latent i is the `diff_quantile` (0.99) quantile of
|z_i - E[z_i | v_k = v]| over the images with that value (the quantile instead of the paper's
supremum, which 1.0 gives); EMPIDA_ik is its mean over the values of k; with
max_dev_i = max |z_i - E[z_i]| over the sample,
    IRS_ik = 1 - EMPIDA_ik / max_dev_i,    score = sum_i max_dev_i max_k IRS_ik / sum_i max_dev_i.

Choices, stated:
- Factor values: disentanglement_lib conditions on its discretised factors, the study's
  histogram discretiser with 20 equal-width bins over the factor's classes in the sample (on
  dSprites orientation and the positions have 40 and 32 classes, so a bin joins two of them and a
  perfect code scores a little below 1). `num_bins = 20` does the same; `num_bins = 0` conditions
  on the exact classes instead (Suter et al.'s intervention fixes the factor's value) and departs
  from disentanglement_lib.
- A constant code (every latent dropped) scores 0, as disentanglement_lib. `num_active_dims` is
  the number of latents kept; disentanglement_lib's key of that name sums the kept codes' values
  instead (a slip), so only the score is comparable.
- A noise code does not score 0: conditioning on a factor leaves its spread unchanged, and the
  score is 1 - (0.99 quantile of |z - mean|) / (largest |z - mean| in the sample), e.g. about
  0.3 for Gaussian noise at 1,000 images; IRS does not penalise a latent for encoding nothing.
  A code that encodes every factor in its own latent scores near 1, and so does a duplicated
  latent (IRS asks for robustness, not for one latent per factor).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.errors import UserError
from metrics.base import Metric
from metrics.information import histogram_discretize
from metrics.samples import factor_code_samples


@dataclass(frozen=True)
class Settings:
    """Defaults: disentanglement_lib's `sample/irs/irs.gin`."""
    num_train: int = 10_000
    diff_quantile: float = 0.99              # of |z_i - E[z_i | v_k]|; 1.0: the paper's supremum
    num_bins: int = 20                       # equal-width bins of each factor's classes; 0: the classes


def irs_matrix(codes: np.ndarray, factors: np.ndarray, diff_quantile: float) -> np.ndarray:
    """(D, K): 1 - EMPIDA_ik / max_dev_i for the non-constant latents `codes` (n, D)."""
    max_deviation = np.abs(codes - codes.mean(axis=0)).max(axis=0)
    empida = np.zeros((codes.shape[1], factors.shape[1]))
    for k in range(factors.shape[1]):
        values = np.unique(factors[:, k])
        for value in values:
            group = codes[factors[:, k] == value]
            empida[:, k] += np.quantile(np.abs(group - group.mean(axis=0)), diff_quantile, axis=0)
        empida[:, k] /= len(values)
    return 1.0 - empida / max_deviation[:, None]


def irs_score(codes: np.ndarray, factors: np.ndarray, diff_quantile: float) -> tuple[float, int]:
    """(score, number of non-constant latents) of codes (n, D) against discrete factors (n, K)."""
    active = codes[:, codes.var(axis=0) > 0]
    if active.shape[1] == 0:
        return 0.0, 0
    robustness = irs_matrix(active, factors, diff_quantile).max(axis=1)
    weights = np.abs(active - active.mean(axis=0)).max(axis=0)
    return float(np.average(robustness, weights=weights)), active.shape[1]


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    if not 0 < settings.diff_quantile <= 1:
        raise UserError(f"irs diff_quantile must be in (0, 1], not {settings.diff_quantile}")


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The deviation-weighted mean over latents of their best interventional robustness."""
    [(train_codes, train_factors)] = factor_code_samples(codes, dataset, rng, settings.num_train)
    if settings.num_bins:
        train_factors = histogram_discretize(train_factors, settings.num_bins)
    value, active = irs_score(train_codes, train_factors, settings.diff_quantile)
    return {"score": value, "num_active_dims": float(active)}


METRIC = Metric("irs", Settings, score, check, may_be_zero=("num_bins",), headline="score",
                quick={"num_train": 1_000}, sample_sizes=("num_train",), perfect={"score": 1.0})
