"""An untrained encoder as a representation: the "VAE untrained" row of the paper's table
(Higgins et al. 2017, Figure 6: 44.14%). It is the beta-VAE encoder (methods/vae.py) at its
random initialisation with the run's seed, the same weights beta_vae starts from at that seed;
the code is the posterior mean."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from methods import nets
from methods.base import Method, Params


@dataclass
class UntrainedParams(Params):
    """The beta-VAE's defaults: 10 latents, conv encoder."""
    latent_dim: int = 10
    architecture: Literal["conv", "fc"] = "conv"


class Untrained(Method):
    """The beta-VAE encoder at random initialisation; the code is the posterior mean."""

    Params = UntrainedParams
    trainable = False

    def __init__(self, params: UntrainedParams, image_shape, policy, seed: int):
        super().__init__(params, image_shape, policy, seed)
        self.encoder = policy.prepare_module(nets.encoder(params.architecture, image_shape, 2 * params.latent_dim))

    def modules(self):
        return {"encoder": self.encoder}

    def fit(self, dataset, rng: np.random.Generator) -> None:
        """Nothing to fit: the weights stay at their initialisation."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x).float()[:, :self.params.latent_dim]
