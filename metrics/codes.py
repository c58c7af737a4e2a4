"""Encode-once representation table shared by all metrics of one model (docs/design.md).

A Representation maps dataset indices to codes. Each index is encoded at most once; later
requests for it are table look-ups, so several metrics over one model pay for encoding once.
A representation too wide to tabulate for the whole dataset (raw pixels: 4,096 floats per image)
is computed on request instead, since its "encoding" is only reading the image.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from bench.errors import UserError

CHUNK = 16_384
TABLE_BYTES_LIMIT = 1 << 30


class Representation:
    def __init__(self, codes_of: Callable[[np.ndarray], np.ndarray], dataset, progress: bool = True):
        self.codes_of = codes_of
        self.dataset = dataset
        self.progress = progress
        self.table: np.ndarray | None = None          # (len(dataset), D) once the width is known
        self.known = np.zeros(len(dataset), dtype=bool)
        self.tabulated = True
        self.encoded = 0
        self.encode_seconds = 0.0
        self.first_code: np.ndarray | None = None     # to tell a constant code (see `constant`)
        self.varies = False

    @property
    def constant(self) -> bool:
        """Whether every image encoded so far (at least two) got the same code."""
        return self.encoded > 1 and not self.varies

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
        if self.tabulated:
            missing = np.unique(indices[~self.known[indices]])
            codes = self._encode(missing) if len(missing) else None
            if self.tabulated:
                return self.table[indices]
            # This first request found the codes too wide to tabulate; it had to encode them all.
            return codes[np.searchsorted(missing, indices)]
        unique, inverse = np.unique(indices, return_inverse=True)
        return self._encode(unique)[inverse.reshape(indices.shape)]

    def _encode(self, indices: np.ndarray) -> np.ndarray:
        """Codes of sorted unique `indices`, stored in the table when it is affordable."""
        start = time.perf_counter()
        bar = tqdm(total=len(indices), desc="encoding", unit="img", leave=False,
                   disable=not self.progress or len(indices) < 4 * CHUNK)
        parts = []
        for offset in range(0, len(indices), CHUNK):
            part = indices[offset:offset + CHUNK]
            codes = self.checked(self.codes_of(part), len(part))
            if self.table is None and self.tabulated:
                if len(self.dataset) * codes.shape[1] * 4 > TABLE_BYTES_LIMIT:
                    self.tabulated = False
                else:
                    self.table = np.zeros((len(self.dataset), codes.shape[1]), dtype=np.float32)
            if self.tabulated:
                self.table[part] = codes
                self.known[part] = True
            else:
                parts.append(codes)
            bar.update(len(part))
        bar.close()
        self.encoded += len(indices)
        self.encode_seconds += time.perf_counter() - start
        return np.concatenate(parts) if parts else self.table[indices]

    def checked(self, output, rows: int) -> np.ndarray:
        """The codes of `rows` images as float32 (rows, D), or a UserError saying what is wrong
        with them: another number of rows, another number of dimensions (nothing is reshaped:
        a flat (2 * rows,) vector is not read as rows of 2), NaN or inf."""
        try:
            codes = np.asarray(output, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise UserError(f"the representation returned {type(output).__name__}, not numbers "
                            f"({error}); expected an array of shape ({rows}, D)") from None
        if codes.ndim != 2 or codes.shape[0] != rows or codes.shape[1] == 0:
            raise UserError(f"the representation returned shape {codes.shape} for {rows} images; expected "
                            f"({rows}, D): one row of D >= 1 numbers per image")
        finite = np.isfinite(codes)
        if not finite.all():
            row, column = np.argwhere(~finite)[0]
            raise UserError(f"the representation returned {codes[row, column]} (image {row} of {rows}, "
                            f"dimension {column}); codes must be finite numbers")
        if not self.varies:
            if self.first_code is None:
                self.first_code = codes[0].copy()
            self.varies = bool((codes != self.first_code).any())
        return codes
