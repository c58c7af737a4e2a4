"""VAE and beta-VAE (Higgins et al. 2017, eq. 4), with the capacity-annealed variant (Burgess et
al. 2018). Bernoulli likelihood on logits; diagonal Gaussian posterior; N(0, I) prior."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from methods import nets
from methods.base import Batch, Method, Params


@dataclass
class BetaVAEParams(Params):
    """Defaults: beta = 4 and 10 latents as in the paper's dSprites model. The architecture and
    optimiser default to the conv model with Adam 5e-4, which shows the paper's effect on a CPU
    budget (docs/paper.md section 8); architecture="fc", optimizer="adagrad", lr=1e-2 is the paper's."""
    beta: float = 4.0
    latent_dim: int = 10
    architecture: Literal["conv", "fc"] = "conv"
    optimizer: Literal["adam", "adagrad"] = "adam"
    lr: float = 5e-4
    objective: Literal["beta", "capacity"] = "beta"
    c_max: float = 25.0               # capacity objective: nats reached at capacity_steps
    capacity_steps: int = 100_000
    gamma: float = 1000.0


@dataclass
class VAEParams(BetaVAEParams):
    """The plain VAE: beta = 1."""
    beta: float = 1.0


def gaussian_kl_per_latent(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, 1)) per latent, averaged over the batch: (latent_dim,)."""
    return 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1.0).mean(dim=0)


def bernoulli_reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) for Bernoulli pixels, summed over pixels and averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


class BetaVAE(Method):
    """Maximises E_q[log p(x|z)] - beta KL(q(z|x) || p(z)) (eq. 4); with objective="capacity",
    minimises recon + gamma |KL - C| with C rising linearly from 0 to c_max (Burgess et al.)."""

    Params = BetaVAEParams

    def __init__(self, params: BetaVAEParams, image_shape, policy, seed: int):
        super().__init__(params, image_shape, policy, seed)
        self.encoder = policy.prepare_module(nets.encoder(params.architecture, image_shape, 2 * params.latent_dim))
        self.decoder = policy.prepare_module(nets.decoder(params.architecture, image_shape, params.latent_dim))
        weights = list(self.encoder.parameters()) + list(self.decoder.parameters())
        optimizer = torch.optim.Adam if params.optimizer == "adam" else torch.optim.Adagrad
        self.optimizer = optimizer(weights, lr=params.lr)

    def modules(self):
        return {"encoder": self.encoder, "decoder": self.decoder}

    def optimizers(self):
        return {"optimizer": self.optimizer}

    def posterior(self, x: torch.Tensor):
        mean, log_var = self.encoder(x).float().chunk(2, dim=1)
        return mean, log_var

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The representation is the posterior mean."""
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities of latent codes z."""
        return torch.sigmoid(self.decoder(z).float())

    def regulariser(self, kl: torch.Tensor) -> torch.Tensor:
        """beta KL, or gamma |KL - C(step)| for the capacity objective."""
        p = self.params
        if p.objective == "capacity":
            capacity = p.c_max * min(1.0, self.step / p.capacity_steps)
            return p.gamma * (kl - capacity).abs()
        return p.beta * kl

    def train_step(self, batch: Batch) -> dict[str, float]:
        mean, log_var = self.posterior(batch.x)
        noise = torch.randn(mean.shape, generator=self.generator, device=mean.device)
        z = mean + noise * (0.5 * log_var).exp()
        reconstruction = bernoulli_reconstruction(self.decoder(z).float(), batch.x.float())
        kl_per_latent = gaussian_kl_per_latent(mean, log_var)
        kl = kl_per_latent.sum()
        loss = reconstruction + self.regulariser(kl)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        logged = {"loss": loss.item(), "reconstruction": reconstruction.item(), "kl": kl.item()}
        logged.update({f"kl_z{i}": v for i, v in enumerate(kl_per_latent.tolist())})
        return logged


class VAE(BetaVAE):
    """beta-VAE with beta = 1: the plain VAE (Kingma & Welling 2014)."""
    Params = VAEParams
