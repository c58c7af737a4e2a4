"""FactorVAE (Kim & Mnih 2018, "Disentangling by Factorising", eq. 2): minimise
recon + KL + gamma TC, with the total correlation KL(q(z) || prod_j q(z_j)) estimated by the density
ratio trick, TC ~ E_q(z)[log D(z) / (1 - D(z))], where the discriminator D tells samples z of the
aggregate posterior from samples of prod_j q(z_j), made by permuting each latent dimension
independently across the batch (Algorithm 1). D has its own optimiser and minimises its
cross-entropy on the batch's z (detached) and their permutation; it is trained after the VAE step,
on the same samples and with the weights the VAE's loss saw, as disentanglement_lib's one-op
update of both.

Defaults follow disentanglement_lib (unsupervised_study_v1 and fc_discriminator): an MLP of 6
hidden layers of 1000 units with leaky ReLU (slope 0.2, TensorFlow's default), 2 logits, Adam lr
1e-4, beta1 0.5, beta2 0.9 for D (the architecture is the paper's Appendix A). gamma: disentanglement_lib has no
default (gin.REQUIRED) and sweeps 10, 20, 30, 40, 50, 100; gamma = 10 here, the low end of that
sweep. The VAE's optimiser is the VAE family's (Adam 5e-4; the paper and disentanglement_lib use
1e-4). Departure from the paper, as disentanglement_lib: the permuted codes come from the same
batch as the joint ones, not from a second batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from methods.base import Batch
from methods.vae import GaussianVAE, GaussianVAEParams

DISCRIMINATOR_WIDTH = 1000
DISCRIMINATOR_LAYERS = 6
LEAKY_SLOPE = 0.2
DISCRIMINATOR_BETAS = (0.5, 0.9)


@dataclass
class FactorVAEParams(GaussianVAEParams):
    """gamma = 10 (disentanglement_lib's sweep: 10-100); discriminator Adam lr 1e-4 (betas 0.5, 0.9)."""
    gamma: float = 10.0
    discriminator_lr: float = 1e-4


def discriminator(latent_dim: int) -> nn.Module:
    """disentanglement_lib's fc_discriminator: 6 x 1000 leaky ReLU units, then 2 logits
    (column 0: z from q(z); column 1: permuted z, from prod_j q(z_j))."""
    layers, width = [], latent_dim
    for _ in range(DISCRIMINATOR_LAYERS):
        layers += [nn.Linear(width, DISCRIMINATOR_WIDTH), nn.LeakyReLU(LEAKY_SLOPE)]
        width = DISCRIMINATOR_WIDTH
    return nn.Sequential(*layers, nn.Linear(width, 2))


def permute_dims(z: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each column of z shuffled across the batch by its own permutation: samples of prod_j q(z_j)."""
    order = torch.rand(z.shape, generator=generator, device=z.device).argsort(dim=0)
    return z.gather(0, order)


def discriminator_loss(logits_joint: torch.Tensor, logits_permuted: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of D: joint codes are class 0, permuted ones class 1 (the mean of the two)."""
    joint = F.cross_entropy(logits_joint, torch.zeros(len(logits_joint), dtype=torch.long, device=logits_joint.device))
    permuted = F.cross_entropy(logits_permuted, torch.ones(len(logits_permuted), dtype=torch.long,
                                                           device=logits_permuted.device))
    return 0.5 * (joint + permuted)


class FactorVAE(GaussianVAE):
    """FactorVAE (Kim & Mnih 2018, eq. 2): recon + KL + gamma TC, TC from a discriminator of joint vs permuted codes."""

    Params = FactorVAEParams

    def __init__(self, params: FactorVAEParams, image_shape, policy, seed: int):
        super().__init__(params, image_shape, policy, seed)
        self.discriminator = policy.prepare_module(discriminator(params.latent_dim))
        self.discriminator_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=params.discriminator_lr,
                                                        betas=DISCRIMINATOR_BETAS)

    def modules(self):
        return {**super().modules(), "discriminator": self.discriminator}

    def optimizers(self):
        return {**super().optimizers(), "discriminator_optimizer": self.discriminator_optimizer}

    def regulariser(self, kl, mean, log_var, z):
        """KL + gamma TC, TC = mean over the batch of logit_joint - logit_permuted = log D/(1-D)."""
        logits = self.discriminator_of_fixed_weights(z).float()
        tc = (logits[:, 0] - logits[:, 1]).mean()
        return kl + self.params.gamma * tc, {"tc": tc.detach()}

    def discriminator_of_fixed_weights(self, z: torch.Tensor) -> torch.Tensor:
        """D(z) whose backward reaches z but not D's weights: the VAE's step only needs dTC/dz, so
        the weight gradients it would otherwise compute (and D's step would drop) are never made.
        The same numbers as D(z): autograd computes the input gradient apart from the weights'."""
        weights = {name: weight.detach() for name, weight in self.discriminator.named_parameters()}
        return functional_call(self.discriminator, weights, (z,))

    def auxiliary_step(self, z: torch.Tensor, batch: Batch) -> dict:
        """One step of D on the batch's codes and their permutation (the VAE's optimiser holds no D weight)."""
        return self.train_discriminator(z)

    def train_discriminator(self, z: torch.Tensor) -> dict:
        permuted = permute_dims(z, self.generator)
        logits_joint = self.discriminator(z).float()
        logits_permuted = self.discriminator(permuted).float()
        loss = discriminator_loss(logits_joint, logits_permuted)
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.discriminator_optimizer.step()
        with torch.no_grad():
            correct = (logits_joint.argmax(dim=1) == 0).sum() + (logits_permuted.argmax(dim=1) == 1).sum()
            accuracy = correct / (2 * len(z))
        return {"discriminator_loss": loss.detach(), "discriminator_accuracy": accuracy}
