"""InfoVAE with the MMD divergence, also called MMD-VAE (Zhao, Song & Ermon, "InfoVAE: Balancing
Learning and Inference in Variational Autoencoders", AAAI 2019, arXiv:1706.02262, eq. 6 with
D = MMD): maximise

    E_q[log p(x|z)] - (1 - alpha) KL(q(z|x) || p(z)) - (alpha + lambda - 1) MMD(q(z), p(z))

where q(z) is the aggregate posterior (the batch's latent samples) and p(z) = N(0, I). MMD is
the kernel two-sample statistic with a Gaussian kernel k(a, b) = exp(-|a - b|^2 / (2 s D)), D the
number of latents, s = `kernel_variance`; its within-sample terms leave out the diagonal
(unbiased, Gretton et al. 2012, eq. 3).

Defaults: alpha = -0.5, lambda = 5 and s = 2 are those of disent's InfoVae (the peer library
that ships this method; disentanglement_lib does not); the networks, optimiser and likelihood are
the harness's VAE family's (methods/vae.py, GaussianVAEParams). disent reweights the KL and MMD
terms by latents / pixels because it averages its reconstruction loss; the harness sums it over
pixels, as the paper does, so no reweighting here. The prior samples are drawn with the method's
own generator, so a resumed run is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.errors import UserError
from methods.vae import GaussianVAE, GaussianVAEParams


@dataclass
class InfoVAEParams(GaussianVAEParams):
    """alpha = -0.5, lambda = 5, kernel variance 2: disent's InfoVae defaults."""
    info_alpha: float = -0.5
    info_lambda: float = 5.0
    kernel_variance: float = 2.0

    def __post_init__(self):
        if self.info_alpha > 1 or self.info_alpha + self.info_lambda < 1 or self.kernel_variance <= 0:
            raise UserError(f"info_vae needs info_alpha <= 1, info_alpha + info_lambda >= 1 (both terms' weights "
                            f"non-negative) and kernel_variance > 0, not {self.info_alpha}, {self.info_lambda}, "
                            f"{self.kernel_variance}")


def gaussian_kernel(a: torch.Tensor, b: torch.Tensor, variance: float) -> torch.Tensor:
    """k(a_i, b_j) = exp(-|a_i - b_j|^2 / (2 variance D)): (n, m)."""
    return torch.exp(-torch.cdist(a, b).pow(2) / (2 * variance * a.shape[1]))


def mmd(samples: torch.Tensor, prior: torch.Tensor, variance: float) -> torch.Tensor:
    """Unbiased MMD^2 between two samples of equal size n (Gretton et al. 2012, eq. 3)."""
    n = samples.shape[0]
    off_diagonal = 1 - torch.eye(n, device=samples.device)
    within = lambda k: (k * off_diagonal).sum() / (n * (n - 1))
    return (within(gaussian_kernel(samples, samples, variance)) + within(gaussian_kernel(prior, prior, variance))
            - 2 * gaussian_kernel(samples, prior, variance).mean())


class InfoVAE(GaussianVAE):
    """InfoVAE / MMD-VAE (Zhao et al. 2019, eq. 6): (1 - alpha) KL + (alpha + lambda - 1) MMD(q(z), p(z))."""

    Params = InfoVAEParams

    def regulariser(self, kl, mean, log_var, z):
        """(1 - alpha) KL + (alpha + lambda - 1) MMD of the batch's samples against N(0, I) samples."""
        p = self.params
        prior = torch.randn(z.shape, generator=self.generator, device=z.device)
        divergence = mmd(z, prior, p.kernel_variance)
        return (1 - p.info_alpha) * kl + (p.info_alpha + p.info_lambda - 1) * divergence, {"mmd": divergence.detach()}
