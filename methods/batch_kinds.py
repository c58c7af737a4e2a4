"""The kinds of training batch a method declares (`Method.batch_kind`, docs/design.md "Method"),
and how each draws its factor classes from a ground-truth dataset; bench/running/sampler.py turns
the draws into images.

- IID: factor classes drawn independently and uniformly (the unsupervised methods).
- ONE_FACTOR_VARYING: one factor, drawn per batch, varies; the others are fixed (DC-IGN).
- PairsDiffering(k): pairs of images whose factors differ in k factors, or with k = 0 in a number
  drawn per pair (the weak methods, Locatello et al. 2020). A batch of `size` images holds
  size / 2 pairs: the first images of all pairs, then their second images, in the same order.

A kind is a frozen value that holds its settings; a method whose kind depends on its parameters
builds it in `Method.batch_kind_of(params)`. `check(dataset, method)` raises a UserError where the
dataset cannot give such batches; bench/running/sweep_entry.py calls it before any training.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from bench.errors import UserError


@dataclass(frozen=True)
class BatchKind:
    name: ClassVar[str]

    def draw(self, dataset, size: int, rng: np.random.Generator) -> tuple[np.ndarray, int | None]:
        """The factor classes of one batch of `size` images (size, K), and the varying factor or None."""
        raise NotImplementedError

    def check(self, dataset, method: str) -> None:
        """A UserError naming `method` where `dataset` cannot give batches of this kind."""

    def describe(self) -> str:
        """One line for `bench list`."""
        raise NotImplementedError


def needs_factors(dataset, method: str, what: str) -> None:
    if not dataset.has_factors:
        raise UserError(f"method {method} trains on {what}, which needs ground-truth factors; "
                        f"{dataset.name} has none")


@dataclass(frozen=True)
class IIDBatches(BatchKind):
    name = "iid"

    def draw(self, dataset, size, rng):
        return dataset.sample_factors(size, rng), None

    def describe(self) -> str:
        return "i.i.d. images"


@dataclass(frozen=True)
class OneFactorVarying(BatchKind):
    """`num_factors`: the factor count the method was built for (DC-IGN's latent blocks), checked
    against the dataset before training; None: any."""
    name = "one_factor_varying"
    num_factors: int | None = None

    def draw(self, dataset, size, rng):
        varying = int(rng.integers(dataset.num_factors))
        return dataset.one_factor_varying(varying, size, rng), varying

    def check(self, dataset, method):
        needs_factors(dataset, method, "batches in which one factor varies")
        if self.num_factors is not None and self.num_factors != dataset.num_factors:
            raise UserError(f"{method}.num_factors is {self.num_factors} but the dataset has "
                            f"{dataset.num_factors} factors; set --set {method}.num_factors={dataset.num_factors}")

    def describe(self) -> str:
        return "one factor, drawn per batch, varies; the others are fixed"


def most_changed(dataset) -> int:
    """How many factors a pair can differ in: those with more than one value, less one that is
    always shared (the paper's pairs share at least one factor)."""
    changeable = sum(size > 1 for size in dataset.factor_sizes)
    return min(changeable, dataset.num_factors - 1)


@dataclass(frozen=True)
class PairsDiffering(BatchKind):
    """Pairs (x1, x2) whose factor vectors differ in exactly k factors (GroundTruthData.pairs_differing:
    the changed factors uniform without replacement, each given one of its other values uniformly).

    k = 0 draws k per pair as disentanglement_lib's `simple_dynamics` with k = -1 does (the
    paper's "k = Rnd"): k' uniform in 1 .. K - 1, then k = 1 or k' with probability 1/2 each, so
    P(k = 1) = 1/2 + 1/(2(K - 1)). A fixed k >= 1 changes exactly k factors in every pair (that
    code changes 1 or k factors, with probability 1/2 each, and can redraw a factor's own value)."""
    k: int = 0
    name = "pairs"

    def counts(self, n: int, most: int, rng: np.random.Generator) -> np.ndarray:
        """How many factors each of n pairs differs in."""
        if self.k:
            return np.full(n, self.k, dtype=np.int64)
        drawn = rng.integers(1, most + 1, size=n)
        return np.where(rng.random(n) < 0.5, 1, drawn)

    def draw(self, dataset, size, rng):
        first, second = dataset.pairs_differing(self.counts(size // 2, most_changed(dataset), rng), rng)
        return np.concatenate([first, second]), None

    def check(self, dataset, method):
        needs_factors(dataset, method, "pairs of images that share factors")
        most = most_changed(dataset)
        if most < 1:
            raise UserError(f"method {method} needs pairs that differ in one factor and share another; "
                            f"{dataset.name}'s factors ({', '.join(map(str, dataset.factor_sizes))} values) allow none")
        if self.k > most:
            raise UserError(f"{method}.k = {self.k}: pairs of {dataset.name} differ in at most {most} of its "
                            f"{dataset.num_factors} factors (one at least is shared); valid: 0 (drawn per pair) "
                            f"or 1 to {most}")

    def describe(self) -> str:
        pairs = "pairs of images (batch_size counts both) whose factors differ in"
        if self.k:
            return f"{pairs} exactly {self.k} factor{'s' * (self.k > 1)} (the parameter k), the others shared"
        return (f"{pairs} k factors, the others shared; k = 0 (the parameter's default) draws k per pair: "
                f"1, or uniform in 1..K-1, with probability 1/2 each")


IID = IIDBatches()
ONE_FACTOR_VARYING = OneFactorVarying()
