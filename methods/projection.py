"""PCA and ICA baselines of the paper's table (Higgins et al. 2017, Figure 6: PCA 84.9%, ICA
42.03%, 10 components each): scikit-learn PCA and FastICA fitted on a sample of flattened images.

Both are affine maps code = W (x - mean), kept as a torch Linear layer so that encode runs on the
device and the fitted state travels with state_dict. fit draws its sample and its solvers' seeds
from the rng it is given, so the run's seed fixes the result (bench/running/execute.py refits in a
new process). ICA whitens with a randomized PCA to n_components, then runs FastICA (whiten=False)
on the whitened data: the same PCA whitening FastICA does itself, but FastICA's full SVD of
10,000 x 4,096 pixels takes about 2 minutes on 2 cores where the randomized one takes about 2
seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.decomposition import PCA, FastICA
from torch import nn

from bench.errors import UserError
from methods.base import Method, Params


@dataclass
class ProjectionParams(Params):
    """10 components as in the paper; the sample size is not published (all images if the
    dataset has fewer)."""
    n_components: int = 10
    sample_size: int = 10_000

    def __post_init__(self):
        if self.n_components < 1 or self.sample_size < self.n_components:
            raise UserError(f"need n_components >= 1 and sample_size >= n_components, not "
                            f"{self.n_components} and {self.sample_size}")


class LinearProjection(Method):
    """A linear map of the flattened image fitted by a scikit-learn decomposition."""

    Params = ProjectionParams
    trainable = False

    def __init__(self, params: ProjectionParams, image_shape, policy, seed: int):
        super().__init__(params, image_shape, policy, seed)
        self.projection = policy.prepare_module(nn.Linear(math.prod(image_shape), params.n_components))

    def modules(self):
        return {"projection": self.projection}

    def unmixing(self, images: np.ndarray, random_state: int) -> tuple[np.ndarray, np.ndarray]:
        """(W, mean) fitted on images (n, pixels)."""
        raise NotImplementedError

    def fit(self, dataset, rng: np.random.Generator) -> None:
        size = min(self.params.sample_size, len(dataset))
        indices = np.sort(rng.choice(len(dataset), size=size, replace=False))
        images = dataset.images(indices).reshape(size, -1).astype(np.float32) / 255.0
        weight, mean = self.unmixing(images, int(rng.integers(2**31)))
        weight = torch.as_tensor(weight, dtype=torch.float32)
        with torch.no_grad():
            self.projection.weight.copy_(weight)
            self.projection.bias.copy_(-weight @ torch.as_tensor(mean, dtype=torch.float32))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(x.float().flatten(1))


class PCAProjection(LinearProjection):
    """PCA (scikit-learn, randomized SVD): the projection on the top n_components directions."""

    def unmixing(self, images, random_state):
        pca = PCA(self.params.n_components, svd_solver="randomized", random_state=random_state).fit(images)
        return pca.components_, pca.mean_


class ICAProjection(LinearProjection):
    """FastICA (scikit-learn, logcosh, parallel) on the PCA-whitened images: n_components sources."""

    def unmixing(self, images, random_state):
        pca = PCA(self.params.n_components, whiten=True, svd_solver="randomized",
                  random_state=random_state).fit(images)
        ica = FastICA(whiten=False, random_state=random_state).fit(pca.transform(images))
        whitening = pca.components_ / np.sqrt(pca.explained_variance_)[:, None]
        return ica.components_ @ whitening, pca.mean_
