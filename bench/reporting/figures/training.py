"""The figures of the runs' training logs (log.csv): training_curves.png (encoder-decoder models)
and training_curves_gan.png (GANs), each the lowest seed of each configuration, and
kl_per_latent.png, the KL of each latent at the end of training."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from bench.reporting.figures.drawing import DPI, plt, saved
from bench.running.run_folder import RunFolder


def kl_per_latent(run_folder: Path) -> np.ndarray | None:
    """Mean KL of each latent in the last log row, or None when the method logs none."""
    folder = RunFolder(run_folder)
    if not folder.has_log():
        return None
    last = pd.read_csv(folder.log).iloc[-1]
    columns = sorted((c for c in last.index if c.startswith("kl_z")), key=lambda c: int(c[4:]))
    return last[columns].to_numpy(dtype=float) if columns else None


def kl_bars(runs: dict[str, np.ndarray], out: Path) -> Path:
    """Per run (a title naming it), the KL of each latent sorted from largest to smallest."""
    rows = [{"run": name, "latent rank": rank, "KL (nats)": value}
            for name, kl in runs.items() for rank, value in enumerate(sorted(kl, reverse=True))]
    grid = sns.catplot(data=pd.DataFrame(rows), x="latent rank", y="KL (nats)", col="run", kind="bar",
                       col_wrap=min(3, len(runs)), height=2.8, aspect=1.4, color="steelblue")
    grid.set_titles("{col_name}", size=9)
    grid.set_axis_labels("latents, largest KL first", "KL at the end of training (nats)")
    path = out / "kl_per_latent.png"
    grid.savefig(path, dpi=DPI)
    plt.close(grid.figure)
    return path


# Axis labels of the logged training quantities (methods' train_step); others are shown by name.
QUANTITY_LABELS = {
    "loss": "loss (nats per image)", "reconstruction": "reconstruction loss (nats per image)",
    "kl": "KL (nats per image)", "d_loss": "discriminator loss", "g_loss": "generator loss",
    "mi_loss": "mutual-information loss", "d_real": "D(real image), mean", "d_fake": "D(generated image), mean",
    "fake_diversity": "diversity of generated images", "fake_mean_pixel": "mean pixel, generated images",
    "real_mean_pixel": "mean pixel, real images", "collapsed": "collapse indicator",
    "discriminator_loss": "TC discriminator loss", "discriminator_accuracy": "TC discriminator accuracy",
    "clamped_spread": "spread of the clamped latents",
}
NOT_CURVES = {"step", "images_per_s"}


def is_gan_log(log: pd.DataFrame) -> bool:
    return "g_loss" in log.columns


def training_curves(logs: dict[str, pd.DataFrame], out: Path, name: str = "training_curves.png",
                    title: str = "Training curves") -> Path:
    return saved(training_curves_figure(logs, title), out / name)


def training_curves_figure(logs: dict[str, pd.DataFrame], title: str = "Training curves"):
    """One panel per logged quantity (KL per latent aside) against the training step, one line per
    run; a quantity spanning more than 20x (a loss falling from its start) on a log axis."""
    quantities = list(dict.fromkeys(c for log in logs.values() for c in log.columns
                                    if c not in NOT_CURVES and not c.startswith("kl_z")))
    columns = min(3, len(quantities))
    rows = -(-len(quantities) // columns)
    figure, axes = plt.subplots(rows, columns, squeeze=False, figsize=(4.2 * columns, 2.9 * rows + 0.9))
    colours = dict(zip(logs, sns.color_palette("tab10", len(logs))))
    for axis, quantity in zip(axes.flat, quantities):
        values = []
        for run, log in logs.items():
            if quantity in log.columns:
                axis.plot(log["step"], log[quantity], color=colours[run], lw=1.2, marker="." if len(log) < 5 else None)
                values += list(log[quantity].dropna())
        positive = [v for v in values if v > 0]
        if values and len(positive) == len(values) and max(values) > 20 * min(values):
            axis.set_yscale("log")
        axis.set_xlabel("training step")
        axis.set_ylabel(QUANTITY_LABELS.get(quantity, quantity.replace("_", " ")), fontsize=9)
        axis.grid(color="0.92")
    for axis in list(axes.flat)[len(quantities):]:
        axis.set_visible(False)
    figure.suptitle(title, fontsize=11)
    figure.legend(handles=[Line2D([], [], color=colours[run], label=run) for run in logs], loc="lower center",
                  ncol=min(3, len(logs)), frameon=False, fontsize=8)
    legend_rows = -(-len(logs) // 3)
    figure.tight_layout(rect=(0, (0.25 * legend_rows + 0.1) / figure.get_size_inches()[1], 1, 1))
    return figure
