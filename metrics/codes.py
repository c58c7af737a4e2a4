"""Encode-once representation table shared by all metrics of one model (DESIGN.md).

A Representation maps dataset indices to codes. Each index is encoded at most once; later
requests for it are table look-ups, so several metrics over one model pay for encoding once.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

CHUNK = 16_384


class Representation:
    def __init__(self, codes_of: Callable[[np.ndarray], np.ndarray], dataset, progress: bool = True):
        self.codes_of = codes_of
        self.dataset = dataset
        self.progress = progress
        self.table: np.ndarray | None = None          # (len(dataset), D) once the width is known
        self.known = np.zeros(len(dataset), dtype=bool)
        self.encoded = 0
        self.encode_seconds = 0.0

    @classmethod
    def from_method(cls, method, dataset, progress: bool = True) -> "Representation":
        return cls(lambda indices: method.codes_of(indices, dataset), dataset, progress)

    @classmethod
    def from_image_fn(cls, representation_fn, dataset, progress: bool = True) -> "Representation":
        """`representation_fn` takes uint8 images (n, C, H, W) and returns (n, D) codes."""
        return cls(lambda indices: representation_fn(dataset.images(indices)), dataset, progress)

    def __call__(self, indices) -> np.ndarray:
        """Codes of the images at `indices` (any shape of int array): indices.shape + (D,)."""
        indices = np.asarray(indices, dtype=np.int64)
        missing = np.unique(indices[~self.known[indices]])
        if len(missing):
            self._encode(missing)
        return self.table[indices]

    def _encode(self, missing: np.ndarray) -> None:
        start = time.perf_counter()
        chunks = range(0, len(missing), CHUNK)
        bar = tqdm(total=len(missing), desc="encoding", unit="img", leave=False,
                   disable=not self.progress or len(missing) < 4 * CHUNK)
        for offset in chunks:
            part = missing[offset:offset + CHUNK]
            codes = np.asarray(self.codes_of(part), dtype=np.float32).reshape(len(part), -1)
            if self.table is None:
                self.table = np.zeros((len(self.dataset), codes.shape[1]), dtype=np.float32)
            self.table[part] = codes
            self.known[part] = True
            bar.update(len(part))
        bar.close()
        self.encoded += len(missing)
        self.encode_seconds += time.perf_counter() - start
