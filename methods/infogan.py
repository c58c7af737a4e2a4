"""InfoGAN (Chen et al. 2016, eq. 6; official code openai/InfoGAN, infogan_trainer.py and
run_mnist_exp.py).

min_{G,Q} max_D  V(D, G) - lambda * L_I(G, Q), with the variational lower bound of the mutual
information between the codes c and the generated image (eq. 5):
    L_I = E_{c ~ p(c), x ~ G(z, c)} [log Q(c | x)] + H(c).
As in the official code, -lambda * L_I is added to both the discriminator's loss (which trains
the Q head, sharing the discriminator's body) and the generator's; the generator's GAN loss is
the non-saturating -log D(G(z, c)). The generator's step scores the discriminator step's fakes
again with the updated D (the official code draws new noise for it; reusing the batch saves one
generator pass). Noise z and codes c are both Uniform(-1, 1) (the official code's Uniform);
Q is a Gaussian with unit (fixed) or learned variance; H(c) = code_dim * log 2.

Networks for 64x64 images keep the shapes of the shared conv encoder and decoder
(methods/nets.py: convs 32-32-64-64, kernel 4, stride 2, FC 256, and its mirror), so that Q reads
images through the same conv stack as the VAEs' encoders, with the official code's and DCGAN's
additions: leaky ReLUs in D, batch norm in D (all layers but the first) and in G. Without batch
norm in D, a short test run on small dSprites collapsed within 40 steps and its MI term never fell.
encode() runs D in eval mode (codes_of), so Q's codes use D's running batch-norm statistics.

The representation of an image is Q's predicted code mean; decode(c) generates with zero noise.

Collapse detection: each step logs `fake_diversity`, the mean per-pixel standard deviation of the
generated batch divided by that of the real batch (about 1 when the generator covers the data, near
0 when it produces one image), and `collapsed` = 1 when fake_diversity < 0.1 (mode collapse) or
when D separates real from fake with mean probabilities above 0.99 and below 0.01 (D has won and
G's gradient vanishes). log.csv averages over each interval, so `collapsed` there is the fraction
of the interval's steps flagged: 0 for a healthy run, near 1 for a run that has failed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bench.errors import UserError
from methods import nets
from methods.base import Batch, Method, Params

MIN_FAKE_DIVERSITY = 0.1
D_WIN_PROBABILITY = 0.99
LEAK = 0.2


@dataclass
class InfoGANParams(Params):
    """Official code (MNIST): 62 noise variables, lambda 1, fixed-variance Q for continuous codes,
    Adam beta1 0.5 with lr 2e-4 for D and Q and 1e-3 for G, batch 128. code_dim = 10 (not the
    official 2 continuous + 1 categorical) matches the VAEs' 10 latents; batch 64 matches the other
    methods so that --steps means the same number of images for every row."""
    noise_dim: int = 62
    code_dim: int = 10
    code_variance: Literal["fixed", "learned"] = "fixed"
    mi_weight: float = 1.0
    d_lr: float = 2e-4
    g_lr: float = 1e-3
    adam_beta1: float = 0.5

    def __post_init__(self):
        if self.batch_size < 2 or self.code_dim < 1 or self.noise_dim < 0:
            raise UserError(f"infogan needs batch_size >= 2 (batch norm), code_dim >= 1 and noise_dim >= 0, "
                            f"not {self.batch_size}, {self.code_dim} and {self.noise_dim}")


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
    ReLUs and batch norm (DCGAN, official code); its features feed the real/fake logit and Q's code
    parameters (FC 128, then the means, then the log-variances when the variance is learned)."""

    def __init__(self, image_shape, code_outputs: int):
        super().__init__()
        nets.check_conv_shape(image_shape)
        layers, width = [nn.Conv2d(image_shape[0], 32, 4, 2, 1), nn.LeakyReLU(LEAK)], 32
        for out in (32, 64, 64):
            layers += [nn.Conv2d(width, out, 4, 2, 1), nn.BatchNorm2d(out), nn.LeakyReLU(LEAK)]
            width = out
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 256), nn.BatchNorm1d(256),
                                  nn.LeakyReLU(LEAK))
        self.real_fake = nn.Linear(256, 1)
        self.code = nn.Sequential(nn.Linear(256, 128), nn.LeakyReLU(LEAK), nn.Linear(128, code_outputs))

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


@torch.no_grad()
def fake_diversity(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Per-pixel standard deviation over the batch, averaged over pixels, of fake relative to real."""
    def spread(images):
        return images.float().flatten(1).std(dim=0).mean()
    return (spread(fake) / spread(real).clamp_min(1e-8)).item()


class InfoGAN(Method):
    """InfoGAN: a GAN whose codes are made recoverable from the image by a Q head (Chen et al.)."""

    Params = InfoGANParams

    def __init__(self, params: InfoGANParams, image_shape, policy, seed: int):
        super().__init__(params, image_shape, policy, seed)
        code_outputs = params.code_dim * (2 if params.code_variance == "learned" else 1)
        self.image_generator = policy.prepare_module(generator_network(image_shape, params.noise_dim + params.code_dim))
        self.discriminator = policy.prepare_module(DiscriminatorWithCodeHead(image_shape, code_outputs))
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
        training = self.image_generator.training
        self.image_generator.eval()
        try:
            return self.generate(torch.zeros(len(z), self.params.noise_dim, device=z.device), z.float())
        finally:
            self.image_generator.train(training)

    def train_step(self, batch: Batch) -> dict[str, float]:
        p = self.params
        learned_variance = p.code_variance == "learned"
        real = batch.x
        codes = self.uniform(len(real), p.code_dim)
        fake = self.generate(self.uniform(len(real), p.noise_dim), codes)

        real_logit, _ = self.discriminator(real)
        fake_logit, prediction = self.discriminator(fake.detach())
        d_gan = (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
                 + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))
        mi_loss = -mutual_information_bound(codes, prediction, learned_variance)
        d_loss = d_gan + p.mi_weight * mi_loss
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()

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
        d_has_won = d_real > D_WIN_PROBABILITY and d_fake < 1 - D_WIN_PROBABILITY
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "mi_loss": mi_loss.item(),
                "d_real": d_real, "d_fake": d_fake, "fake_diversity": diversity,
                "collapsed": float(diversity < MIN_FAKE_DIVERSITY or d_has_won)}
