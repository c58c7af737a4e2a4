"""A small renderer of Shapes3D-like scenes (bench/data/shapes3d.py): a room corner (a floor and
two walls) and one object on the floor, seen by an orthographic camera 25 degrees above the
horizon that turns about the vertical axis by the orientation factor.

Colour enters last: every scene is a few grey layers (the floor's and the walls' shaded coverage
for each orientation, the object's coverage and shaded coverage for each shape, scale and
orientation), and an image is their sum with the three hues as RGB weights. `scene_layers`
renders them once (3 x 3 supersampling; the object by ray casting a box, cylinder, sphere or
capsule lit by one fixed light) as three layers per (shape, scale, orientation): the visible
floor, the visible walls and the shaded object; `compose` then makes any batch of images from
them with three multiply-adds per channel.
"""
from __future__ import annotations

import colorsys

import numpy as np

SIZE = 64
SUPERSAMPLING = 3
OBJECT_ROWS, OBJECT_COLS = slice(22, 60), slice(16, 48)   # pixels an object can cover
ELEVATION = np.radians(25.0)
LIGHT = np.array([-0.45, 0.75, -0.5]) / np.linalg.norm([-0.45, 0.75, -0.5])
AMBIENT = 0.3
OBJECT_BASE = 0.6            # screen height (-1 top, 1 bottom) of the object's foot
SHAPES = ("cube", "cylinder", "sphere", "capsule")     # Shapes3D's shape classes 0-3
SATURATION, VALUE = 0.8, 1.0


def sample_grid(rows=slice(0, SIZE), cols=slice(0, SIZE)) -> tuple[np.ndarray, np.ndarray]:
    """Screen coordinates (x right, y down, both -1..1 over the frame) of the supersamples of the
    pixels in `rows` x `cols`, each of shape (S * rows, S * cols)."""
    s = SUPERSAMPLING
    axis = (np.arange(SIZE * s) + 0.5) / (SIZE * s) * 2.0 - 1.0
    y, x = np.meshgrid(axis[rows.start * s:rows.stop * s], axis[cols.start * s:cols.stop * s], indexing="ij")
    return x, y


def pixel_mean(samples: np.ndarray) -> np.ndarray:
    """(..., S * h, S * w) supersamples -> (..., h, w) pixel means."""
    s = SUPERSAMPLING
    h, w = samples.shape[-2] // s, samples.shape[-1] // s
    return samples.reshape(*samples.shape[:-2], h, s, w, s).mean(axis=(-3, -1))


def hue_colours(hues) -> np.ndarray:
    """RGB of each hue (HSV with fixed saturation and value), (len(hues), 3) float32."""
    return np.array([colorsys.hsv_to_rgb(h, SATURATION, VALUE) for h in hues], dtype=np.float32)


def room_layers(orientations_deg) -> tuple[np.ndarray, np.ndarray]:
    """Shaded coverage of the floor and of the walls, each (len(orientations), 64, 64) float32.

    The corner where the two walls meet moves sideways as the camera turns, and the floor's edges
    along the walls tilt with it; the two walls are lit differently, so the corner shows.
    """
    x, y = sample_grid()
    floors, walls = [], []
    for degrees in orientations_deg:
        t = degrees / 30.0                                   # -1..1 over Shapes3D's range
        corner = -0.5 * t
        left = x < corner
        edge = 0.1 + np.where(left, (0.3 + 0.2 * t) * (corner - x), (0.3 - 0.2 * t) * (x - corner))
        floor = y >= edge
        floor_shade = 0.55 + 0.35 * (y + 1.0) / 2.0
        wall_shade = np.where(left, 0.7 + 0.1 * t, 0.9 - 0.1 * t) - 0.1 * (y + 1.0) / 2.0
        floors.append(pixel_mean(floor * floor_shade))
        walls.append(pixel_mean(~floor * wall_shade))
    return np.array(floors, dtype=np.float32), np.array(walls, dtype=np.float32)


