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
- the noise is a 64 x 64 window of one of NOISE_FIELDS fixed 128 x 128 fields of uniform noise
  (drawn once from a fixed seed), the field and the window's offset chosen by hashes of the index:
  256 x 4,096 = 1.05 M noise patterns for 737,280 images.
Over the indices the colour and the noise are still uniform and independent of the factors. Pixels
are uint8, round(255 v), computed in uint8 (the sprite is 0 or 1, so this is exact). Both sets
reuse the dSprites cache (bench/data/dsprites.py): they build in the same ~4 s once and then load
as fast as dSprites; nothing of their own is cached.
"""
from __future__ import annotations

import numpy as np

from bench.data.base import GroundTruthData
from bench.data.dsprites import DSprites

NOISE_FIELDS = 256
FIELD_SIZE = 128
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
        self.categorical_factors = sprites.categorical_factors

    def factor_values(self, indices) -> np.ndarray:
        return self.sprites.factor_values(indices)

    def images(self, indices) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        sprite = np.unpackbits(self.sprites.packed[indices], axis=-1)[:, None]   # (n, 1, 64, 64) 0 / 1
        return self.observe(sprite, indices)

    def observe(self, sprite: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """The RGB observation, uint8 (n, 3, 64, 64), of the binary (0 / 1) sprites at `indices`."""
        raise NotImplementedError


class ColorDSprites(NuisanceDSprites):
    """The sprite times a colour uniform in [0.5, 1]^3 (fixed per index), on black."""

    def observe(self, sprite, indices):
        keys = indices[:, None] * 3 + np.arange(3)
        colour = np.rint(255.0 * (0.5 + 0.5 * hashed_uniform(keys, COLOUR_STREAM))).astype(np.uint8)
        return sprite * colour[:, :, None, None]


class NoisyDSprites(NuisanceDSprites):
    """The white sprite on uniform noise (fixed per index), as min(sprite + noise, 1)."""

    def __init__(self, sprites: DSprites, name: str):
        super().__init__(sprites, name)
        uniform = np.random.default_rng(NOISE_SEED).random((NOISE_FIELDS, 3, FIELD_SIZE, FIELD_SIZE))
        fields = np.rint(255.0 * uniform).astype(np.uint8)                 # 12.6 MB
        self.windows = np.lib.stride_tricks.sliding_window_view(fields, (64, 64), axis=(2, 3))

    def observe(self, sprite, indices):
        field = (hashed_uniform(indices, FIELD_STREAM) * NOISE_FIELDS).astype(np.int64)
        offset = (hashed_uniform(indices, SHIFT_STREAM) * 64 * 64).astype(np.int64)
        noise = self.windows[field, :, offset // 64, offset % 64]          # (n, 3, 64, 64)
        return np.where(sprite == 1, np.uint8(255), noise)


def color_dsprites(data_path=None) -> ColorDSprites:
    """Color-dSprites, 737,280 RGB images: dSprites' factors shape 3, scale 6, orientation 40,
    posX 32, posY 32; the sprite's colour (uniform in [0.5, 1]^3) is a nuisance, fixed per index."""
    return ColorDSprites(DSprites.procedural(), "color_dsprites")


def noisy_dsprites(data_path=None) -> NoisyDSprites:
    """Noisy-dSprites, 737,280 RGB images: dSprites' factors shape 3, scale 6, orientation 40,
    posX 32, posY 32; a uniform-noise background is a nuisance, fixed per index."""
    return NoisyDSprites(DSprites.procedural(), "noisy_dsprites")
