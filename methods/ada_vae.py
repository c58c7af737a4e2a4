"""Ada-GVAE and Ada-ML-VAE (Locatello et al. 2020, "Weakly-Supervised Disentanglement Without
Compromises", ICML, section 4; disentanglement_lib, methods/weak/weak_vae.py: GroupVAEArgmax and
MLVaeArgmax).

The model sees pairs (x1, x2) whose factors differ in a few factors it is not told
(methods/batch_kinds.py, PairsDiffering). Per pair and latent i:

    delta_i = KL(q(z_i|x1) || q(z_i|x2))                                      (`posterior_kl`)
    tau = (max_i delta_i + min_i delta_i) / 2                                 (`shared_latents`)

and the latents with delta_i < tau are taken as shared: in both posteriors they are replaced by
one aggregate of the two, the arithmetic mean of the Gaussians' means and of their variances
(Ada-GVAE, after the Group-VAE of Hosoya 2019: `arithmetic_mean`) or their product of experts
(Ada-ML-VAE, after Bouchacourt et al. 2018: `product_of_experts`). Then both images train the
beta-VAE's loss on these posteriors: reconstruction + beta KL(q~(z|x) || N(0, I)), each image's
terms averaged over the 2n images of the batch, i.e. the mean of the pair's two ELBOs as
disentanglement_lib computes it (the paper's objective sums the two: twice this, same optimum).
The aggregation is an `encoder_outputs` hook of the VAE family's one step (methods/vae.py); the
representation is the posterior mean of one image.

Departures, all of scale or of a tie: delta is the KL itself (disentanglement_lib's compute_kl is
twice it; tau and the shared set are the same); where every delta_i is equal nothing is shared.
Ada-ML-VAE's aggregate is disentanglement_lib's: the precision-weighted mean and the harmonic mean
of the variances (precision = the mean of the two precisions), the normalised product
q1^(1/2) q2^(1/2); the plain product q1 q2 that the paper's "product of experts" names has the same
mean and half that variance. The variant given which factor is shared (GroupVAELabels) is not here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from bench.errors import UserError
from methods.base import Batch
from methods.batch_kinds import PairsDiffering
from methods.vae import BetaVAE, BetaVAEParams


@dataclass
class AdaVAEParams(BetaVAEParams):
    """batch_size counts images, two per pair: 128 is disentanglement_lib's batch of 64 pairs.
    k: the factors each pair differs in (methods/batch_kinds.py, PairsDiffering); 0 draws it per
    pair, the paper's "k = Rnd" (the study trains k = 1 and k = Rnd). beta = 1: the value of
    disentanglement_lib's one configuration of the weak methods (config/tests/methods/
    weakly_supervised/train_test.gin); the study sweeps beta, and the weak supervision, not a large
    beta, is the regulariser. The rest is the VAE family's (conv model, Adam 5e-4, 10 latents;
    disentanglement_lib's study: Adam 1e-4)."""
    may_be_zero: ClassVar[tuple[str, ...]] = ("k",)
    batch_size: int = 128
    beta: float = 1.0
    k: int = 0

    def __post_init__(self):
        if self.batch_size % 2:
            raise UserError(f"a weak method's batch_size counts images, two per pair: it must be even, "
                            f"not {self.batch_size}")


def posterior_kl(mean1: torch.Tensor, log_var1: torch.Tensor, mean2: torch.Tensor,
                 log_var2: torch.Tensor) -> torch.Tensor:
    """KL(N(mean1, exp(log_var1)) || N(mean2, exp(log_var2))) per element: the paper's delta_i."""
    return 0.5 * ((log_var1 - log_var2).exp() + (mean2 - mean1).pow(2) / log_var2.exp() - 1.0
                  + log_var2 - log_var1)


def shared_latents(deltas: torch.Tensor) -> torch.Tensor:
    """(pairs, latents) bool: delta_i < tau, tau = (max_i delta_i + min_i delta_i) / 2 per pair."""
    tau = 0.5 * (deltas.max(dim=1, keepdim=True).values + deltas.min(dim=1, keepdim=True).values)
    return deltas < tau


def arithmetic_mean(mean1, log_var1, mean2, log_var2) -> tuple[torch.Tensor, torch.Tensor]:
    """Ada-GVAE's aggregate: mean (mean1 + mean2) / 2, variance (var1 + var2) / 2."""
    return 0.5 * (mean1 + mean2), torch.logaddexp(log_var1, log_var2) - math.log(2.0)


def product_of_experts(mean1, log_var1, mean2, log_var2) -> tuple[torch.Tensor, torch.Tensor]:
    """Ada-ML-VAE's aggregate: mean (mean1 / var1 + mean2 / var2) / (1 / var1 + 1 / var2), variance
    2 var1 var2 / (var1 + var2) (disentanglement_lib's; see the module docstring)."""
    weight1 = torch.sigmoid(log_var2 - log_var1)                 # var2 / (var1 + var2)
    return weight1 * mean1 + (1.0 - weight1) * mean2, \
        math.log(2.0) + log_var1 + log_var2 - torch.logaddexp(log_var1, log_var2)


def aggregate_shared(encoded: torch.Tensor, aggregate) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder's outputs (2n, 2 x latents) of n pairs (the first images, then the second) with
    each pair's shared latents replaced in both posteriors by `aggregate` of the two; and the
    shared mask (n, latents)."""
    mean, log_var = encoded.chunk(2, dim=1)
    n = mean.shape[0] // 2
    mean1, mean2, log_var1, log_var2 = mean[:n], mean[n:], log_var[:n], log_var[n:]
    with torch.no_grad():
        shared = shared_latents(posterior_kl(mean1, log_var1, mean2, log_var2))
    common_mean, common_log_var = aggregate(mean1, log_var1, mean2, log_var2)
    means = [torch.where(shared, common_mean, own) for own in (mean1, mean2)]
    log_vars = [torch.where(shared, common_log_var, own) for own in (log_var1, log_var2)]
    return torch.cat([torch.cat(means), torch.cat(log_vars)], dim=1), shared


class AdaGVAE(BetaVAE):
    """Ada-GVAE (Locatello et al. 2020, section 4): pairs' shared latents (KL below the adaptive tau) take the mean of the two posteriors."""

    Params = AdaVAEParams
    batch_kind = PairsDiffering()
    needs_factors = True
    aggregate = staticmethod(arithmetic_mean)

    @classmethod
    def batch_kind_of(cls, params: AdaVAEParams) -> PairsDiffering:
        return PairsDiffering(params.k)

    def encoder_outputs(self, encoded: torch.Tensor, batch: Batch):
        """The shared latents of each pair aggregated; logs how many latents a pair shares."""
        outputs, shared = aggregate_shared(encoded, self.aggregate)
        return outputs, {"shared_latents": shared.sum(dim=1).float().mean().item()}


class AdaMLVAE(AdaGVAE):
    """Ada-ML-VAE (Locatello et al. 2020, section 4): pairs' shared latents take the product of experts of the two posteriors."""

    aggregate = staticmethod(product_of_experts)
