"""Analytic rasteriser for the dSprites shapes (docs/paper.md section 5).

Each (shape, scale, orientation) sprite is rendered once into a 32 x 32 patch by testing 4 x 4
sub-pixel samples against the shape's inside test and keeping pixels that are at least half
covered; images are the patch shifted by whole pixels, so position never changes a sprite's
pixels and every position class is exactly one pixel apart. Sprite centres span the centre half
of the 64 x 64 frame (pixel 16 to 47) and the largest sprite stays inside the frame.
"""
from __future__ import annotations

import numpy as np

IMAGE_SIZE = 64
PATCH_SIZE = 32              # a patch's centre is the corner of 4 pixels; offsets 0..31 fit the frame
MAX_OFFSET = IMAGE_SIZE - PATCH_SIZE
SUPERSAMPLING = 4
SQUARE_HALF_SIDE = 8.0       # pixels at scale 1
ELLIPSE_SEMI_AXES = (10.0, 5.0)
HEART_RADIUS = 8.5


def _inside_square(u, v):
    return (np.abs(u) <= SQUARE_HALF_SIDE) & (np.abs(v) <= SQUARE_HALF_SIDE)


def _inside_ellipse(u, v):
    a, b = ELLIPSE_SEMI_AXES
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _inside_heart(u, v):
    """The heart curve (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, point up = lobes up, centred on its box."""
    x = u / HEART_RADIUS
    y = -v / HEART_RADIUS + 0.12
    return (x * x + y * y - 1.0) ** 3 - x * x * y ** 3 <= 0.0


SHAPES = {"square": _inside_square, "ellipse": _inside_ellipse, "heart": _inside_heart}
SHAPE_NAMES = tuple(SHAPES)


def render_patches(shape_ids, scales, orientations) -> np.ndarray:
    """Binary patches, shape (len(shape_ids), len(scales), len(orientations), 32, 32), bool."""
    n = PATCH_SIZE * SUPERSAMPLING
    grid = (np.arange(n) + 0.5) / SUPERSAMPLING - PATCH_SIZE / 2.0
    row, col = np.meshgrid(grid, grid, indexing="ij")
    scales = np.asarray(scales, dtype=np.float64)[:, None, None, None]
    angles = np.asarray(orientations, dtype=np.float64)[None, :, None, None]
    cos, sin = np.cos(angles), np.sin(angles)
    # Rotate the sample points by -angle, then undo the scale: the shape turns by +angle.
    u = (cos * col + sin * row) / scales
    v = (-sin * col + cos * row) / scales
    patches = []
    for shape_id in shape_ids:
        inside = SHAPES[SHAPE_NAMES[shape_id]](u, v)
        coverage = inside.reshape(*inside.shape[:2], PATCH_SIZE, SUPERSAMPLING,
                                  PATCH_SIZE, SUPERSAMPLING).mean(axis=(3, 5))
        patches.append(coverage >= 0.5)
    return np.stack(patches)


def shifted_images_packed(patch: np.ndarray, offsets_x, offsets_y) -> np.ndarray:
    """All placements of one patch, posX-major then posY, bit-packed along image rows.

    Returns uint8 of shape (len(offsets_x) * len(offsets_y), 64, 8).
    """
    canvas = np.zeros((IMAGE_SIZE + MAX_OFFSET,) * 2, dtype=bool)
    canvas[MAX_OFFSET:MAX_OFFSET + PATCH_SIZE, MAX_OFFSET:MAX_OFFSET + PATCH_SIZE] = patch
    windows = np.lib.stride_tricks.sliding_window_view(canvas, (IMAGE_SIZE, IMAGE_SIZE))
    # windows[a, b] holds the patch at row offset MAX_OFFSET - a and column offset MAX_OFFSET - b.
    rows = MAX_OFFSET - np.asarray(offsets_y)
    cols = MAX_OFFSET - np.asarray(offsets_x)
    placed = windows[rows[None, :], cols[:, None]]          # (posX, posY, 64, 64)
    return np.packbits(placed, axis=-1).reshape(-1, IMAGE_SIZE, IMAGE_SIZE // 8)
