"""dSprites (Matthey et al. 2017): regenerated procedurally, or read from the original .npz.

Factors follow the dataset's README (docs/paper.md section 5): shape 3 (square, ellipse, heart),
scale 6 = linspace(0.5, 1, 6), orientation 40 = linspace(0, 2 pi, 40), posX 32 and posY 32 =
linspace(0, 1, 32); posY varies fastest, so index = classes . (245760, 40960, 1024, 32, 1).
The single-valued colour factor of the original file is dropped.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from bench.data.base import GroundTruthData
from bench.data.file_checks import ZIP_SIGNATURE, require_signature
from bench.data.sprite_render import render_patches, shifted_images_packed
from bench.errors import UserError

FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
FACTOR_VALUES = (
    np.array([1.0, 2.0, 3.0]),
    np.linspace(0.5, 1.0, 6),
    np.linspace(0.0, 2 * np.pi, 40),
    np.linspace(0.0, 1.0, 32),
    np.linspace(0.0, 1.0, 32),
)
RENDERER_VERSION = 2          # bump when the rasteriser changes, so stale caches are rebuilt
ORIGINAL_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
PATH_VARIABLE = "BENCH_DSPRITES_PATH"


def cache_dir() -> Path:
    """BENCH_CACHE_DIR, else $XDG_CACHE_HOME/disentanglement-bench, else ~/.cache/..."""
    if os.environ.get("BENCH_CACHE_DIR"):
        return Path(os.environ["BENCH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "disentanglement-bench"


class DSprites(GroundTruthData):
    """dSprites over a subset of each factor's classes (all of them by default).

    `classes[k]` lists the class indices of factor k that the dataset keeps, so
    `DSprites.small()` is a 1,536-image dataset for tests that renders in milliseconds.
    Images live bit-packed in memory (`packed`, (N, 64, 8) uint8) and are unpacked per batch.
    """

    image_shape = (1, 64, 64)
    likelihood = "bernoulli"
    categorical_factors = ("shape",)

    def __init__(self, packed: np.ndarray, classes=None, name: str = "dsprites"):
        self.name = name
        self.factor_names = FACTOR_NAMES
        self.classes = tuple(np.arange(size) if classes is None else np.asarray(classes[k])
                             for k, size in enumerate(FACTOR_SIZES))
        self.factor_sizes = tuple(len(c) for c in self.classes)
        if packed.shape != (len(self), 64, 8):
            raise UserError(f"dSprites images have shape {packed.shape}; expected {(len(self), 64, 8)}")
        self.packed = packed

    @classmethod
    def procedural(cls, classes=None, name: str = "dsprites", use_cache: bool = True) -> "DSprites":
        """Render the images (about 2-4 s for all 737,280), cached when the full set is built."""
        full = classes is None
        path = cache_dir() / f"dsprites-procedural-v{RENDERER_VERSION}.npy"
        if full and use_cache and path.exists():
            return cls(np.load(path), None, name)
        packed = render_dsprites(classes)
        if full and use_cache:
            save_atomically(path, packed)
        return cls(packed, classes, name)

    @classmethod
    def small(cls) -> "DSprites":
        """3 shapes x 2 scales x 4 orientations x 8 x 8 positions: 1,536 images, for tests."""
        classes = (np.arange(3), np.array([0, 5]), np.array([0, 5, 10, 15]),
                   np.arange(0, 32, 4), np.arange(0, 32, 4))
        return cls.procedural(classes, name="dsprites_small")

    @classmethod
    def from_npz(cls, path) -> "DSprites":
        """The original file (imgs uint8 0/1, latents_classes with a leading colour column).
        Only arrays are read (numpy's allow_pickle=False): a file cannot run code."""
        path = Path(path)
        check_file(path)
        try:
            with np.load(path) as archive:
                missing = [name for name in ("imgs", "latents_classes") if name not in archive.files]
                if missing:
                    raise UserError(f"dSprites file {str(path)!r} has no array {missing[0]!r}; expected the "
                                    f"original {ORIGINAL_FILE} with arrays imgs and latents_classes")
                images = archive["imgs"]
                classes = archive["latents_classes"][:, 1:]
        except UserError:
            raise
        except Exception as error:            # a truncated archive, pickled objects, a bad array header
            raise UserError(f"cannot read dSprites file {str(path)!r} ({unreadable_reason(error)}); expected "
                            f"the original {ORIGINAL_FILE} with arrays imgs and latents_classes") from None
        expected_shape = (int(np.prod(FACTOR_SIZES)), 64, 64)
        if images.shape != expected_shape:
            raise UserError(f"dSprites file {str(path)!r}: imgs has shape {images.shape}; expected "
                            f"{expected_shape} as in the original {ORIGINAL_FILE}")
        dataset = cls(np.packbits(images.astype(bool), axis=-1), None, "dsprites")
        expected = dataset.factors_of(np.arange(len(dataset)))
        if classes.shape != expected.shape or not np.array_equal(classes, expected):
            raise UserError(f"{str(path)!r}: latents_classes are not in dSprites order "
                            f"(posY fastest, then posX, orientation, scale, shape)")
        return dataset

    def images(self, indices) -> np.ndarray:
        bits = np.unpackbits(self.packed[np.asarray(indices)], axis=-1)
        return (bits * np.uint8(255))[:, None]

    def factor_values(self, indices) -> np.ndarray:
        factors = self.factors_of(indices)
        return np.stack([FACTOR_VALUES[k][self.classes[k][factors[:, k]]]
                         for k in range(self.num_factors)], axis=1)


def render_dsprites(classes=None) -> np.ndarray:
    """All images of the chosen classes in dSprites order, bit-packed: (N, 64, 8) uint8."""
    classes = [np.arange(size) if classes is None else np.asarray(classes[k])
               for k, size in enumerate(FACTOR_SIZES)]
    shapes, scales, orientations, pos_x, pos_y = classes
    patches = render_patches(shapes, FACTOR_VALUES[1][scales], FACTOR_VALUES[2][orientations])
    patches = patches.reshape(-1, *patches.shape[-2:])
    per_sprite = len(pos_x) * len(pos_y)
    packed = np.empty((len(patches) * per_sprite, 64, 8), dtype=np.uint8)
    for i, patch in enumerate(patches):
        packed[i * per_sprite:(i + 1) * per_sprite] = shifted_images_packed(patch, pos_x, pos_y)
    return packed


def save_atomically(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        np.save(handle, array)
    os.replace(temporary, path)


def load(data_path=None) -> DSprites:
    """dSprites, 737,280 images: shape 3, scale 6, orientation 40, posX 32, posY 32 (procedural,
    or the original .npz given by --data-path or BENCH_DSPRITES_PATH)."""
    if data_path:
        return DSprites.from_npz(data_path)
    return DSprites.procedural()


def check_file(path) -> None:
    """A clear error unless `path` is a readable .npz archive (checked by its first bytes)."""
    require_signature(path, ZIP_SIGNATURE, "dSprites file", "an .npz archive",
                      f"the original {ORIGINAL_FILE} with arrays imgs and latents_classes")


def unreadable_reason(error: Exception) -> str:
    """A short reason for an archive numpy could not read, without its advice on pickles."""
    text = str(error).splitlines()[0] if str(error) else ""
    if "pickle" in text:
        return "it holds Python objects, not plain arrays; they are not loaded"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def timed_build_and_reload(directory: Path) -> tuple[float, float]:
    """Seconds to render all images into an empty cache, and to reload them from it."""
    previous = os.environ.get("BENCH_CACHE_DIR")
    os.environ["BENCH_CACHE_DIR"] = str(directory)
    try:
        start = time.perf_counter()
        DSprites.procedural()
        built = time.perf_counter()
        DSprites.procedural()
        return built - start, time.perf_counter() - built
    finally:
        if previous is None:
            os.environ.pop("BENCH_CACHE_DIR")
        else:
            os.environ["BENCH_CACHE_DIR"] = previous
