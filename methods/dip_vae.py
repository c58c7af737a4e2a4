"""DIP-VAE-I and DIP-VAE-II (Kumar et al. 2018, "Variational Inference of Disentangled Latent
Concepts from Unlabeled Observations", eqs. 6 and 7): minimise recon + KL + the covariance penalty

    lambda_od * sum_{i != j} Cov[i, j]^2 + lambda_d * sum_i (Cov[i, i] - 1)^2

on the batch covariance of the posterior means, Cov_p(x)[mu(x)] (type i), or of the aggregate
posterior, Cov_p(x)[mu(x)] + E_p(x)[diag(exp(log_var(x)))] (type ii); lambda_d = lambda_d_factor *
lambda_od. disentanglement_lib (DIPVAE, unsupervised_study_v1) fixes lambda_d_factor at 10 for
type i and 1 for type ii and sweeps lambda_od over 1, 2, 5, 10, 20, 50 with no single default;
lambda_od = 10 here. The covariance is the batch's (divided by the batch size, as
disentanglement_lib's E[mu mu^T] - E[mu] E[mu]^T), computed from centred means.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from methods.vae import GaussianVAE, GaussianVAEParams


@dataclass
class DIPVAEIParams(GaussianVAEParams):
    """lambda_od = 10 (the middle of disentanglement_lib's sweep), lambda_d = 10 lambda_od (disentanglement_lib)."""
    lambda_od: float = 10.0
    lambda_d_factor: float = 10.0


@dataclass
class DIPVAEIIParams(GaussianVAEParams):
    """lambda_od = 10 (the middle of disentanglement_lib's sweep), lambda_d = lambda_od (disentanglement_lib)."""
    lambda_od: float = 10.0
    lambda_d_factor: float = 1.0


def covariance(values: torch.Tensor) -> torch.Tensor:
    """Covariance of the rows of values (n, d), divided by n: (d, d)."""
    centred = values - values.mean(dim=0, keepdim=True)
    return centred.T @ centred / values.shape[0]


def dip_penalty(cov: torch.Tensor, lambda_od: float, lambda_d: float) -> torch.Tensor:
    """lambda_od * sum of squared off-diagonal entries + lambda_d * sum of (diagonal - 1)^2."""
    diagonal = cov.diagonal()
    off_diagonal = cov - torch.diag(diagonal)
    return lambda_od * off_diagonal.pow(2).sum() + lambda_d * (diagonal - 1.0).pow(2).sum()


def dip_covariance(mean: torch.Tensor, log_var: torch.Tensor, dip_type: str) -> torch.Tensor:
    """Cov[mu] (type "i") or Cov[mu] + E[diag(exp(log_var))] (type "ii") over the batch."""
    cov = covariance(mean)
    if dip_type == "ii":
        cov = cov + torch.diag(log_var.exp().mean(dim=0))
    return cov


class DIPVAEI(GaussianVAE):
    """DIP-VAE-I (Kumar et al. 2018, eq. 6): recon + KL + a penalty pushing Cov[mean] towards the identity."""

    Params = DIPVAEIParams
    dip_type = "i"

    def regulariser(self, kl, mean, log_var, z):
        """KL + the DIP penalty on the batch covariance."""
        p = self.params
        cov = dip_covariance(mean, log_var, self.dip_type)
        penalty = dip_penalty(cov, p.lambda_od, p.lambda_d_factor * p.lambda_od)
        return kl + penalty, {"dip_penalty": penalty.detach()}


class DIPVAEII(DIPVAEI):
    """DIP-VAE-II (Kumar et al. 2018, eq. 7): recon + KL + a penalty pushing Cov[mean] + E[var] to the identity."""

    Params = DIPVAEIIParams
    dip_type = "ii"
