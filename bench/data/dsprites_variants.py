"""Color-dSprites and Noisy-dSprites (Locatello et al. 2019; disentanglement_lib's
data/ground_truth/dsprites.py, ColorDSprites and NoisyDSprites): dSprites' five factors and
images, shown in RGB with a nuisance that is no factor.

- color_dsprites: the white sprite times a colour whose three channels are uniform in [0.5, 1],
  on black (disentanglement_lib: `observations * random_state.uniform(0.5, 1, [n, 1, 1, 3])`);
- noisy_dsprites: the white sprite on a background of uniform noise in [0, 1], drawn per pixel
  and channel (disentanglement_lib: `np.minimum(observations + uniform(0, 1, [n, 64, 64, 3]), 1)`).

Where this departs: disentanglement_lib draws the nuisance afresh at every observation from the
caller's random state; the harness needs `images(indices)` to return the same pixels every time
(encode-once tables, reports, resumed runs), so the nuisance is a fixed function of the flat index:
- the colour's channels are splitmix64 hashes of (index, channel) mapped to [0.5, 1];
- the noise is one of NOISE_FIELDS fixed fields of uniform noise (drawn once from a fixed seed),
  chosen by a hash of the index and shifted cyclically by a hashed (row, column) offset: 1,024 x
  4,096 = 4.2 M distinct noise patterns for 737,280 images.
Over the indices the colour and the noise are still uniform and independent of the factors. Pixels
are quantised to uint8 (round(255 v)). Both sets reuse the dSprites cache (bench/data/dsprites.py),
so they build in the same ~4 s once and then load in ~0.1 s; nothing of their own is cached.
"""
from __future__ import annotations

import numpy as np

from bench.data.base import GroundTruthData
from bench.data.dsprites import DSprites

NOISE_FIELDS = 1024
NOISE_SEED = 20190101
COLOUR_STREAM, FIELD_STREAM, SHIFT_STREAM = 1, 2, 3


def hashed_uniform(keys: np.ndarray, stream: int) -> np.ndarray:
    """Uniform numbers in [0, 1), a fixed function of (key, stream): splitmix64's output function
    (Steele, Lea & Flood 2014) applied to key + stream * 2^40."""
    z = np.asarray(keys, dtype=np.uint64) + np.uint64(stream << 40)
    with np.errstate(over="ignore"):
        z = z * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


class NuisanceDSprites(GroundTruthData):
    """dSprites' factors and sprites in RGB with a per-index nuisance (subclasses: `observe`)."""

    image_shape = (3, 64, 64)
    likelihood = "gaussian"

    def __init__(self, sprites: DSprites, name: str):
        self.sprites, self.name = sprites, name
        self.factor_names, self.factor_sizes = sprites.factor_names, sprites.factor_sizes

    def factor_values(self, indices) -> np.ndarray:
        return self.sprites.factor_values(indices)

    def images(self, indices) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        sprite = self.sprites.float_images(indices)                     # (n, 1, 64, 64) 0.0 / 1.0
        return np.rint(self.observe(sprite, indices) * 255.0).astype(np.uint8)

    def observe(self, sprite: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """The RGB observation in [0, 1], (n, 3, 64, 64), of the binary sprites at `indices`."""
        raise NotImplementedError


class ColorDSprites(NuisanceDSprites):
    """The sprite times a colour uniform in [0.5, 1]^3 (fixed per index), on black."""

    def observe(self, sprite, indices):
        keys = indices[:, None] * 3 + np.arange(3)
        colour = 0.5 + 0.5 * hashed_uniform(keys, COLOUR_STREAM)
        return sprite * colour[:, :, None, None].astype(np.float32)


class NoisyDSprites(NuisanceDSprites):
    """The white sprite on uniform noise (fixed per index), as min(sprite + noise, 1)."""

    def __init__(self, sprites: DSprites, name: str):
        super().__init__(sprites, name)
        self.fields = np.random.default_rng(NOISE_SEED).random((NOISE_FIELDS, 3, 64, 64), dtype=np.float32)

    def observe(self, sprite, indices):
        field = (hashed_uniform(indices, FIELD_STREAM) * NOISE_FIELDS).astype(np.int64)
        shift = (hashed_uniform(indices, SHIFT_STREAM) * 4096).astype(np.int64)
        rows = (np.arange(64) + shift[:, None] // 64) % 64                # (n, 64)
        cols = (np.arange(64) + shift[:, None] % 64) % 64
        noise = self.fields[field[:, None, None, None], np.arange(3)[None, :, None, None],
                            rows[:, None, :, None], cols[:, None, None, :]]
        return np.minimum(sprite + noise, 1.0)


def color_dsprites(data_path=None) -> ColorDSprites:
    """Color-dSprites, 737,280 RGB images: dSprites' factors shape 3, scale 6, orientation 40,
    posX 32, posY 32; the sprite's colour (uniform in [0.5, 1]^3) is a nuisance, fixed per index."""
    return ColorDSprites(DSprites.procedural(), "color_dsprites")


def noisy_dsprites(data_path=None) -> NoisyDSprites:
    """Noisy-dSprites, 737,280 RGB images: dSprites' factors shape 3, scale 6, orientation 40,
    posX 32, posY 32; a uniform-noise background is a nuisance, fixed per index."""
    return NoisyDSprites(DSprites.procedural(), "noisy_dsprites")
