"""Unsupervised Disentanglement Ranking, UDR (Duan et al. 2020): scores a SET of models of one method.

"Unsupervised Model Selection for Variational Disentangled Representation Learning" (ICLR 2020;
arXiv:1905.12614), section 3. Disentangled models of one method agree with each other up to
permutation and sign of their latents, entangled ones each in their own way. For every ordered
pair of models (i, j), a similarity matrix R (latents a of model i x latents b of model j) is
computed on the same images, and with r_a = max_b R(a, b), r_b = max_a R(a, b),
    UDR_ij = 1/2 [ mean_b r_b^2 / sum_a R(a, b) + mean_a r_a^2 / sum_b R(a, b) ]
over the informative latents (KL(q(z_a|x) || p(z_a)) above 0.01 nats) of each model; a model's
score is the median of UDR_ji over the other models j. A latent that matches one latent of the
other model alone contributes its similarity r; one spread evenly over n latents contributes r / n.

As disentanglement_lib's `udr_sklearn` (config `tests/methods/udr/udr.gin`, its only shipped
setting): `num_data_points` images drawn at random, the same for every model; each model's codes
(the posterior means) standardised, and its uninformative latents zeroed; R(a, b) = |w_ba| of
sklearn's Lasso(alpha = 0.1) regressing the codes of model j on those of model i
(`correlation = "lasso"`), or |Spearman's rho| between latents a and b (`"spearman"`).

Choices, stated:
- The paper weights the two sums by the number of informative latents, 1/(d_a + d_b);
  disentanglement_lib takes the mean of the two means (the same when d_a = d_b). This follows
  disentanglement_lib. A column or row of zeros in R (a latent the other model does not explain)
  contributes 0, and a pair with no informative latent scores 0 (disentanglement_lib fails).
- With Lasso the similarity of two identical standardised latents is 1 - alpha = 0.9, so a set of
  perfectly disentangled models scores 0.9, not 1 (the L1 penalty shrinks every weight); with
  Spearman it is 1.
- The KL per latent is that of the model's Gaussian posterior averaged over the same images, given
  by the caller (`kls`); for a model without a posterior (PCA, ICA, InfoGAN's codes, ...) every
  latent that varies over the sample counts as informative.
- UDR needs at least two models. In the harness (docs/metrics.md, "UDR"), `bench run --metrics udr`
  scores each group of finished runs in the results folder that differ only in their seed, and
  stores each run's score with the list of runs it was compared with.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Literal, NamedTuple

import numpy as np
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from bench.errors import UserError
from metrics.base import Metric

MIN_MODELS = 2


@dataclass(frozen=True)
class Settings:
    """Defaults: disentanglement_lib's `tests/methods/udr/udr.gin`."""
    num_data_points: int = 1_000             # images, the same for every model
    correlation: Literal["lasso", "spearman"] = "lasso"
    alpha: float = 0.1                       # the Lasso's L1 weight
    kl_threshold: float = 0.01               # nats: latents at or below it are uninformative


class Model(NamedTuple):
    """One model of the set: its codes (a Representation: dataset indices -> (n, D)) and, where it
    has a Gaussian posterior, `kl_of`: dataset indices -> the mean KL of each latent over them (D,)."""
    codes: Callable[[np.ndarray], np.ndarray]
    kl_of: Callable[[np.ndarray], np.ndarray] | None = None


def lasso_similarity(codes_i: np.ndarray, codes_j: np.ndarray, alpha: float) -> np.ndarray:
    """(D_i, D_j): |weight| of latent a of model i in the Lasso regression of latent b of model j."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Lasso(alpha=alpha).fit(codes_i, codes_j)
    return np.abs(np.atleast_2d(model.coef_)).T


def spearman_similarity(codes_i: np.ndarray, codes_j: np.ndarray) -> np.ndarray:
    """(D_i, D_j): |Spearman's rho| between every latent of model i and every latent of model j;
    0 where a latent is constant."""
    ranks_i = rankdata(codes_i, axis=0)
    ranks_j = rankdata(codes_j, axis=0)
    ranks_i -= ranks_i.mean(axis=0)
    ranks_j -= ranks_j.mean(axis=0)
    norms = np.outer(np.linalg.norm(ranks_i, axis=0), np.linalg.norm(ranks_j, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.abs(ranks_i.T @ ranks_j) / norms
    return np.where(norms > 0, rho, 0.0)


def relative_strength(similarity: np.ndarray) -> float:
    """The mean over columns of max^2 / sum, and over rows, averaged; a zero row or column gives 0."""
    if similarity.size == 0:
        return 0.0

    def per_axis(axis):
        total = similarity.sum(axis=axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.square(similarity.max(axis=axis)) / total
        return float(np.mean(np.where(total > 0, values, 0.0)))

    return (per_axis(0) + per_axis(1)) / 2


def pairwise_scores(codes: list[np.ndarray], informative: list[np.ndarray], correlation: str,
                    alpha: float) -> np.ndarray:
    """(M, M) UDR_ij for models' codes (n, D_m) on the same images; the diagonal is NaN."""
    prepared = []
    for values, mask in zip(codes, informative):
        std = values.std(axis=0)
        standardised = (values - values.mean(axis=0)) / np.where(std > 0, std, 1.0)
        prepared.append(standardised * mask)
    count = len(codes)
    scores = np.full((count, count), np.nan)
    for i in range(count):
        for j in range(count):
            if i == j:
                continue
            if correlation == "lasso":
                similarity = lasso_similarity(prepared[i], prepared[j], alpha)
            else:
                similarity = spearman_similarity(prepared[i], prepared[j])
            scores[i, j] = relative_strength(similarity[informative[i]][:, informative[j]])
    return scores


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    if not settings.alpha > 0:
        raise UserError(f"udr alpha (the Lasso's L1 weight) must be above 0, not {settings.alpha}")
    if not settings.kl_threshold >= 0:
        raise UserError(f"udr kl_threshold must be 0 or more (nats), not {settings.kl_threshold}")


def score(models, dataset, rng, settings: Settings) -> list[dict[str, float]]:
    """Per model of `models` (Model tuples, or bare Representations: no posterior), in order: its
    UDR against the others, the number of models and its number of informative latents."""
    models = [model if isinstance(model, Model) else Model(model) for model in models]
    if len(models) < MIN_MODELS:
        raise UserError(f"udr compares models with each other and needs at least {MIN_MODELS}, not {len(models)}")
    indices = dataset.index_of(dataset.sample_factors(settings.num_data_points, rng))
    codes = [np.asarray(model.codes(indices), dtype=np.float64) for model in models]
    informative = []
    for values, model in zip(codes, models):
        varies = values.std(axis=0) > 0
        if model.kl_of is not None:
            varies &= np.asarray(model.kl_of(indices), dtype=np.float64) > settings.kl_threshold
        informative.append(varies)
    pairwise = pairwise_scores(codes, informative, settings.correlation, settings.alpha)
    return [{"score": float(np.median(np.delete(pairwise[:, m], m))),
             "num_models": float(len(models)), "num_informative": float(informative[m].sum())}
            for m in range(len(models))]


# It draws images only, so it scores image folders too; a model's KL per latent, where it has a
# posterior, says which latents are informative.
METRIC = Metric("udr", Settings, score, check, headline="score", quick={"num_data_points": 500},
                sample_sizes=("num_data_points",), needs_factors=False, uses_posterior=True, several_models=True)