def camera(degrees: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward, right and up unit vectors of the camera turned by `degrees` about the vertical."""
    a = np.radians(degrees)
    forward = np.array([np.sin(a) * np.cos(ELEVATION), -np.sin(ELEVATION), np.cos(a) * np.cos(ELEVATION)])
    right = np.array([np.cos(a), 0.0, -np.sin(a)])
    return forward, right, np.cross(forward, right)


def hit_sphere(o, d, radius, centre_y=0.0):
    """Ray parameter t (inf where missed) and unit normals of rays o + t d against a sphere."""
    oc = o - np.array([0.0, centre_y, 0.0])
    b = (oc * d).sum(-1)
    disc = b * b - ((oc * oc).sum(-1) - radius ** 2)
    t = np.where(disc >= 0, -b - np.sqrt(np.maximum(disc, 0)), np.inf)
    return t, (oc + t[..., None] * d) / radius


def hit_side(o, d, radius, half_height):
    """Rays against the side of a vertical cylinder (no caps) spanning y in [-half_height, half_height]."""
    a = d[..., 0] ** 2 + d[..., 2] ** 2
    b = o[..., 0] * d[..., 0] + o[..., 2] * d[..., 2]
    c = o[..., 0] ** 2 + o[..., 2] ** 2 - radius ** 2
    disc = b * b - a * c
    t = (-b - np.sqrt(np.maximum(disc, 0))) / a
    y = o[..., 1] + t * d[..., 1]
    t = np.where((disc >= 0) & (np.abs(y) <= half_height), t, np.inf)
    point = o + np.where(np.isfinite(t), t, 0)[..., None] * d
    return t, point * np.array([1.0, 0.0, 1.0]) / radius


def hit_top(o, d, radius, height):
    """Rays against the disk of `radius` at y = height facing up."""
    t = (height - o[..., 1]) / d[..., 1]
    point = o + t[..., None] * d
    inside = point[..., 0] ** 2 + point[..., 2] ** 2 <= radius ** 2
    return np.where(inside, t, np.inf), np.broadcast_to(np.array([0.0, 1.0, 0.0]), o.shape)


def hit_box(o, d, half):
    """Rays against the axis-aligned cube [-half, half]^3 (slab method)."""
    low, high = (-half - o) / d, (half - o) / d
    near, far = np.minimum(low, high), np.maximum(low, high)
    t_near = near.max(-1)
    t = np.where(t_near <= far.min(-1), t_near, np.inf)
    axis = near.argmax(-1)
    normal = np.zeros_like(o)
    np.put_along_axis(normal, axis[..., None], -np.sign(np.take_along_axis(d, axis[..., None], -1)), -1)
    return t, normal


def nearest(*hits):
    """The nearest of several (t, normal) hits per ray."""
    ts = np.stack([t for t, _ in hits])
    which = ts.argmin(0)
    normals = np.stack([np.broadcast_to(n, hits[0][1].shape) for _, n in hits])
    return ts.min(0), np.take_along_axis(normals, which[None, ..., None], 0)[0]


def object_hit(shape: str, o, d, scale: float):
    """(t, normal) of the object of `shape` at `scale`, its foot at y = -half_height(shape, scale)."""
    if shape == "cube":
        return hit_box(o, d, 0.19 * scale)
    if shape == "sphere":
        return hit_sphere(o, d, 0.22 * scale)
    if shape == "cylinder":
        radius, half = 0.19 * scale, 0.19 * scale
        return nearest(hit_side(o, d, radius, half), hit_top(o, d, radius, half))
    radius, half = 0.14 * scale, 0.13 * scale                 # capsule: a cylinder with two half-spheres
    return nearest(hit_side(o, d, radius, half), hit_sphere(o, d, radius, half), hit_sphere(o, d, radius, -half))


def half_height(shape: str, scale: float) -> float:
    return {"cube": 0.19, "sphere": 0.22, "cylinder": 0.19, "capsule": 0.27}[shape] * scale


def object_layers(shapes, scales, orientations_deg) -> tuple[np.ndarray, np.ndarray]:
    """Coverage and shaded coverage of the object for each (shape, scale, orientation), each of
    shape (len(shapes), len(scales), len(orientations), 64, 64) float32. Rays are cast only
    through the pixels an object can cover (OBJECT_ROWS x OBJECT_COLS)."""
    x, y = sample_grid(OBJECT_ROWS, OBJECT_COLS)
    coverage = np.zeros((len(shapes), len(scales), len(orientations_deg), SIZE, SIZE), np.float32)
    shaded = np.zeros_like(coverage)
    for k, degrees in enumerate(orientations_deg):
        forward, right, up = camera(degrees)
        direction = np.broadcast_to(forward + 1e-9, (*x.shape, 3))     # no exact zeros for the slabs
        for j, scale in enumerate(scales):
            for i, shape in enumerate(shapes):
                centre_y = OBJECT_BASE - half_height(SHAPES[shape], scale) * np.cos(ELEVATION)
                origin = x[..., None] * right - (y - centre_y)[..., None] * up - 4.0 * forward
                with np.errstate(invalid="ignore", divide="ignore"):        # normals of missed rays
                    t, normal = object_hit(SHAPES[shape], origin, direction, scale)
                    hit = np.isfinite(t)
                    shade = AMBIENT + (1 - AMBIENT) * np.clip(normal @ LIGHT, 0, 1)
                coverage[i, j, k, OBJECT_ROWS, OBJECT_COLS] = pixel_mean(hit)
                shaded[i, j, k, OBJECT_ROWS, OBJECT_COLS] = pixel_mean(np.where(hit, shade, 0.0))
    return coverage, shaded


def scene_layers(shapes, scales, orientations_deg) -> np.ndarray:
    """(shapes x scales x orientations, 3, 64 x 64) uint8, orientation fastest: the visible floor,
    the visible walls and the shaded object of each (shape, scale, orientation), 255 = 1.0. Their
    sum is at most 1.0 (+ rounding), so `compose` can weight them in uint16 without overflow."""
    floor, wall = room_layers(orientations_deg)
    coverage, shaded = object_layers(shapes, scales, orientations_deg)
    hidden = 1.0 - coverage
    layers = np.stack([floor * hidden, wall * hidden, shaded], axis=-3)
    return np.rint(layers.reshape(-1, 3, SIZE * SIZE) * 255.0).astype(np.uint8)


def compose(layers: np.ndarray, colours: np.ndarray, chunk: int = 16) -> np.ndarray:
    """uint8 images (n, 3, 64, 64) from each image's layers (n, 3, 64 x 64) uint8 and the colours of
    floor, walls and object (n, 3 layers, 3 channels) in [0, 1]: pixel = sum of layer x colour,
    in integers, `chunk` images at a time (uint16 and small chunks that stay in the CPU's cache
    were each 2-4x faster than float32 over the whole batch on a loaded 2-core Xeon)."""
    weights = np.rint(colours * 255.0).astype(np.uint16)
    images = np.empty((len(layers), 3, SIZE * SIZE), dtype=np.uint8)
    for start in range(0, len(layers), chunk):
        part, weight = layers[start:start + chunk].astype(np.uint16), weights[start:start + chunk]
        image = part[:, 0, None] * weight[:, 0, :, None]
        image += part[:, 1, None] * weight[:, 1, :, None]
        image += part[:, 2, None] * weight[:, 2, :, None]
        image += 127                                        # round the division by 255
        image //= 255
        images[start:start + chunk] = image
    return images.reshape(len(layers), 3, SIZE, SIZE)
