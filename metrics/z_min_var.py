"""Z-min-var: the FactorVAE metric at the sizes and scale of Zaidi et al.'s review (arXiv 2012.09276).

Kim & Mnih 2018, "Disentangling by Factorising", section 4; Zaidi et al. 2020, section 3.1.

The procedure is metrics/factor_vae.py's: the global variance of each latent over
`num_variance_estimate` images, latents with a standard deviation below `prune_threshold` pruned;
each vote fixes one factor chosen uniformly over `batch_size` images and names the latent of
least variance relative to its global variance; a majority-vote classifier maps latents to factors.
The score is its evaluation accuracy rescaled so that chance (1/K) is 0 and a perfect
classifier 1 (metrics/scaled_accuracy.py). Defaults: the review's implementation
(ubisoft-laforge-disentanglement-metrics, `z_min_var`): L = 200, 800 training and 800 evaluation
votes, 10,000 images for the variances, threshold 0.05.

Choices, stated:
- The review draws each vote's images from a fixed sample of (factor, code) rows that share the
  factor's value; here they are drawn from the dataset's generator, as factor_vae does (the same
  distribution when the sample is the whole dataset, as for the agreement in docs/metrics.md).
- A code with no active latent scores chance (0 after rescaling), where factor_vae reports 0 accuracy.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from metrics import factor_vae
from metrics.base import Metric
from metrics.scaled_accuracy import above_chance


@dataclass(frozen=True)
class Settings:
    """Defaults: the review's implementation."""
    batch_size: int = 200                    # L, images per vote
    num_train: int = 800                     # votes
    num_eval: int = 800
    num_variance_estimate: int = 10_000      # images for each latent's global variance
    prune_threshold: float = 0.05            # global standard deviation below which a latent is pruned


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training)."""
    factor_vae.check_votes("z_min_var", settings)


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """The majority-vote classifier's evaluation accuracy, rescaled from [1/K, 1] to [0, 1]."""
    values = factor_vae.score(codes, dataset, rng, factor_vae.Settings(**asdict(settings)))
    if values["num_active_dims"] == 0:
        return {"score": 0.0, "eval_accuracy": 1.0 / dataset.num_factors}
    return {"score": above_chance(values["eval_accuracy"], dataset.num_factors),
            "eval_accuracy": values["eval_accuracy"]}


METRIC = Metric("z_min_var", Settings, score, check, headline="score",
                quick={"num_train": 200, "num_eval": 200, "num_variance_estimate": 1_000},
                sample_sizes=("num_train", "num_eval", "num_variance_estimate"),
                perfect={"score": 1.0})
