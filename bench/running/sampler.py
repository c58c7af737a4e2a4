"""Training batches drawn by a method's batch_kind (methods/batch_kinds.py: iid, one factor
varying for DC-IGN, pairs for the weak methods): the kind draws the factor classes, the sampler
reads their images.

Where the images come from is the sampler's business, not the runner's:
- on CUDA, a bit-packed dataset (`packed`, GroundTruthData; dSprites: 360 MB) is copied to the GPU
  once and each batch is gathered and unpacked there (`ResidentImages`), so a step sends 64
  indices, not 64 images;
- on the CPU, a bit-packed dataset unpacks straight to float32 in numpy (`float_images`), one
  table look-up per byte, instead of uint8 0/255 and a division in torch;
- any other dataset goes through `images()` (uint8) and `policy.prepare_images`.
The batches are the same in every case (tests/test_speed.py); only their cost differs.
"""
from __future__ import annotations

import weakref

import numpy as np
import torch

from methods.base import Batch
from methods.batch_kinds import BatchKind


class ResidentImages:
    """A bit-packed image array (N, H, W / 8) uint8 held on `device`; calling it with indices
    returns those images unpacked on the device as float 0.0 / 1.0, shape (n, 1, H, W)."""

    def __init__(self, packed: np.ndarray, device: torch.device):
        self.device = torch.device(device)
        self.packed = torch.from_numpy(np.ascontiguousarray(packed)).to(self.device)
        self.shifts = torch.arange(7, -1, -1, dtype=torch.uint8, device=self.device)  # MSB first

    def __call__(self, indices: np.ndarray) -> torch.Tensor:
        index = torch.from_numpy(np.asarray(indices, dtype=np.int64)).to(self.device)  # n x 8 bytes
        rows = self.packed[index]                                                     # (n, H, W/8)
        bits = (rows.unsqueeze(-1) >> self.shifts) & 1                               # (n, H, W/8, 8)
        return bits.reshape(len(rows), 1, rows.shape[1], -1).float()


_RESIDENT: "weakref.WeakKeyDictionary[object, dict[str, ResidentImages]]" = weakref.WeakKeyDictionary()


def resident_images(dataset, device: torch.device) -> ResidentImages:
    """The dataset's packed images on `device`, copied there once per dataset and device."""
    per_device = _RESIDENT.setdefault(dataset, {})
    key = str(torch.device(device))
    if key not in per_device:
        per_device[key] = ResidentImages(dataset.packed, device)
    return per_device[key]


def batch_images(dataset, indices: np.ndarray, policy, resident: ResidentImages | None = None) -> torch.Tensor:
    """Images at `indices` on the policy's device as float in [0, 1], in its memory format."""
    if resident is not None:
        images = resident(indices)
    elif dataset.packed is not None:
        images = torch.from_numpy(dataset.float_images(indices))
    else:
        images = torch.from_numpy(dataset.images(indices))
    return policy.prepare_images(images)


class BatchSampler:
    """Draws batches from `dataset` with its own numpy Generator, whose state is checkpointed.

    `resident`: keep the images on the device and unpack batches there; None (default) does so
    on CUDA for bit-packed datasets. The draws, and so the batches, are the same either way.
    """

    def __init__(self, dataset, batch_kind: BatchKind, batch_size: int, rng: np.random.Generator, policy,
                 resident: bool | None = None):
        if not isinstance(batch_kind, BatchKind):
            raise TypeError(f"batch_kind {batch_kind!r} is not a BatchKind (methods/batch_kinds.py)")
        self.dataset, self.batch_kind, self.batch_size = dataset, batch_kind, batch_size
        self.rng, self.policy = rng, policy
        if resident is None:
            resident = policy.device.type == "cuda" and dataset.packed is not None
        self.resident = resident_images(dataset, policy.device) if resident else None

    def draw(self) -> tuple[np.ndarray, np.ndarray, int | None]:
        """The next batch's (flat indices, factor classes, varying factor or None)."""
        factors, varying = self.batch_kind.draw(self.dataset, self.batch_size, self.rng)
        return self.dataset.index_of(factors), factors, varying

    def next(self) -> Batch:
        indices, factors, varying = self.draw()
        return Batch(batch_images(self.dataset, indices, self.policy, self.resident), factors, varying)

    def state(self) -> dict:
        """The generator's state as plain values (numpy's state dict: its name, ints and dicts),
        so that a checkpoint holding it loads as weights only (bench/running/runner.py)."""
        return plain(self.rng.bit_generator.state)

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = plain(state)


def plain(value):
    """`value` with numpy scalars and arrays turned into Python ints, floats and lists, dicts and
    lists copied: what torch.load(weights_only=True) accepts."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
