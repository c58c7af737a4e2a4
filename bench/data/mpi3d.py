"""MPI3D (Gondal et al. 2019): read from one of its .npz files (mpi3d_toy.npz, mpi3d_realistic.npz,
mpi3d_real.npz), which hold one array `images` of shape (1036800, 64, 64, 3) uint8.

Factors (the dataset's README; disentanglement_lib's mpi3d.py reads the array in this row-major
order, vertical_axis fastest): object_color 6, object_shape 6, object_size 2, camera_height 3,
background_color 3, horizontal_axis 40, vertical_axis 40. There is no procedural version: the
dataset needs its file (--data-path or BENCH_MPI3D_PATH). The images are read whole into memory
(3.8 GB, as disentanglement_lib does).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.data.base import GroundTruthData
from bench.data.dsprites import unreadable_reason
from bench.data.file_checks import ZIP_SIGNATURE, require_signature
from bench.errors import UserError

FACTOR_NAMES = ("object_color", "object_shape", "object_size", "camera_height", "background_color",
                "horizontal_axis", "vertical_axis")
FACTOR_SIZES = (6, 6, 2, 3, 3, 40, 40)
ORIGINAL_FILE = "mpi3d_toy.npz"
PATH_VARIABLE = "BENCH_MPI3D_PATH"
EXPECTED = "an MPI3D .npz (mpi3d_toy, mpi3d_realistic or mpi3d_real) with array images (1036800, 64, 64, 3) uint8"


class MPI3D(GroundTruthData):
    """MPI3D's images in memory, (N, 64, 64, 3) uint8 in factor order."""

    name = "mpi3d"
    image_shape = (3, 64, 64)
    likelihood = "gaussian"

    def __init__(self, stored: np.ndarray, factor_sizes=FACTOR_SIZES):
        self.factor_names = FACTOR_NAMES[:len(factor_sizes)]
        # As DCI-ES's authors (their loader's `_factor_discrete`).
        self.categorical_factors = tuple(name for name in ("object_color", "object_shape", "background_color")
                                         if name in self.factor_names)
        self.factor_sizes = tuple(factor_sizes)
        self.stored = stored

    @classmethod
    def from_npz(cls, path, factor_sizes=FACTOR_SIZES) -> "MPI3D":
        """Only arrays are read (allow_pickle=False); `factor_sizes` other than MPI3D's are for
        tests on small files."""
        check_file(path)
        count = int(np.prod(factor_sizes))
        try:
            with np.load(path) as archive:
                if "images" not in archive.files:
                    raise UserError(f"MPI3D file {str(path)!r} has no array 'images' (it has "
                                    f"{', '.join(archive.files) or 'none'}); expected {EXPECTED}")
                images = archive["images"]
        except UserError:
            raise
        except Exception as error:            # a truncated archive, pickled objects, a bad array header
            raise UserError(f"cannot read MPI3D file {str(path)!r} ({unreadable_reason(error)}); "
                            f"expected {EXPECTED}") from None
        if images.shape != (count, 64, 64, 3) or images.dtype != np.uint8:
            raise UserError(f"MPI3D file {str(path)!r}: images has shape {images.shape} ({images.dtype}); "
                            f"expected {(count, 64, 64, 3)} uint8")
        return cls(images, factor_sizes)

    def images(self, indices) -> np.ndarray:
        return np.ascontiguousarray(self.stored[np.asarray(indices, dtype=np.int64)].transpose(0, 3, 1, 2))


def check_file(path) -> None:
    require_signature(path, ZIP_SIGNATURE, "MPI3D file", "an .npz archive", EXPECTED)


def load(data_path) -> MPI3D:
    """MPI3D, 1,036,800 RGB images: object_color 6, object_shape 6, object_size 2, camera_height 3,
    background_color 3, horizontal_axis 40, vertical_axis 40 (read from its .npz, given by
    --data-path or BENCH_MPI3D_PATH; there is no procedural version)."""
    return MPI3D.from_npz(Path(data_path))
