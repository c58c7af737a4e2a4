"""The Method contract every representation learner implements (docs/design.md, "Method")."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from bench import settings
from bench.device import ComputePolicy
from methods.batch_kinds import IID, BatchKind

ENCODE_BATCH = 1024


@dataclass
class Batch:
    """One training batch: images on the device as float in [0, 1], their factor classes, and
    for one-factor-varying batches the index of the factor that varies. A batch of pairs holds the
    pairs' first images, then their second images (methods/batch_kinds.py)."""
    x: torch.Tensor
    factors: np.ndarray
    varying_factor: int | None = None


@dataclass
class Params:
    """Hyperparameters common to every method; subclasses add theirs (defaults = the paper's).

    build_params checks every value (bench/settings.py): each int parameter is a size or a count and
    must be at least 1 (at least 0 for those a subclass lists in `may_be_zero`), each learning rate
    (`lr`, `*_lr`) above 0, and every number finite. A subclass's __post_init__ adds its own rules.
    """
    batch_size: int = 64
    may_be_zero: ClassVar[tuple[str, ...]] = ()
    # Parameters added after runs were recorded, with the value that computes what those runs
    # computed: at that value they stay out of a run's identity, so older runs keep their ids.
    identity_defaults: ClassVar[dict[str, object]] = {}


class Method:
    """A representation learner trained by the common runner.

    `batch_kind`: the batches it trains on (methods/batch_kinds.py: i.i.d., one factor varying,
    pairs); a method whose kind depends on its parameters builds it in `batch_kind_of(params)`,
    and an instance holds its own (`self.batch_kind`).
    `needs_factors`: the method reads the ground-truth factors (batches of one varying factor or of
    pairs, or the factors themselves), so it cannot train on a dataset without them (an image folder).

    Trainable methods implement `train_step`; fitted baselines set `trainable = False` and
    implement `fit`. Every method implements `encode` (the deterministic representation).

    What else a method may offer is declared here, off by default; a method that sets a flag
    implements the method it names: `can_decode`, `decode(z)`, images from codes (traversals and
    reconstructions); `can_sample`, `sample(n, generator)`, images from random codes (a GAN's
    samples, drawn instead of reconstructions); `has_posterior`, `posterior(x)`, the means and
    log-variances of a diagonal Gaussian q(z|x) (UDR counts a latent as informative by its KL).
    `traversal_range` r: a latent traversal sweeps each latent from -r to r. `progress_keys`: the
    keys of train_step's dict that the progress bar shows (the method's headline losses).
    """

    Params = Params
    batch_kind: BatchKind = IID
    trainable = True
    needs_factors = False
    can_decode = False
    can_sample = False
    has_posterior = False
    traversal_range = 3.0
    progress_keys: tuple[str, ...] = ("loss",)

    def __init__(self, params: Params, image_shape, policy: ComputePolicy, seed: int):
        self.params = params
        self.image_shape = tuple(image_shape)
        self.policy = policy
        self.seed = seed
        self.step = 0
        self.batch_kind = self.batch_kind_of(params)
        torch.manual_seed(seed)              # initial weights depend on the run's seed only
        self.generator = torch.Generator(policy.device).manual_seed(seed)

    @classmethod
    def batch_kind_of(cls, params: Params) -> BatchKind:
        """The batches a method with `params` trains on: `batch_kind`, unless it depends on them."""
        return cls.batch_kind

    def train_step(self, batch: Batch) -> dict[str, float]:
        raise NotImplementedError(f"{type(self).__name__} is not trained by gradient steps")

    def fit(self, dataset, rng: np.random.Generator) -> None:
        raise NotImplementedError(f"{type(self).__name__} is trained by gradient steps, not fit")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The representation of images x (float in [0, 1], on the device): (n, D)."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (pixel means in [0, 1]) of codes z; where `can_decode`."""
        raise NotImplementedError(f"{type(self).__name__} has no decoder (can_decode is False)")

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n images (pixel means in [0, 1]) from random codes drawn with `generator`; where `can_sample`."""
        raise NotImplementedError(f"{type(self).__name__} draws no samples (can_sample is False)")

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(means, log-variances) of q(z|x) for images x, each (n, latent_dim); where `has_posterior`."""
        raise NotImplementedError(f"{type(self).__name__} has no Gaussian posterior (has_posterior is False)")

    def training_health(self, log) -> dict[str, float]:
        """`health.*` scores read from the run's log.csv (a DataFrame); {} for methods whose loss
        tells how training went (GANs override it: methods/gan_health.py)."""
        return {}

    def modules(self) -> dict[str, torch.nn.Module]:
        """The networks whose weights make up the model (for state_dict and eval mode)."""
        return {}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {}

    def codes_of(self, indices: np.ndarray, dataset) -> np.ndarray:
        """Representation of the dataset's images at `indices`, read and encoded in batches: (n, D)."""
        chunks = [self.codes_of_images(dataset.images(indices[start:start + ENCODE_BATCH]))
                  for start in range(0, len(indices), ENCODE_BATCH)]
        return np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)

    @torch.no_grad()
    def codes_of_images(self, images: np.ndarray) -> np.ndarray:
        """Representation of uint8 images (n, C, H, W), encoded in batches in eval mode: (n, D)."""
        was_training = {name: module.training for name, module in self.modules().items()}
        for module in self.modules().values():
            module.eval()
        chunks = []
        for start in range(0, len(images), ENCODE_BATCH):
            batch = torch.from_numpy(np.ascontiguousarray(images[start:start + ENCODE_BATCH]))
            with self.policy.autocast():
                chunks.append(self.encode(self.policy.prepare_images(batch)).float().cpu().numpy())
        for name, module in self.modules().items():
            module.train(was_training[name])
        return np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)

    def state_dict(self) -> dict:
        """Everything needed to continue training exactly: weights, optimisers, step, RNG."""
        return {"step": self.step, "generator": self.generator.get_state(),
                "modules": {k: m.state_dict() for k, m in self.modules().items()},
                "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()}}

    def load_state_dict(self, state: dict) -> None:
        self.step = state["step"]
        self.generator.set_state(state["generator"])
        for key, module in self.modules().items():
            module.load_state_dict(state["modules"][key])
        for key, optimizer in self.optimizers().items():
            optimizer.load_state_dict(state["optimizers"][key])


def build_params(method_name: str, params_class, overrides: dict):
    """The method's Params with `overrides` (name -> value or command-line text) applied, through
    the one validator of typed settings (bench/settings.py): each value read as its field's type,
    then the rules of Params' docstring."""
    return settings.build(params_class, overrides, method_name, f"parameter of {method_name}",
                          params_class.may_be_zero, text_allowed=True)
