"""Shared networks for 64 x 64 images, so methods compare on one architecture (docs/paper.md section 4).

- "fc": the paper's dSprites model (Higgins et al. 2017, Table 1 row 1): encoder 4096-1200-1200
  (ReLU), decoder latent-1200-1200-1200 (tanh)-4096.
- "conv": Burgess et al. (2018) / disentanglement_lib conv_encoder and deconv_decoder: 4 conv
  layers 32-32-64-64, kernel 4, stride 2, FC 256; a mirrored transposed-conv decoder.
Encoders output 2 x latent_dim numbers (mean and log-variance, or any two heads); decoders output
logits of the same shape as the image.
"""
from __future__ import annotations

import math

from torch import nn

from bench.errors import unknown

ARCHITECTURES = ("conv", "fc")


def fc_encoder(image_shape, outputs: int) -> nn.Module:
    pixels = math.prod(image_shape)
    return nn.Sequential(nn.Flatten(), nn.Linear(pixels, 1200), nn.ReLU(),
                         nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, outputs))


def fc_decoder(image_shape, latent_dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(latent_dim, 1200), nn.Tanh(), nn.Linear(1200, 1200), nn.Tanh(),
                         nn.Linear(1200, 1200), nn.Tanh(), nn.Linear(1200, math.prod(image_shape)),
                         nn.Unflatten(1, tuple(image_shape)))


def conv_body(channels: int) -> nn.Module:
    """64x64xC -> 1024 features: the conv stack shared by conv encoders and GAN discriminators."""
    layers, width = [], channels
    for out in (32, 32, 64, 64):
        layers += [nn.Conv2d(width, out, 4, 2, 1), nn.ReLU()]
        width = out
    return nn.Sequential(*layers, nn.Flatten())


def conv_encoder(image_shape, outputs: int) -> nn.Module:
    check_conv_shape(image_shape)
    return nn.Sequential(conv_body(image_shape[0]), nn.Linear(64 * 4 * 4, 256), nn.ReLU(),
                         nn.Linear(256, outputs))


def conv_decoder(image_shape, latent_dim: int) -> nn.Module:
    check_conv_shape(image_shape)
    return nn.Sequential(
        nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 64 * 4 * 4), nn.ReLU(),
        nn.Unflatten(1, (64, 4, 4)),
        nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, image_shape[0], 4, 2, 1))


def check_conv_shape(image_shape) -> None:
    if tuple(image_shape[1:]) != (64, 64):
        raise ValueError(f"the conv networks take 64x64 images, not {tuple(image_shape)}")


def encoder(architecture: str, image_shape, outputs: int) -> nn.Module:
    if architecture not in ARCHITECTURES:
        raise unknown("architecture", architecture, ARCHITECTURES)
    return (conv_encoder if architecture == "conv" else fc_encoder)(image_shape, outputs)


def decoder(architecture: str, image_shape, latent_dim: int) -> nn.Module:
    if architecture not in ARCHITECTURES:
        raise unknown("architecture", architecture, ARCHITECTURES)
    return (conv_decoder if architecture == "conv" else fc_decoder)(image_shape, latent_dim)
