"""Shapes3D (Burgess & Kim 2018, "3D Shapes Dataset"): rendered by the harness, or read from the
original 3dshapes.h5.

Factors (the dataset's README; index order = its label columns, orientation fastest):
floor_hue 10, wall_hue 10, object_hue 10 = linspace(0, 0.9, 10); scale 8 = linspace(0.75, 1.25, 8);
shape 4 (cube, cylinder, sphere, capsule); orientation 15 = linspace(-30, 30, 15) degrees.
480,000 RGB images of 64 x 64.

The procedural set is not the DeepMind renderer's images: bench/data/shapes3d_render.py draws a
room corner and one ray-cast object with the same factors, each visible (the three hues colour
floor, walls and object; scale and shape change the object's silhouette; orientation turns the
camera, which moves the corner and turns the cube). Only the renderer's grey layers are built up
front: three per (scale, shape, orientation), rendered on first use and cached as one file of
5,898,368 bytes (5.9 MB) beside the dSprites cache; each batch of images is composed from them
and the hues on demand (`images(indices)`), so no image is stored. Measured on the shared 2-core
Xeon with other jobs running (load average 4-7): building the layers took 7.8 s and 29 s,
reloading them 0.002-0.05 s; composing images in batches of 1,024 ran at about 3,700 images/s at
load average 7 (all 480,000 in about 2 minutes), and at about 9,000-12,000 images/s at lower load.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.data import shapes3d_render as render
from bench.data.base import GroundTruthData
from bench.data.dsprites import cache_dir, save_atomically
from bench.data.file_checks import require_signature
from bench.errors import UserError

FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
FACTOR_VALUES = (np.linspace(0.0, 0.9, 10), np.linspace(0.0, 0.9, 10), np.linspace(0.0, 0.9, 10),
                 np.linspace(0.75, 1.25, 8), np.arange(4.0), np.linspace(-30.0, 30.0, 15))
ORIGINAL_FILE = "3dshapes.h5"
PATH_VARIABLE = "BENCH_SHAPES3D_PATH"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
RENDERER_VERSION = 2          # bump when the renderer changes, so stale caches are rebuilt
EXPECTED = f"the original {ORIGINAL_FILE} with datasets images (N, 64, 64, 3) uint8 and labels (N, 6)"


class Shapes3D(GroundTruthData):
    """Shapes3D over all factor classes: procedural (`procedural()`) or from a file (`from_h5`)."""

    name = "shapes3d"
    factor_names = FACTOR_NAMES
    image_shape = (3, 64, 64)
    likelihood = "gaussian"
    # As DCI-ES's authors (their loader's `_factor_discrete`): the hues are classes too.
    categorical_factors = ("floor_hue", "wall_hue", "object_hue", "shape")

    def __init__(self, factor_sizes=FACTOR_SIZES, stored: np.ndarray | None = None):
        """`stored`: the file's images (N, 64, 64, 3) uint8 in index order; None renders them."""
        self.factor_sizes = tuple(factor_sizes)
        self.stored = stored
        if stored is None:
            self.colours = render.hue_colours(FACTOR_VALUES[0])
            self.layers = scene_layers()

    @classmethod
    def procedural(cls) -> "Shapes3D":
        return cls()

    @classmethod
    def from_h5(cls, path, factor_sizes=FACTOR_SIZES) -> "Shapes3D":
        """The original file, read whole into memory (5.9 GB for the full set, as disentanglement_lib
        does). Its labels must list every factor combination once in index order; `factor_sizes`
        other than Shapes3D's are for tests on small files."""
        check_file(path)
        try:
            import h5py
        except ImportError:
            raise UserError(f"reading {str(path)!r} needs h5py: pip install 'disentanglement-bench[h5]'") from None
        try:
            with h5py.File(path, "r") as handle:
                missing = [key for key in ("images", "labels") if key not in handle]
                if missing:
                    raise UserError(f"Shapes3D file {str(path)!r} has no dataset {missing[0]!r}; expected {EXPECTED}")
                images, labels = handle["images"], handle["labels"]
                count = int(np.prod(factor_sizes))
                if images.shape != (count, 64, 64, 3) or images.dtype != np.uint8:
                    raise UserError(f"Shapes3D file {str(path)!r}: images has shape {images.shape} ({images.dtype}); "
                                    f"expected {(count, 64, 64, 3)} uint8 as in {ORIGINAL_FILE}")
                if labels.shape != (count, len(factor_sizes)):
                    raise UserError(f"Shapes3D file {str(path)!r}: labels has shape {labels.shape}; "
                                    f"expected {(count, len(factor_sizes))}")
                labels, images = labels[()], images[()]
        except UserError:
            raise
        except Exception as error:              # a truncated file, a damaged dataset
            raise UserError(f"cannot read Shapes3D file {str(path)!r} ({type(error).__name__}: "
                            f"{str(error).splitlines()[0] if str(error) else ''}); expected {EXPECTED}") from None
        dataset = cls(factor_sizes, images)
        check_index_order(path, labels, dataset)
        return dataset

    def images(self, indices) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        if self.stored is not None:
            return np.ascontiguousarray(self.stored[indices].transpose(0, 3, 1, 2))
        factors = self.factors_of(indices)
        scene = factors[:, 3:] @ np.array([4 * 15, 15, 1])          # (scale, shape, orientation)
        return render.compose(self.layers[scene], self.colours[factors[:, :3]])

    def factor_values(self, indices) -> np.ndarray:
        factors = self.factors_of(indices)
        if self.factor_sizes != FACTOR_SIZES:           # a test file: class indices
            return factors.astype(np.float64)
        return np.stack([FACTOR_VALUES[k][factors[:, k]] for k in range(self.num_factors)], axis=1)


