"""A folder of images without ground-truth factors (`--dataset folder:PATH`), for the beta-VAE
paper's qualitative experiments (celebA, 3D chairs, 3D faces: Higgins et al. 2017, Figures 1-3).

Every PNG or JPEG file in the folder (not its subfolders), in name order, is read with Pillow,
centre-cropped to a square and resized to 64 x 64 (Lanczos). The set is grey (1 channel) when
every image is greyscale, else RGB (3 channels). The images are held in memory as uint8
(12 KB per RGB image: 2.4 GB for celebA's 202,599). Its one "factor" is the image's position in
name order, so batches are drawn uniformly from the images; it has no ground-truth factors
(`has_factors = False`): methods that need factors are refused and metrics that need them are
skipped. The run's data source is the folder's path and a sha256 over its image files' names and
bytes, so a changed folder makes different runs.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from bench.data.base import DataSource, GroundTruthData
from bench.errors import UserError

PREFIX = "folder:"
SUFFIXES = (".png", ".jpg", ".jpeg")
SIZE = 64
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


class ImageFolder(GroundTruthData):
    """The images of one folder, (N, C, 64, 64) uint8; one pseudo-factor: the image's number."""

    factor_names = ("image",)
    likelihood = "gaussian"
    has_factors = False

    def __init__(self, name: str, stored: np.ndarray):
        self.name = name
        self.stored = stored
        self.factor_sizes = (len(stored),)
        self.image_shape = tuple(stored.shape[1:])

    def images(self, indices) -> np.ndarray:
        return self.stored[np.asarray(indices, dtype=np.int64)]


def folder_path(name: str) -> Path:
    return Path(name[len(PREFIX):]).expanduser()


def image_files(name: str) -> list[Path]:
    """The folder's PNG and JPEG files in name order; one clear error when there are none."""
    path = folder_path(name)
    if not path.is_dir():
        raise UserError(f"--dataset {name!r}: {str(path)!r} is not a folder; give folder:PATH with PATH "
                        f"a folder of PNG or JPEG images")
    try:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    except OSError as error:
        raise UserError(f"--dataset {name!r}: cannot list {str(path)!r} ({error.strerror})") from None
    if not files:
        raise UserError(f"--dataset {name!r}: {str(path)!r} holds no PNG or JPEG images "
                        f"(files ending in {', '.join(SUFFIXES)})")
    return files


def source(name: str) -> DataSource:
    """The folder's absolute path and a sha256 over its image files' names and bytes."""
    digest = hashlib.sha256()
    for file in image_files(name):
        digest.update(file.name.encode() + b"\0")
        try:
            digest.update(file.read_bytes())
        except OSError as error:
            raise UserError(f"--dataset {name!r}: cannot read {str(file)!r} ({error.strerror})") from None
    return DataSource(str(folder_path(name).resolve()), digest.hexdigest())


def square_64(image) -> np.ndarray:
    """The centre square of a Pillow image resized to 64 x 64, in RGB: (3, 64, 64) uint8."""
    from PIL import Image
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.convert("RGB").crop((left, top, left + side, top + side))
    return np.asarray(square.resize((SIZE, SIZE), Image.LANCZOS), dtype=np.uint8).transpose(2, 0, 1)


def load(name: str) -> ImageFolder:
    """Every image of the folder, cropped and resized (grey images keep one channel: a grey image
    in RGB has three equal ones); an unreadable image is one clear error."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise UserError("reading an image folder needs Pillow: pip install 'disentanglement-bench[images]'") from None
    squares, grey = [], True
    for file in image_files(name):
        try:
            with Image.open(file) as image:
                squares.append(square_64(image))
                grey = grey and image.mode in GREY_MODES
        except (OSError, UnidentifiedImageError, ValueError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise UserError(f"--dataset {name!r}: cannot read image {str(file)!r} ({reason}); "
                            f"every PNG or JPEG file in the folder must be an image") from None
    stored = np.stack(squares)
    return ImageFolder(name, np.ascontiguousarray(stored[:, :1]) if grey else stored)
