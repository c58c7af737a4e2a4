"""What the figures share: matplotlib without a display, the resolution and colours, saving a
figure, pictures as one grid, and whether an axis holds scores between 0 and 1."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DPI = 100
PAPER_COLOUR = "crimson"
BAR_COLOUR = "#a9c4de"
MAX_TICKS = 6                 # more values on a log axis (normalised betas, budgets): 1, 2, 5 x 10^k


def saved(figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def unit_interval(values) -> bool:
    """Whether the finite `values` all lie in [0, 1] (an axis of scores keeps that whole range)."""
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    return len(values) > 0 and values.min() >= 0 and values.max() <= 1


def image_grid(images: np.ndarray) -> np.ndarray:
    """(rows, cols, H, W) or (rows, cols, C, H, W) with C = 1 or 3 -> one picture with 1-pixel grey
    separators: (rows * H, cols * W) grey, or (rows * H, cols * W, 3) for colour images."""
    if images.ndim == 5:
        images = images[:, :, 0] if images.shape[2] == 1 else images.transpose(0, 1, 3, 4, 2)
    rows, cols, h, w = images.shape[:4]
    canvas = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1, *images.shape[4:]), 0.5)
    for r in range(rows):
        for c in range(cols):
            canvas[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = images[r, c]
    return canvas


def saved_grid(pictures: np.ndarray, title: str, path: Path, size: tuple[float, float]) -> Path:
    """A (rows, cols, H, W) picture grid saved as one PNG with a title and no axes."""
    figure, axis = plt.subplots(figsize=size)
    axis.imshow(image_grid(pictures), cmap="gray", vmin=0, vmax=1)
    axis.set_axis_off()
    axis.set_title(title)
    return saved(figure, path)
