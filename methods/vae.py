"""The VAE family's one training step (GaussianVAE), with VAE and beta-VAE (Higgins et al. 2017,
eq. 4). Bernoulli or Gaussian likelihood (the `likelihood` parameter); diagonal Gaussian
posterior; N(0, I) prior.

Every VAE-family method (vae, beta_vae, annealed_vae, factor_vae, beta_tcvae, dip_vae_i/ii,
dcign) trains with GaussianVAE.train_step and says what is its own through three hooks, as
disentanglement_lib's BaseVAE does with `regularizer`:

- `regulariser(kl, mean, log_var, z)`: the loss term added to the reconstruction loss (beta KL
  here) and any values to log with it;
- `encoder_outputs(encoded, batch)`: what the encoder's 2 x latent_dim outputs go through before
  they are split into means and log-variances (identity here; DC-IGN's clamp);
- `auxiliary_step(z, batch)`: an extra network's own optimiser step after the VAE's, on the
  detached latent sample (nothing here; FactorVAE's discriminator).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F

from methods import nets
from methods.base import Batch, Method, Params


@dataclass
class GaussianVAEParams(Params):
    """The VAE family's shared settings: 10 latents as in the beta-VAE paper's dSprites model; the
    conv model with Adam 5e-4, which shows the paper's effect on a CPU budget (docs/paper.md
    section 8); architecture="fc", optimizer="adagrad", lr=1e-2 is the beta-VAE paper's.

    likelihood: the pixel model p(x|z) of the reconstruction loss. "bernoulli" (cross-entropy of
    the pixels in [0, 1]: the paper's, and disentanglement_lib's default on every dataset);
    "gaussian" (sum of squared errors of sigmoid(logits): disentanglement_lib's l2_loss, -log of a
    Gaussian with variance 1/2 up to a constant), which fits grey levels and colour; "auto" (the
    default): the dataset's choice, bernoulli for binary dSprites, gaussian for the colour sets
    and image folders (GroundTruthData.likelihood)."""
    latent_dim: int = 10
    architecture: Literal["conv", "fc"] = "conv"
    optimizer: Literal["adam", "adagrad"] = "adam"
    lr: float = 5e-4
    likelihood: Literal["auto", "bernoulli", "gaussian"] = "auto"
    identity_defaults: ClassVar[dict[str, object]] = {"likelihood": "auto"}


@dataclass
class BetaVAEParams(GaussianVAEParams):
    """Defaults: beta = 4 as in the paper's dSprites model, and the VAE family's settings."""
    beta: float = 4.0


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


def gaussian_reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error of the means sigmoid(logits), summed over pixels and averaged over the batch
    (disentanglement_lib's l2_loss): -log N(x; mean, 1/2) up to a constant."""
    return (torch.sigmoid(logits) - x).pow(2).sum() / x.shape[0]


RECONSTRUCTIONS = {"bernoulli": bernoulli_reconstruction, "gaussian": gaussian_reconstruction}


class GaussianVAE(Method):
    """An encoder to a diagonal Gaussian posterior, a Bernoulli or Gaussian decoder and one
    training step: minimise recon + regulariser (subclasses give the regulariser; see the module
    docstring). `params.likelihood` is resolved ("auto" -> the dataset's) by methods.create."""

    Params = GaussianVAEParams
    can_decode = True
    has_posterior = True

    def __init__(self, params: GaussianVAEParams, image_shape, policy, seed: int):
        super().__init__(params, image_shape, policy, seed)
        if params.likelihood not in RECONSTRUCTIONS:
            raise ValueError(f"likelihood {params.likelihood!r} is not resolved; create methods with methods.create")
        self.reconstruction_loss = RECONSTRUCTIONS[params.likelihood]
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
        """Pixel means of latent codes z (probabilities under the Bernoulli likelihood)."""
        return torch.sigmoid(self.decoder(z).float())

    # The hooks ------------------------------------------------------------------------------

    def encoder_outputs(self, encoded: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, dict]:
        """The encoder's outputs (means, then log-variances) as the loss sees them, and values to log."""
        return encoded, {}

    def regulariser(self, kl: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor,
                    z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The term added to the reconstruction loss, and values to log (tensors or floats).
        kl: KL(q(z|x) || p(z)) summed over latents, averaged over the batch; z: the sample."""
        raise NotImplementedError

    def auxiliary_step(self, z: torch.Tensor, batch: Batch) -> dict:
        """Called after the VAE's optimiser step with the (detached) latent sample: an extra
        network's own step. Returns values to log."""
        return {}

    # The step --------------------------------------------------------------------------------

    def train_step(self, batch: Batch) -> dict[str, float]:
        encoded = self.encoder(batch.x).float()
        outputs, logged_outputs = self.encoder_outputs(encoded, batch)
        mean, log_var = outputs.chunk(2, dim=1)
        noise = torch.randn(mean.shape, generator=self.generator, device=mean.device)
        z = mean + noise * (0.5 * log_var).exp()
        reconstruction = self.reconstruction_loss(self.decoder(z).float(), batch.x.float())
        kl_per_latent = gaussian_kl_per_latent(mean, log_var)
        kl = kl_per_latent.sum()
        regulariser, logged_regulariser = self.regulariser(kl, mean, log_var, z)
        loss = reconstruction + regulariser
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        logged_auxiliary = self.auxiliary_step(z.detach(), batch)
        self.step += 1
        logged = {"loss": loss.item(), "reconstruction": reconstruction.item(), "kl": kl.item()}
        for extra in (logged_outputs, logged_regulariser, logged_auxiliary):
            logged.update({key: float(value) for key, value in extra.items()})
        logged.update({f"kl_z{i}": v for i, v in enumerate(kl_per_latent.tolist())})
        return logged


class BetaVAE(GaussianVAE):
    """Maximises E_q[log p(x|z)] - beta KL(q(z|x) || p(z)) (Higgins et al. 2017, eq. 4)."""

    Params = BetaVAEParams

    def regulariser(self, kl, mean, log_var, z):
        """beta KL."""
        return self.params.beta * kl, {}


class VAE(BetaVAE):
    """beta-VAE with beta = 1: the plain VAE (Kingma & Welling 2014)."""
    Params = VAEParams