def scene_layers(use_cache: bool = True) -> np.ndarray:
    """The renderer's layers for every (scale, shape, orientation), scale slowest, (480, 3, 4096)
    uint8: rendered once and cached (5.9 MB) beside the dSprites cache."""
    path = cache_dir() / f"shapes3d-layers-v{RENDERER_VERSION}.npy"
    if use_cache and path.exists():
        return np.load(path)
    layers = render.scene_layers(range(4), FACTOR_VALUES[3], FACTOR_VALUES[5])     # shape, scale, orientation
    layers = layers.reshape(4, 8, 15, 3, 64 * 64).transpose(1, 0, 2, 3, 4).reshape(-1, 3, 64 * 64)
    layers = np.ascontiguousarray(layers)
    if use_cache:
        save_atomically(path, layers)
    return layers


def check_index_order(path, labels: np.ndarray, dataset: Shapes3D) -> None:
    """Each label column must take `factor_sizes[k]` values and the rows must run through the factor
    combinations in index order (the last column fastest), as in the original file."""
    classes = []
    for k, size in enumerate(dataset.factor_sizes):
        values, inverse = np.unique(labels[:, k], return_inverse=True)
        if len(values) != size:
            raise UserError(f"Shapes3D file {str(path)!r}: label column {k} ({FACTOR_NAMES[k]}) takes "
                            f"{len(values)} values; expected {size}")
        classes.append(inverse.reshape(-1))
    if not np.array_equal(np.stack(classes, axis=1), dataset.factors_of(np.arange(len(dataset)))):
        raise UserError(f"Shapes3D file {str(path)!r}: the labels are not in the original order "
                        f"({', '.join(FACTOR_NAMES)}; orientation fastest)")


def check_file(path) -> None:
    require_signature(path, HDF5_SIGNATURE, "Shapes3D file", "an HDF5 file", EXPECTED)


def load(data_path=None) -> Shapes3D:
    """Shapes3D, 480,000 RGB images: floor_hue 10, wall_hue 10, object_hue 10, scale 8, shape 4,
    orientation 15 (rendered on demand, or the original 3dshapes.h5 given by --data-path or
    BENCH_SHAPES3D_PATH; reading it needs h5py)."""
    if data_path:
        return Shapes3D.from_h5(Path(data_path))
    return Shapes3D.procedural()
