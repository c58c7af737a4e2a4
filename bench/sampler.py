"""Training batches drawn by a method's batch_kind: iid, or one factor varying (DC-IGN)."""
from __future__ import annotations

import numpy as np
import torch

from methods.base import Batch

BATCH_KINDS = ("iid", "one_factor_varying")


class BatchSampler:
    """Draws batches from `dataset` with its own numpy Generator, whose state is checkpointed."""

    def __init__(self, dataset, batch_kind: str, batch_size: int, rng: np.random.Generator, policy):
        if batch_kind not in BATCH_KINDS:
            raise ValueError(f"batch_kind {batch_kind!r} is not one of {BATCH_KINDS}")
        self.dataset, self.batch_kind, self.batch_size = dataset, batch_kind, batch_size
        self.rng, self.policy = rng, policy

    def next(self) -> Batch:
        varying = None
        if self.batch_kind == "iid":
            factors = self.dataset.sample_factors(self.batch_size, self.rng)
        else:
            varying = int(self.rng.integers(self.dataset.num_factors))
            factors = self.dataset.one_factor_varying(varying, self.batch_size, self.rng)
        images = torch.from_numpy(self.dataset.images(self.dataset.index_of(factors)))
        return Batch(self.policy.prepare_images(images), factors, varying)

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state
