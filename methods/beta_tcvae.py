"""beta-TCVAE (Chen et al. 2018, "Isolating Sources of Disentanglement in Variational
Autoencoders"): the decomposed ELBO with alpha = gamma = 1 (the equation disentanglement_lib cites
as eq. 5), i.e. minimise recon + KL + (beta - 1) TC, where TC = KL(q(z) || prod_j q(z_j)) is the
total correlation of the aggregate posterior, estimated on each batch by minibatch-weighted
sampling (section 4.1; disentanglement_lib's total_correlation):
log q(z_n) ~ logsumexp_m log q(z_n | x_m) + const, and likewise for each dimension.

beta defaults to 6, the value of the authors' README (rtqichen/beta-tcvae); disentanglement_lib has
no default (gin.REQUIRED) and its unsupervised_study_v1 sweeps beta over 1, 2, 4, 6, 8, 10.
Departure: disentanglement_lib drops the estimator's constant, which changes no gradient; we add
(d - 1) log M (d latents, batch size M), so that the logged `tc` is ~0 for factorised codes whose
posteriors overlap (the batch taken as the whole data set) and at most (d - 1) log M. The paper's
normalisation by the data-set size N, log(N M), would add a further (d - 1) log N. So the logged
loss is disentanglement_lib's plus (beta - 1)(d - 1) log M; the training is the same.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from methods.vae import GaussianVAE, GaussianVAEParams


@dataclass
class BetaTCVAEParams(GaussianVAEParams):
    """beta = 6 weighs the total correlation (authors' README; disentanglement_lib sweeps 1-10)."""
    beta: float = 6.0


def gaussian_log_density(samples: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(samples; mean, exp(log_var)), elementwise."""
    return -0.5 * ((samples - mean).pow(2) * (-log_var).exp() + log_var + math.log(2 * math.pi))


def total_correlation(z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Minibatch estimate of TC = E_q(z)[log q(z) - sum_j log q(z_j)] from samples z (M, d) of the
    posteriors N(mean, exp(log_var)) (M, d): disentanglement_lib's estimate + (d - 1) log M."""
    batch_size, latents = z.shape
    # log q(z_n | x_m) per latent: (n, m, j)
    log_q = gaussian_log_density(z.unsqueeze(1), mean.unsqueeze(0), log_var.unsqueeze(0))
    log_q_joint = torch.logsumexp(log_q.sum(dim=2), dim=1)                 # log sum_m prod_j q(z_nj | x_m)
    log_q_product = torch.logsumexp(log_q, dim=1).sum(dim=1)               # sum_j log sum_m q(z_nj | x_m)
    return (log_q_joint - log_q_product).mean() + (latents - 1) * math.log(batch_size)


class BetaTCVAE(GaussianVAE):
    """beta-TCVAE (Chen et al. 2018): recon + KL + (beta - 1) TC, TC by minibatch-weighted sampling."""

    Params = BetaTCVAEParams

    def regulariser(self, kl, mean, log_var, z):
        """KL + (beta - 1) TC."""
        tc = total_correlation(z, mean, log_var)
        return kl + (self.params.beta - 1.0) * tc, {"tc": tc.detach()}
