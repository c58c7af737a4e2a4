"""The two figures of the method comparison (bench/reporting/method_comparison.py):
method_seeds.png, every seed of every configuration per headline key with its mean rank, and
metric_correlation.png, the Spearman rank-correlation matrix of the headline keys over the runs."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from bench.reporting.figures.drawing import plt, saved

SEEDS_FILE, CORRELATION_FILE = "method_seeds.png", "metric_correlation.png"
PANEL_COLUMNS = 4
LABEL_WIDTH = 16


def seeds_and_ranks_figure(wide: pd.DataFrame, ranks: pd.DataFrame, tests: pd.DataFrame):
    """A panel per headline key: a dot per run (its seed) over each configuration's median line,
    the configuration's mean rank among all runs (1 = highest) under its name, and the
    Kruskal-Wallis p in the title, raw and Holm's over the keys."""
    keys = list(ranks.columns)
    names = list(ranks.index)
    rows = math.ceil(len(keys) / PANEL_COLUMNS)
    figure, axes = plt.subplots(rows, PANEL_COLUMNS, figsize=(4.2 * PANEL_COLUMNS, 3.4 * rows), squeeze=False)
    kruskal = tests[tests["test"] == "kruskal_wallis"].set_index("metric")
    jitter = np.random.default_rng(0)
    ticks = tick_names(names)
    for axis, key in zip(axes.flat, keys):
        for position, name in enumerate(names):
            values = wide.loc[wide["configuration"] == name, key].dropna().to_numpy(dtype=float)
            if not len(values):
                continue
            axis.scatter(position + jitter.uniform(-0.12, 0.12, len(values)), values, s=18, color=f"C{position % 10}",
                         zorder=3, gid="seed")
            axis.hlines(np.median(values), position - 0.3, position + 0.3, color="black", linewidth=1.2, gid="median")
        axis.set_xticks(range(len(names)))
        axis.set_xticklabels([f"{ticks[name]}\nrank {ranks.loc[name, key]:.1f}" if pd.notna(ranks.loc[name, key])
                              else ticks[name] for name in names], fontsize=7, rotation=30, ha="right")
        p_value, p_holm = (kruskal[column].get(key, math.nan) for column in ("p_value", "p_holm"))
        axis.set_title(f"{key}\nKruskal-Wallis raw p = {p_value:.3g}, Holm {p_holm:.3g}" if pd.notna(p_value) else key,
                       fontsize=9)
        axis.grid(axis="y", alpha=0.3)
    for axis in list(axes.flat)[len(keys):]:
        axis.set_visible(False)
    figure.suptitle("Every seed of every method per headline metric (dots), the median (line) and the mean rank "
                    "of its runs among all runs (1 = highest)", fontsize=11)
    figure.tight_layout()
    return figure


def tick_names(names: list) -> dict:
    """Each configuration's name on the axis: the method's alone ("beta-VAE (beta=4)" -> "beta-VAE")
    where that names one configuration, else the whole label on lines of LABEL_WIDTH characters."""
    methods = [str(name).partition(" (")[0] for name in names]
    if len(set(methods)) == len(methods):
        return dict(zip(names, methods))
    return {name: "\n".join(textwrap.wrap(str(name), LABEL_WIDTH)) for name in names}


def correlation_figure(correlation: pd.DataFrame):
    """The matrix as a heatmap from -1 to 1, each cell's rho written in it."""
    size = max(4.0, 0.55 * len(correlation) + 2)
    figure, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(correlation.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    axis.set_xticks(range(len(correlation)))
    axis.set_xticklabels(correlation.columns, rotation=60, ha="right", fontsize=8)
    axis.set_yticks(range(len(correlation)))
    axis.set_yticklabels(correlation.index, fontsize=8)
    for (i, j), rho in np.ndenumerate(correlation.to_numpy(dtype=float)):
        if np.isfinite(rho):
            axis.text(j, i, f"{rho:.2f}", ha="center", va="center", fontsize=6,
                      color="white" if abs(rho) > 0.6 else "black")
    figure.colorbar(image, ax=axis, label="Spearman's rho over the runs")
    axis.set_title("Rank correlation of the headline metrics over the runs")
    figure.tight_layout()
    return figure


def seeds_and_ranks(wide: pd.DataFrame, ranks: pd.DataFrame, tests: pd.DataFrame, out: Path) -> Path:
    return saved(seeds_and_ranks_figure(wide, ranks, tests), Path(out) / SEEDS_FILE)


def correlation_heatmap(correlation: pd.DataFrame, out: Path) -> Path:
    return saved(correlation_figure(correlation), Path(out) / CORRELATION_FILE)
