"""Scream-dSprites (Locatello et al. 2019; disentanglement_lib's dsprites.py, ScreamDSprites):
dSprites' five factors and sprites drawn over a patch of a picture the user gives (the study used
Munch's The Scream, scream.jpg), in RGB.

As disentanglement_lib: the picture (JPEG or PNG, read with Pillow, in RGB) is shrunk to fit
350 x 274 (Pillow's `thumbnail`, which keeps its aspect and never enlarges); each image's
background is a 64 x 64 patch at a row offset uniform in 0 .. H - 65 and a column offset uniform
in 0 .. W - 65 (numpy's randint bounds there), averaged with a colour uniform in [0, 1]^3,
b = (patch + colour) / 2; the sprite's pixels are inverted, 1 - b. Pixels are then uint8,
round(255 v). The picture must therefore be at least 65 x 65 pixels after the shrinking.

Where this departs: disentanglement_lib draws the patch and the colour afresh at every
observation; here, as for Color- and Noisy-dSprites (bench/data/dsprites_variants.py), they are a
fixed function of the flat index (splitmix64 hashes of the index, one stream each for the row,
the column and each colour channel), so `images(indices)` returns the same pixels every time and
runs reproduce; over the indices they are still uniform and independent of the factors. The
sprites are the harness's regenerated dSprites (its cache), as for the other two variants.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.data.dsprites import DSprites
from bench.data.dsprites_variants import NuisanceDSprites, hashed_uniform
from bench.data.file_checks import require_any_signature
from bench.errors import UserError

ORIGINAL_FILE = "scream.jpg"
PATH_VARIABLE = "BENCH_SCREAM_PATH"
FIT_WITHIN = (350, 274)                    # width, height: disentanglement_lib's thumbnail size
PATCH = 64
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
ROW_STREAM, COLUMN_STREAM, COLOUR_STREAM = 5, 6, 7
EXPECTED = "a JPEG or PNG picture (scream.jpg) of at least 65 x 65 pixels once shrunk to fit 350 x 274"


class ScreamDSprites(NuisanceDSprites):
    """The sprite inverted over a patch of the picture averaged with a colour, fixed per index."""

    def __init__(self, sprites: DSprites, picture: np.ndarray, name: str = "scream_dsprites"):
        super().__init__(sprites, name)
        self.picture = picture                                               # (H, W, 3) uint8
        self.patches = np.lib.stride_tricks.sliding_window_view(picture, (PATCH, PATCH), axis=(0, 1))

    def backgrounds(self, indices: np.ndarray) -> np.ndarray:
        """255 b = 255 (patch + colour) / 2, float32 (n, 3, 64, 64) in [0, 255]."""
        height, width = self.picture.shape[:2]
        rows = (hashed_uniform(indices, ROW_STREAM) * (height - PATCH)).astype(np.int64)
        columns = (hashed_uniform(indices, COLUMN_STREAM) * (width - PATCH)).astype(np.int64)
        colour = (255.0 * hashed_uniform(indices[:, None] * 3 + np.arange(3), COLOUR_STREAM)).astype(np.float32)
        return (self.patches[rows, columns].astype(np.float32) + colour[:, :, None, None]) * np.float32(0.5)

    def observe(self, sprite, indices):
        background = self.backgrounds(indices)
        return np.rint(np.where(sprite == 1, np.float32(255.0) - background, background)).astype(np.uint8)


def read_picture(path) -> np.ndarray:
    """The picture shrunk to fit 350 x 274, RGB (H, W, 3) uint8; one clear error if it cannot be
    read or is too small for a 64 x 64 patch at two offsets per axis."""
    from PIL import Image, UnidentifiedImageError
    check_file(path)
    try:
        with Image.open(path) as image:
            picture = image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as error:       # e.g. a truncated JPEG
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(f"cannot read Scream-dSprites picture {str(path)!r} ({reason}); "
                        f"expected {EXPECTED}") from None
    original = picture.size
    picture.thumbnail(FIT_WITHIN)
    if min(picture.size) <= PATCH:
        raise UserError(f"Scream-dSprites picture {str(path)!r} is {original[0]} x {original[1]} pixels, "
                        f"{picture.size[0]} x {picture.size[1]} once shrunk; expected {EXPECTED}")
    return np.asarray(picture, dtype=np.uint8)


def check_file(path) -> None:
    require_any_signature(path, SIGNATURES, "Scream-dSprites picture", "a JPEG or PNG picture", EXPECTED)


def load(data_path) -> ScreamDSprites:
    """Scream-dSprites, 737,280 RGB images: dSprites' factors shape 3, scale 6, orientation 40,
    posX 32, posY 32, drawn inverted over a patch of a picture (disentanglement_lib's scream.jpg:
    https://upload.wikimedia.org/wikipedia/commons/f/f4/The_Scream.jpg, given by --data-path or
    BENCH_SCREAM_PATH); the patch and its colour are a nuisance, fixed per index."""
    return ScreamDSprites(DSprites.procedural(), read_picture(Path(data_path)))
