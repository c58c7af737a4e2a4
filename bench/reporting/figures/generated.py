"""Pictures a generative run's checkpoint makes: latent traversals (a PNG grid and an animated GIF,
bench/reporting/animation.py), reconstructions, or a GAN's samples. Each is computed first (the
pictures, as arrays) and drawn second."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench.reporting import labels
from bench.reporting.animation import latent_labels, latent_order, traversal_gif
from bench.reporting.figures.drawing import image_grid, plt, saved, saved_grid
from bench.reporting.figures.training import kl_per_latent
from bench.running.restore import restore_method

TRAVERSAL_STEPS = 10
RECONSTRUCTIONS = 8
RUN_FIGURES = ("traversal_{}.png", "traversal_{}.gif", "reconstruction_{}.png", "samples_{}.png")


def generative(method_name: str) -> bool:
    """Whether a method's trained weights give traversals (it has a decoder or generator); a
    plug-in that no longer imports gives none (its runs' scores are still reported)."""
    from bench.errors import UserError
    from methods import method_class
    try:
        cls = method_class(method_name)
    except UserError:
        return False
    return cls.trainable and cls.can_decode


def drawn_before(results_dir: Path, run_id: str) -> list[Path]:
    """The figures of run `run_id` that an earlier report drew from its checkpoint (generated_images),
    in the order it writes them."""
    return [path for name in RUN_FIGURES if (path := results_dir / name.format(run_id)).exists()]


@dataclass(frozen=True)
class Traversal:
    """The paper's traversal figure: pictures (latents, TRAVERSAL_STEPS, *image shape), one row per
    latent (row_labels) and one column per value of it (values), the others at one image's code."""
    pictures: np.ndarray
    row_labels: list
    values: list


@torch.no_grad()
def traversal_of(method, dataset, kl: np.ndarray | None) -> Traversal:
    """Rows = latents ordered by `kl` (kl_per_latent: most informative first), columns = that latent
    from -r to r with the others at the encoding of the image of every factor's middle class."""
    base = dataset.index_of(np.array([[s // 2 for s in dataset.factor_sizes]]))
    x = torch.from_numpy(dataset.images(base)).float() / 255
    z = method.encode(x)[0]
    order = latent_order(kl, len(z))
    radius = method.traversal_range
    values = torch.linspace(-radius, radius, TRAVERSAL_STEPS)
    codes = z.repeat(len(order), TRAVERSAL_STEPS, 1)
    for row, latent in enumerate(order):
        codes[row, :, latent] = values
    pictures = method.decode(codes.reshape(-1, len(z))).reshape(len(order), TRAVERSAL_STEPS, *x.shape[1:])
    return Traversal(pictures.numpy(), latent_labels(kl, order), values.tolist())


def draw_traversal(traversal: Traversal, title: str, path: Path) -> Path:
    rows = len(traversal.row_labels)
    figure, axis = plt.subplots(figsize=(TRAVERSAL_STEPS * 0.8 + 1, rows * 0.8 + 0.6))
    axis.imshow(image_grid(traversal.pictures), cmap="gray", vmin=0, vmax=1)
    h = traversal.pictures.shape[-1] + 1
    axis.set_yticks(np.arange(rows) * h + h / 2, traversal.row_labels)
    axis.set_xticks(np.arange(TRAVERSAL_STEPS) * h + h / 2, [f"{v:.1f}" for v in traversal.values])
    axis.set_title(f"{title}: latent traversals")
    axis.set_xlabel("value of the latent (the others fixed at the code of one image)")
    return saved(figure, path)


@torch.no_grad()
def reconstructions_of(method, dataset) -> np.ndarray:
    """(2, n, *image shape): RECONSTRUCTIONS images (or every image of a smaller dataset) over
    decode(encode(image))."""
    indices = np.random.default_rng(0).choice(len(dataset), min(RECONSTRUCTIONS, len(dataset)), replace=False)
    x = torch.from_numpy(dataset.images(indices)).float() / 255
    recon = method.decode(method.encode(x)).reshape(x.shape)
    return np.stack([x.numpy(), recon.numpy()])


@torch.no_grad()
def samples_of(method, rows: int = 8) -> np.ndarray:
    """A generator without an encoder-decoder pair (InfoGAN): (rows, rows, *image shape) images
    from random codes and noise (a fixed seed, so that the grid is the same at every report)."""
    pictures = method.sample(rows * rows, torch.Generator().manual_seed(0))
    return pictures.cpu().numpy().reshape(rows, rows, *pictures.shape[1:])


def generated_images(run_folder: Path, specs: dict, datasets: dict, out: Path) -> list[Path]:
    """A generative run's latent traversals (a PNG grid and an animated GIF) and its
    reconstructions (a GAN: samples) from its checkpoint; none where the checkpoint cannot be
    loaded (restore_method says why). `datasets` caches the datasets loaded, by name."""
    name = specs[run_folder.name].dataset
    restored = restore_method(run_folder, datasets.get(name))
    if restored is None:
        return []
    method, dataset = restored
    datasets[name] = dataset
    kl = kl_per_latent(run_folder)
    title, run_id = labels.run_description(run_folder), run_folder.name
    paths = [draw_traversal(traversal_of(method, dataset, kl), title, out / f"traversal_{run_id}.png"),
             traversal_gif(method, dataset, kl, out / f"traversal_{run_id}.gif")]
    if method.can_sample:                        # a GAN: its samples instead of reconstructions
        pictures = samples_of(method)
        return [*paths, saved_grid(pictures, f"{title}: {len(pictures) ** 2} generated samples",
                                   out / f"samples_{run_id}.png", (len(pictures) * 0.9, len(pictures) * 0.9 + 0.4))]
    return [*paths, saved_grid(reconstructions_of(method, dataset), f"{title}: images (top) and reconstructions (bottom)",
                               out / f"reconstruction_{run_id}.png", (RECONSTRUCTIONS * 0.9, 2.2))]
