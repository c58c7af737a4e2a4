"""A latent traversal as an animated GIF (Pillow), the picture people share: as disentanglement_lib's
visualize_model animates each latent over a cycle of its values, but all latents in one file. One
row per latent, most informative first (by KL), one column per image whose code the others keep,
and one frame per step of the sweep: from -r up to r and back, so that the loop has no jump."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

GIF_STEPS = 20                 # frames: one per traversal step, -r to r and back
GIF_IMAGES = 4                 # columns: images whose codes the latents are swept from
FRAME_MS = 120
LABEL_WIDTH = 76               # pixels left of the tiles for "z3 KL 2.10"
HEADER = 18                    # pixels above them for the value of this frame
GAP = 2                        # grey pixels between tiles
COLOURS = 32                   # grey levels (or palette colours) per frame: a GIF of a few hundred kB


def sweep_values(radius: float, steps: int = GIF_STEPS) -> np.ndarray:
    """`steps` values of one cycle of a triangle wave: -r, rising to r at the middle, falling back
    towards -r (the frame after the last is the first again)."""
    phase = np.arange(steps) / steps
    return radius * (1 - 4 * np.abs(phase - 0.5))


def latent_order(kl: np.ndarray | None, latents: int) -> np.ndarray:
    """The latents by KL, largest first; in index order where the run logs no KL per latent (a GAN)."""
    return np.argsort(-kl, kind="stable") if kl is not None and len(kl) == latents else np.arange(latents)


def latent_labels(kl: np.ndarray | None, order: np.ndarray) -> list[str]:
    """A row label per latent of `order`: "z3 KL 2.10", or "z3" where the run logs no KL per latent."""
    known = kl is not None and len(kl) == len(order)
    return [f"z{i}" + (f" KL {kl[i]:.2f}" if known else "") for i in order]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """(n, C, H, W) pixel means in [0, 1] -> (n, H, W) or (n, H, W, 3) uint8."""
    images = np.clip(images * 255 + 0.5, 0, 255).astype(np.uint8)
    return images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)


def frame(tiles: np.ndarray, row_labels: list[str], title: str, font) -> Image.Image:
    """One frame: tiles (rows, cols, H, W[, 3]) uint8 in a grid with a label per row and a title."""
    rows, cols, h, w = tiles.shape[:4]
    mode = "RGB" if tiles.ndim == 5 else "L"
    grey, white, black = ((v, v, v) if mode == "RGB" else v for v in (128, 255, 0))
    size = (LABEL_WIDTH + cols * (w + GAP), HEADER + rows * (h + GAP))
    canvas = Image.new(mode, size, grey)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, size[0], HEADER - 1), fill=white)
    draw.rectangle((0, 0, LABEL_WIDTH - 1, size[1]), fill=white)
    draw.text((4, 3), title, fill=black, font=font)
    for row in range(rows):
        top = HEADER + row * (h + GAP)
        draw.text((4, top + h // 2 - 6), row_labels[row], fill=black, font=font)
        for col in range(cols):
            canvas.paste(Image.fromarray(tiles[row, col], mode), (LABEL_WIDTH + col * (w + GAP), top))
    return canvas


@torch.no_grad()
def traversal_gif(method, dataset, kl: np.ndarray | None, path: Path) -> Path:
    """`path` (traversal_RUN.gif): GIF_IMAGES images of the dataset (a fixed draw) encoded, then in
    frame t every latent set in turn to sweep_values(...)[t] with the others at each image's code,
    decoded; one row per latent (latent_order), the latent's KL in its label; COLOURS grey levels
    (colour images: a palette of COLOURS per frame)."""
    indices = np.random.default_rng(0).choice(len(dataset), min(GIF_IMAGES, len(dataset)), replace=False)
    x = torch.from_numpy(dataset.images(indices)).float() / 255
    codes = method.encode(x)
    latents = codes.shape[1]
    order = latent_order(kl, latents)
    labels = latent_labels(kl, order)
    font = ImageFont.load_default()
    frames = []
    for value in sweep_values(method.traversal_range):
        swept = codes.repeat(len(order), 1, 1)                      # (rows, cols, latents)
        for row, latent in enumerate(order):
            swept[row, :, latent] = float(value)
        pictures = method.decode(swept.reshape(-1, latents)).float().cpu().numpy()
        images = to_uint8(pictures.reshape(-1, *x.shape[1:]))      # (rows x cols, H, W[, 3])
        tiles = images.reshape(len(order), len(indices), *images.shape[1:])
        frames.append(frame(tiles, labels, f"value {value:+.2f}", font))
    step = 256 // COLOURS
    frames = [picture.quantize(colors=COLOURS) if picture.mode == "RGB" else picture.point(lambda v: v // step * step)
              for picture in frames]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=FRAME_MS, loop=0, optimize=True)
    return path
