"""Cars3D (Reed et al. 2015, "Deep Visual Analogy-Making"): read from the folder of its original
.mat files, one per car model (183, e.g. car_001_mesh.mat: the `cars` folder of the authors'
nips2015-analogy-data archive).

Each file is a MATLAB (level 5) file holding `im`, uint8 of shape (128, 128, 3, 24, 4):
height, width, RGB, azimuth 24, elevation 4 (disentanglement_lib's cars3d.py reads it so:
einsum "abcde->deabc", then labels row r of the flattened (24, 4) grid elevation r % 4, azimuth
r // 4). As disentanglement_lib: factors elevation 4, azimuth 24, object_type 183 (the object
fastest), each image resized to 64 x 64 RGB with Pillow's Lanczos filter (its ANTIALIAS);
object_type is categorical for DCI-ES. Where this departs: object type i is the i-th .mat file in
name order (disentanglement_lib takes the order the file system lists them in, which need not
be sorted), and the images are resized with `resize` rather than `thumbnail` (the same filter on
a square image; newer Pillow's thumbnail first reduces by 2 with a box filter). The 17,568
images are held in memory (216 MB).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.data.base import GroundTruthData, resized_64
from bench.data.file_checks import require_signature
from bench.errors import UserError

FACTOR_NAMES = ("elevation", "azimuth", "object_type")
FACTOR_SIZES = (4, 24, 183)
ORIGINAL_FILE = "the folder of Cars3D's 183 car_*_mesh.mat files"
PATH_VARIABLE = "BENCH_CARS3D_PATH"
MAT5_SIGNATURE = b"MATLAB 5.0 MAT-file"
SIDE = 128
EXPECTED = f"a MATLAB 5 .mat file holding im ({SIDE}, {SIDE}, 3, 24, 4) uint8, as Cars3D's"


class Cars3D(GroundTruthData):
    """Cars3D's images resized, in memory, (N, 64, 64, 3) uint8 in factor order."""

    name = "cars3d"
    factor_names = FACTOR_NAMES
    image_shape = (3, 64, 64)
    likelihood = "gaussian"
    categorical_factors = ("object_type",)

    def __init__(self, stored: np.ndarray, factor_sizes: tuple):
        self.stored, self.factor_sizes = stored, tuple(factor_sizes)

    @classmethod
    def from_folder(cls, folder, factor_sizes=None) -> "Cars3D":
        """The .mat files of `folder` in name order (a folder member_files passed: bench.data.source
        checks it before any load), each file's `im` checked; `factor_sizes` other than Cars3D's
        (read when called: tests set them for small files) are elevations and azimuths per file, files."""
        factor_sizes = tuple(factor_sizes or FACTOR_SIZES)
        elevations, azimuths, models = factor_sizes
        files = mat_files(folder)
        stored = np.empty((elevations, azimuths, models, 64, 64, 3), dtype=np.uint8)
        for model, path in enumerate(files):
            grid = read_grid(path, (SIDE, SIDE, 3, azimuths, elevations))
            stored[:, :, model] = resized_64(grid.transpose(4, 3, 0, 1, 2).reshape(-1, SIDE, SIDE, 3)).reshape(
                elevations, azimuths, 64, 64, 3)
        return cls(stored.reshape(-1, 64, 64, 3), factor_sizes)

    def images(self, indices) -> np.ndarray:
        return np.ascontiguousarray(self.stored[np.asarray(indices, dtype=np.int64)].transpose(0, 3, 1, 2))


def read_grid(path: Path, shape: tuple) -> np.ndarray:
    """The array `im` of one file, checked to be `shape` uint8 (H, W, RGB, azimuth, elevation)."""
    import scipy.io
    try:
        content = scipy.io.loadmat(path, variable_names=["im"])
    except Exception as error:                # a truncated or damaged file
        text = str(error).splitlines()[0] if str(error) else ""
        raise UserError(f"cannot read Cars3D file {str(path)!r} ({type(error).__name__}: {text}); "
                        f"expected {EXPECTED}") from None
    if "im" not in content:
        raise UserError(f"Cars3D file {str(path)!r} has no variable 'im'; expected {EXPECTED}")
    grid = content["im"]
    if grid.shape != shape or grid.dtype != np.uint8:
        raise UserError(f"Cars3D file {str(path)!r}: im has shape {grid.shape} ({grid.dtype}); expected "
                        f"{shape} uint8: {SIDE} x {SIDE} RGB images by azimuth and elevation")
    return grid


def mat_files(folder) -> list[Path]:
    """The folder's .mat files in name order (object type i is the i-th)."""
    return sorted(path for path in Path(folder).iterdir() if path.suffix == ".mat" and path.is_file())


def member_files(folder, models: int | None = None) -> list[Path]:
    """The folder's .mat files in name order: `models` of them (Cars3D's 183), each a MATLAB 5 file."""
    models = models or FACTOR_SIZES[2]
    if not Path(folder).is_dir():
        raise UserError(f"Cars3D data {str(folder)!r} is not a folder; expected {ORIGINAL_FILE}")
    files = mat_files(folder)
    if len(files) != models:
        raise UserError(f"Cars3D folder {str(folder)!r} holds {len(files)} .mat files; expected {models}, "
                        f"one per car model")
    for path in files:
        require_signature(path, MAT5_SIGNATURE, "Cars3D file", "a MATLAB 5 .mat file", EXPECTED)
    return files


def load(data_path) -> Cars3D:
    """Cars3D, 17,568 RGB images: elevation 4, azimuth 24, object_type 183 (read from the folder
    of its 183 .mat files, data/cars of http://www.scottreed.info/files/nips2015-analogy-data.tar.gz,
    given by --data-path or BENCH_CARS3D_PATH; no checksum is published; no procedural version)."""
    return Cars3D.from_folder(Path(data_path))
