"""Figures of a results folder: metric bars, scores along training (against the images seen),
latent traversals, reconstructions (or a generator's samples), KL per latent, training curves, the
metric against normalised beta (docs/paper.md), a reproduction's replicas beside the paper's values,
and its scores under each metric protocol. all_plots gathers what a results folder's figures show
(what_to_draw), draws each with its own function and hands its notes to the report writer."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

from bench.errors import UserError  # noqa: E402
from bench.reporting import labels  # noqa: E402
from bench.reporting.animation import latent_labels, latent_order, traversal_gif  # noqa: E402
from bench.reporting.curves import along_training, scored_early  # noqa: E402
from bench.reporting.health import unhealthy_run_ids  # noqa: E402
from bench.reporting.preset import paper_of  # noqa: E402
from bench.running.restore import restore_method  # noqa: E402
from bench.running.run_folder import DONE, RUNS, RunFolder, readable_specs  # noqa: E402
from metrics import headline_keys  # noqa: E402

TRAVERSAL_STEPS = 10
RECONSTRUCTIONS = 8
DPI = 100
PAPER_COLOUR = "crimson"
BAR_COLOUR = "#a9c4de"


def chance_levels(scores: pd.DataFrame, datasets: dict, paper: dict) -> dict[str, float]:
    """The score a useless code gets, for the metric keys where it is known: the beta_vae metric's
    accuracies guess one of its target factors (1 / their number, from the run's metric settings);
    the preset's `chance` (in %) for its metric."""
    from bench import data
    from metrics.beta_vae import factor_subset, protocol_factors
    chance = {}
    for key, rows in scores[scores["metric"].str.match(r"beta_vae\..*accuracy$")].groupby("metric"):
        try:
            settings = json.loads(rows["metric_settings"].iloc[0]) if "metric_settings" in rows else {}
            name = rows["dataset"].iloc[0]
            dataset = datasets.get(name) or datasets.setdefault(name, data.load(name))
            factors = protocol_factors(settings.get("protocol", "disentanglement_lib"), settings.get("factors", "protocol"))
            chance[key] = 1 / len(factor_subset(dataset, factors))
        except (UserError, KeyError, TypeError, ValueError):    # unknown dataset or settings: no chance line
            continue
    if "chance" in paper:
        chance[paper["metric"]] = paper["chance"] / 100
    return chance


def configurations(scores: pd.DataFrame, specs: dict, paper: dict) -> tuple[list, dict]:
    """The (method, params) pairs of `scores` in reading order (the paper's rows first, in its
    order) and a readable label for each (labels.configuration_names)."""
    paper_rows = {row["method"]: row for row in paper.get("rows", [])}
    pairs = labels.configuration_order(zip(scores["method"], scores["params"].fillna("")),
                                       [*paper_rows] + [m for m in registry_order() if m not in paper_rows])
    return pairs, labels.configuration_names(pairs, specs, paper)


def registry_order() -> list[str]:
    """The methods as `bench list` lists them."""
    from methods import METHODS
    return list(METHODS)


def unit_interval(values) -> bool:
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    return len(values) > 0 and values.min() >= 0 and values.max() <= 1


def metric_bars(scores: pd.DataFrame, out: Path, specs: dict | None = None, paper: dict | None = None,
                chance: dict | None = None) -> Path | None:
    """metrics.png (metric_bars_figure), or None when there are only health.* scores."""
    figure = metric_bars_figure(scores, specs, paper, chance)
    return saved(figure, out / "metrics.png") if figure else None


def saved(figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def metric_bars_figure(scores: pd.DataFrame, specs: dict | None = None, paper: dict | None = None,
                       chance: dict | None = None):
    """One panel per metric, its headline key (metrics.headline_keys, as in table.md; the other keys
    and health.* are in table.csv) in the fixed order of metrics.METRICS, a preset's metric first;
    one row per configuration in reading order: a bar at the mean over the healthy seeds, a line of ± one std, a dot per seed, a cross
    per unhealthy run (left out of the bar), the paper's value (red diamond) and chance (dashed)."""
    specs, paper, chance = specs or {}, paper or {}, chance or {}
    frame = scores[~scores["metric"].str.startswith("health.")].assign(params=lambda f: f["params"].fillna(""))
    if frame.empty:
        return None
    unhealthy = unhealthy_run_ids(scores)
    pairs, names = configurations(frame, specs, paper)
    keys = headline_keys(frame["metric"])
    if paper.get("metric") in set(frame["metric"]):                 # a preset's metric first
        keys = [paper["metric"], *(key for key in keys if key != paper["metric"])]
    paper_rows = {row["method"]: row for row in paper.get("rows", [])}
    counts = {pair: frame[(frame["method"] == pair[0]) & (frame["params"] == pair[1])
                          & ~frame["run_id"].isin(unhealthy)]["run_id"].nunique() for pair in pairs}
    columns = min(3, len(keys))
    rows_of_panels = -(-len(keys) // columns)
    figure, axes = plt.subplots(rows_of_panels, columns, squeeze=False, sharey=True,
                                figsize=(4.2 * columns + 2.6, (0.42 * len(pairs) + 1.0) * rows_of_panels + 0.35))
    shown = set()
    for axis, key in zip(axes.flat, keys):
        values_for_axis = []
        for y, (method, params) in enumerate(pairs):
            runs = frame[(frame["method"] == method) & (frame["params"] == params) & (frame["metric"] == key)]
            good = runs[~runs["run_id"].isin(unhealthy)]["value"].to_numpy(dtype=float)
            bad = runs[runs["run_id"].isin(unhealthy)]["value"].to_numpy(dtype=float)
            values_for_axis += [*good, *bad]
            if len(good):
                axis.barh(y, good.mean(), height=0.6, color=BAR_COLOUR, zorder=1)
                shown.add("bar")
                if len(good) > 1:
                    axis.errorbar(good.mean(), y, xerr=good.std(ddof=1), color="black", capsize=3, lw=1, zorder=2)
                    shown.add("std")
                offsets = np.linspace(-0.15, 0.15, len(good)) if len(good) > 1 else [0.0]
                axis.scatter(good, y + np.asarray(offsets), s=14, color="black", zorder=3)
                shown.add("seed")
            if len(bad):
                axis.scatter(bad, np.full(len(bad), y), marker="x", s=30, color="grey", zorder=3)
                shown.add("unhealthy")
            if key == paper.get("metric") and method in paper_rows:
                score = paper_rows[method]["score"] / 100
                values_for_axis.append(score)
                axis.scatter(score, y, marker="D", s=30, color=PAPER_COLOUR, zorder=4, gid="paper")
                shown.add("paper")
        if key in chance:
            axis.axvline(chance[key], color="0.35", linestyle="--", lw=1, zorder=2.5, gid="chance")
            values_for_axis.append(chance[key])
            shown.add("chance")
        if unit_interval(values_for_axis):
            axis.set_xlim(0, 1.02)
        axis.set_title(key, fontsize=10)
        axis.set_xlabel("score (0 to 1)" if unit_interval(values_for_axis) else "score")
        axis.grid(axis="x", color="0.9", zorder=0)
    for axis in list(axes.flat)[len(keys):]:
        axis.set_visible(False)
    axes[0, 0].set_yticks(range(len(pairs)), [f"{names[pair]}, n={counts[pair]}" for pair in pairs])
    axes[0, 0].set_ylim(len(pairs) - 0.5, -0.5)                      # the first row on top
    legend = {"bar": Patch(color=BAR_COLOUR, label="mean over seeds"),
              "std": Line2D([], [], color="black", lw=1, label="± one std over seeds"),
              "seed": Line2D([], [], color="black", marker="o", ls="", ms=4, label="one seed"),
              "unhealthy": Line2D([], [], color="grey", marker="x", ls="", label="unhealthy run (left out)"),
              "paper": Line2D([], [], color=PAPER_COLOUR, marker="D", ls="", ms=5, label="paper's value"),
              "chance": Line2D([], [], color="0.35", ls="--", label="chance")}
    figure.legend(handles=[handle for name, handle in legend.items() if name in shown], loc="lower center",
                  ncol=6, frameon=False, fontsize=8)
    figure.tight_layout(rect=(0, 0.3 / figure.get_size_inches()[1], 1, 1))
    return figure


def images_text(value: float) -> str:
    """A number of images as a tick says it: 800, 64k, 1.6M."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def score_curves(curves: pd.DataFrame, out: Path, specs: dict | None = None, paper: dict | None = None,
                 chance: dict | None = None) -> Path:
    """curves.png (score_curves_figure)."""
    return saved(score_curves_figure(curves, specs, paper, chance), out / "curves.png")


def score_curves_figure(curves: pd.DataFrame, specs: dict | None = None, paper: dict | None = None,
                        chance: dict | None = None):
    """Scores along training (bench/reporting/curves.py, along_training): one panel per metric
    scored before the last step (its headline key), the score against the images seen on a log
    axis (trained runs only), one line per configuration through the median over its seeds at
    each budget, a dot per seed, and chance dashed where known."""
    specs, paper, chance = specs or {}, paper or {}, chance or {}
    keys = headline_keys(scored_early(curves))
    frame = curves[curves["metric"].isin(keys) & (curves["images"] > 0)].assign(params=lambda f: f["params"].fillna(""))
    pairs, names = configurations(frame, specs, paper)
    colours = dict(zip(pairs, sns.color_palette("tab10", len(pairs))))
    budgets = sorted(frame["images"].unique())
    columns = min(3, len(keys))
    rows_of_panels = -(-len(keys) // columns)
    legend_rows = -(-(len(pairs) + 2) // 4)
    figure, axes = plt.subplots(rows_of_panels, columns, squeeze=False,
                                figsize=(4.4 * columns, 3.3 * rows_of_panels + 0.3 * legend_rows + 0.3))
    shown = set()
    for axis, key in zip(axes.flat, keys):
        values = []
        for pair in pairs:
            runs = frame[(frame["method"] == pair[0]) & (frame["params"] == pair[1]) & (frame["metric"] == key)]
            if runs.empty:
                continue
            medians = runs.groupby("images")["value"].median()
            axis.plot(medians.index, medians.to_numpy(), color=colours[pair], lw=1.5, zorder=2, gid="median")
            axis.scatter(runs["images"], runs["value"], s=12, color=colours[pair], alpha=0.6, zorder=3, gid="seed")
            values += list(runs["value"])
            shown.add(pair)
        if key in chance:
            axis.axhline(chance[key], color="0.35", linestyle="--", lw=1, zorder=1, gid="chance")
            values.append(chance[key])
            shown.add("chance")
        axis.set_xscale("log")
        if len(budgets) <= MAX_TICKS:                                 # the budgets scored
            axis.xaxis.set_major_locator(FixedLocator(budgets))
            axis.xaxis.set_minor_locator(NullLocator())
        else:
            axis.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: images_text(value)))
        axis.xaxis.set_minor_formatter(NullFormatter())
        if unit_interval(values):
            axis.set_ylim(0, 1.02)
        axis.set_title(key, fontsize=10)
        axis.set_xlabel("images seen (steps x batch size)")
        axis.set_ylabel("score (0 to 1)" if unit_interval(values) else "score")
        axis.grid(color="0.92")
    for axis in list(axes.flat)[len(keys):]:
        axis.set_visible(False)
    handles = [Line2D([], [], color=colours[pair], lw=1.5, label=names[pair])
               for pair in pairs if pair in shown]
    handles.append(Line2D([], [], color="0.4", marker="o", ls="", ms=4, alpha=0.6, label="one seed"))
    if "chance" in shown:
        handles.append(Line2D([], [], color="0.35", ls="--", label="chance"))
    figure.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)), frameon=False, fontsize=8,
                  title="lines: the median over a configuration's seeds", title_fontsize=8)
    figure.tight_layout(rect=(0, (0.22 * legend_rows + 0.3) / figure.get_size_inches()[1], 1, 1))
    return figure


def kl_per_latent(run_folder: Path) -> np.ndarray | None:
    """Mean KL of each latent in the last log row, or None when the method logs none."""
    folder = RunFolder(run_folder)
    if not folder.has_log():
        return None
    last = pd.read_csv(folder.log).iloc[-1]
    columns = sorted((c for c in last.index if c.startswith("kl_z")), key=lambda c: int(c[4:]))
    return last[columns].to_numpy(dtype=float) if columns else None


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


@torch.no_grad()
def traversal(method, dataset, run_folder: Path, out: Path, kl: np.ndarray | None) -> Path:
    """Rows = latents ordered by `kl` (kl_per_latent: most informative first), columns = that latent
    from -r to r with the others at the encoding of one image (the paper's traversal figures)."""
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
    figure, axis = plt.subplots(figsize=(TRAVERSAL_STEPS * 0.8 + 1, len(order) * 0.8 + 0.6))
    axis.imshow(image_grid(pictures.numpy()), cmap="gray", vmin=0, vmax=1)
    h = x.shape[-1] + 1
    axis.set_yticks(np.arange(len(order)) * h + h / 2, latent_labels(kl, order))
    axis.set_xticks(np.arange(TRAVERSAL_STEPS) * h + h / 2, [f"{v:.1f}" for v in values.tolist()])
    axis.set_title(f"{labels.run_description(run_folder)}: latent traversals")
    axis.set_xlabel("value of the latent (the others fixed at the code of one image)")
    path = out / f"traversal_{run_folder.name}.png"
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


@torch.no_grad()
def reconstructions(method, dataset, run_folder: Path, out: Path) -> Path:
    """Top row: images; bottom row: decode(encode(image)) (RECONSTRUCTIONS of them, or every image
    of a smaller dataset)."""
    indices = np.random.default_rng(0).choice(len(dataset), min(RECONSTRUCTIONS, len(dataset)), replace=False)
    x = torch.from_numpy(dataset.images(indices)).float() / 255
    recon = method.decode(method.encode(x)).reshape(x.shape)
    pictures = np.stack([x.numpy(), recon.numpy()])
    return saved_grid(pictures, f"{labels.run_description(run_folder)}: images (top) and reconstructions (bottom)",
                      out / f"reconstruction_{run_folder.name}.png", (RECONSTRUCTIONS * 0.9, 2.2))


def saved_grid(pictures: np.ndarray, title: str, path: Path, size: tuple[float, float]) -> Path:
    """A (rows, cols, H, W) picture grid saved as one PNG with a title and no axes."""
    figure, axis = plt.subplots(figsize=size)
    axis.imshow(image_grid(pictures), cmap="gray", vmin=0, vmax=1)
    axis.set_axis_off()
    axis.set_title(title)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


@torch.no_grad()
def samples(method, run_folder: Path, out: Path, rows: int = 8) -> Path:
    """A generator without an encoder-decoder pair (InfoGAN): rows x rows images from random codes
    and noise (a fixed seed, so that the grid is the same at every report)."""
    pictures = method.sample(rows * rows, torch.Generator().manual_seed(0))
    pictures = pictures.cpu().numpy().reshape(rows, rows, *pictures.shape[1:])
    return saved_grid(pictures, f"{labels.run_description(run_folder)}: {rows * rows} generated samples",
                      out / f"samples_{run_folder.name}.png", (rows * 0.9, rows * 0.9 + 0.4))


def replicas(scores: pd.DataFrame, paper: dict, unhealthy: set, out: Path) -> Path:
    """Every replica of every paper row as a point over a box, in the paper's row order, with the
    paper's value (a red diamond) and the chance level (a dashed line); unhealthy runs as crosses."""
    labels = {row["method"]: row["label"] for row in paper["rows"]}
    frame = scores[(scores["metric"] == paper["metric"]) & scores["method"].isin(labels)]
    frame = frame.assign(row=frame["method"].map(labels), score=frame["value"] * 100,
                         healthy=~frame["run_id"].isin(unhealthy))
    order = [row["label"] for row in paper["rows"]]
    figure, axis = plt.subplots(figsize=(10, 0.55 * len(order) + 1.2))
    healthy = frame[frame["healthy"]]
    sns.boxplot(data=healthy, x="score", y="row", order=order, color="lightgrey", width=0.5, fliersize=0, ax=axis)
    sns.stripplot(data=healthy, x="score", y="row", order=order, color="black", size=4, jitter=0.15, ax=axis)
    failed = frame[~frame["healthy"]]
    if len(failed):
        axis.scatter(failed["score"], [order.index(r) for r in failed["row"]], marker="x", color="grey",
                     label="unhealthy run (left out)")
    axis.scatter([row["score"] for row in paper["rows"]], range(len(order)), marker="D", color="red",
                 zorder=5, label="paper")
    if "chance" in paper:
        axis.axvline(paper["chance"], color="grey", linestyle="--", label=f"chance ({paper['chance']:g}%)")
    axis.set_xlim(0, 102)
    axis.set_xlabel(f"{paper['metric']} (%), one point per replica")
    axis.set_ylabel("")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    figure.tight_layout()
    path = out / "replicas.png"
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


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


MIN_BETAS_FOR_A_SWEEP = 3
RECONSTRUCTION = "reconstruction loss (nats)"
MAX_TICKS = 6                                     # more values on a log axis (normalised betas, budgets): 1, 2, 5 x 10^k
PIXELS = 64 * 64                                  # N of the normalised beta: dSprites' 64 x 64 images


def final_reconstruction(run_folder: Path) -> float | None:
    """The reconstruction loss (nats per image) of the last log row, or None."""
    folder = RunFolder(run_folder)
    if not folder.has_log():
        return None
    last = pd.read_csv(folder.log).iloc[-1]
    return float(last["reconstruction"]) if "reconstruction" in last.index else None


def metric_against_normalised_beta(scores: pd.DataFrame, specs: dict, runs_dir: Path, out: Path,
                                   chance: dict | None = None) -> Path | None:
    """metric_vs_normalised_beta.png, or None when no line has MIN_BETAS_FOR_A_SWEEP betas."""
    figure = normalised_beta_figure(scores, specs, runs_dir, chance)
    return saved(figure, out / "metric_vs_normalised_beta.png") if figure else None


def normalised_beta_figure(scores: pd.DataFrame, specs: dict, runs_dir: Path, chance: dict | None = None):
    """The paper's beta sweep: each metric key and the final reconstruction loss against
    beta_norm = beta * M / N (M latents, N pixels), one line per method and latent size (methods
    with a beta of another meaning, e.g. beta_tcvae, get lines of their own; docs/paper.md section
    1), the mean over seeds with a band of ± one std. Drawn only when some line has runs at
    MIN_BETAS_FOR_A_SWEEP values of beta. Scores between 0 and 1 keep that whole axis (chance
    dashed where known), the reconstruction loss starts at 0: the axes do not magnify small gaps."""
    chance = chance or {}
    rows = []
    for run_id, group in scores.groupby("run_id"):
        spec = specs.get(run_id)
        if spec is None or "beta" not in spec.params or "latent_dim" not in spec.params:
            continue
        params = spec.params
        where = {"normalised beta": float(params["beta"]) * params["latent_dim"] / PIXELS, "beta": params["beta"],
                 "line": f"{labels.method_name(spec.method)}, {params['latent_dim']} latents",
                 "order": (spec.method, params["latent_dim"])}
        rows += [{**where, "quantity": metric, "value": value} for metric, value in zip(group["metric"], group["value"])
                 if not metric.startswith("health.")]
        reconstruction = final_reconstruction(runs_dir / run_id)
        if reconstruction is not None:
            rows.append({**where, "quantity": RECONSTRUCTION, "value": reconstruction})
    frame = pd.DataFrame(rows)
    if frame.empty or frame.groupby("line")["beta"].nunique().max() < MIN_BETAS_FOR_A_SWEEP:
        return None
    quantities = sorted(set(frame["quantity"]) - {RECONSTRUCTION}) + [RECONSTRUCTION] * (RECONSTRUCTION in set(frame["quantity"]))
    ticks = sorted(frame["normalised beta"].unique())
    lines = [line for _, line in sorted(set(zip(frame["order"], frame["line"])))]   # by method, then latents
    grid = sns.relplot(data=frame, x="normalised beta", y="value", hue="line", hue_order=lines, col="quantity",
                       col_order=quantities, kind="line", marker="o", errorbar="sd", palette="viridis",
                       col_wrap=min(3, len(quantities)), height=3.0, aspect=1.3, facet_kws={"sharey": False})
    grid.set(xscale="log")
    grid.set_titles("{col_name}")
    grid.set_axis_labels("normalised beta (beta x latents / pixels)", "")
    for quantity, axis in grid.axes_dict.items():
        if len(ticks) <= MAX_TICKS:                                   # the normalised betas run
            axis.xaxis.set_major_locator(FixedLocator(ticks))
            axis.xaxis.set_minor_locator(NullLocator())
        else:
            axis.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.xaxis.set_minor_formatter(NullFormatter())
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.2g}"))
        axis.tick_params(axis="x", labelsize=8)
        values = frame[frame["quantity"] == quantity]["value"]
        if quantity == RECONSTRUCTION:
            axis.set_ylim(0, values.max() * 1.08)
            axis.set_ylabel("nats per image")
        elif unit_interval(values):
            axis.set_ylim(0, 1.02)
            axis.set_ylabel("score (0 to 1)")
        if quantity in chance:
            axis.axhline(chance[quantity], color="grey", linestyle="--", lw=1)
            axis.text(axis.get_xlim()[0], chance[quantity], " chance", va="bottom", fontsize=7, color="grey")
    grid.legend.set_title("line (mean ± std over seeds)")
    return grid.figure


def protocol_heatmap(table: pd.DataFrame, out: Path) -> Path:
    """Each paper row's score (%) under each protocol, the paper's column last (bench.reporting.protocol_study)."""
    rows = table[table["representation"] != table["representation"].iloc[-1]].set_index("representation")
    values = rows.astype(float)
    figure, axes = plt.subplots(figsize=(1.3 * values.shape[1] + 3, 0.45 * len(values) + 1.6))
    sns.heatmap(values, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=100, cbar=False, ax=axes)
    axes.set_xticklabels(axes.get_xticklabels(), rotation=30, ha="right")
    axes.set_xlabel("")
    axes.set_ylabel("")
    figure.tight_layout()
    path = out / "protocols.png"
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def generative(method_name: str) -> bool:
    """Whether a method's trained weights give traversals (it has a decoder or generator)."""
    from methods import METHODS
    cls = METHODS.get(method_name)
    return cls is not None and cls.trainable and cls.can_decode


@dataclass(frozen=True)
class ToDraw:
    """What the figures of a results folder show (what_to_draw): the last step's scores, the scores
    along training, each readable run's StoredSpec, a preset's [paper] table and the chance levels;
    per configuration (method and parameters) of the finished runs, the log and KL per latent of
    its lowest seed with a log (encoder-decoder models and GANs apart), the folder of its lowest
    seed with checkpoint.pt where the method generates images (traversals, reconstructions or
    samples), and the configurations that would have those but kept no checkpoint: the figures an
    earlier report drew from one of their runs (`kept_figures`, shown again), or, where there are
    none, their names (`without_checkpoint`). `datasets`: the datasets loaded so far, by name,
    shared by the figures."""
    scores: pd.DataFrame
    curves: pd.DataFrame
    specs: dict
    paper: dict
    chance: dict
    datasets: dict
    vae_logs: dict
    gan_logs: dict
    kls: dict
    generators: list
    kept_figures: list
    without_checkpoint: list


class Figures(NamedTuple):
    """The figures written, and the notes for the report writer to add below the tables."""
    paths: list
    notes: list


def all_plots(results_dir: Path, scores: pd.DataFrame) -> Figures:
    """Every figure the results support (gathered by what_to_draw, each drawn by its own function),
    the per-run figures an earlier report drew for configurations whose checkpoints are gone, and a
    note for each configuration whose traversals cannot be drawn (no run kept checkpoint.pt)."""
    results_dir = Path(results_dir)
    todo = what_to_draw(results_dir, scores)
    paths = [metric_bars(todo.scores, results_dir, todo.specs, todo.paper, todo.chance) if len(todo.scores) else None,
             score_curves(todo.curves, results_dir, todo.specs, todo.paper, todo.chance) if len(todo.curves) else None]
    for run_folder in todo.generators:
        paths += generated_images(run_folder, todo.specs, todo.datasets, results_dir)
    paths += todo.kept_figures
    paths += [kl_bars(todo.kls, results_dir) if todo.kls else None,
              training_curves(todo.vae_logs, results_dir, "training_curves.png",
                              "Training curves (encoder-decoder models; lowest seed of each configuration)")
              if todo.vae_logs else None,
              training_curves(todo.gan_logs, results_dir, "training_curves_gan.png",
                              "Training curves (GANs; lowest seed of each configuration)") if todo.gan_logs else None,
              metric_against_normalised_beta(todo.scores, todo.specs, results_dir / RUNS, results_dir, todo.chance)]
    notes = [f"Figures: no latent traversal or reconstruction for {', '.join(todo.without_checkpoint)}: no run "
             f"folder of theirs has checkpoint.pt (checkpoints are not committed; training the runs again writes "
             f"them)."] if todo.without_checkpoint else []
    return Figures([path for path in paths if path is not None], notes)


def what_to_draw(results_dir: Path, scores: pd.DataFrame) -> ToDraw:
    """Gather what the figures of `results_dir` show (ToDraw); reads the run folders, draws nothing."""
    runs_dir = results_dir / RUNS
    specs = readable_specs(results_dir)
    paper = paper_of(results_dir)
    datasets: dict = {}
    chance = chance_levels(scores, datasets, paper) if len(scores) else {}
    finished: dict = {}
    configuration = dict(zip(scores["run_id"], scores["params"].fillna(""))) if len(scores) else {}
    for run_id, spec in specs.items():                     # a run still training has a partial log
        if RunFolder(runs_dir / run_id).state == DONE:      # its row as the tables name it (replicas.py)
            key = (spec.method, configuration.get(run_id, labels.canonical(spec.overrides)))
            finished.setdefault(key, []).append(run_id)
    pairs, names = configurations(pd.DataFrame({"method": [k[0] for k in finished],
                                                "params": [k[1] for k in finished]}), specs, paper)
    vae_logs, gan_logs, kls, generators, kept_figures, without_checkpoint = {}, {}, {}, [], [], []
    for pair in pairs:
        folders = [RunFolder(runs_dir / run_id) for run_id in sorted(finished[pair], key=lambda r: specs[r].seed)]
        logged = [folder for folder in folders if folder.has_log()]
        if logged:
            label = f"{names[pair]}, seed {specs[logged[0].run_id].seed}"
            log = pd.read_csv(logged[0].log)
            (gan_logs if is_gan_log(log) else vae_logs)[label] = log
            kl = kl_per_latent(logged[0].path)
            if kl is not None:
                kls[label] = kl
        kept = [folder.path for folder in folders if folder.checkpoint.exists()]
        if generative(pair[0]):
            drawn = next((found for folder in folders if (found := drawn_before(results_dir, folder.run_id))), [])
            if kept:
                generators.append(kept[0])
            elif drawn:
                kept_figures += drawn
            else:
                without_checkpoint.append(f"{names[pair]} ({len(folders)} run{'s' * (len(folders) > 1)})")
    return ToDraw(scores, along_training(results_dir), specs, paper, chance, datasets, vae_logs, gan_logs, kls,
                  generators, kept_figures, without_checkpoint)


RUN_FIGURES = ("traversal_{}.png", "traversal_{}.gif", "reconstruction_{}.png", "samples_{}.png")


def drawn_before(results_dir: Path, run_id: str) -> list[Path]:
    """The figures of run `run_id` that an earlier report drew from its checkpoint (generated_images),
    in the order it writes them."""
    return [path for name in RUN_FIGURES if (path := results_dir / name.format(run_id)).exists()]


def generated_images(run_folder: Path, specs: dict, datasets: dict, out: Path) -> list[Path]:
    """A generative run's latent traversals (a PNG grid and an animated GIF, bench/reporting/animation.py)
    and its reconstructions (a GAN: samples) from its checkpoint; none where the checkpoint cannot be
    loaded (restore_method says why)."""
    name = specs[run_folder.name].dataset
    restored = restore_method(run_folder, datasets.get(name))
    if restored is None:
        return []
    method, dataset = restored
    datasets[name] = dataset
    kl = kl_per_latent(run_folder)
    traversals = [traversal(method, dataset, run_folder, out, kl),
                  traversal_gif(method, dataset, kl, out / f"traversal_{run_folder.name}.gif")]
    if method.can_sample:                        # a GAN: its samples instead of reconstructions
        return [*traversals, samples(method, run_folder, out)]
    return [*traversals, reconstructions(method, dataset, run_folder, out)]
