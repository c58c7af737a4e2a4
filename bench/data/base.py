"""The GroundTruthData contract: images whose generative factors are known (docs/design.md)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The 8 pixels (float32 0.0 / 1.0, most significant bit first, as np.unpackbits) of each byte value.
BYTE_TO_PIXELS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)


@dataclass(frozen=True)
class DataSource:
    """Where a dataset's images come from: rendered procedurally (`path` None), or read from a
    file, named by its absolute path and the sha256 of its bytes. Part of a run's identity
    (bench/running/spec.py) and of its spec.json, so that runs on different data never mix."""
    path: str | None = None
    sha256: str | None = None

    @property
    def procedural(self) -> bool:
        return self.path is None

    def identity(self) -> dict | None:
        """What of the source changes a run's numbers: the file's content, not where it lies."""
        return None if self.procedural else {"source": "file", "sha256": self.sha256}

    def to_json(self) -> dict:
        return {"source": "procedural"} if self.procedural else \
            {"source": "file", "path": self.path, "sha256": self.sha256}

    @classmethod
    def from_json(cls, value) -> "DataSource":
        """The source that spec.json's "data" entry (`to_json`) names: a file's, else the procedural
        data (a spec.json without the entry: bench/running/legacy.py)."""
        if not isinstance(value, dict) or value.get("source", "procedural") == "procedural":
            return PROCEDURAL
        return cls(str(value.get("path", "")), value.get("sha256"))


PROCEDURAL = DataSource()


class GroundTruthData:
    """A dataset holding one image for every combination of discrete factor classes.

    Subclasses set `name`, `factor_names`, `factor_sizes`, `image_shape` and implement
    `images(indices)` (uint8, 0 = black, 255 = white, shape (n, C, H, W)) and `factor_values`.
    Flat indices follow the row-major order of `factor_sizes`: the last factor varies fastest.
    `images(indices)` must return the same pixels for the same indices every time (docs/datasets.md).

    `likelihood` is the pixel model the VAE family uses by default on the dataset (its
    `likelihood = "auto"`): "bernoulli" for binary pixels, "gaussian" for grey levels and colour.
    `has_factors` is False for image collections without ground truth (a folder of images): they
    train any method that needs no factors, and metrics that need factors are skipped.
    `categorical_factors` names the factors whose classes have no order (dSprites' shape): a
    metric that regresses ordered factors classifies these instead (DCI-ES's probes).

    A capability a dataset may offer, declared here (None: it does not): `packed`, its images
    bit-packed, (N, H, W / 8) uint8 of one channel of 0/1 pixels, most significant bit first
    (dSprites keeps them so). A packed dataset gets `float_images`, which training uses on the CPU,
    and a CUDA sampler keeps `packed` on the GPU and unpacks each batch there
    (bench/running/sampler.py).
    """

    name: str
    source: DataSource = PROCEDURAL          # set by bench.data.load_source
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]
    image_shape: tuple[int, int, int]
    likelihood: str = "gaussian"
    has_factors: bool = True
    categorical_factors: tuple[str, ...] = ()
    packed: np.ndarray | None = None

    def method_defaults(self) -> dict[str, str]:
        """Values that a method's "auto" parameters take on this dataset (methods.create)."""
        return {"likelihood": self.likelihood}

    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes))

    @property
    def bases(self) -> np.ndarray:
        """Index weight of each factor: index = classes . bases."""
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    def index_of(self, factors: np.ndarray) -> np.ndarray:
        """Flat indices of factor class vectors, shape (n, K) -> (n,)."""
        return np.asarray(factors, dtype=np.int64) @ self.bases

    def factors_of(self, indices: np.ndarray) -> np.ndarray:
        """Factor class vectors of flat indices, shape (n,) -> (n, K)."""
        indices = np.asarray(indices, dtype=np.int64)
        return (indices[:, None] // self.bases) % np.asarray(self.factor_sizes)

    def images(self, indices: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def float_images(self, indices) -> np.ndarray:
        """images(indices) / 255 as float32 (n, 1, H, W), exactly, for a dataset with `packed`: each
        packed byte is looked up as its 8 pixels, one step and no uint8 intermediate (about 4x
        faster per batch than images())."""
        rows = self.packed[np.asarray(indices)]
        return np.take(BYTE_TO_PIXELS, rows, axis=0).reshape(len(rows), *self.image_shape)

    def factor_values(self, indices: np.ndarray) -> np.ndarray:
        """Real-valued factors of the images; by default the class indices as floats."""
        return self.factors_of(indices).astype(np.float64)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n factor class vectors drawn independently and uniformly, shape (n, K)."""
        return rng.integers(0, self.factor_sizes, size=(n, self.num_factors))

    def one_factor_varying(self, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """n factor vectors that share every factor but k; factor k is drawn uniformly (DC-IGN)."""
        factors = np.repeat(self.sample_factors(1, rng), n, axis=0)
        factors[:, k] = rng.integers(0, self.factor_sizes[k], size=n)
        return factors

    def pairs_differing(self, counts: np.ndarray, rng: np.random.Generator):
        """Two arrays of factor vectors, pair i differing in exactly counts[i] factors (the weak
        methods' pairs: Locatello et al. 2020, section 5): the first vector is drawn i.i.d.; the
        changed factors are drawn uniformly without replacement among the factors with more than
        one value, and each takes one of its other values, uniformly."""
        counts = np.asarray(counts, dtype=np.int64)
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        changeable = np.flatnonzero(sizes > 1)
        if counts.size and (counts.min() < 0 or counts.max() > len(changeable)):
            raise ValueError(f"a pair can differ in 0 to {len(changeable)} factors, not {counts.min()} to {counts.max()}")
        first = self.sample_factors(len(counts), rng)
        ranks = np.argsort(np.argsort(rng.random((len(counts), len(changeable))), axis=1), axis=1)
        changed = np.zeros(first.shape, dtype=bool)
        changed[:, changeable] = ranks < counts[:, None]       # a uniform subset of counts[i] factors
        shifts = 1 + rng.integers(0, np.maximum(sizes - 1, 1), size=first.shape)   # 1 .. size - 1
        second = np.where(changed, (first + shifts) % sizes, first)
        return first, second

    def pairs_sharing_factor(self, k, n: int, rng: np.random.Generator):
        """Two arrays of n factor vectors that agree on factor k and are otherwise independent.

        `k` may be one factor or an array of n factors, one per pair (the beta-VAE metric, step 2).
        """
        first, second = self.sample_factors(n, rng), self.sample_factors(n, rng)
        rows = np.arange(n)
        k = np.broadcast_to(np.asarray(k), (n,))
        second[rows, k] = first[rows, k]
        return first, second


def resized_64(images: np.ndarray) -> np.ndarray:
    """Images (n, H, W) grey or (n, H, W, 3) RGB, uint8, resized to 64 x 64 with Pillow's Lanczos
    filter, as disentanglement_lib's loaders of the original files do (SmallNORB, Cars3D)."""
    from PIL import Image
    return np.stack([np.asarray(Image.fromarray(image).resize((64, 64), Image.LANCZOS)) for image in images])
