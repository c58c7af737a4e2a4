"""InfoGAN (Chen et al. 2016, eq. 6; official code openai/InfoGAN), with the recipe that trains
it stably on dSprites (Lin et al. 2020, InfoGAN-CR, whose public code trains InfoGAN on dSprites).

min_{G,Q} max_D  V(D, G) - lambda * L_I(G, Q), with the variational lower bound of the mutual
information between the codes c and the generated image (eq. 5):
    L_I = E_{c ~ p(c), x ~ G(z, c)} [log Q(c | x)] + H(c).
-lambda * L_I is added to both the discriminator's loss (which trains the Q head, sharing the
discriminator's body) and the generator's; the generator's GAN loss is the non-saturating
-log D(G(z, c)). Noise z and codes c are both Uniform(-1, 1); Q is a Gaussian with unit (fixed) or
learned variance; H(c) = code_dim * log 2.

Defaults (docs/infogan.md has the runs behind them): 5 codes and 5 noise variables, Adam beta1 0.5
with lr 2e-3 for D and Q and 1e-3 for G, two generator updates per discriminator update, and
spectral normalisation (Miyato et al. 2018) on every layer of D and Q instead of batch norm --
InfoGAN-CR's dSprites settings -- with the official code's lambda = 1 on the information term
(InfoGAN-CR's 0.05 left the codes unused and the samples too alike in two of three seeds at this
harness's budget). The official InfoGAN's other settings (62 noise variables, D lr 2e-4, batch norm
in D, one generator update) stay reachable by parameters (`discriminator_norm = "batch"` ...); on
dSprites they let D win and G collapse.

Networks for 64x64 images keep the shapes of the shared conv encoder and decoder
(methods/nets.py: convs 32-32-64-64, kernel 4, stride 2, FC 256, and its mirror) with leaky ReLUs
in D and batch norm in G. The representation of an image is Q's predicted code mean (D in eval
mode); decode(c) generates with the noise at zero, and sample(n) draws codes and noise.

Health (logged every step, averaged per interval in log.csv): `fake_diversity`, the mean
per-pixel standard deviation of the generated batch over that of the real batch (about 1 when G
covers the data, near 0 when it produces one image); `fake_mean_pixel` and `real_mean_pixel`;
D's mean probabilities `d_real` and `d_fake`; and `collapsed` = 1 when fake_diversity < 0.1 (mode
collapse) or D separates real from fake with mean probabilities above 0.99 and below 0.01 (D has
won and G's gradient vanishes). `training_health` turns the log into the run's `health.*` scores.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from bench.errors import UserError
from methods import nets
from methods.base import Batch, Method, Params
from methods.gan_health import collapsed, fake_diversity, gan_health

LEAK = 0.2


@dataclass
class InfoGANParams(Params):
    """Defaults: InfoGAN-CR's dSprites InfoGAN (5 + 5 latents, lr D 2e-3 / G 1e-3, two G updates,
    spectral norm in D) with the official lambda 1 (InfoGAN-CR: mi_weight 0.05). The official code's
    MNIST settings: noise_dim 62, mi_weight 1, d_lr 2e-4, g_lr 1e-3, generator_steps 1,
    discriminator_norm "batch". batch 64
    matches the other methods, so that --steps means the same number of images for every row."""
    may_be_zero: ClassVar[tuple[str, ...]] = ("noise_dim",)
    noise_dim: int = 5
    code_dim: int = 5
    code_variance: Literal["fixed", "learned"] = "fixed"
    mi_weight: float = 1.0
    d_lr: float = 2e-3
    g_lr: float = 1e-3
    adam_beta1: float = 0.5
    generator_steps: int = 2
    discriminator_norm: Literal["spectral", "batch"] = "spectral"

    def __post_init__(self):
        if self.batch_size < 2 or self.code_dim < 1 or self.noise_dim < 0 or self.generator_steps < 1:
            raise UserError(f"infogan needs batch_size >= 2 (batch norm), code_dim >= 1, noise_dim >= 0 and "
                            f"generator_steps >= 1, not {self.batch_size}, {self.code_dim}, {self.noise_dim} "
                            f"and {self.generator_steps}")


def generator_network(image_shape, inputs: int) -> nn.Module:
    """The shared conv decoder's shape (FC 256, FC 4x4x64, transposed convs 64-32-32-C, kernel 4,
    stride 2) with batch norm after every hidden layer, as DCGAN and the official code have it."""
    nets.check_conv_shape(image_shape)
    return nn.Sequential(
        nn.Linear(inputs, 256), nn.BatchNorm1d(256), nn.ReLU(),
        nn.Linear(256, 64 * 4 * 4), nn.BatchNorm1d(64 * 4 * 4), nn.ReLU(), nn.Unflatten(1, (64, 4, 4)),
        nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, image_shape[0], 4, 2, 1))


class DiscriminatorWithCodeHead(nn.Module):
    """The shared conv encoder's shape (convs 32-32-64-64, kernel 4, stride 2, FC 256) with leaky
    ReLUs; its features feed the real/fake logit and Q's code parameters (FC 128, then the means,
    then the log-variances when the variance is learned). norm "spectral": every weight layer
    spectrally normalised (Miyato et al. 2018; InfoGAN-CR); "batch": batch norm after every hidden
    layer but the first (DCGAN, official InfoGAN)."""

    def __init__(self, image_shape, code_outputs: int, norm: str = "spectral"):
        super().__init__()
        nets.check_conv_shape(image_shape)
        spectral = norm == "spectral"

        def weighted(layer):
            return nn.utils.parametrizations.spectral_norm(layer) if spectral else layer

        def normalised(width, kind):
            return [] if spectral else [kind(width)]

        layers, width = [weighted(nn.Conv2d(image_shape[0], 32, 4, 2, 1)), nn.LeakyReLU(LEAK)], 32
        for out in (32, 64, 64):
            layers += [weighted(nn.Conv2d(width, out, 4, 2, 1)), *normalised(out, nn.BatchNorm2d), nn.LeakyReLU(LEAK)]
            width = out
        self.body = nn.Sequential(*layers, nn.Flatten(), weighted(nn.Linear(64 * 4 * 4, 256)),
                                  *normalised(256, nn.BatchNorm1d), nn.LeakyReLU(LEAK))
        self.real_fake = weighted(nn.Linear(256, 1))
        self.code = nn.Sequential(weighted(nn.Linear(256, 128)), nn.LeakyReLU(LEAK),
                                  weighted(nn.Linear(128, code_outputs)))

    def forward(self, x: torch.Tensor):
        features = self.body(x)
        return self.real_fake(features).squeeze(1).float(), self.code(features).float()

    def predict_codes(self, x: torch.Tensor) -> torch.Tensor:
        return self.code(self.body(x)).float()


def mutual_information_bound(codes: torch.Tensor, prediction: torch.Tensor, learned_variance: bool) -> torch.Tensor:
    """L_I = E[log Q(c|x)] + H(c) for codes ~ Uniform(-1, 1)^d and a diagonal Gaussian Q (eq. 5)."""
    if learned_variance:
        mean, log_var = prediction.chunk(2, dim=1)
    else:
        mean, log_var = prediction, torch.zeros_like(prediction)
    log_q = -0.5 * (math.log(2 * math.pi) + log_var + (codes - mean).pow(2) / log_var.exp())
    return log_q.sum(dim=1).mean() + codes.shape[1] * math.log(2.0)


class InfoGAN(Method):
    """InfoGAN: a GAN whose codes are made recoverable from the image by a Q head (Chen et al.)."""

    Params = InfoGANParams
    can_decode = True
    can_sample = True
    traversal_range = 1.0              # codes are Uniform(-1, 1): traversals stay in their support
    progress_keys = ("d_loss", "g_loss", "mi_loss")   # a GAN has no single loss

    def __init__(self, params: InfoGANParams, image_shape, policy, seed: int):
        super().__init__(params, image_shape, policy, seed)
        code_outputs = params.code_dim * (2 if params.code_variance == "learned" else 1)
        self.image_generator = policy.prepare_module(generator_network(image_shape, params.noise_dim + params.code_dim))
        self.discriminator = policy.prepare_module(
            DiscriminatorWithCodeHead(image_shape, code_outputs, params.discriminator_norm))
        betas = (params.adam_beta1, 0.999)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=params.d_lr, betas=betas)
        self.g_optimizer = torch.optim.Adam(self.image_generator.parameters(), lr=params.g_lr, betas=betas)

    def modules(self):
        return {"generator": self.image_generator, "discriminator": self.discriminator}

    def optimizers(self):
        return {"d_optimizer": self.d_optimizer, "g_optimizer": self.g_optimizer}

    def uniform(self, n: int, dim: int) -> torch.Tensor:
        return torch.rand((n, dim), generator=self.generator, device=self.policy.device) * 2 - 1

    def generate(self, noise: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities of G(z, c)."""
        return torch.sigmoid(self.image_generator(torch.cat([noise, codes], dim=1)).float())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The representation is Q's predicted code mean."""
        return self.discriminator.predict_codes(x)[:, :self.params.code_dim]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities generated from codes z with zero noise (for traversals); G runs in
        eval mode, so its batch norm uses running statistics and any number of codes works."""
        return self.generate_in_eval_mode(torch.zeros(len(z), self.params.noise_dim, device=z.device), z.float())

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n generated images (pixel probabilities) from codes and noise drawn with `generator`."""
        def uniform(dim):
            return torch.rand((n, dim), generator=generator).to(self.policy.device) * 2 - 1
        return self.generate_in_eval_mode(uniform(self.params.noise_dim), uniform(self.params.code_dim))

    def generate_in_eval_mode(self, noise: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        training = self.image_generator.training
        self.image_generator.eval()
        try:
            return self.generate(noise, codes)
        finally:
            self.image_generator.train(training)

    def training_health(self, log) -> dict[str, float]:
        return gan_health(log)

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One discriminator/Q update on real and generated images, then `generator_steps` generator
        updates on the same noise and codes (InfoGAN-CR's loop; the first reuses the D step's fakes)."""
        p = self.params
        learned_variance = p.code_variance == "learned"
        real = batch.x
        codes, noise = self.uniform(len(real), p.code_dim), self.uniform(len(real), p.noise_dim)
        fake = self.generate(noise, codes)

        real_logit, _ = self.discriminator(real)
        fake_logit, prediction = self.discriminator(fake.detach())
        d_gan = (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
                 + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))
        mi_loss = -mutual_information_bound(codes, prediction, learned_variance)
        d_loss = d_gan + p.mi_weight * mi_loss
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()

        for g_step in range(p.generator_steps):
            if g_step:
                fake = self.generate(noise, codes)
            fake_logit_after, prediction_after = self.discriminator(fake)
            g_gan = F.binary_cross_entropy_with_logits(fake_logit_after, torch.ones_like(fake_logit_after))
            g_loss = g_gan - p.mi_weight * mutual_information_bound(codes, prediction_after, learned_variance)
            self.g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward(inputs=list(self.image_generator.parameters()))
            self.g_optimizer.step()
        self.step += 1

        d_real = torch.sigmoid(real_logit).mean().item()
        d_fake = torch.sigmoid(fake_logit).mean().item()
        diversity = fake_diversity(fake, real)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "mi_loss": mi_loss.item(),
                "d_real": d_real, "d_fake": d_fake, "fake_diversity": diversity,
                "fake_mean_pixel": fake.detach().float().mean().item(),
                "real_mean_pixel": real.float().mean().item(),
                "collapsed": float(collapsed(diversity, d_real, d_fake))}
