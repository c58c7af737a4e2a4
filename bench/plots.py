"""Figures of a results folder: metric bars, latent traversals, reconstructions (or a generator's
samples), KL per latent, training curves, the metric against normalised beta (docs/paper.md), a
reproduction's replicas beside the paper's values, and its scores under each metric protocol."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402

from bench.report import run_label  # noqa: E402
from bench.restore import readable_spec, restore_method  # noqa: E402

TRAVERSAL_STEPS = 10
RECONSTRUCTIONS = 8
DPI = 100


def metric_bars(scores: pd.DataFrame, out: Path) -> Path:
    """One panel per metric key, one bar per method, error bars = std over seeds."""
    frame = scores.assign(run=[run_label(m, p) for m, p in zip(scores["method"], scores["params"])])
    keys = sorted(frame["metric"].unique())
    grid = sns.catplot(data=frame, x="value", y="run", col="metric", col_order=keys, kind="bar",
                       errorbar="sd", col_wrap=min(3, len(keys)), sharex=False, height=3.2, aspect=1.3)
    grid.set_titles("{col_name}")
    grid.set_axis_labels("score", "")
    path = out / "metrics.png"
    grid.savefig(path, dpi=DPI)
    plt.close(grid.figure)
    return path


def kl_per_latent(run_folder: Path) -> np.ndarray | None:
    """Mean KL of each latent in the last log row, or None when the method logs none."""
    log = run_folder / "log.csv"
    if not log.exists() or log.stat().st_size == 0:
        return None
    last = pd.read_csv(log).iloc[-1]
    columns = sorted((c for c in last.index if c.startswith("kl_z")), key=lambda c: int(c[4:]))
    return last[columns].to_numpy(dtype=float) if columns else None


def image_grid(images: np.ndarray) -> np.ndarray:
    """(rows, cols, H, W) -> one (rows * H, cols * W) picture with 1-pixel grey separators."""
    rows, cols, h, w = images.shape
    canvas = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), 0.5)
    for r in range(rows):
        for c in range(cols):
            canvas[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = images[r, c]
    return canvas


@torch.no_grad()
def traversal(method, dataset, run_folder: Path, out: Path) -> Path:
    """Rows = latents ordered by KL (most informative first), columns = that latent from -r to r
    with the others at the encoding of one image (the paper's traversal figures)."""
    base = dataset.index_of(np.array([[s // 2 for s in dataset.factor_sizes]]))
    x = torch.from_numpy(dataset.images(base)).float() / 255
    z = method.encode(x)[0]
    kl = kl_per_latent(run_folder)
    order = np.argsort(-kl) if kl is not None and len(kl) == len(z) else np.arange(len(z))
    radius = getattr(method, "traversal_range", 3.0)
    values = torch.linspace(-radius, radius, TRAVERSAL_STEPS)
    codes = z.repeat(len(order), TRAVERSAL_STEPS, 1)
    for row, latent in enumerate(order):
        codes[row, :, latent] = values
    pictures = method.decode(codes.reshape(-1, len(z))).reshape(len(order), TRAVERSAL_STEPS, *x.shape[-2:])
    figure, axis = plt.subplots(figsize=(TRAVERSAL_STEPS * 0.8 + 1, len(order) * 0.8 + 0.6))
    axis.imshow(image_grid(pictures.numpy()), cmap="gray", vmin=0, vmax=1)
    h = x.shape[-1] + 1
    axis.set_yticks(np.arange(len(order)) * h + h / 2,
                    [f"z{i}" + (f" KL {kl[i]:.2f}" if kl is not None and len(kl) == len(z) else "") for i in order])
    axis.set_xticks(np.arange(TRAVERSAL_STEPS) * h + h / 2, [f"{v:.1f}" for v in values.tolist()])
    axis.set_title(f"{run_folder.name}: latent traversals")
    path = out / f"traversal_{run_folder.name}.png"
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


@torch.no_grad()
def reconstructions(method, dataset, run_folder: Path, out: Path) -> Path:
    """Top row: images; bottom row: decode(encode(image))."""
    indices = np.random.default_rng(0).choice(len(dataset), RECONSTRUCTIONS, replace=False)
    x = torch.from_numpy(dataset.images(indices)).float() / 255
    recon = method.decode(method.encode(x)).reshape(len(indices), *x.shape[-2:])
    pictures = np.stack([x[:, 0].numpy(), recon.numpy()])
    return saved_grid(pictures, f"{run_folder.name}: images (top) and reconstructions (bottom)",
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
    pictures = pictures[:, 0].cpu().numpy().reshape(rows, rows, *pictures.shape[-2:])
    return saved_grid(pictures, f"{run_folder.name}: {rows * rows} generated samples",
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
    """Per run, the KL of each latent sorted from largest to smallest."""
    rows = [{"run": name, "latent rank": rank, "KL (nats)": value}
            for name, kl in runs.items() for rank, value in enumerate(sorted(kl, reverse=True))]
    grid = sns.catplot(data=pd.DataFrame(rows), x="latent rank", y="KL (nats)", col="run", kind="bar",
                       col_wrap=min(3, len(runs)), height=2.8, aspect=1.3, color="steelblue")
    grid.set_titles("{col_name}")
    path = out / "kl_per_latent.png"
    grid.savefig(path, dpi=DPI)
    plt.close(grid.figure)
    return path


def training_curves(logs: dict[str, pd.DataFrame], out: Path) -> Path:
    """Each logged loss term against the step, one line per run."""
    frames = [log.melt(id_vars="step", value_vars=[c for c in log.columns if c in
                       ("loss", "reconstruction", "kl", "d_loss", "g_loss", "mi_loss")]).assign(run=name)
              for name, log in logs.items()]
    frame = pd.concat(frames)
    grid = sns.relplot(data=frame, x="step", y="value", hue="run", col="variable", kind="line",
                       col_wrap=3, height=2.8, aspect=1.3, facet_kws={"sharey": False})
    grid.set_titles("{col_name}")
    path = out / "training_curves.png"
    grid.savefig(path, dpi=DPI)
    plt.close(grid.figure)
    return path


MIN_BETAS_FOR_A_SWEEP = 3


def final_reconstruction(run_folder: Path) -> float | None:
    """The reconstruction loss (nats per image) of the last log row, or None."""
    log = run_folder / "log.csv"
    if not log.exists() or log.stat().st_size == 0:
        return None
    last = pd.read_csv(log).iloc[-1]
    return float(last["reconstruction"]) if "reconstruction" in last.index else None


def metric_against_normalised_beta(scores: pd.DataFrame, specs: dict[str, dict], runs_dir: Path, out: Path) -> Path | None:
    """The paper's beta sweep: each metric key and the final reconstruction loss against
    beta_norm = beta * M / N (M latents, N pixels), one line per method and latent size (methods
    with a beta of another meaning, e.g. beta_tcvae, get lines of their own; docs/paper.md section
    1). Drawn only when some line has runs at MIN_BETAS_FOR_A_SWEEP values of beta."""
    rows = []
    for run_id, group in scores.groupby("run_id"):
        spec = specs.get(run_id, {})
        params = spec.get("params", {})
        if "beta" not in params or "latent_dim" not in params:
            continue
        where = {"normalised beta": params["beta"] * params["latent_dim"] / 4096, "beta": params["beta"],
                 "line": f"{spec['method']}, {params['latent_dim']} latents",
                 "order": (spec["method"], params["latent_dim"])}
        rows += [{**where, "quantity": metric, "value": value} for metric, value in zip(group["metric"], group["value"])
                 if not metric.startswith("health.")]
        reconstruction = final_reconstruction(runs_dir / run_id)
        if reconstruction is not None:
            rows.append({**where, "quantity": "reconstruction loss (nats)", "value": reconstruction})
    frame = pd.DataFrame(rows)
    if frame.empty or frame.groupby("line")["beta"].nunique().max() < MIN_BETAS_FOR_A_SWEEP:
        return None
    quantities = list(dict.fromkeys(frame["quantity"]))
    lines = [line for _, line in sorted(set(zip(frame["order"], frame["line"])))]   # by method, then latents
    grid = sns.relplot(data=frame, x="normalised beta", y="value", hue="line", hue_order=lines, col="quantity",
                       col_order=quantities, kind="line", marker="o", errorbar="sd", palette="viridis",
                       col_wrap=min(3, len(quantities)), height=3.0, aspect=1.3, facet_kws={"sharey": False})
    grid.set(xscale="log")
    grid.set_titles("{col_name}")
    grid.set_axis_labels("normalised beta (beta x latents / pixels)", "")
    path = out / "metric_vs_normalised_beta.png"
    grid.savefig(path, dpi=DPI)
    plt.close(grid.figure)
    return path


def protocol_heatmap(table: pd.DataFrame, out: Path) -> Path:
    """Each paper row's score (%) under each protocol, the paper's column last (bench.protocol_study)."""
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


def all_plots(results_dir: Path, scores: pd.DataFrame) -> list[Path]:
    """Every figure the results support; per-run figures for the first seed of each configuration."""
    results_dir = Path(results_dir)
    runs_dir = results_dir / "runs"
    specs = {f.name: spec for f in sorted(runs_dir.iterdir()) if (spec := readable_spec(f)) is not None}
    paths = [metric_bars(scores, results_dir)] if len(scores) else []
    first_seed = {}
    for run_id, spec in specs.items():
        key = (spec["method"], json.dumps(spec["overrides"], sort_keys=True))
        if key not in first_seed or spec["seed"] < specs[first_seed[key]]["seed"]:
            first_seed[key] = run_id
    kls, logs, datasets = {}, {}, {}
    for (method_name, params), run_id in first_seed.items():
        folder = runs_dir / run_id
        label = run_label(method_name, params)
        if (folder / "log.csv").exists() and (folder / "log.csv").stat().st_size:
            logs[label] = pd.read_csv(folder / "log.csv")
        kl = kl_per_latent(folder)
        if kl is not None:
            kls[label] = kl
        restored = restore_method(folder, datasets.get(specs[run_id]["dataset"]))
        if restored is not None and hasattr(restored[0], "decode"):
            method, dataset = restored
            datasets[specs[run_id]["dataset"]] = dataset
            paths += [traversal(method, dataset, folder, results_dir),
                      samples(method, folder, results_dir) if hasattr(method, "sample")
                      else reconstructions(method, dataset, folder, results_dir)]
    if kls:
        paths.append(kl_bars(kls, results_dir))
    if logs:
        paths.append(training_curves(logs, results_dir))
    beta_plot = metric_against_normalised_beta(scores, specs, runs_dir, results_dir)
    return paths + ([beta_plot] if beta_plot else [])
